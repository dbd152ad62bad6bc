"""Data sets of the TensorFlow tutorials: MNIST, sentence polarity, daily stock prices, char text.

Each loader reads the standard files from a data directory and falls back to generated (or
embedded) data when there is none, so every tutorial runs without downloads. The data directory
is, in order: the loader's explicit argument, ``$MINIGRAD_DATA_DIR``, else None (generated data).
A data directory holds one folder per data set (``mnist/``, ``rt-polarity/``, ``stock-daily/``,
``tinyshakespeare/``, ``nietzsche/``); a loader also accepts that folder itself.
Generated MNIST sets of 10 000 images or more are kept on disk once made, and read back in
milliseconds (minigrad.data._cache: ``$MINIGRAD_DATA_CACHE_DIR``, ``off`` to turn it off).
numpy and the standard library only.
"""
import os


class DataError(ValueError):
    """A data file is missing or corrupt; the message names the file."""


def default_data_dir():
    """``$MINIGRAD_DATA_DIR`` when set and non-empty, else None (loaders then generate data)."""
    return os.environ.get("MINIGRAD_DATA_DIR") or None


def resolve_data_dir(data_dir=None):
    """The explicit `data_dir`, else `default_data_dir()`; a named directory must exist."""
    d = os.fspath(data_dir) if data_dir is not None else default_data_dir()
    if d is not None and not os.path.isdir(d):
        raise DataError(f"data directory {d!r} does not exist")
    return d


def find_file(data_dir, subdir, names, how_to_get):
    """The first of `names` found in ``data_dir/subdir`` or `data_dir`; else DataError.

    The error names every path tried and says `how_to_get` the file.
    """
    tried = []
    for folder in (os.path.join(data_dir, subdir), data_dir):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
            tried.append(path)
    raise DataError(f"missing data file {tried[0]!r} (also tried {', '.join(tried[1:])}); "
                    f"{how_to_get}")


from minigrad.data import chars, mnist, stock, text  # noqa: E402  (they use DataError)

__all__ = ["DataError", "default_data_dir", "resolve_data_dir", "find_file",
           "mnist", "text", "stock", "chars"]
