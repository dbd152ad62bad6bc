"""tf.summary in TF1 graph mode: summary ops, merge_all, FileWriter, TensorBoard's reader.

Op level: one graph built under both engines, the same values fed, the fetched serialized
Summaries compared byte for byte. Program level: the deck's XOR (lab 9) and MNIST softmax with
TensorBoard, one program text each, run under TensorFlow and minigrad from the same weights;
both engines' event files are read back with TensorBoard's EventAccumulator and compared.
"""
import glob

import numpy as np
import pytest

import minigrad.compat.v1 as mg_tf
from minigrad.core.errors import InvalidArgumentError
from minigrad.data import mnist
from minigrad.testing.tf1_compare import Sync, run_in_graph, tf_v1

pytest.importorskip("tensorboard")


def run_logged(program, tmp_path, *args, **kwargs):
    """run_both, each engine writing its TensorBoard files into its own directory:
    ((TF's result, its logdir), (minigrad's result, its logdir))."""
    sync = Sync()
    tf_dir, mg_dir = str(tmp_path / "tf"), str(tmp_path / "mg")
    want = run_in_graph(tf_v1(), program, tf_dir, *args, sync=sync, **kwargs)
    got = run_in_graph(mg_tf, program, mg_dir, *args, sync=sync.replay(), **kwargs)
    return (want, tf_dir), (got, mg_dir)


def read_run(logdir):
    """What TensorBoard loads from `logdir`: {tag: [(step, value)]} for scalars, {tag: [(step,
    HistogramValue)]} for histograms, and the GraphDef."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags["scalars"]}
    hists = {t: [(e.step, e.histogram_value) for e in acc.Histograms(t)]
             for t in tags["histograms"]}
    return scalars, hists, (acc.Graph() if tags["graph"] else None)


def parse(summary_bytes):
    from tensorboard.compat.proto import summary_pb2
    return summary_pb2.Summary.FromString(summary_bytes)


# --- op level: the serialized Summaries, byte for byte ------------------------------------------
def summaries(tf, logdir, feeds, dtype="float32", sync=None):
    """Scalars and histograms under nested and repeated scopes, a family, an unclean name,
    an int input and a merge; every fetch for every feed, and the summary nodes' names."""
    f = getattr(tf, dtype)
    x = tf.placeholder(f, [None], name="x")
    n = tf.placeholder(tf.int32, [2, 3], name="n")
    c = tf.reduce_max(tf.placeholder(f, [1], name="c"))
    with tf.name_scope("Cost"):
        # NOTE: exact computations only: the engines may sum in different orders
        made = [tf.summary.scalar("Cost", c), tf.summary.scalar("Cost", c * 2.0)]
        with tf.name_scope("inner"):
            made.append(tf.summary.histogram("values", x))
    made += [tf.summary.histogram("values", x), tf.summary.histogram("counts", n),
             tf.summary.scalar("my cost!", c, family="fam"),
             tf.summary.scalar("/lead", tf.reduce_max(x))]
    merged = tf.summary.merge_all()
    pair = tf.summary.merge(made[:2], name="pair")
    with tf.Session() as sess:
        sync(sess)
        outs = [sess.run(made + [merged, pair], feed_dict={x: a, n: m, "c:0": [v]})
                for a, m, v in feeds]
        writer = tf.summary.FileWriter(logdir, sess.graph)
        writer.close()
    return {"names": [t.name for t in made + [merged, pair]], "outs": outs}


def feeds(dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 3, 200).astype(dtype)
    a[:20] = 0.0                                  # zeros, ties and tiny values in one feed
    a[20:30] = a[30]
    a[40:45] = [1e-13, -1e-13, 1e-30, 5e3, -7e5]
    b = rng.uniform(-1, 1, 7).astype(dtype)       # a second feed: the plan's replay
    m = np.array([[1, 2, 2], [0, -5, 9]], np.int32)
    return [(a, m, 0.1), (b, -m, -3.0e7 / 7)]   # 0.1 in float64: rounded to float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_summary_bytes_names_and_graph_match_tensorflow(tmp_path, dtype):
    (want, tf_dir), (got, mg_dir) = run_logged(summaries, tmp_path, feeds(dtype), dtype)
    assert got["names"] == want["names"] == [
        "Cost/Cost:0", "Cost/Cost_1:0", "Cost/inner/values:0", "values:0", "counts:0",
        "fam/my_cost_:0", "lead:0", "Merge/MergeSummary:0", "pair/pair:0"]
    for w, g in zip(want["outs"], got["outs"]):
        assert [type(s) for s in g] == [bytes] * len(w)
        assert g == w                           # same protos, same serialization
    tags = [v.tag for v in parse(got["outs"][0][-2]).value]
    assert tags == ["Cost/Cost", "Cost/Cost_1", "Cost/inner/values", "values", "counts",
                    "fam/fam/my_cost_", "lead"]
    # the summary nodes and their tag constants in the Graphs tab, as TF names them
    want_nodes = summary_nodes(read_run(tf_dir)[2])
    assert summary_nodes(read_run(mg_dir)[2]) == want_nodes
    assert ("Cost/Cost_1", "ScalarSummary", ("Cost/Cost_1/tags", "Cost/mul")) in want_nodes
    assert ("values", "HistogramSummary", ("values/tag", "x")) in want_nodes


def summary_nodes(graph_def):
    return {(n.name, n.op, tuple(n.input)) for n in graph_def.node
            if n.op.endswith("Summary") or n.name.endswith(("/tags", "/tag"))}


def test_histogram_proto_is_tensorflows():
    """The fixed exponential buckets, empty runs collapsed, min/max/sums in order."""
    h = parse(run_once(lambda tf, x: tf.summary.histogram("h", x),
                       np.array([0.5, -2.0, 3.25, 0.0, 1e-13]))).value[0].histo
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2, 3.25, 5, 1.7500000000001, 14.8125)
    assert list(h.bucket) == [0, 1, 0, 2, 0, 1, 0, 1, 0]
    assert h.bucket_limit[3] == 1e-12 and h.bucket_limit[-1] == np.finfo(np.float64).max
    empty = parse(run_once(lambda tf, x: tf.summary.histogram("h", x),
                           np.zeros(0))).value[0].histo
    assert (empty.num, list(empty.bucket), list(empty.bucket_limit)) == (
        0, [0], [np.finfo(np.float64).max])


def run_once(build, value):
    with mg_tf.Graph().as_default():
        x = mg_tf.placeholder(mg_tf.float64, name="x")
        s = build(mg_tf, x)
        with mg_tf.Session() as sess:
            return sess.run(s, {x: value})


# --- bad input ----------------------------------------------------------------------------------
def test_nonfinite_histogram_fails_when_run_naming_the_node():
    with mg_tf.Graph().as_default():
        x = mg_tf.placeholder(mg_tf.float32, [None], name="x")
        with mg_tf.name_scope("layer1"):
            h = mg_tf.summary.histogram("weights", x)
        log_x = mg_tf.summary.histogram("log_x", mg_tf.log(x))   # log(0) in the stand-in run
        with mg_tf.Session() as sess:
            assert sess.run(h, {x: [1.0, 2.0]})
            assert parse(sess.run(log_x, {x: [1.0, 1.0]})).value[0].histo.sum == 0
            with pytest.raises(InvalidArgumentError, match="^Nan in Histogram for: "
                                                           "layer1/weights .*of 3, shape .3."):
                sess.run(h, {x: [1.0, np.nan, np.inf]})
            with pytest.raises(InvalidArgumentError, match="^Infinity in Histogram for"):
                sess.run(h, {x: [-np.inf, np.nan, 0.0]})


def test_bad_summary_inputs_are_refused_when_built():
    with mg_tf.Graph().as_default():
        v = mg_tf.placeholder(mg_tf.float32, [None, 3], name="v")
        with pytest.raises(InvalidArgumentError, match=r"not the same shape: \[\] != \[2, 3\] "
                                                       r"\(tag 'loss'\)"):
            mg_tf.summary.scalar("loss", v)         # TF builds it and fails when run
        with pytest.raises(TypeError, match="'flag' has DataType bool, not a real number"):
            mg_tf.summary.histogram("flag", v > 0)
        with pytest.raises(TypeError, match="inputs must be string Tensors"):
            mg_tf.summary.merge([v])
        assert mg_tf.summary.merge_all() is None    # nothing collected: TF returns None
        s = mg_tf.summary.scalar("c", 3.0)         # a Python number becomes a constant
        with pytest.raises(InvalidArgumentError, match="Duplicate tag c found in summary "
                                                       "inputs"):
            mg_tf.summary.merge([s, s])             # tags are constants: TF fails when run
        with mg_tf.Session() as sess:
            assert parse(sess.run(s)).value[0].simple_value == 3.0


# --- FileWriter, read back by TensorBoard --------------------------------------------------------
def test_file_writer_scalars_histograms_graph_through_event_accumulator(tmp_path):
    """The lecture's five steps; read back by TensorBoard, values fetched in the same runs."""
    g = mg_tf.Graph()
    with g.as_default():
        x = mg_tf.placeholder(mg_tf.float32, [None, 2], name="x")
        with mg_tf.name_scope("layer1"):
            W = mg_tf.Variable(np.array([[1.0, -2.0], [0.5, 3.0]], np.float32), name="weights")
            y = mg_tf.matmul(x, W)
            mg_tf.summary.histogram("weights", W)                    # 1. what to log
        with mg_tf.name_scope("cost"):
            cost = mg_tf.reduce_mean(mg_tf.square(y))
            mg_tf.summary.scalar("cost", cost)
        train = mg_tf.train.GradientDescentOptimizer(0.01).minimize(cost)
        merged = mg_tf.summary.merge_all()                            # 2. merge them
        with mg_tf.Session() as sess:
            writer = mg_tf.summary.FileWriter(str(tmp_path), sess.graph)   # 3. writer + graph
            sess.run(mg_tf.global_variables_initializer())
            costs, weights = [], []
            for step in range(5):
                weights.append(sess.run(W))
                s, c, _ = sess.run([merged, cost, train], {x: [[1, 2], [3, 4]]})
                writer.add_summary(s, global_step=step)              # 4. add each run's
                costs.append(c)
    scalars, hists, graph = read_run(tmp_path)                      # 5. what TensorBoard sees
    assert scalars == {"cost/cost": [(k, c) for k, c in enumerate(costs)]}
    assert len(set(costs)) == 5                       # serialized anew on every replayed run
    assert list(hists) == ["layer1/weights_1"]           # as TF: the variable has the name
    for (step, h), w in zip(hists["layer1/weights_1"], weights):   # before that step's update
        assert (h.min, h.max, h.num, h.sum) == (w.min(), w.max(), 4, np.cumsum(
            w.ravel().astype(np.float64))[-1])
    nodes = {n.name: n for n in graph.node}
    assert nodes["layer1/MatMul"].op == "MatMul"
    assert list(nodes["layer1/MatMul"].input) == ["x", "layer1/weights"]
    assert nodes["layer1/weights"].op == "VariableV2"
    assert [d.size for d in nodes["x"].attr["_output_shapes"].list.shape[0].dim] == [-1, 2]
    assert list(nodes["cost/cost"].input) == ["cost/cost/tags", "cost/Mean"]
    assert nodes["Merge/MergeSummary"].op == "MergeSummary"
    assert writer.get_logdir() == str(tmp_path)
    writer.close()


def test_graph_def_inputs_reads_control_inputs_and_unknown_shapes():
    from minigrad.compat.v1.graph import make_op
    from minigrad.summary.graphdef import graph_def_of_graph
    g = mg_tf.Graph()
    with g.as_default():
        a = mg_tf.placeholder(mg_tf.float64, name="a")                  # unknown rank
        v = mg_tf.Variable(np.ones(3), name="v")
        first, second = mg_tf.split(mg_tf.zeros([4, 3], mg_tf.float64), 2)
        with mg_tf.control_dependencies([v.initializer]):
            # a call that reads a variable it does not take as an input (as a cell does)
            scaled = make_op("Scale", lambda x: x * v.handle, (second,), name="scale")
        mg_tf.summary.histogram("a", a)
    nodes = {n.name: n for n in graph_def_of_graph(g).node}
    assert nodes["a"].attr["shape"].shape.unknown_rank
    assert nodes["a"].attr["dtype"].type == nodes["v"].attr["dtype"].type  # DT_DOUBLE
    assert list(nodes["scale"].input) == ["split:1", "v", "^v/Assign"]
    assert [d.size for d in nodes["scale"].attr["_output_shapes"].list.shape[0].dim] == [2, 3]
    assert nodes["a_1"].op == "HistogramSummary" and list(nodes["a_1"].input) == ["a_1/tag",
                                                                                 "a"]
    assert scaled.shape.as_list() == [2, 3] and first.shape.as_list() == [2, 3]


def test_file_writer_close_reopen_and_bad_arguments(tmp_path):
    from tensorboard.compat.proto import summary_pb2
    writer = mg_tf.summary.FileWriter(tmp_path / "run")
    proto = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="a", simple_value=1.5)])
    writer.add_summary(proto, 3)
    with pytest.raises(ValueError, match="only graph, or graph_def"):
        writer.add_graph(mg_tf.Graph(), graph_def=object())
    with pytest.raises(TypeError, match="expected a tf.Graph or a GraphDef, got int"):
        writer.add_graph(7)
    with pytest.raises(TypeError, match="serialized Summary .bytes. or a Summary proto"):
        writer.add_summary(1.5, 0)
    writer.close()
    with pytest.warns(UserWarning, match="closed FileWriter"):
        writer.add_summary(proto, 4)                              # dropped, as in TF
    writer.reopen()
    with writer:
        writer.add_summary(proto.SerializeToString(), 5)
    assert len(glob.glob(str(tmp_path / "run" / "events.out.tfevents.*"))) == 2
    assert read_run(tmp_path / "run")[0] == {"a": [(3, 1.5), (5, 1.5)]}
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match="tf.summary.FileWriter: cannot write TensorBoard logs"):
        mg_tf.summary.FileWriter(blocker / "logs")


# --- the deck's programs, both engines -----------------------------------------------------------
def xor_tensorboard(tf, logdir, dtype="float32", steps=11, sync=None):
    """Lab 9: XOR with TensorBoard (name scopes, histograms, scalars, merge_all, FileWriter)."""
    x_data = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y_data = np.array([[0], [1], [1], [0]], dtype=dtype)
    f = getattr(tf, dtype)
    X = tf.placeholder(f, [None, 2], name="x")
    Y = tf.placeholder(f, [None, 1], name="y")
    with tf.name_scope("Layer1"):
        W1 = tf.Variable(tf.random_normal([2, 2], dtype=f), name="weight_1")
        b1 = tf.Variable(tf.random_normal([2], dtype=f), name="bias_1")
        layer1 = tf.sigmoid(tf.matmul(X, W1) + b1)
        tf.summary.histogram("W1", W1)
        tf.summary.histogram("b1", b1)
        tf.summary.histogram("Layer1", layer1)
    with tf.name_scope("Layer2"):
        W2 = tf.Variable(tf.random_normal([2, 1], dtype=f), name="weight_2")
        b2 = tf.Variable(tf.random_normal([1], dtype=f), name="bias_2")
        hypothesis = tf.sigmoid(tf.matmul(layer1, W2) + b2)
        tf.summary.histogram("W2", W2)
        tf.summary.histogram("b2", b2)
        tf.summary.histogram("Hypothesis", hypothesis)
    with tf.name_scope("Cost"):
        cost = -tf.reduce_mean(Y * tf.log(hypothesis) + (1 - Y) * tf.log(1 - hypothesis))
        tf.summary.scalar("Cost", cost)
    with tf.name_scope("Train"):
        train = tf.train.AdamOptimizer(learning_rate=0.01).minimize(cost)
    predicted = tf.cast(hypothesis > 0.5, dtype=f)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(predicted, Y), dtype=f))
    tf.summary.scalar("accuracy", accuracy)
    costs = []
    with tf.Session() as sess:
        merged_summary = tf.summary.merge_all()
        writer = tf.summary.FileWriter(logdir)
        writer.add_graph(sess.graph)
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for step in range(steps):
            _, summary, cost_val = sess.run([train, merged_summary, cost],
                                            feed_dict={X: x_data, Y: y_data})
            writer.add_summary(summary, global_step=step)
            costs.append(cost_val)
        writer.close()
    return np.array(costs)


def mnist_softmax_tensorboard(tf, logdir, data, dtype="float32", epochs=2, batch_size=100,
                              sync=None):
    """Lab 10: MNIST softmax classifier with TensorBoard (Adam, per-batch summaries)."""
    f = getattr(tf, dtype)
    X = tf.placeholder(f, [None, 784], name="X")
    Y = tf.placeholder(f, [None, 10], name="Y")
    with tf.name_scope("softmax"):
        W = tf.Variable(tf.random_normal([784, 10], dtype=f), name="weight")
        b = tf.Variable(tf.random_normal([10], dtype=f), name="bias")
        hypothesis = tf.matmul(X, W) + b
        tf.summary.histogram("weights", W)
        tf.summary.histogram("bias", b)
        tf.summary.histogram("logits", hypothesis)
    with tf.name_scope("cost"):
        cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(logits=hypothesis,
                                                                      labels=Y))
        tf.summary.scalar("cost", cost)
    with tf.name_scope("train"):
        optimizer = tf.train.AdamOptimizer(learning_rate=0.001).minimize(cost)
    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(hypothesis, 1), tf.argmax(Y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, f))
        tf.summary.scalar("accuracy", accuracy)
    summary = tf.summary.merge_all()
    train = mnist.DataSet(data[0].astype(dtype), data[1], seed=0)
    costs, global_step = [], 0
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(logdir, sess.graph)
        sess.run(tf.global_variables_initializer())
        sync(sess)
        for epoch in range(epochs):
            for i in range(train.num_examples // batch_size):
                batch_xs, batch_ys = train.next_batch(batch_size)
                s, c, _ = sess.run([summary, cost, optimizer],
                                   feed_dict={X: batch_xs, Y: batch_ys})
                writer.add_summary(s, global_step=global_step)
                costs.append(c)
                global_step += 1
        writer.flush()
    return np.array(costs)


def mnist_data(n=300):
    images, labels = mnist.synthetic(n, seed=5)
    return images.reshape(n, 784) / np.float64(255.0), np.eye(10)[labels]


def compare_runs(tf_dir, mg_dir, histogram_rtol, activations):
    """Both engines' files as TensorBoard loads them: the same tags, steps and values."""
    want_s, want_h, want_g = read_run(tf_dir)
    got_s, got_h, got_g = read_run(mg_dir)
    assert sorted(got_s) == sorted(want_s) and sorted(got_h) == sorted(want_h)
    for tag in want_s:
        assert [s for s, _ in got_s[tag]] == [s for s, _ in want_s[tag]]
        # float32 values of float64 results equal to ~1e-12: one float32 ulp at most
        np.testing.assert_allclose([v for _, v in got_s[tag]], [v for _, v in want_s[tag]],
                                   rtol=2 ** -23, err_msg=tag)
    # TF leaves the order of a variable's read and its update in one run open: only the
    # histograms of activations are compared (minigrad reads variables before the update)
    for tag in activations:
        assert [s for s, _ in got_h[tag]] == [s for s, _ in want_h[tag]]
        for (_, g), (_, w) in zip(got_h[tag], want_h[tag]):
            np.testing.assert_allclose([g.min, g.max, g.num, g.sum, g.sum_squares],
                                       [w.min, w.max, w.num, w.sum, w.sum_squares],
                                       rtol=histogram_rtol, err_msg=tag)
            assert list(g.bucket) == list(w.bucket), tag
            assert list(g.bucket_limit) == list(w.bucket_limit), tag
    return {n.name: n.op for n in got_g.node}, {n.name: n.op for n in want_g.node}


def test_xor_with_tensorboard_both_engines(tmp_path):
    (want, tf_dir), (got, mg_dir) = run_logged(xor_tensorboard, tmp_path, "float64", steps=51)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got_nodes, want_nodes = compare_runs(tf_dir, mg_dir, 1e-12,
                                         ["Layer1/Layer1", "Layer2/Hypothesis"])
    scalars, hists, _ = read_run(mg_dir)
    assert sorted(scalars) == ["Cost/Cost", "accuracy"]
    assert [v for _, v in scalars["Cost/Cost"]] == [np.float32(c) for c in got]
    assert sorted(hists) == ["Layer1/Layer1", "Layer1/W1", "Layer1/b1", "Layer2/Hypothesis",
                             "Layer2/W2", "Layer2/b2"]
    named = ["x", "y", "Layer1/weight_1", "Layer1/bias_1", "Layer2/weight_2", "Layer1/W1",
             "Layer1/Layer1", "Layer2/Hypothesis", "Cost/Cost", "accuracy",
             "Merge/MergeSummary"]
    assert all(n in got_nodes and n in want_nodes for n in named)
    # TF2's compat.v1 makes resource variables (VarHandleOp): the summaries' types only
    assert {n: got_nodes[n] for n in named[5:]} == {n: want_nodes[n] for n in named[5:]}


def test_xor_with_tensorboard_float32_as_the_lab_writes_it(tmp_path):
    (want, tf_dir), (got, mg_dir) = run_logged(xor_tensorboard, tmp_path, "float32", steps=21)
    np.testing.assert_allclose(got, want, rtol=1e-5)     # float32: TF's op-level scale
    scalars = read_run(mg_dir)[0]
    assert [s for s, _ in scalars["Cost/Cost"]] == list(range(21))
    np.testing.assert_allclose([v for _, v in scalars["Cost/Cost"]],
                               [v for _, v in read_run(tf_dir)[0]["Cost/Cost"]], rtol=1e-5)


def test_mnist_softmax_with_tensorboard_both_engines(tmp_path):
    (want, tf_dir), (got, mg_dir) = run_logged(mnist_softmax_tensorboard, tmp_path,
                                               mnist_data(), "float64")
    assert len(got) == 6
    np.testing.assert_allclose(got, want, rtol=1e-10)   # 784-term dot products, other order
    got_nodes, want_nodes = compare_runs(tf_dir, mg_dir, 1e-10, ["softmax/logits"])
    scalars, hists, _ = read_run(mg_dir)
    assert sorted(scalars) == ["accuracy/accuracy", "cost/cost"]
    assert [s for s, _ in scalars["cost/cost"]] == list(range(6))
    assert [h.num for _, h in hists["softmax/weights"]] == [7840] * 6
    named = ["X", "Y", "softmax/weight", "softmax/weights", "cost/cost", "accuracy/accuracy",
             "Merge/MergeSummary"]
    assert all(n in got_nodes and n in want_nodes for n in named)
