"""`mg.nn.embedding_lookup`: rows of an embedding matrix, a gather on axis 0."""
import numpy as np

from minigrad.ops import concat, gather
from minigrad.ops._convert import tensor


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    """params[ids] (its gradient scatters back into the looked-up rows, summed on repeats).

    `params` may be a list of shards split TF's 'mod' way (row i lives in shard i % n at
    position i // n): the ids are mapped onto the shards' concatenation, still one gather.
    """
    if max_norm is not None:
        raise NotImplementedError("embedding_lookup: max_norm is not supported")
    if not isinstance(params, (list, tuple)):
        return gather(params, ids)
    shards = [tensor(p) for p in params]
    if len(shards) == 1:
        return gather(shards[0], ids)
    if partition_strategy != "mod":
        raise NotImplementedError(f"embedding_lookup: partition_strategy "
                                  f"{partition_strategy!r} (only 'mod') for sharded params")
    idx = np.asarray(tensor(ids).numpy())
    n = len(shards)
    offsets = np.cumsum([0] + [s.shape[0] for s in shards[:-1]])
    return gather(concat(shards, 0), (offsets[idx % n] + idx // n).astype(idx.dtype))
