"""`mg.graph`: look at the recorded graph: the chain-rule trace, Graphviz DOT pictures, and
`capture()`, which keeps the graph of any training step.

Learning tools on top of the core (numpy only; the `dot` program is used only if installed).
"""
from minigrad.graph.capture import capture
from minigrad.graph.dot import render, to_dot
from minigrad.graph.explore import explore
from minigrad.graph.trace import Step, Trace, trace

__all__ = ["trace", "Trace", "Step", "to_dot", "render", "capture", "explore"]
