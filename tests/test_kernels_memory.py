"""minigrad.kernels.memory: freed large arrays are reused without new page faults."""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                                reason="glibc's mallopt and minor-fault counts: glibc only")

_PROBE = textwrap.dedent("""
    import resource, numpy as np
    import minigrad
    from minigrad.kernels import memory
    faults = []
    for step in range(6):      # a step's temporaries: made, written, freed, in a varying order
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        arrays = []
        for size in (3_000_000, 700_000, 2_500_000, 300_000, 1_200_000)[::1 - 2 * (step % 2)]:
            arrays.append(np.empty(size, np.float32))
            arrays[-1][:] = 1.0                                 # first write to every page
        del arrays
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(memory.keep_freed_memory(), *faults)
""")


def _probe(**env):
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=120, check=True).stdout.split()
    return out[0] == "True", [int(f) for f in out[1:]]


def test_a_training_steps_freed_temporaries_come_back_without_page_faults():
    kept, faults = _probe()
    if not kept:
        pytest.skip("no glibc mallopt here")
    # the first step faults its ~7.7 MB of new pages in; later steps reuse them
    assert faults[0] > 1000
    assert max(faults[1:]) < 50, faults


def test_glibcs_own_behaviour_without_it_and_the_users_choice_wins():
    kept, faults = _probe(MINIGRAD_KEEP_FREED_MEMORY="0")
    assert not kept
    # glibc alone hands the large blocks back: every step faults most of its pages in again
    assert min(faults[1:]) > 1000, faults
    kept, _ = _probe(MALLOC_TRIM_THRESHOLD_="131072")
    assert not kept                            # the user set glibc's own variable
