"""The disk cache of generated data sets (minigrad.data._cache, used by mnist.synthetic): the
arrays read back are the arrays made; a damaged or half-written file is detected and made
again; writes are atomic; the cache can be turned off. And the generated data sets are the
ones they were before their generators were made faster."""
import hashlib
import os

import numpy as np
import pytest

from minigrad.data import _cache, mnist, text

N = mnist.CACHE_MIN_N        # the smallest set that is cached


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DATA_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def makes(monkeypatch):
    """Counts the generator's runs (mnist._synthetic), which still does the work."""
    calls = []
    real = mnist._synthetic

    def counted(*args):
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(mnist, "_synthetic", counted)
    return calls


def _files(d):
    return sorted(p.name for p in d.iterdir())


def _same(a, b):
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def test_cached_arrays_are_the_generated_ones(cache_dir, makes):
    made = mnist.synthetic(N, seed=3)
    (name,) = _files(cache_dir)
    read = mnist.synthetic(N, seed=3)
    assert len(makes) == 1                      # the second call read the file
    _same(read, made)
    _same(read, mnist.synthetic(N, seed=3, cache=False))
    assert all(a.flags.writeable for a in read)
    read[0][:] = 0                              # the caller's copy, not the file's
    _same(mnist.synthetic(N, seed=3), made)
    assert len(makes) == 2 and _files(cache_dir) == [name]


def test_each_seed_and_size_has_its_own_file(cache_dir, makes):
    a, b, c = mnist.synthetic(N, 0), mnist.synthetic(N, 1), mnist.synthetic(N + 1, 0)
    assert len(_files(cache_dir)) == 3 and len(makes) == 3
    assert not np.array_equal(a[0], b[0])
    _same(mnist.synthetic(N + 1, 0), c)
    assert len(makes) == 3


def _corrupt(path, how):
    data = bytearray(path.read_bytes())
    if how == "flipped payload byte":
        data[-1000] ^= 0x01
    elif how == "half written":
        data = data[:len(data) // 2]
    elif how == "header only":
        data = data[:data.index(b"\n", len(_cache.MAGIC)) + 1]
    elif how == "garbage header":
        data[len(_cache.MAGIC):len(_cache.MAGIC) + 8] = b"\xff" * 8
    elif how == "wrong magic":
        data[0] ^= 0x20
    elif how == "longer":
        data += b"\0"
    elif how == "empty":
        data = b""
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped payload byte", "half written", "header only",
                                 "garbage header", "wrong magic", "longer", "empty"])
def test_a_damaged_file_is_made_again(cache_dir, makes, how):
    made = mnist.synthetic(N, seed=5)
    (path,) = cache_dir.iterdir()
    _corrupt(path, how)
    _same(mnist.synthetic(N, seed=5), made)
    assert len(makes) == 2                      # detected: generated again ...
    _same(mnist.synthetic(N, seed=5), made)
    assert len(makes) == 2                      # ... and the file written whole again
    assert _files(cache_dir) == [path.name]


def test_another_key_or_generator_source_is_another_file(cache_dir, tmp_path_factory):
    src = tmp_path_factory.mktemp("src") / "gen.py"
    calls = []

    def make():
        calls.append(1)
        return (np.arange(5, dtype=np.int32),)

    def new_file(params):
        before = set(_files(cache_dir))
        _cache.cached("t", params, src, make)
        (name,) = set(_files(cache_dir)) - before
        return cache_dir / name
    src.write_text("v1")
    v1 = new_file({"n": 5})
    src.write_text("v2")                                   # an edited generator
    v2 = new_file({"n": 5})
    n6 = new_file({"n": 6})
    assert len(calls) == 3
    os.replace(v1, n6)              # a file under another key's name: its header says so
    _cache.cached("t", {"n": 6}, src, make)
    assert len(calls) == 4
    _cache.cached("t", {"n": 5}, src, make)
    assert len(calls) == 4 and v2.exists()


def test_a_failed_write_leaves_nothing_and_still_returns_the_data(cache_dir, makes, monkeypatch):
    def no_rename(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(_cache.os, "replace", no_rename)
    _same(mnist.synthetic(N, seed=2), mnist.synthetic(N, seed=2, cache=False))
    assert _files(cache_dir) == []              # no half file, no temporary left behind


def test_the_cache_can_be_off_and_small_sets_are_not_cached(cache_dir, makes, monkeypatch):
    mnist.synthetic(N - 1, seed=0)
    assert _files(cache_dir) == []
    monkeypatch.setenv("MINIGRAD_DATA_CACHE_DIR", "off")
    mnist.synthetic(N, seed=0)
    mnist.synthetic(N, seed=0)
    assert _files(cache_dir) == [] and len(makes) == 3


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("MINIGRAD_DATA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == os.path.join(str(tmp_path), "minigrad", "data")


# --- the generated data itself does not change when its generator is made faster -------------
def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def test_generated_data_sets_are_the_ones_they_were(cache_dir):
    """Digests taken from the generators before they were vectorised (numpy 2.4): the same
    digits and sentences for the same seed, made or read from the cache. A numpy release that
    changes Generator streams changes them too (then every cached file is remade as well)."""
    made = mnist.synthetic(12000, seed=0)
    assert _digest(*made) == "7436fdfcbced89cc"
    assert _digest(*mnist.synthetic(12000, seed=0)) == "7436fdfcbced89cc"    # from the file
    assert _digest(*mnist.synthetic(300, seed=5)) == "d4d260a14d923c5f"
    sentences, labels = text.synthetic_polarity(seed=0)
    assert hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:16] == "4ce19110901ac830"
    assert _digest(labels) == "fe6e8a6e04ffcdb3"
