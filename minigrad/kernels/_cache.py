"""numba's on-disk cache for minigrad's kernels, made to fail soft.

How numba caches (numba/core/caching.py): a `cache=True` function gets a `FunctionCache` when
its decorator runs. `CacheImpl` picks the first locator whose directory it can write:
NUMBA_CACHE_DIR (`UserProvidedCacheLocator`), the module's `__pycache__`
(`InTreeCacheLocator`), then the user-wide `$XDG_CACHE_HOME/numba` or `~/.cache/numba`
(`UserWideCacheLocator`); with none writable it raises RuntimeError, so importing the module
fails. Per function there is an index (`<module>.<function>-<line>.pyXY.nbi`: numba's version,
a hash of the source file, signature -> data file) and a data file per signature (`.nbc`),
both pickles, each written to a temporary name and renamed into place.

What fails hard there, and what this module does instead (for minigrad.kernels' functions
only; other numba functions in the process keep numba's behaviour):
- `IndexDataCacheFile` forgives a missing index and an OSError from a data file (one that
  vanished), nothing else: a truncated, zero-length or garbage index or data file (a full
  disk, a crash before the filesystem wrote the file out), or an unreadable index, raises from
  pickle or open() out of `Cache.load_overload`, on every later run. Here: one
  KernelCacheWarning, the function's index reset to empty (numba's own `flush`), and a
  normal compile, whose save then repairs the entry.
- `Cache.save_overload` lets an OSError (ENOSPC, EACCES) escape from the call that compiled.
  Here: one warning; the compiled function is used, uncached.
- No writable directory at all: one warning, and the kernels compile on every run.
- NUMBA_CACHE_DIR set but not writable: numba silently uses the next locator; here it warns
  once, naming both directories. When it is writable it wins, as in numba.
An index numba itself treats as stale (another numba version, an edited source file) is an
ordinary miss: numba recompiles and overwrites it, with no warning here either.

numba stamps an index with its own source file only, but a kernel inlines helpers from other
kernel modules (rnn_math's exp/tanh, rnn_common's masking): an edit there would leave every
cached kernel that inlined the old helper in use. Here the stamp covers every module of the
package, so an edit to any of them recompiles the kernels.

One warning per cache directory and process, however many kernels fail there.
"""
import os
import warnings

from numba.core import config
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

from minigrad.kernels import KernelCacheWarning

_PACKAGE = "minigrad.kernels."
_numba_enable_caching = Dispatcher.enable_caching
_warned = set()          # cache directories warned about in this process


def install():
    """Give minigrad's kernels a _GuardedCache from now on (before their decorators run)."""
    Dispatcher.enable_caching = _enable_caching


def _warn_once(where, message):
    if where not in _warned:
        _warned.add(where)
        warnings.warn(f"minigrad kernel cache: {message}", KernelCacheWarning, stacklevel=3)


def _ours(py_func):
    return getattr(py_func, "__module__", "").startswith(_PACKAGE)


def _enable_caching(self):
    if not _ours(self.py_func):
        return _numba_enable_caching(self)
    try:
        self._cache = _GuardedCache(self.py_func)
    except Exception as exc:  # numba: RuntimeError "no locator available"
        _warn_once(None, f"no writable cache directory ({_describe(exc)}); the kernels "
                         f"compile on every run: set NUMBA_CACHE_DIR to a writable directory")
        return                # the dispatcher keeps its NullCache
    _check_user_dir(self._cache.cache_path)


def _check_user_dir(path):
    user_dir = config.CACHE_DIR
    if user_dir and not path.startswith(user_dir):
        _warn_once(user_dir, f"NUMBA_CACHE_DIR={user_dir} is not writable; numba caches "
                             f"the kernels in {path} instead")


def _describe(exc):
    return f"{type(exc).__name__}: {exc}"


def package_stamp(directory=os.path.dirname(os.path.abspath(__file__))):
    """(name, mtime, size) of every module of the kernels package, for the index stamp."""
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            st = os.stat(os.path.join(directory, name))
            out.append((name, st.st_mtime_ns, st.st_size))
    return tuple(out)


_PACKAGE_STAMP = []        # computed once per process, on the first kernel


class _GuardedCache(FunctionCache):
    """numba's FunctionCache, but a failed load recompiles and a failed save is skipped, and
    the index's stamp covers the whole kernels package."""

    def __init__(self, py_func):
        super().__init__(py_func)
        if not _PACKAGE_STAMP:
            _PACKAGE_STAMP.append(package_stamp())
        stamp = self._cache_file._source_stamp
        self._cache_file._source_stamp = (stamp, _PACKAGE_STAMP[0])

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as exc:
            _warn_once(self.cache_path, f"could not read the cache in {self.cache_path} "
                                        f"({_describe(exc)}); recompiling")
            self._reset()
            return None

    def save_overload(self, sig, data):
        try:
            super().save_overload(sig, data)
        except Exception as exc:
            _warn_once(self.cache_path, f"could not write the cache in {self.cache_path} "
                                        f"({_describe(exc)}); the kernel runs uncached")

    def _reset(self):
        # an empty index drops every entry of this function, the bad one included; the save
        # after the compile then writes a good one. An unwritable directory keeps the bad
        # index: each later run recompiles and warns once.
        try:
            self.flush()
        except Exception:
            pass
