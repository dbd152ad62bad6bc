"""mg.graph.explore: the backward pass as a self-contained page, checked in the file and in a
real browser (headless Chromium, installed with apt-get when missing and we are root)."""
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

# the module (the package's `explore` is the function)
explore_module = importlib.import_module("minigrad.graph.explore")
ROOT = Path(__file__).resolve().parents[1]


def lecture():
    """f = w*x + b at w = -2, x = 5, b = 3 (df/dw = 5, df/dx = -2, df/db = 1)."""
    w, x, b = mg.Variable(-2.0, name="w"), mg.Variable(5.0, name="x"), mg.Variable(3.0, name="b")
    with mg.GradientTape(persistent=True):
        g = w * x
        f = g + b
    return f, {"w": w, "x": x, "b": b}, {"g": g, "f": f}


def page_data(path):
    text = Path(path).read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return text, json.loads(m.group(1))


def final_gradients(data):
    """{label: what the page shows after the last step}, from the page's own data."""
    out = {}
    for row in data["table"]:
        rows = data["tensors"][row["tensor"]]["rows"]
        out[row["label"]] = rows[-1]["full"]
    return out


def assert_self_contained(text):
    links = re.findall(r"""(?:src|href)\s*=\s*["']?\s*([^"'\s>]+)""", text, re.I)
    assert not [u for u in links if re.match(r"(?:https?:)?//", u)], links
    assert "<link" not in text and not re.search(r"<script[^>]+src", text)
    assert "@import" not in text and "url(http" not in text


# --- the file --------------------------------------------------------------------------------
def test_lecture_page(tmp_path):
    f, sources, names = lecture()
    path = mg.graph.explore(f, tmp_path / "f.html", sources=sources, names=names,
                            layout="layered")
    assert path == str(tmp_path / "f.html")
    text, data = page_data(path)
    assert_self_contained(text)
    assert len(data["steps"]) == 2 and data["layout"] == "layered"
    for label in ("Mul", "Add", ">w<", ">x<", ">b<", "= -10", "= -7"):
        assert label in text, label
    assert final_gradients(data) == {"w": "5", "x": "-2", "b": "1"}
    add, mul = data["steps"]
    assert [p["text"] for p in add["passes"]] == ["1", "1"]        # df/dg, df/db
    assert [p["text"] for p in mul["passes"]] == ["5", "-2"]       # df/dw, df/dx
    assert "df/dw = df/dg \u00d7 dg/dw = 1 \u00d7 5 = 5" in mul["html"]
    assert "y = x0 * x1; gx0 = gy * x1, gx1 = x0 * gy" in mul["html"]
    assert "passes df/dw = 5" in mul["html"]                        # mg.trace's own text
    assert data["tensors"][data["table"][0]["tensor"]]["name"] == "df/dw"


def test_the_steps_are_mg_traces(tmp_path, monkeypatch):
    """explore serialises mg.trace's Steps (one trace call, verbose=False), no second walk."""
    calls = []
    real = explore_module.trace

    def spy(*args, **kwargs):
        calls.append(kwargs.get("verbose"))
        return real(*args, **kwargs)
    monkeypatch.setattr(explore_module, "trace", spy)
    f, sources, names = lecture()
    _, data = page_data(mg.graph.explore(f, tmp_path / "f.html", sources=sources, names=names))
    assert calls == [False]
    tr = mg.trace(f, sources, names=names, verbose=False)
    assert [data["steps"][k]["node"] for k in range(len(tr))] == ["n1", "n0"]   # Add, Mul
    assert [s.type for s in tr] == ["Add", "Mul"]


def test_sum_over_consumers(tmp_path):
    """x feeds two nodes: its gradient is shown as the sum of both, in walk order."""
    x, w = mg.Variable(2.0, name="x"), mg.Variable(3.0, name="w")
    with mg.GradientTape(persistent=True):
        y = x * w + x
    _, data = page_data(mg.graph.explore(y, tmp_path / "y.html", sources={"x": x, "w": w}))
    grads = final_gradients(data)
    assert grads == {"x": "1 + 3 = 4", "w": "2"}
    step_of_mul = data["steps"][1]
    assert step_of_mul["node"] == "n0"


def test_sigmoid_taken_apart(tmp_path):
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from explore_backprop import sigmoid_apart
    finally:
        sys.path.remove(str(ROOT / "examples"))
    f, sources, names = sigmoid_apart()
    _, data = page_data(mg.graph.explore(f, tmp_path / "s.html", sources=sources, names=names))
    assert len(data["steps"]) == 8                      # 2 Mul, 2 Add, Neg, Exp, Add, Reciprocal
    got = {k: float(v) for k, v in final_gradients(data).items()}
    want = {"w0": -0.196612, "x0": 0.393224, "w1": -0.393224, "x1": -0.589836, "w2": 0.196612}
    assert got == pytest.approx(want, abs=1e-6)


def model_step(blocks=3):
    """A scoped MLP of primitives, trained one step inside capture (tape freed as usual)."""
    rng = np.random.default_rng(0)
    x = mg.constant(rng.normal(size=(4, 3)).astype(np.float32))
    params = []
    with mg.graph.capture() as cap:
        with mg.GradientTape() as tape:
            h = x
            for k in range(blocks):
                with mg.name_scope(f"block{k}"):
                    W = mg.Variable(rng.normal(size=(3, 3)).astype(np.float32),
                                    name=f"block{k}/W")
                    b = mg.Variable(np.zeros(3, np.float32), name=f"block{k}/b")
                    params += [W, b]
                    with mg.name_scope("act"):
                        z = mg.matmul(h, W) + b
                        a = mg.tanh(z) * 0.5 + mg.sigmoid(z) * h
                    h = a + h * 0.1
            loss = mg.reduce_mean(h * h)
        grads = tape.gradient(loss, params)
    return cap, loss, params, grads


def test_model_step_from_capture(tmp_path):
    cap, loss, params, grads = model_step(3)
    text, data = page_data(mg.graph.explore(cap.tape, tmp_path / "m.html"))
    assert_self_contained(text)
    assert len(data["steps"]) == len(cap.tape.nodes)
    assert {"block0", "block0/act", "block2/act"} <= set(data["scopes"])
    assert 'data-scope="block1/act"' in text
    shown = {row["label"]: row for row in data["table"]}
    assert set(shown) == {p.name.split(":")[0] for p in params}       # the watched Variables
    final = data["tensors"][shown["block0/W"]["tensor"]]["rows"][-1]["full"]
    assert final.startswith("(3, 3) [[") or final.startswith("  (3, 3)")
    total = final.split("= ")[-1]
    np.testing.assert_allclose(_numbers(total), grads[0].numpy().ravel(), rtol=2e-3, atol=1e-4)


def _numbers(text):
    return np.array([float(v) for v in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", text)[2:]])


def test_a_few_hundred_nodes(tmp_path):
    cap, *_ = model_step(24)
    t0 = time.perf_counter()
    path = mg.graph.explore(cap.tape, tmp_path / "big.html", layout="layered")
    seconds = time.perf_counter() - t0
    text, data = page_data(path)
    assert len(data["nodes"]) > 300 and seconds < 20
    assert len(re.findall(r"data-node=", text)) == len(data["nodes"])
    with pytest.raises(ValueError) as err:
        mg.graph.explore(cap.tape, tmp_path / "no.html", max_nodes=100)
    msg = str(err.value)
    assert f"has {len(data['nodes'])} nodes" in msg and "at most 100" in msg
    assert "scope='block" in msg and "smaller step" in msg
    _, part = page_data(mg.graph.explore(cap.tape, tmp_path / "one.html", scope="block5"))
    assert 0 < len(part["steps"]) < 20
    assert all(n["scope"].startswith("block5") or n["scope"] == "" for n in
               part["nodes"].values())


def test_bad_targets(tmp_path):
    w = mg.Variable(1.0, name="w")
    c = mg.constant(2.0) * mg.constant(3.0)                 # recorded on no tape
    with pytest.raises(ValueError, match="not recorded on any GradientTape") as err:
        mg.graph.explore(c, tmp_path / "c.html")
    assert "mg.graph.capture()" in str(err.value) and "GradientTape(persistent=True)" in str(
        err.value)
    with pytest.raises(ValueError, match="is a Variable"):
        mg.graph.explore(w, tmp_path / "w.html")
    with mg.GradientTape() as tape:
        y = w * w
    tape.gradient(y, [w])                                   # non-persistent: graph freed
    with pytest.raises(ValueError, match="released"):
        mg.graph.explore(y, tmp_path / "y.html")
    with pytest.raises(ValueError, match="holds no recorded nodes"):
        mg.graph.explore(mg.GradientTape(), tmp_path / "t.html")
    with pytest.raises(TypeError, match="must be a Tensor"):
        mg.graph.explore(np.ones(3), tmp_path / "a.html")
    f, sources, names = lecture()
    with pytest.raises(ValueError, match="scope"):
        mg.graph.explore(f, tmp_path / "s.html", scope="nowhere")
    assert not list(tmp_path.iterdir())                     # nothing half-written


def test_layout_choice(tmp_path, monkeypatch):
    f, sources, names = lecture()
    monkeypatch.setattr(explore_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs Graphviz"):
        mg.graph.explore(f, tmp_path / "d.html", layout="dot")
    _, data = page_data(mg.graph.explore(f, tmp_path / "a.html"))
    assert data["layout"] == "layered"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")
def test_graphviz_layout(tmp_path):
    cap, *_ = model_step(2)
    text, data = page_data(mg.graph.explore(cap.tape, tmp_path / "g.html", layout="dot"))
    assert data["layout"] == "graphviz" and 'class="graphviz"' in text
    assert_self_contained(text)
    assert set(re.findall(r'data-node="(\w+)"', text)) == set(data["nodes"])
    assert set(re.findall(r'data-edge="(\w+)"', text)) == set(data["edges"])
    assert {"block0", "block1/act"} <= set(re.findall(r'data-scope="([\w/]+)"', text))


def test_cli_runs_a_script(tmp_path):
    out = tmp_path / "sig.html"
    done = subprocess.run([sys.executable, "-m", "minigrad.graph", "explore",
                           str(ROOT / "examples" / "sigmoid_two_ways.py"), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "captured 2 tape(s)" in done.stdout and f"wrote {out}" in done.stdout
    _, data = page_data(out)
    assert len(data["steps"]) == 8                        # the primitives' tape, the larger
    bad = subprocess.run([sys.executable, "-m", "minigrad.graph", "explore",
                          str(tmp_path / "none.py")], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "no script" in bad.stderr


# --- a real browser ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe:
        return exe
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("headless Chromium is not installed, and without root and apt-get it "
                    "cannot be: apt-get install chromium (Debian) to run the browser test")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd, limit in ((["apt-get", "update"], 300),
                       (["apt-get", "install", "-y", "--no-install-recommends", "chromium"], 900)):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=limit)
        except subprocess.TimeoutExpired:
            pytest.skip(f"`{' '.join(cmd)}` took over {limit} s: no Chromium for this test")
        if done.returncode != 0:
            pytest.skip(f"`{' '.join(cmd)}` failed, so no Chromium: "
                        f"{(done.stderr or done.stdout).strip()[-300:]}")
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("apt-get installed chromium, but no `chromium` is on PATH")
    return exe


def browse(exe, url, *extra, timeout=60):
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--hide-scrollbars", "--window-size=1280,760", "--virtual-time-budget=3000",
           *extra, url]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Shown(HTMLParser):
    """What the page shows: the gradient cells, the texts over the drawing, the counter."""

    def __init__(self):
        super().__init__()
        self.cells, self.badges, self.edge_labels, self.stack = {}, [], [], []
        self.counter, self.step, self.current = "", None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "body":
            self.step = a.get("data-step")
        if "current" in cls.split() and "data-node" in a:
            self.current.append(a["data-node"])
        key = (("cell", a["data-label"]) if tag == "td" and "data-label" in a else
               ("badge",) if "badge" in cls.split() else
               ("gl",) if cls.split()[:1] == ["gl"] else
               ("counter",) if a.get("id") == "counter" else None)
        self.stack.append([key, ""])

    def handle_endtag(self, tag):
        if not self.stack:
            return
        key, text = self.stack.pop()
        if key and key[0] == "cell":
            self.cells[key[1]] = text.strip()
        elif key == ("badge",):
            self.badges.append(text.strip())
        elif key == ("gl",):
            self.edge_labels.append(text.strip())
        elif key == ("counter",):
            self.counter = text.strip()

    def handle_data(self, data):
        for frame in self.stack:
            frame[1] += data


def shown(exe, path, step):
    page = Shown()
    page.feed(browse(exe, f"{Path(path).as_uri()}#step={step}", "--dump-dom"))
    return page


def test_browser_walks_the_lecture(chromium, tmp_path):
    f, sources, names = lecture()
    path = mg.graph.explore(f, tmp_path / "lecture.html", sources=sources, names=names)
    t0 = time.perf_counter()
    start = shown(chromium, path, 0)
    assert start.step == "0" and start.counter == "start / 2"
    assert start.cells == {"w": "\u2014", "x": "\u2014", "b": "\u2014"}
    assert "df/df = 1" in start.badges and start.current == ["n1"]
    one = shown(chromium, path, 1)                       # the Add: df/dg = df/db = 1
    assert one.step == "1" and one.current == ["n1"]
    assert one.cells == {"w": "\u2014", "x": "\u2014", "b": "1"}
    assert "df/dg = 1" in one.badges and "df/db = 1" in one.badges
    end = shown(chromium, path, "end")                   # the Mul: df/dw = 5, df/dx = -2
    assert end.step == "2" and end.counter == "step 2 / 2" and end.current == ["n0"]
    assert end.cells == {"w": "5", "x": "-2", "b": "1"}
    assert {"df/dw = 5", "df/dx = -2", "df/db = 1"} <= set(end.badges)
    assert sorted(t for t in end.edge_labels if t) == ["-2", "1", "1", "5"]
    shot = tmp_path / "lecture.png"
    browse(chromium, f"{Path(path).as_uri()}#step=2", f"--screenshot={shot}")
    assert shot.stat().st_size > 5000
    print(f"\nscreenshot of the page after the walk: {shot} "
          f"({time.perf_counter() - t0:.1f} s in Chromium)")


def test_browser_opens_a_model_step(chromium, tmp_path):
    cap, *_ = model_step(6)
    path = mg.graph.explore(cap.tape, tmp_path / "model.html")
    n = len(cap.tape.nodes)
    end = shown(chromium, path, n + 5)                    # past the end: stops at the end
    assert end.step == str(n) and end.counter == f"step {n} / {n}"
    assert all(v != "\u2014" for v in end.cells.values()) and len(end.cells) == 12
