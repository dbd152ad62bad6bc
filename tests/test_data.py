"""Data loaders: IDX parsing and its failures, generated defaults, lecture preprocessing, and the
real files when a data directory is around (skipped otherwise). No network."""
import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from minigrad.data import DataError, chars, default_data_dir, mnist, resolve_data_dir, stock, text

REPO = Path(__file__).resolve().parents[1]
REAL = os.environ.get("MINIGRAD_DATA_DIR") or str(REPO.parent / "shared" / "data")
needs_real = pytest.mark.skipif(not os.path.isdir(os.path.join(REAL, "mnist")),
                                reason="no real data directory")


def idx_bytes(code, dims, payload):
    return struct.pack(f">BBBB{len(dims)}I", 0, 0, code, len(dims), *dims) + payload


def write(path, data):
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# ---- IDX ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 28, 28), dtype=np.uint8)
    p = write(tmp_path / f"img{suffix}", idx_bytes(0x08, (7, 28, 28), images.tobytes()))
    np.testing.assert_array_equal(mnist.read_idx(p), images)
    for arr in (images[:, 0, :3], np.arange(-3, 3, dtype=np.int32), np.linspace(0, 1, 5)):
        q = tmp_path / f"w{arr.dtype}{suffix}"
        mnist.write_idx(q, arr)
        back = mnist.read_idx(q)
        assert back.dtype == arr.dtype and back.dtype.isnative
        np.testing.assert_array_equal(back, arr)


LABELS = idx_bytes(0x08, (5,), bytes([1, 2, 3, 4, 5]))
BAD_IDX = {
    "wrong_magic": b"\x00\x00\x08\x05" + LABELS[4:],      # five dims, then too few bytes
    "not_idx": b"PK\x03\x04 definitely not an idx file",
    "empty": b"",
    "short_header": LABELS[:6],
    "truncated": LABELS[:-2],
    "trailing": LABELS + b"\x00",
    "bad_type": b"\x00\x00\x07\x01" + LABELS[4:],
}


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("case", list(BAD_IDX))
def test_bad_idx_is_a_data_error_naming_the_file(tmp_path, case, suffix):
    path = write(tmp_path / f"{case}-labels{suffix}", BAD_IDX[case])
    before = path.read_bytes()
    with pytest.raises(DataError, match=path.name):
        mnist.read_idx(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("case", ["cut_stream", "garbage", "bad_crc"])
def test_bad_gzip_is_a_data_error_naming_the_file(tmp_path, case):
    good = gzip.compress(LABELS, mtime=0)
    data = {"cut_stream": good[:len(good) // 2], "garbage": good[:10] + b"\xff" * 20,
            "bad_crc": good[:-8] + b"\0\0\0\0" + good[-4:]}[case]
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        mnist.read_idx(path)
    assert path.read_bytes() == data


def test_idx_magic_must_fit_what_is_read(tmp_path):
    path = write(tmp_path / "labels", LABELS)
    assert mnist.read_idx(path, 0x08, 1).tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(DataError, match=r"labels.*0x00000801, expected 0x00000803"):
        mnist.read_idx(path, 0x08, 3)


def make_mnist_dir(root, n_train=60, n_test=20, gz=True):
    folder = root / "mnist"
    folder.mkdir()
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        x, y = mnist.synthetic(n, seed=seed)
        suffix = ".gz" if gz else ""
        mnist.write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", x)
        mnist.write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", y)
    return root


def test_missing_mnist_file_says_how_to_get_it(tmp_path):
    root = make_mnist_dir(tmp_path)
    (root / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.*mnist\.download\(dir\)"):
        mnist.load(root)
    with pytest.raises(DataError, match="does not exist"):
        mnist.load(tmp_path / "nowhere")


def test_mismatched_counts_are_a_data_error(tmp_path):
    root = make_mnist_dir(tmp_path, gz=False)
    mnist.write_idx(root / "mnist" / "t10k-labels-idx1-ubyte", np.zeros(19, np.uint8))
    with pytest.raises(DataError, match="20 images but .*t10k-labels-idx1-ubyte.* 19 labels"):
        mnist.load(root)


@pytest.mark.parametrize("gz", [True, False])
def test_load_splits_scales_and_one_hots_like_read_data_sets(tmp_path, gz):
    root = make_mnist_dir(tmp_path, gz=gz)
    raw_x, raw_y = mnist.synthetic(60, seed=0)
    d = mnist.load(root / "mnist", one_hot=True, validation_size=10)
    assert (d.train.num_examples, d.validation.num_examples, d.test.num_examples) == (50, 10, 20)
    assert d.train.images.shape == (50, 784) and d.train.images.dtype == np.float32
    want = raw_x[10:].reshape(50, 784).astype(np.float32) * np.float32(1.0 / 255.0)
    np.testing.assert_array_equal(d.train.images, want)
    np.testing.assert_array_equal(d.validation.labels.argmax(1), raw_y[:10])
    assert d.test.labels.shape == (20, 10) and d.test.labels.sum() == 20
    d = mnist.load(root, dtype=np.uint8, validation_size=0)
    assert d.train.images.dtype == np.uint8 and d.train.labels.dtype == np.int64
    with pytest.raises(ValueError, match="validation_size"):
        mnist.load(root, validation_size=61)


def test_next_batch_covers_each_epoch_and_is_seeded():
    x = np.arange(10)[:, None].astype(np.float32)
    ds = mnist.DataSet(x, np.arange(10), seed=3)
    seen = np.concatenate([ds.next_batch(4)[1] for _ in range(5)])   # 20 = two epochs
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert ds.epochs_completed == 1   # as TF: counted when the next batch crosses the end
    again = mnist.DataSet(x, np.arange(10), seed=3)
    np.testing.assert_array_equal(np.concatenate([again.next_batch(4)[1] for _ in range(5)]),
                                  seen)
    bx, by = mnist.DataSet(x, np.arange(10)).next_batch(3, shuffle=False)
    assert by.tolist() == [0, 1, 2] and np.array_equal(bx[:, 0], by)


# ---- download, offline: file:// mirrors --------------------------------------------------------
def test_fetch_verifies_md5_and_leaves_nothing_on_failure(tmp_path):
    src, dest = tmp_path / "mirror", tmp_path / "dest"
    src.mkdir(), dest.mkdir()
    payload = gzip.compress(LABELS, mtime=0)
    (src / "f.gz").write_bytes(payload)
    md5 = hashlib.md5(payload).hexdigest()
    url = (src / "f.gz").as_uri()
    with pytest.raises(DataError, match="md5"):
        mnist._fetch([url], str(dest / "f.gz"), "0" * 32)
    with pytest.raises(DataError, match="could not download"):
        mnist._fetch([(src / "absent.gz").as_uri()], str(dest / "f.gz"), md5)
    assert list(dest.iterdir()) == []
    assert mnist._fetch([(src / "absent.gz").as_uri(), url], str(dest / "f.gz"), md5)
    assert [p.name for p in dest.iterdir()] == ["f.gz"] and (dest / "f.gz").read_bytes() == payload


@needs_real
def test_download_from_a_mirror_checks_the_original_md5s(tmp_path):
    # The shared train-images.gz is a byte-exact rebuild of the images but not of the original
    # .gz (its gzip mtime differs), so its md5 fails and nothing may be left behind.
    mirror = Path(REAL, "mnist").as_uri()
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*md5"):
        mnist.download(str(tmp_path), mirrors=[mirror])
    assert list(tmp_path.iterdir()) == []
    name = "t10k-labels-idx1-ubyte.gz"
    mnist._fetch([f"{mirror}/{name}"], str(tmp_path / name), mnist.FILES[name])
    assert mnist.read_idx(tmp_path / name).shape == (10000,)


# ---- data directory resolution and generated defaults ------------------------------------------
def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGRAD_DATA_DIR", raising=False)
    assert default_data_dir() is None and resolve_data_dir() is None
    monkeypatch.setenv("MINIGRAD_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == str(tmp_path)
    assert resolve_data_dir(REPO) == str(REPO)


def test_defaults_are_generated_without_a_data_dir(monkeypatch):
    monkeypatch.delenv("MINIGRAD_DATA_DIR", raising=False)
    x, y = text.load_polarity()
    assert len(x) == len(y) == 2000 and y[:1000, 1].all() and y[1000:, 0].all()
    assert stock.load_stock_csv().shape == (732, 5)
    assert chars.load_text() == chars.SONNET_18
    d = mnist.load(one_hot=True)
    assert (d.train.num_examples, d.validation.num_examples, d.test.num_examples) == (
        55000, 5000, 10000)
    assert d.train.images.shape == (55000, 784) and d.test.labels.shape == (10000, 10)


def test_synthetic_data_is_deterministic_in_seed():
    a, b, c = mnist.synthetic(300, seed=5), mnist.synthetic(300, seed=5), mnist.synthetic(300, 6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (300, 28, 28) and a[0].dtype == np.uint8 and set(a[1]) == set(range(10))
    assert text.synthetic_polarity(50, seed=1)[0] == text.synthetic_polarity(50, seed=1)[0]
    assert text.synthetic_polarity(50, seed=1)[0] != text.synthetic_polarity(50, seed=2)[0]
    assert np.array_equal(stock.synthetic_stock(seed=4), stock.synthetic_stock(seed=4))
    assert not np.array_equal(stock.synthetic_stock(seed=4), stock.synthetic_stock(seed=5))


def test_synthetic_mnist_is_learnable():
    x, y = mnist.synthetic(3000, seed=0)
    a = np.c_[x.reshape(3000, -1) / 255.0, np.ones(3000)]
    w = np.linalg.solve(a[:2000].T @ a[:2000] + np.eye(785), a[:2000].T @ np.eye(10)[y[:2000]])
    assert (np.argmax(a[2000:] @ w, 1) == y[2000:]).mean() > 0.8


def test_synthetic_stock_is_a_valid_ohlc_series():
    xy = stock.synthetic_stock()
    o, h, lo, v, c = xy.T
    assert np.all(h >= np.maximum(o, c)) and np.all(lo <= np.minimum(o, c)) and np.all(v > 0)


# ---- text --------------------------------------------------------------------------------------
def test_tokenize_like_clean_str():
    assert text.tokenize("It's NOT (that) bad, isn't it?! Wow...") == [
        "it", "'s", "not", "(", "that", ")", "bad", ",", "is", "n't", "it", "?", "!", "wow"]
    assert text.clean_str("  co-writer/director  ") == "co writer director"


def test_vocabulary_encode_pads_masks_and_decodes():
    v = text.Vocabulary().build(["a b a", ["c"]])
    assert v.idx2token == ["<PAD>", "<START>", "<END>", "<UNK>", "a", "b", "c"]
    ids, mask = v.encode(["a b", "c zebra a", ""])
    assert ids.tolist() == [[4, 5, 0], [6, 3, 4], [0, 0, 0]] and ids.dtype == np.int64
    assert mask.tolist() == [[1, 1, 0], [1, 1, 1], [0, 0, 0]] and mask.dtype == np.float32
    ids, mask = v.encode(["a b c a"], max_len=3, add_start_end=True)
    assert ids.tolist() == [[1, 4, 5]] and mask.tolist() == [[1, 1, 1]]
    assert v.decode([[4, 5, 0]]) == [["a", "b"]]
    assert len(text.Vocabulary(min_frequency=1).build(["a b a"])) == 5


def test_text_train_test_split_is_the_lecture_shuffle():
    x, y = [f"s{i}" for i in range(25)], np.arange(25)
    xtr, xte, ytr, yte = text.train_test_split(x, y)
    perm = np.random.RandomState(10).permutation(25)   # np.random.seed(10); permutation(...)
    assert len(xte) == 2 and yte.tolist() == perm[-2:].tolist() and xtr[0] == f"s{perm[0]}"
    assert sorted(ytr.tolist() + yte.tolist()) == list(range(25))
    assert text.train_test_split(x, y)[1] == xte


# ---- stock -------------------------------------------------------------------------------------
def test_stock_csv_is_reversed_to_oldest_first(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("# source\n# Open,High,Low,Volume,Close\n3,3,3,30,3.5\n2,2,2,20,2.5\n"
                 "1,1,1,10,1.5")   # newest first, no final newline
    xy = stock.load_stock_csv(p)
    assert xy[:, 0].tolist() == [1, 2, 3] and xy.flags.c_contiguous
    p.write_text("1,2,3\n4,5,6")
    with pytest.raises(DataError, match="s.csv"):
        stock.load_stock_csv(p)
    p.write_text("1,2,3,4,x")
    with pytest.raises(DataError, match="s.csv"):
        stock.load_stock_csv(p)
    with pytest.raises(DataError, match="missing"):
        stock.load_stock_csv(tmp_path / "absent.csv")


def test_min_max_scale_windows_and_split():
    xy = stock.synthetic_stock(40, seed=1)
    s = stock.min_max_scale(xy)
    np.testing.assert_array_equal(s, (xy - xy.min(0)) / (xy.max(0) - xy.min(0) + 1e-7))
    x, y = stock.make_windows(s, 7)
    assert x.shape == (33, 7, 5) and y.shape == (33, 1)
    for i in (0, 17, 32):
        np.testing.assert_array_equal(x[i], s[i:i + 7])
        assert y[i, 0] == s[i + 7, -1]
    train, test = stock.train_test_split(xy)
    assert len(train) == 28 and np.array_equal(test, xy[21:])
    assert stock.make_windows(s[:5], 7)[0].shape == (0, 7, 5)


# ---- chars -------------------------------------------------------------------------------------
def test_char_lectures():
    d = chars.hihello()
    assert "".join(d.idx2char[i] for i in d.x[0]) == "hihell"
    assert "".join(d.idx2char[i] for i in d.y[0]) == "ihello"
    assert d.one_hot(d.x).shape == (1, 6, 5)
    d = chars.char_sequence()
    assert d.x.shape == (1, 15) and d.num_classes == 10
    w = chars.sentence_windows()
    assert w.x.shape == w.y.shape == (170, 10) and w.num_classes == 25
    vocab = chars.CharVocab(chars.SHIP_SENTENCE)
    for i in (0, 99, 169):
        assert vocab.decode(w.x[i]) == chars.SHIP_SENTENCE[i:i + 10]
        assert vocab.decode(w.y[i]) == chars.SHIP_SENTENCE[i + 1:i + 11]
    batches = chars.char_batches(vocab.encode(chars.SHIP_SENTENCE), 4, 10)
    assert len(batches) == 4 and batches[0][0].shape == (4, 10)
    np.testing.assert_array_equal(batches[0][0][:, 1:], batches[0][1][:, :-1])


def test_load_text_errors(tmp_path):
    with pytest.raises(DataError, match="input.txt.*char-rnn"):
        chars.load_text(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9")
    with pytest.raises(DataError, match="bad.txt.*UTF-8"):
        chars.load_text(bad)


# ---- the real files ----------------------------------------------------------------------------
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_real
def test_real_mnist():
    tr_x, tr_y, te_x, te_y = mnist.read_files(REAL)
    assert tr_x.shape == (60000, 28, 28) and te_x.shape == (10000, 28, 28)
    assert np.bincount(tr_y).tolist() == TRAIN_COUNTS and sum(TRAIN_COUNTS) == 60000
    assert np.bincount(te_y).tolist() == TEST_COUNTS and sum(TEST_COUNTS) == 10000
    # the known md5 of the decompressed original train-images-idx3-ubyte
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 60000, 28, 28)
    assert hashlib.md5(header + tr_x.tobytes()).hexdigest() == "6bbc9ace898e44ae57da46a324031adb"


@needs_real
def test_real_polarity_stock_and_texts():
    x, y = text.load_polarity(REAL)
    assert len(x) == 10662 and y[:5331, 1].all() and y[5331:, 0].all()
    assert max(len(s.split(" ")) for s in x) == 56     # the lecture's max_document_length
    xy = stock.load_stock_csv(REAL)
    assert xy.shape == (732, 5)
    assert xy[-1].tolist() == [828.659973, 833.450012, 828.349976, 1247700, 831.659973]
    assert stock.make_windows(xy)[0].shape == (725, 7, 5)
    assert len(chars.load_text(REAL)) == 1115394
    nietzsche = chars.load_text(REAL, "nietzsche", lower=True)
    assert len(nietzsche) == 600893 and len(set(nietzsche)) == 57
