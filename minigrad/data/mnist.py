"""MNIST as TF's old ``input_data.read_data_sets`` served it, plus an IDX reader and a generator.

    data = mnist.load("MNIST_data", one_hot=True)   # or load() for $MINIGRAD_DATA_DIR / generated
    xs, ys = data.train.next_batch(100)              # xs [100, 784] float32 in [0, 1]
"""
import gzip
import hashlib
import os
import struct
import tempfile
import zlib

import numpy as np

from minigrad.data import DataError, find_file, resolve_data_dir

FILES = {  # name -> md5 of the original .gz
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = ("https://storage.googleapis.com/cvdf-datasets/mnist/",
           "https://ossci-datasets.s3.amazonaws.com/mnist/")
HOW_TO_GET = ("get the four files with minigrad.data.mnist.download(dir) or from "
              "https://storage.googleapis.com/cvdf-datasets/mnist/")

# IDX type code -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FORMAT")
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_TYPES.items()}


# ---- IDX files ---------------------------------------------------------------------------------
def _read_bytes(path):
    """The file's bytes, gunzipped when they start with the gzip magic."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DataError(f"missing IDX file {os.fspath(path)!r}; {HOW_TO_GET}") from None
    except OSError as e:
        raise DataError(f"cannot read IDX file {os.fspath(path)!r}: {e}") from None
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"corrupt gzip file {os.fspath(path)!r}: {e}") from None


def read_idx(path, expect_code=None, expect_ndim=None):
    """Read an IDX file (gzip or raw) into a native-endian ndarray.

    Header: two zero bytes, a type code (0x08 = ubyte), the number of dims, then each dim as a
    big-endian uint32. MNIST labels have magic 0x00000801, images 0x00000803. Every problem
    (bad magic, unexpected type/dims, truncated or overlong payload) is a DataError naming `path`.
    """
    data, name = _read_bytes(path), repr(os.fspath(path))
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in _IDX_TYPES or data[3] == 0:
        raise DataError(f"{name} is not an IDX file (magic {data[:4].hex() or 'missing'})")
    code, ndim = data[2], data[3]
    if expect_code is not None and code != expect_code or (
            expect_ndim is not None and ndim != expect_ndim):
        want = (expect_code or code) << 8 | (expect_ndim or ndim)
        raise DataError(f"{name}: magic 0x{code << 8 | ndim:08x}, expected 0x{want:08x}")
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{name} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[code])
    want, got = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize, len(data) - 4 - 4 * ndim
    if got != want:
        what = "truncated" if got < want else "longer than its header says"
        raise DataError(f"{name} is {what}: dims {dims} need {want} payload bytes, found {got}")
    arr = np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims)
    return arr.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write `array` as an IDX file, gzipped when `path` ends with ``.gz`` (mtime 0)."""
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot hold dtype {array.dtype}")
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    payload = header + array.astype(_IDX_TYPES[code]).tobytes()
    if os.fspath(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)


# ---- data sets ---------------------------------------------------------------------------------
class DataSet:
    """Images and labels with TF's ``next_batch``: reshuffled each epoch, epochs stitched."""

    def __init__(self, images, labels, seed=0):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self._images, self._labels = images, labels
        self._rng = np.random.RandomState(seed)  # NOTE: TF seeded the global legacy generator
        self._epochs_completed = 0
        self._index_in_epoch = 0

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: len(self._images))
    epochs_completed = property(lambda self: self._epochs_completed)

    def _shuffle(self):
        perm = np.arange(self.num_examples)
        self._rng.shuffle(perm)
        self._images, self._labels = self._images[perm], self._labels[perm]

    def next_batch(self, batch_size, shuffle=True):
        """The next `batch_size` examples; a batch crossing an epoch end takes the old rest
        plus the start of the reshuffled next epoch (as TF's mnist.DataSet)."""
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self.num_examples:
            self._index_in_epoch += batch_size
            return self._images[start:start + batch_size], self._labels[start:start + batch_size]
        self._epochs_completed += 1
        rest_x, rest_y = self._images[start:], self._labels[start:]
        if shuffle:
            self._shuffle()
        self._index_in_epoch = end = batch_size - len(rest_x)
        return (np.concatenate([rest_x, self._images[:end]]),
                np.concatenate([rest_y, self._labels[:end]]))


class Datasets:
    """``.train``, ``.validation``, ``.test`` as read_data_sets returned them."""

    def __init__(self, train, validation, test):
        self.train, self.validation, self.test = train, validation, test

    def __repr__(self):
        n = (self.train.num_examples, self.validation.num_examples, self.test.num_examples)
        return "Datasets(train=%d, validation=%d, test=%d)" % n


def _images_as(images, dtype):
    """uint8 [n, 28, 28] -> [n, 784]; float dtypes scaled to [0, 1] as TF: ``x * (1/255)``."""
    flat = images.reshape(len(images), int(np.prod(images.shape[1:])))
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return flat
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"image dtype must be uint8, float32 or float64, not {dtype}")
    return flat.astype(dtype) * dtype.type(1.0 / 255.0)


def _labels_as(labels, one_hot):
    """int64 labels, or float32 one-hot rows (TF made float64; they were fed to float32)."""
    labels = labels.astype(np.int64)
    return np.eye(10, dtype=np.float32)[labels] if one_hot else labels


def read_files(folder_or_dir):
    """(train_images, train_labels, test_images, test_labels) as uint8 arrays, checked."""
    paths = [find_file(folder_or_dir, "mnist", [n, n[:-3]], HOW_TO_GET) for n in FILES]
    arrays = [read_idx(p, 0x08, 3 if "images" in n else 1) for p, n in zip(paths, FILES)]
    for imgs, labs, pi, pl in ((arrays[0], arrays[1], paths[0], paths[1]),
                               (arrays[2], arrays[3], paths[2], paths[3])):
        if imgs.shape[1:] != (28, 28):
            raise DataError(f"{pi!r}: images are {imgs.shape[1:]}, expected (28, 28)")
        if len(imgs) != len(labs):
            raise DataError(f"{pi!r} holds {len(imgs)} images but {pl!r} {len(labs)} labels")
        if labs.size and labs.max() > 9:
            raise DataError(f"{pl!r}: label {labs.max()} is not a digit")
    return arrays


def load(data_dir=None, one_hot=False, validation_size=5000, dtype=np.float32, seed=0):
    """MNIST split as ``input_data.read_data_sets``: validation = the first `validation_size`
    training images. With no data directory, `synthetic` data of the same sizes."""
    data_dir = resolve_data_dir(data_dir)
    if data_dir is None:
        tr_x, tr_y = synthetic(60000, seed=seed)
        te_x, te_y = synthetic(10000, seed=seed + 1)
    else:
        tr_x, tr_y, te_x, te_y = read_files(data_dir)
    if not 0 <= validation_size <= len(tr_x):
        raise ValueError(f"validation_size should be between 0 and {len(tr_x)}, "
                         f"got {validation_size}")

    def make(x, y):
        return DataSet(_images_as(x, dtype), _labels_as(y, one_hot), seed=seed)
    v = validation_size
    return Datasets(make(tr_x[v:], tr_y[v:]), make(tr_x[:v], tr_y[:v]), make(te_x, te_y))


# ---- download ----------------------------------------------------------------------------------
def _fetch(urls, dest, md5, timeout=60):
    """Download the first of `urls` whose bytes have `md5` to `dest`, atomically.

    Bytes go to a temporary file beside `dest`, renamed into place only once verified, so a
    failure leaves nothing behind. DataError listing every failure when no URL works.
    """
    import urllib.request     # here, not at import: http, ssl and email cost ~15 ms to load
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=os.path.dirname(dest) or ".")
        try:
            digest = hashlib.md5()
            with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 16), b""):
                    digest.update(chunk)
                    f.write(chunk)
            if digest.hexdigest() != md5:
                raise DataError(f"md5 {digest.hexdigest()}, expected {md5}")
            os.replace(tmp, dest)
            return dest
        except (OSError, DataError) as e:
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    raise DataError(f"could not download {dest!r}: " + "; ".join(errors))


def download(dest_dir, mirrors=MIRRORS, timeout=60):
    """Fetch the four MNIST .gz files into `dest_dir` (md5-checked); keeps files already there.

    Returns `dest_dir`, which `load` then reads.
    """
    os.makedirs(dest_dir, exist_ok=True)
    for name, md5 in FILES.items():
        dest = os.path.join(dest_dir, name)
        if not os.path.exists(dest):
            _fetch([m.rstrip("/") + "/" + name for m in mirrors], dest, md5, timeout)
    return dest_dir


# ---- generated stand-in ---------------------------------------------------------------------
# Seven-segment strokes on a 20x20 box, (row0, col0, row1, col1): a top, b top-right,
# c bottom-right, d bottom, e bottom-left, f top-left, g middle.
_SEGMENTS = {"a": (0, 2, 0, 17), "b": (1, 18, 9, 18), "c": (10, 18, 18, 18), "d": (19, 2, 19, 17),
             "e": (10, 1, 18, 1), "f": (1, 1, 9, 1), "g": (10, 2, 10, 17)}
_DIGITS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg",
           "abfgcd"]


def _templates():
    """[10, 2, 28, 28] float templates: each digit's segments, thin and thick, blurred."""
    out = np.zeros((10, 2, 28, 28))
    for d, segs in enumerate(_DIGITS):
        for t, half in enumerate((0, 1)):
            img = np.zeros((28, 28))
            for s in segs:
                r0, c0, r1, c1 = _SEGMENTS[s]
                img[4 + r0 - half:5 + r1 + half, 4 + c0 - half:5 + c1 + half] = 1.0
            out[d, t] = _blur(img)
    return out / out.max(axis=(2, 3), keepdims=True)


def _blur(img):
    """Separable [1, 4, 6, 4, 1]/16 blur, zero padded."""
    k = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    img = np.apply_along_axis(lambda r: np.convolve(r, k, "same"), 1, img)
    return np.apply_along_axis(lambda c: np.convolve(c, k, "same"), 0, img)


CACHE_MIN_N = 10000   # smaller sets take under ~0.1 s to make: not worth a file


def synthetic(n, seed=0, chunk=8192, cache=True):
    """`n` MNIST-shaped examples (uint8 [n, 28, 28] images, uint8 [n] labels), learnable and
    deterministic in `seed`: blurred seven-segment digits of random stroke weight and
    brightness, shifted up to 3 pixels each way, plus pixel noise. Sets of CACHE_MIN_N or more
    are kept on disk once made (minigrad.data._cache; `cache=False` skips it): the same
    arrays, read back in milliseconds instead of made in most of a second."""
    if not cache or n < CACHE_MIN_N:
        return _synthetic(n, seed, chunk)
    from minigrad.data._cache import cached
    return cached("mnist-synthetic", {"n": int(n), "seed": int(seed)}, __file__,
                  lambda: _synthetic(n, seed, chunk))


def _synthetic(n, seed, chunk):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    thick, dy, dx = rng.integers(0, 2, n), rng.integers(0, 7, n), rng.integers(0, 7, n)
    gain = rng.uniform(180.0, 280.0, n).astype(np.float32)
    shifted = _shifted_templates()
    which = ((labels.astype(np.intp) * 2 + thick) * 7 + dy) * 7 + dx
    out = np.empty((n, 28, 28), np.uint8)
    for i in range(0, n, chunk):  # NOTE: chunks keep the float scratch small for n = 60000
        j = slice(i, min(i + chunk, n))
        imgs = shifted.take(which[j], axis=0)
        imgs *= gain[j, None, None]
        noise = rng.random(imgs.shape, dtype=np.float32)
        noise -= np.float32(0.5)
        noise *= np.float32(40.0)
        imgs += noise
        out[j] = np.clip(imgs, 0, 255, out=imgs)
    return out, labels


def _shifted_templates():
    """[10 * 2 * 7 * 7, 28, 28] float32: every template (digit, thickness) padded by 3 and cut
    at every shift (dy, dx) in 0..6, in that index order."""
    padded = np.pad(_templates(), ((0, 0), (0, 0), (3, 3), (3, 3))).astype(np.float32)
    win = np.lib.stride_tricks.sliding_window_view(padded, (28, 28), axis=(2, 3))
    return np.ascontiguousarray(win).reshape(-1, 28, 28)
