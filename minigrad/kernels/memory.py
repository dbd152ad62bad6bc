"""Freed arrays stay with the process: glibc's malloc told not to hand large blocks back to the
operating system.

A training step makes and frees the same large temporaries every step (activations,
gradients, patch matrices). glibc serves blocks above its mmap threshold (128 KiB at first,
adjusted as blocks are freed) with fresh mmap()s and trims the heap's free top back to the
system, so the next step's arrays arrive as untouched pages and pay a page fault for every 4 KiB
(about 1 us each on these machines: 0.26 ms to first write a 1.2 MB array). The TextCNN
lecture's step went from 18.6-20.8 to 14.6-16.7 ms once freed blocks were kept (glibc's
MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set, three runs each, alternated).
TensorFlow (its BFC allocator) and PyTorch (its caching allocator) keep freed memory for the
same reason. The process's memory then stays at its peak instead of shrinking between steps.

`keep_freed_memory()` makes that setting with mallopt(): blocks up to 32 MiB (glibc's largest
mmap threshold) come from the heap, and the heap is not trimmed. It does nothing outside glibc
or when the user already chose through glibc's environment variables (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_) or MINIGRAD_KEEP_FREED_MEMORY=0.
"""
import os

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3       # glibc's malloc.h
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024               # glibc's DEFAULT_MMAP_THRESHOLD_MAX
_done = []


def keep_freed_memory():
    """Keep freed large blocks in the heap (see the module docstring). Returns whether the
    setting was made (by this call or an earlier one)."""
    if _done:
        return _done[0]
    ok = False
    if os.environ.get("MINIGRAD_KEEP_FREED_MEMORY", "1") != "0" and not any(
            v in os.environ for v in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        try:
            import ctypes
            libc = ctypes.CDLL(None)
            mallopt = libc.mallopt
            mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
            ok = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)) and \
                bool(mallopt(_M_TRIM_THRESHOLD, 2 ** 31 - 1))
        except (OSError, AttributeError):       # not glibc (no mallopt), or no C library
            ok = False
    _done.append(ok)
    return ok
