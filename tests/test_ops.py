"""The op table, turned into tests: every op against TensorFlow (forward and every input's
gradient, float32 and float64) and a float64 finite-difference gradcheck."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad.testing import all_ops, gradcheck
from minigrad.testing.optable import Sample, draw
from minigrad.testing.tf_compare import check_against_tf

OPS = all_ops()


def _cases():
    for info in OPS:
        # a seed per op, the same in every run (str hash() changes with PYTHONHASHSEED)
        rng = np.random.default_rng(zlib.crc32(info.name.encode()))
        for k, sample in enumerate(info.samples(rng)):
            yield pytest.param(info, sample, id=f"{info.name}-{k}-{sample.label}")


CASES = list(_cases())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("info,sample", CASES)
def test_against_tensorflow(tf, info, sample, dtype):
    check_against_tf(info, sample, dtype)


@pytest.mark.parametrize("info,sample", [c for c in CASES if c.values[0].gradcheck])
def test_gradcheck(info, sample):
    gradcheck(lambda *xs: info.op(mg, *xs, **sample.kwargs), sample.args,
              wrt=[i for i, a in enumerate(sample.args)
                   if np.asarray(a).dtype.kind == "f" and i not in info.nograd])


def test_every_registered_op_is_in_the_table():
    """Each op class in the registry is exercised by some table entry (by its TF name)."""
    names = {info.name for info in OPS}
    untested = [cls.__name__ for cls in mg.op_registry.values()
                if (cls.tf_name or "").split(".")[-1] not in names
                and cls.tf_name not in ("stop_gradient",)
                # random draws differ from TF's by design (numpy streams, not Philox): their
                # distributions are tested in tests/compat/test_random.py
                and not cls.tf_name.startswith("random.")]
    assert not untested, f"ops with no op-table entry: {untested}"


_shape = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def _broadcast_pair(draw_):
    a = draw_(_shape)
    b = tuple(draw_(st.sampled_from([n, 1])) for n in a[len(a) - draw_(st.integers(0, len(a))):])
    return (a, b) if draw_(st.booleans()) else (b, a)


@settings(max_examples=25, deadline=None)
@given(pair=_broadcast_pair(), name=st.sampled_from(["add", "subtract", "multiply", "maximum"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_broadcasting_pairs_hypothesis(tf, pair, name, dtype):
    info = next(i for i in OPS if i.name == name)
    rng = np.random.default_rng(0)
    check_against_tf(info, Sample([draw(rng, pair[0]), draw(rng, pair[1])], label=str(pair)),
                     dtype)
