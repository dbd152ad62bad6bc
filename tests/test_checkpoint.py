"""mg.train.Checkpoint: variables and optimizer state to .npz, atomically, checked on restore."""
import os

import numpy as np
import pytest

import minigrad as mg


class Dense:
    def __init__(self, n_in, n_out, name, seed):
        rng = np.random.default_rng(seed)
        self.W = mg.Variable(rng.normal(size=(n_in, n_out)).astype(np.float32), name=f"{name}/W")
        self.b = mg.Variable(np.zeros(n_out, np.float32), name=f"{name}/b")

    def __call__(self, x):
        return mg.matmul(x, self.W) + self.b


class Model:
    def __init__(self, seed=0):
        self.layers = [Dense(3, 4, "l1", seed), Dense(4, 1, "l2", seed + 1)]
        self.activation = mg.tanh          # a function: not state, skipped

    def __call__(self, x):
        return self.layers[1](self.activation(self.layers[0](x)))

    @property
    def variables(self):
        return [v for layer in self.layers for v in (layer.W, layer.b)]


X = np.random.default_rng(9).normal(size=(8, 3)).astype(np.float32)
Y = np.random.default_rng(8).normal(size=(8, 1)).astype(np.float32)


def train(model, opt, steps):
    for _ in range(steps):
        opt.minimize(lambda: mg.reduce_mean(mg.square(model(mg.constant(X)) - Y)),
                     model.variables)


@pytest.mark.parametrize("make_opt", [lambda: mg.train.AdamOptimizer(0.05),
                                      lambda: mg.train.MomentumOptimizer(0.05, 0.9),
                                      lambda: mg.optimizers.Adam(0.05)])
def test_resume_is_bit_identical(tmp_path, make_opt):
    model, opt, step = Model(), make_opt(), mg.Variable(0, name="global_step")
    train(model, opt, 3)
    path = mg.train.Checkpoint(model=model, optimizer=opt, step=step).save(tmp_path / "ckpt")
    assert path == str(tmp_path / "ckpt.npz")
    train(model, opt, 2)
    expected = [v.numpy() for v in model.variables]

    model2, opt2, step2 = Model(seed=5), make_opt(), mg.Variable(0, name="global_step")
    mg.train.Checkpoint(model=model2, optimizer=opt2, step=step2).restore(path)
    assert opt2.iterations == 3
    train(model2, opt2, 2)
    for a, b in zip(expected, model2.variables):
        np.testing.assert_array_equal(a, b.numpy())


def test_file_layout_and_no_pickle(tmp_path):
    model, opt = Model(), mg.train.AdamOptimizer(0.1)
    train(model, opt, 1)
    path = mg.train.Checkpoint(model=model, optimizer=opt).save(tmp_path / "c.npz")
    with np.load(path, allow_pickle=False) as f:
        keys = sorted(f.files)
        assert f["model/layers/0/W"].shape == (3, 4)
        assert f["optimizer/slots/model/layers/0/W/m"].shape == (3, 4)
        assert str(f["optimizer/class"]) == "AdamOptimizer"
    assert "optimizer/state/beta1_power" in keys and "optimizer/iterations" in keys
    assert [k for k in keys if k.startswith("model/")] == [
        "model/layers/0/W", "model/layers/0/b", "model/layers/1/W", "model/layers/1/b"]
    assert os.listdir(tmp_path) == ["c.npz"]                  # no temporary left behind


def test_restore_before_any_step_resets_optimizer_state(tmp_path):
    model, opt = Model(), mg.train.AdamOptimizer(0.1)
    ckpt = mg.train.Checkpoint(model=model, optimizer=opt)
    path = ckpt.save(tmp_path / "fresh")
    before = [v.numpy() for v in model.variables]
    train(model, opt, 2)
    ckpt.restore(path)
    assert opt.iterations == 0 and opt._slots == {} and opt.beta1_power is None
    for a, v in zip(before, model.variables):
        np.testing.assert_array_equal(a, v.numpy())


def test_shared_variable_saved_once(tmp_path):
    w = mg.Variable([1.0, 2.0], name="w")
    path = mg.train.Checkpoint(a=w, b={"again": w, "list": [w]}).save(tmp_path / "s")
    with np.load(path) as f:
        assert [k for k in f.files if not k.startswith("_")] == ["a"]


def test_failed_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    w = mg.Variable([1.0, 2.0], name="w")
    ckpt = mg.train.Checkpoint(w=w)
    path = ckpt.save(tmp_path / "c")
    old = open(path, "rb").read()
    w.assign([5.0, 6.0])

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(path)
    assert open(path, "rb").read() == old and os.listdir(tmp_path) == ["c.npz"]


# --- bad input -----------------------------------------------------------------------------
def test_mismatch_lists_every_difference(tmp_path):
    model, opt = Model(), mg.train.AdamOptimizer(0.1)
    train(model, opt, 1)
    path = mg.train.Checkpoint(model=model, optimizer=opt).save(tmp_path / "c")
    other = Model()
    other.layers[1] = Dense(4, 2, "l2", 0)                  # shape differs
    other.extra = mg.Variable(1.0)                          # not in the file
    del other.layers[0].b                                   # in the file, not in the objects
    other_opt = mg.train.GradientDescentOptimizer(0.1)      # another optimizer
    before = {id(v): v.numpy() for v in (other.layers[0].W, other.layers[1].W, other.extra)}
    with pytest.raises(ValueError) as err:
        mg.train.Checkpoint(model=other, optimizer=other_opt).restore(path)
    msg = str(err.value)
    assert str(path) in msg
    for needle in ["model/layers/1/W: (float32, shape (4, 1)) in the file, (float32, shape "
                   "(4, 2)) in the objects",
                   "model/layers/1/b: (float32, shape (1,)) in the file, (float32, shape (2,))",
                   "model/extra: in the objects (float32, shape ()), missing from the file",
                   "model/layers/0/b: in the file (float32, shape (4,)), not in the objects",
                   "optimizer/class: AdamOptimizer in the file, GradientDescentOptimizer",
                   "optimizer/slots/model/layers/0/W/m: slot 'm' in the file",
                   "optimizer/state/beta1_power: in the file, but GradientDescentOptimizer"]:
        assert needle in msg, needle
    for v in (other.layers[0].W, other.layers[1].W, other.extra):    # nothing assigned
        np.testing.assert_array_equal(before[id(v)], v.numpy())


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_file_names_it_and_changes_nothing(tmp_path, damage):
    w = mg.Variable(np.arange(1000, dtype=np.float32), name="w")
    path = mg.train.Checkpoint(w=w).save(tmp_path / "c")
    data = bytearray(open(path, "rb").read())
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "flip":
        data[len(data) // 2] ^= 0xFF                           # inside w's bytes: CRC fails
    elif damage == "garbage":
        data = bytearray(b"\x80\x04 not a zip file at all" * 10)
    else:
        data = bytearray()
    open(path, "wb").write(bytes(data))
    w.assign(np.zeros(1000))
    with pytest.raises(ValueError, match=f"'{path}' is not a readable checkpoint"):
        mg.train.Checkpoint(w=w).restore(path)
    assert open(path, "rb").read() == bytes(data)              # the file is left as it was
    assert not w.numpy().any()                                 # and so is the variable


def test_pickled_or_foreign_files_refused(tmp_path):
    w = mg.Variable([1.0], name="w")
    pickled = tmp_path / "p.npz"
    np.savez(pickled, w=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable checkpoint.*pickle"):
        mg.train.Checkpoint(w=w).restore(pickled)
    foreign = tmp_path / "f.npz"
    np.savez(foreign, w=np.ones(1))
    with pytest.raises(ValueError, match="not a minigrad checkpoint"):
        mg.train.Checkpoint(w=w).restore(foreign)
    single = tmp_path / "one.npy"
    np.save(single, np.ones(1))
    with pytest.raises(ValueError, match="not an .npz archive"):
        mg.train.Checkpoint(w=w).restore(single)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        mg.train.Checkpoint(w=w).restore(tmp_path / "missing")


def test_bad_objects():
    with pytest.raises(ValueError, match="give the objects to save"):
        mg.train.Checkpoint()
    with pytest.raises(TypeError, match="'x' is a Tensor"):
        mg.train.Checkpoint(x=mg.constant(1.0)).save("/tmp/never")
    w, v = mg.Variable([1.0], name="w"), mg.Variable([2.0], name="v")
    opt = mg.train.MomentumOptimizer(0.1, 0.9)
    opt.apply_gradients([(mg.constant([1.0]), w), (mg.constant([1.0]), v)])
    with pytest.raises(ValueError, match="slots for variable 'v:0', which is not in this"):
        mg.train.Checkpoint(w=w, optimizer=opt).save("/tmp/never")
    assert not os.path.exists("/tmp/never.npz")
