"""Every lecture program once, as the deck writes it in TensorFlow 1, run on either engine.

A lecture is a `Lecture` subclass whose `build(tf, dtype, data)` is the deck's graph code,
written against the `tf` module it is given (`tensorflow.compat.v1` or `minigrad.compat.v1`),
and whose `feed`, `fetches`, `line` and `finish` are the deck's training loop cut into steps:

    for i in range(steps):
        values = sess.run(lecture.fetches(g), lecture.feed(g, data, i))
        print(lecture.log(g, sess, data, i, values))   # the deck's log line, if any
    print(lecture.finish(g, sess, data))           # the deck's closing prints, as values

`LectureTrainer` runs that loop one step at a time (for the parity harness, the benchmarks and
`python -m parity.lectures NAME`). Lectures reach no part of minigrad: they get `tf`.
"""
import contextlib
import importlib
import pkgutil

import numpy as np

LECTURES = {}


def register(cls):
    """Class decorator: list a lecture under its `name`."""
    if cls.name in LECTURES:
        raise ValueError(f"lecture {cls.name!r} registered twice")
    LECTURES[cls.name] = cls
    return cls


class Lecture:
    name = None             # how `python -m parity.lectures NAME` calls it
    deck = ""               # the deck and program it comes from, e.g. "001: XOR (lab 9-1)"
    title = ""
    needs = None            # the data set of ../shared/data it reads, if any
    steps = 100             # the deck's number of training steps
    loss = "cost"           # the fetch that is the step's loss

    def data(self, data_dir, dtype):
        """The data the program trains on: the real set under data_dir, else generated."""
        return None

    def build(self, tf, dtype, data):
        """The deck's graph code. Returns a namespace of the handles the loop needs."""
        raise NotImplementedError

    def feed(self, g, data, i):
        return {}

    def fetches(self, g):
        """What the deck runs every step (a dict: name -> tensor or op)."""
        return {"cost": g.cost, "train": g.train}

    def after_step(self, g, i, values):
        """What the deck does with step i's values besides printing: writer.add_summary."""

    def line(self, i, values):
        """The deck's log line after step i (None: it prints nothing then)."""
        return None

    def log(self, g, sess, data, i, values):
        """What the deck prints after step i, with the session at hand for prints that run more
        of the graph (the prediction after the update, sampled text). Default: `line`."""
        return self.line(i, values)

    def finish(self, g, sess, data):
        """The deck's closing results (accuracy, predicted text ...) as a dict of values."""
        return {}

    def outputs(self, g, sess, data):
        """Arrays compared between engines after training (predictions, logits)."""
        return {}


class VariableMismatch(ValueError):
    pass


class LectureTrainer:
    """A lecture built and initialized on one engine; `step(i)` runs the deck's step i and
    returns its loss. `weights`: {variable name: array} loaded after the initializer (the other
    engine's initial values); names, count and shapes must match exactly."""

    def __init__(self, lecture, tf, dtype, data, weights=None, placement=None):
        self.lecture, self.tf, self.data = lecture, tf, data
        self.graph = tf.Graph()
        with self.graph.as_default(), (placement or contextlib.nullcontext()):
            self.g = lecture.build(tf, np.dtype(dtype).name, data)
            init = tf.global_variables_initializer()
            self.variables = tf.trainable_variables()
        self.sess = tf.Session(graph=self.graph)
        self.sess.run(init)
        if weights is not None:
            self.load(weights)
        self.fetch = lecture.fetches(self.g)

    def initial_weights(self):
        return self.weights()

    def load(self, weights):
        mine = {v.op.name: tuple(v.shape.as_list()) for v in self.variables}
        theirs = {k: tuple(np.shape(a)) for k, a in weights.items()}
        if mine != theirs:
            raise VariableMismatch(_differences(self.lecture.name, theirs, mine))
        with self.graph.as_default():       # TF's load builds an assign in the graph
            for v in self.variables:
                v.load(weights[v.op.name], self.sess)

    def step(self, i):
        self.values = self.sess.run(self.fetch, self.lecture.feed(self.g, self.data, i))
        self.lecture.after_step(self.g, i, self.values)
        return self.values[self.lecture.loss]

    def line(self, i):
        return self.lecture.log(self.g, self.sess, self.data, i, self.values)

    def weights(self):
        return {v.op.name: a for v, a in zip(self.variables, self.sess.run(self.variables))}

    def outputs(self):
        return self.lecture.outputs(self.g, self.sess, self.data)

    def extra(self):
        return self.lecture.finish(self.g, self.sess, self.data)


def _differences(name, theirs, mine):
    lines = [f"lecture {name}: the two engines' trainable variables differ:"]
    if len(theirs) != len(mine):
        lines.append(f"  count: {len(theirs)} (first engine) vs {len(mine)} (this one)")
    for k in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(k), mine.get(k)
        if a != b:
            lines.append(f"  {k}: {'missing' if a is None else list(a)} vs "
                         f"{'missing' if b is None else list(b)}")
    return "\n".join(lines)


def load_all():
    """Import every lecture module (each registers its lectures)."""
    for m in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if not m.startswith("_"):
            importlib.import_module(f"{__name__}.{m}")
    return LECTURES
