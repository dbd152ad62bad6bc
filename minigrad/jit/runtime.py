"""numba helpers that the generated step functions call: numpy's own orders and NaN rules.

Pure functions on scalars and 1-D arrays, like minigrad.kernels, cached by numba where it can
write its cache (a cached step function carries their machine code, and the hash of this file
is part of every generated module's name, so an edit here compiles the steps again).
"""
import numba
import numpy as np

try:
    _jit = numba.njit(error_model="numpy", nogil=True, cache=True)

    @_jit
    def _probe():        # numba picks the cache directory here; none writable: no cache
        return 0
except RuntimeError:
    _jit = numba.njit(error_model="numpy", nogil=True)
_inline = _jit

# numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src): under 8 elements a
# plain loop from zero; up to 128, eight accumulators and a fixed tree; above, split in two at
# a multiple of 8. The accumulators have the array's dtype.
_PW_BLOCK = 128


@_jit
def _pw_block(a, off, n):
    if n < 8:
        res = a.dtype.type(0)
        for i in range(off, off + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[off], a[off + 1], a[off + 2], a[off + 3]
    r4, r5, r6, r7 = a[off + 4], a[off + 5], a[off + 6], a[off + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        j = off + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[off + i]
        i += 1
    return res


@_jit
def _half(n):
    n2 = n // 2
    return n2 - n2 % 8


@_jit
def pairwise_sum(a, off, n):
    """sum(a[off:off + n]) in numpy's order (a 1-D and contiguous): numpy's recursion,
    walked with an explicit stack (a recursive numba function cannot be loaded from numba's
    cache by a caller)."""
    if n <= _PW_BLOCK:
        return _pw_block(a, off, n)
    offs = np.empty(64, np.int64)
    sizes = np.empty(64, np.int64)
    phase = np.empty(64, np.int64)        # 1: the left half is being summed; 2: the right
    left = np.empty(64, a.dtype)
    sp = 0
    offs[0], sizes[0] = off, n
    while True:
        m = sizes[sp]
        if m > _PW_BLOCK:                 # split: the left half first
            phase[sp] = 1
            offs[sp + 1], sizes[sp + 1] = offs[sp], _half(m)
            sp += 1
            continue
        r = _pw_block(a, offs[sp], m)
        while True:                       # hand r to the parents
            sp -= 1
            if sp < 0:
                return r
            if phase[sp] == 1:            # a left half: keep it, sum the right half
                left[sp] = r
                phase[sp] = 2
                h = _half(sizes[sp])
                offs[sp + 1], sizes[sp + 1] = offs[sp] + h, sizes[sp] - h
                sp += 1
                break
            r = left[sp] + r              # a right half: this node is done


@_inline
def maximum(a, b):
    """np.maximum on scalars: NaN from either side wins; max(-0., 0.) is 0., max(0., -0.) -0."""
    return a if (a > b or a != a) else b


@_inline
def minimum(a, b):
    return a if (a < b or a != a) else b


@_inline
def sign(a, one, zero):
    """np.sign: one, -one, zero (for both zeros) or NaN; one and zero in a's type."""
    if a > 0:
        return one
    if a < 0:
        return -one
    return zero if a == a else a
