"""mg.train.Checkpoint: variables and optimizer state to .npz, atomically, checked on restore."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import minigrad as mg
from tests.conftest import ROOT


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


# --- temporary files left by killed saves --------------------------------------------------
def _temps(folder, basename="c.npz"):
    return sorted(n for n in os.listdir(folder) if n.startswith(f".{basename}.")
                  and n.endswith(".tmp"))


_HOLD_LOCKED = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_next_save_removes_dead_writers_temps_only(tmp_path):
    """Removed: this path's unlocked temps. Kept: a temp flock-ed by a live process (a save in
    progress elsewhere) and the temps of another checkpoint whose name starts like this one."""
    ckpt = mg.train.Checkpoint(w=mg.Variable([1.0, 2.0], name="w"))
    dead = [tmp_path / ".c.npz.k1l2m3n4.tmp", tmp_path / ".c.npz.a_9.tmp"]
    others = [tmp_path / ".c.npz.x.npz.abcd1234.tmp", tmp_path / ".c.npz.abcd1234.tmp.bak",
              tmp_path / "c.npz.abcd1234.tmp"]
    for p in dead + others:
        p.write_bytes(b"half a checkpoint")
    live = tmp_path / ".c.npz.live0000.tmp"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCKED, str(live)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        ckpt.save(tmp_path / "c")
        assert _temps(tmp_path) == [".c.npz.live0000.tmp", ".c.npz.x.npz.abcd1234.tmp"]
    finally:
        holder.communicate("")                               # its lock goes with it
    ckpt.save(tmp_path / "c")
    assert _temps(tmp_path) == [".c.npz.x.npz.abcd1234.tmp"]
    assert all(p.exists() for p in others)


def test_save_in_another_thread_keeps_a_running_saves_temp(tmp_path, monkeypatch):
    """Thread A is inside np.savez when thread B saves the same path: B must not take A's
    temporary file, and A's save completes (its rename would fail if its file were gone)."""
    w = mg.Variable(np.arange(4.0), name="w")
    ckpt = mg.train.Checkpoint(w=w)
    inside, release, real_savez = threading.Event(), threading.Event(), np.savez

    def slow_savez(f, **arrays):
        if threading.current_thread().name == "A":
            inside.set()
            assert release.wait(10)
        real_savez(f, **arrays)
    monkeypatch.setattr(np, "savez", slow_savez)
    errors = []
    a = threading.Thread(name="A", target=lambda: _save_or_log(ckpt, tmp_path / "c", errors))
    a.start()
    assert inside.wait(10)
    assert len(_temps(tmp_path)) == 1                        # A's, half written
    mg.train.Checkpoint(w=mg.Variable(np.zeros(4), name="w")).save(tmp_path / "c")
    assert len(_temps(tmp_path)) == 1                        # still there
    release.set()
    a.join(10)
    assert errors == [] and _temps(tmp_path) == []
    with np.load(tmp_path / "c.npz") as f:                   # A renamed last: its values
        np.testing.assert_array_equal(f["w"], np.arange(4.0))


def _save_or_log(ckpt, path, errors):
    try:
        ckpt.save(path)
    except BaseException as e:     # a thread's exception would otherwise only be printed
        errors.append(e)


# A model of 11 MB (a save takes 10-20 ms here, most of a loop's time) whose every array tells
# which version k it holds: a file mixing two saves, or half written, cannot pass `_version`.
_MODEL = """
import numpy as np
import minigrad as mg
from tests.conftest import ROOT
SHAPES = [(512, 512)] * 6 + [(1024, 256), (256,), (3, 5, 7)]

def version(k):
    return [np.full(s, 16 * k + i, np.float32 if i % 2 else np.float64)
            for i, s in enumerate(SHAPES)]

def make():
    weights = [mg.Variable(a) for a in version(0)]
    step = mg.Variable(np.int64(0))
    return weights, step, mg.train.Checkpoint(model={"weights": weights}, step=step)

def next_version(weights, step):
    for w in weights:                 # in place, well under 1 ms: the loop is mostly saving
        w.assign_add(16)
    step.assign_add(1)
"""

# Restores the last version, saves it again (which must sweep the temp a kill left), says so,
# then on "go" saves k+1, k+2, ... and prints each k once its save returned, until killed.
_SAVER = _MODEL + """
import sys
weights, step, ckpt = make()
ckpt.restore(sys.argv[1])
k = int(step.numpy())
ckpt.save(sys.argv[1])
print("saved", k, flush=True)
sys.stdin.readline()
while True:
    k += 1
    next_version(weights, step)
    ckpt.save(sys.argv[1])
    print(k, flush=True)
"""


def _version(model, path):
    """The version k the checkpoint at `path` holds, after checking every array is version k's."""
    weights, step, ckpt = model["make"]()
    ckpt.restore(path)
    k = int(step.numpy())
    for w, a in zip(weights, model["version"](k)):
        assert w.numpy().dtype == a.dtype and np.array_equal(w.numpy(), a), "a mixed checkpoint"
    return k


def test_saver_killed_at_random_moments(tmp_path):
    """SIGKILL a process saving in a loop, at random moments, 12 times or more: each time the
    file restores whole as the last version saved (or the one being renamed when killed), and
    the next save removes the temp the kill left. It goes on until 6 kills have landed inside
    a save (usually within the 12: a temp lives ~80% of the loop, the rest is the rename's
    directory fsync and the next version) and fails if 40 kills do not get there."""
    model, path, rng = {}, tmp_path / "c.npz", np.random.default_rng(0)
    exec(_MODEL, model)
    model["make"]()[2].save(path)                               # version 0
    last, kills, inside_a_save = 0, 0, 0
    while kills < 12 or (inside_a_save < 6 and kills < 40):
        saver = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], cwd=ROOT,
                                 env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        assert saver.stdout.readline() == f"saved {last}\n"
        assert _temps(tmp_path) == []                       # the last kill's temp is gone
        saver.stdin.write("go\n")
        saver.stdin.flush()
        time.sleep(rng.uniform(0.02, 0.3))
        saver.kill()
        done = ([last] + [int(line) for line in saver.communicate()[0].split()])[-1]
        kills, inside_a_save = kills + 1, inside_a_save + len(_temps(tmp_path))
        k = _version(model, path)
        assert k in (done, done + 1), (k, done)
        last = k
    assert inside_a_save >= 6, f"only {inside_a_save} of {kills} kills landed inside a save"


def _env():
    """The subprocess imports this checkout's minigrad, whatever is installed."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
