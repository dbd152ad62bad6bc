"""numba's on-disk cache of the kernels under faults (minigrad/kernels/_cache.py).

Each run is a fresh interpreter that loads the kernels from disk, with NUMBA_CACHE_DIR pointing
at a copy of a cache made once per module, so the repository's own cache is never touched.
The kernel is the smallest one, gather's scatter-add, on a 3x2 array.
"""
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "gather._scatter_add-"       # its cache files: <this><line>.py311.nbi / .1.nbc
NOBODY = 65534

RUN = """
import numpy as np
from minigrad.kernels import gather
out = np.zeros((3, 2))
gather.scatter_add_rows(out, np.array([0, 2, 0]), np.ones((3, 2)))
assert out.tolist() == [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]], out
print("cache hits", sum(gather._scatter_add.stats.cache_hits.values()))
"""
# another source file's kernel: its index is stale for gather (another source hash)
OTHER = "from minigrad.kernels import optim; optim._f32(0.5)"


def _env(cache_dir=None, home=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "PYTHONWARNINGS", "XDG_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    if home is not None:
        env["HOME"] = str(home)
    return env


def _run(env, code=RUN, prefix=()):
    """Run `code` in a fresh interpreter: (cache hits, the KernelCacheWarning lines)."""
    p = subprocess.run([*prefix, sys.executable, "-W", "always", "-c", code], env=env,
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    hits = [int(line.split()[-1]) for line in p.stdout.splitlines() if "cache hits" in line]
    return (hits[0] if hits else None), [line for line in p.stderr.splitlines()
                                         if "KernelCacheWarning:" in line]


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    cache = tmp_path_factory.mktemp("numba_cache")
    env = _env(cache)
    assert _run(env, RUN + OTHER) == (0, [])
    assert _run(env) == (1, [])                    # NUMBA_CACHE_DIR wins; a second run loads
    return cache


@pytest.fixture
def cache(populated, tmp_path):
    copy = tmp_path / "cache"
    shutil.copytree(populated, copy)
    return copy


def _file(cache, suffix, name=KERNEL):
    (path,) = cache.glob(f"*/{name}*{suffix}")
    return path


def _garbage(path):
    path.write_bytes(os.urandom(64))


def _half(path):
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


def _empty(path):
    path.write_bytes(b"")


@pytest.mark.parametrize("suffix", [".nbi", ".1.nbc"], ids=["index", "data"])
@pytest.mark.parametrize("damage", [_garbage, _half, _empty], ids=["garbage", "half", "empty"])
def test_damaged_entry_recompiles_with_one_warning_and_heals(cache, suffix, damage):
    env = _env(cache)
    damage(_file(cache, suffix))
    hits, warned = _run(env)
    assert hits == 0 and len(warned) == 1, warned
    assert str(_file(cache, ".nbi").parent) in warned[0]
    assert _run(env) == (1, [])                    # the recompile's save repaired it


def test_stale_index_from_another_source_is_an_ordinary_miss(cache):
    """numba ignores an index whose source hash differs (an edited file, here another file's
    index copied over): it recompiles and overwrites it, and there is nothing to warn about."""
    shutil.copyfile(_file(cache, ".nbi", "optim._f32-"), _file(cache, ".nbi"))
    env = _env(cache)
    assert _run(env) == (0, [])
    assert _run(env) == (1, [])


def test_entry_that_cannot_be_replaced_warns_once_per_run(cache):
    """An index that is a directory: reading fails, and so does every write (even as root)."""
    index = _file(cache, ".nbi")
    index.unlink()
    index.mkdir()
    env = _env(cache)
    for _ in range(2):
        hits, warned = _run(env)
        assert hits == 0 and len(warned) == 1, warned
        assert str(index.parent) in warned[0]


def test_import_minigrad_does_not_import_numba():
    code = "import minigrad, sys; assert 'numba' not in sys.modules"
    assert _run(_env(), code) == (None, [])


def test_other_numba_functions_keep_numbas_cache(tmp_path):
    """The guard is for minigrad's kernels: a user's cache=True function is numba's own."""
    (tmp_path / "userfn.py").write_text(
        "import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1\n")
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from minigrad.kernels import gather, _cache\nimport userfn\n"
            "assert type(gather._scatter_add._cache) is _cache._GuardedCache\n"
            "assert type(userfn.f._cache) is _cache.FunctionCache\n" % str(tmp_path))
    assert _run(_env(tmp_path / "cache"), code) == (None, [])


# ---------------------------------------------------------------------------------------------
# As an unprivileged user, who cannot write the package directory: a read-only install.

@functools.lru_cache(maxsize=None)
def _nobody_prefix():
    """setpriv to uid/gid 65534. The user keeps CAP_DAC_READ_SEARCH (read and traverse
    anything, write nothing it does not own) only because this sandbox's interpreter lives
    under /root (0700): without it the user could not start Python at all."""
    if os.geteuid() != 0:
        return None, "switching to an unprivileged user needs root"
    if shutil.which("setpriv") is None:
        return None, "setpriv (util-linux) is not installed"
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
              "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    probe = subprocess.run([*prefix, sys.executable, "-c",
                            "import os, minigrad; print(os.access(minigrad.__path__[0], "
                            "os.W_OK))"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 or probe.stdout.strip() != "False":
        return None, f"cannot run Python as an unprivileged user here: {probe.stderr[-300:]}"
    return tuple(prefix), None


def _as_nobody():
    prefix, why = _nobody_prefix()
    if prefix is None:
        pytest.skip(why)
    return prefix


def _home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    return home


def test_read_only_install_caches_in_the_users_cache_directory(tmp_path):
    prefix, home = _as_nobody(), _home(tmp_path)
    env = _env(home=home)
    assert _run(env, prefix=prefix) == (0, [])
    assert list(home.glob(f".cache/numba/*/{KERNEL}*.nbi"))     # numba's user-wide dir
    assert _run(env, prefix=prefix) == (1, [])


def test_unwritable_numba_cache_dir_works_and_warns_once(cache, tmp_path):
    prefix, home = _as_nobody(), _home(tmp_path)
    for path in [cache, *cache.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
    hits, warned = _run(_env(cache, home), prefix=prefix)
    assert hits == 0 and len(warned) == 1 and str(cache) in warned[0], warned
    assert list(home.glob(f".cache/numba/*/{KERNEL}*.nbi"))


def test_no_writable_cache_directory_compiles_with_one_warning(tmp_path):
    prefix = _as_nobody()
    hits, warned = _run(_env(home="/nonexistent"), prefix=prefix)
    assert hits == 0 and len(warned) == 1 and "no writable cache directory" in warned[0]


def test_the_index_stamp_covers_every_kernel_module(tmp_path):
    """A kernel inlines helpers from sibling modules: an edit to any module must invalidate."""
    from minigrad.kernels import _cache
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    before = _cache.package_stamp(str(tmp_path))
    (tmp_path / "b.py").write_text("y = 22\n")
    assert _cache.package_stamp(str(tmp_path)) != before
    import minigrad.kernels.optim as optim          # a kernel module: its functions' caches
    disp = next(v for v in vars(optim).values() if hasattr(v, "_cache") and
                hasattr(v._cache, "_cache_file"))
    names = [entry[0] for entry in disp._cache._cache_file._source_stamp[1]]
    assert "rnn_math.py" in names and "optim.py" in names
