"""`mg.graph.capture()`: keep the graph of every tape made inside a block, for any model.

A training step usually hides its tape (`optimizer.minimize` makes one and frees its graph in
gradient()). Inside a capture block every new GradientTape is kept, and keeps its graph after
gradient(), so the tools can look at it afterwards, with no change to the model's code:

    with mg.graph.capture() as cap:
        trainer.step(0)
    print(mg.graph.to_dot(cap.tape))          # the last tape that recorded something
    with writer.as_default():
        mg.summary.graph(cap.tape)

Only freeing is skipped: every number computed is the same as without the block. The kept
graphs hold their arrays (inputs, outputs, kernel caches) until `cap` is dropped. A kept graph
holds references to the arrays it saw; a Variable's array is updated in place by the optimizer,
so its value in the graph is the value after the step (shapes and structure are unchanged).
"""
from minigrad.core import state


class capture:
    """Context manager: `cap.tapes` lists every GradientTape created inside, in creation order.

    `cap.tape` is the last of them that recorded a node (usually the training step's tape);
    `cap.nodes` counts the nodes of all of them. Blocks nest: an inner block's tapes are also
    the outer block's.
    """

    def __init__(self):
        self.tapes = []

    def __enter__(self):
        state.push_capture(self)
        return self

    def __exit__(self, *exc):
        state.pop_capture(self)

    def _keep(self, tape):
        if not any(t is tape for t in self.tapes):    # tape.reset() runs __init__ again
            self.tapes.append(tape)

    @property
    def tape(self):
        """The last captured tape that recorded a node."""
        for t in reversed(self.tapes):
            if t.nodes:
                return t
        raise ValueError(f"capture: none of the {len(self.tapes)} GradientTape(s) created in "
                         f"the block recorded a node: was a training step run inside "
                         f"`with mg.graph.capture() as cap:`, on trainable Variables?")

    @property
    def nodes(self):
        return sum(len(t.nodes) for t in self.tapes)

    def __len__(self):
        return len(self.tapes)

    def __repr__(self):
        return f"<capture: {len(self.tapes)} tape(s), {self.nodes} node(s)>"
