"""mg.graph.to_dot / render: DOT text that parses, deterministic, with scopes as clusters."""
import os
import re
import shutil
import stat

import numpy as np
import pytest

import minigrad as mg


def two_scope_model():
    rng = np.random.default_rng(1)
    W1 = mg.Variable(rng.normal(size=(3, 4)).astype(np.float32), name="layer1/W")
    b1 = mg.Variable(np.zeros(4, np.float32), name="layer1/b")
    W2 = mg.Variable(rng.normal(size=(4, 1)).astype(np.float32), name="layer2/W")
    x = mg.constant(rng.normal(size=(5, 3)).astype(np.float32))
    tape = mg.GradientTape(persistent=True)
    with tape:
        with mg.name_scope("layer1"):
            h = mg.sigmoid(mg.matmul(x, W1) + b1)
        with mg.name_scope("layer2"):
            with mg.name_scope("out"):
                y = mg.matmul(h, W2)
        loss = mg.reduce_mean(mg.square(y - 1.0))
    return tape, loss, (W1, b1, W2)


def parse(dot):
    """Check DOT structure: balanced braces outside strings; returns (nodes, edges, clusters)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot)        # drop quoted strings
    depth = 0
    for ch in bare:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "closing brace before its opening"
    assert depth == 0, "unbalanced braces"
    assert bare.startswith("digraph ") and bare.rstrip().endswith("}")
    nodes = re.findall(r"^\s*(\w+) \[", bare, flags=re.M)
    nodes = [n for n in nodes if n not in ("node", "edge", "graph")]
    edges = re.findall(r"^\s*(\w+) -> (\w+)", bare, flags=re.M)
    clusters = re.findall(r"subgraph (cluster_\w+) \{", bare)
    return nodes, edges, clusters


def test_two_scope_model_parses():
    tape, loss, _ = two_scope_model()
    dot = mg.graph.to_dot(loss)
    nodes, edges, clusters = parse(dot)
    assert len(nodes) == len(set(nodes))
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    assert clusters == ["cluster_layer1", "cluster_layer2", "cluster_layer2_out"]
    assert len([n for n in nodes if n.startswith("n")]) == len(tape.nodes)
    assert 'label="layer1"' in dot and 'label="out"' in dot
    assert "MatMul\\n5x4" in dot and "Sigmoid\\n5x4" in dot       # type and output shape
    assert 'label="W\\n3x4"' in dot                              # a Variable, by name


def test_clusters_hold_their_scopes_nodes():
    _, loss, _ = two_scope_model()
    dot = mg.graph.to_dot(loss)
    layer1 = dot[dot.index("subgraph cluster_layer1"):dot.index("subgraph cluster_layer2")]
    assert "MatMul" in layer1 and "Sigmoid" in layer1 and 'label="b\\n4"' in layer1
    assert "Mean" not in layer1


def test_deterministic():
    assert mg.graph.to_dot(two_scope_model()[1]) == mg.graph.to_dot(two_scope_model()[1])


def test_values_and_gradients():
    w, x, b = mg.Variable(-2.0, name="w"), mg.Variable(5.0, name="x"), mg.Variable(3.0, name="b")
    with mg.GradientTape(persistent=True) as tape:
        f = w * x + b
    dot = mg.graph.to_dot(f, show_values=True, grads=True)
    assert 'label="w\\nscalar\\n= -2\\ngrad 5"' in dot
    assert 'label="x\\nscalar\\n= 5\\ngrad -2"' in dot
    assert 'label="Mul\\nscalar\\n= -10"' in dot
    gw, gx = tape.gradient(f, [w, x])
    pairs = mg.graph.to_dot(f, grads=[(gw, w), (gx, x)])
    assert pairs == mg.graph.to_dot(f, grads={w: gw, x: gx})
    assert "grad 5" in pairs and "grad 1" not in pairs
    assert mg.graph.to_dot(f, grads=mg.trace(f, verbose=False)) == mg.graph.to_dot(f, grads=True)


def test_whole_tape_and_many_targets():
    tape, loss, _ = two_scope_model()
    nodes, edges, _ = parse(mg.graph.to_dot(tape))
    assert len([n for n in nodes if n.startswith("n")]) == len(tape.nodes)
    assert not [n for n in nodes if n.startswith("out")]
    with tape:
        double = loss * 2.0
    nodes, edges, clusters = parse(mg.graph.to_dot([loss, double]))
    assert [n for n in nodes if n.startswith("out")] == ["out0", "out1"]
    assert "cluster_layer1" in clusters and ("n6", "out0") in edges and ("n7", "out1") in edges


def test_render_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    dot = mg.graph.to_dot(two_scope_model()[1])
    dot_path, svg_path = mg.graph.render(dot, tmp_path / "pics" / "model")
    assert svg_path is None and dot_path == str(tmp_path / "pics" / "model.dot")
    assert open(dot_path).read() == dot


def test_render_with_a_dot_program(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"          # stands in for Graphviz: writes a file at -o
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nwhile [ "$1" != "-o" ]; do shift; done\necho "<svg/>" > "$2"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    dot_path, svg_path = mg.graph.render(mg.graph.to_dot(two_scope_model()[1]),
                                         tmp_path / "g.svg")
    assert dot_path.endswith("g.dot") and open(svg_path).read().strip() == "<svg/>"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_real_graphviz_accepts_it(tmp_path):
    _, loss, _ = two_scope_model()
    _, svg_path = mg.graph.render(mg.graph.to_dot(loss, show_values=True, grads=True),
                                  tmp_path / "model")
    svg = open(svg_path).read()
    assert "<svg" in svg and "layer1" in svg and "MatMul" in svg


# --- bad input -----------------------------------------------------------------------------
def test_drawing_unrecorded_tensors_says_so():
    with pytest.raises(ValueError, match="to_dot: .*not recorded on a GradientTape"):
        mg.graph.to_dot(mg.constant([1.0, 2.0]) + 1.0)
    with pytest.raises(ValueError, match="to_dot: .*Variable, a leaf"):
        mg.graph.to_dot(mg.Variable(1.0))
    w = mg.Variable(2.0)
    with mg.GradientTape() as tape:
        y = w * w
    tape.gradient(y, w)
    with pytest.raises(ValueError, match="released.*persistent=True"):
        mg.graph.to_dot(y)
    with pytest.raises(ValueError, match="holds no recorded nodes"):
        mg.graph.to_dot(tape)
    with pytest.raises(ValueError, match="no target"):
        mg.graph.to_dot([])


def test_bad_grads_and_bad_render_input(tmp_path):
    _, loss, (W1, _, _) = two_scope_model()
    with pytest.raises(TypeError, match="keyed by Tensors"):
        mg.graph.to_dot(loss, grads={"W": np.ones((3, 4))})
    with pytest.raises(ValueError, match="grads=True needs a single target"):
        mg.graph.to_dot([loss], grads=True)
    with pytest.raises(ValueError, match="expected DOT text"):
        mg.graph.render(loss, tmp_path / "x")
