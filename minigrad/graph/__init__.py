"""`mg.graph`: look at the recorded graph: the chain-rule trace and Graphviz DOT pictures.

Learning tools on top of the core (numpy only; the `dot` program is used only if installed).
"""
from minigrad.graph.dot import render, to_dot
from minigrad.graph.trace import Step, Trace, trace

__all__ = ["trace", "Trace", "Step", "to_dot", "render"]
