"""Nested structures of tensors (lists, tuples, namedtuples, dicts), as TF's `nest`."""


def flatten(x):
    """The leaves of `x`, depth first, dict values in key order of insertion."""
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in flatten(item)]
    if isinstance(x, dict):
        return [leaf for k in x for leaf in flatten(x[k])]
    return [x]


def pack_like(structure, flat):
    """`structure` rebuilt with the leaves of `flat`, in `flatten`'s order."""
    return _pack(structure, iter(flat))


def _pack(s, it):
    # a module-level function, not a closure: a closure that calls itself is a reference cycle,
    # and the gradients it returned would wait for the cycle collector
    if isinstance(s, (list, tuple)):
        out = [_pack(item, it) for item in s]
        return type(s)(out) if not hasattr(s, "_fields") else type(s)(*out)
    if isinstance(s, dict):
        return {k: _pack(s[k], it) for k in s}
    return next(it)
