"""Sigmoid two ways: taken apart into primitive steps, and as one fused op, traced side by side.

    f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))     w = (2, -3, -3), x = (-1, -2)

From primitives, the backward pass walks reciprocal, add 1, exp and negate one step at a time,
each multiplying the upstream gradient by its local derivative. The fused `mg.sigmoid` does all
four in one node with the shortcut dsigma/dz = sigma * (1 - sigma) = 0.20. Both give the same
gradient: df/dw = (-0.20, -0.39, 0.20), df/dx = (0.39, -0.59).

    python examples/sigmoid_two_ways.py
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                     # noqa: E402


def sigmoid_from_primitives(z):
    """1 / (1 + exp(-z)), one recorded node per step."""
    return mg.math.reciprocal(mg.exp(mg.negative(z)) + 1.0)


def traced(sigmoid, dtype="float64", verbose=True):
    """Record sigmoid(w0*x0 + w1*x1 + w2) and trace it; returns (trace, {name: Variable})."""
    values = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
    v = {k: mg.Variable(np.array(x, dtype), name=k) for k, x in values.items()}
    with mg.GradientTape(persistent=True) as tape:
        z = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
        f = sigmoid(z)
    return mg.trace(f, v, names={"z": z, "f": f}, verbose=verbose), v


def main(argv=None):
    print("=== sigmoid from primitives: negate, exp, add 1, reciprocal ===")
    prim, v = traced(sigmoid_from_primitives)
    print("\n=== fused mg.sigmoid: one node, gx = gy * y * (1 - y) ===")
    fused, v2 = traced(mg.sigmoid)
    print("\n=== side by side ===")
    print(f"{'':8}{'primitives':>22}{'fused':>22}")
    print(f"{'f':8}{prim.target_value:22.17f}{fused.target_value:22.17f}")
    for k in v:
        print(f"{'df/d' + k:8}{prim.gradient(v[k]):22.17f}{fused.gradient(v2[k]):22.17f}")
    gap = max(abs(prim.gradient(v[k]) - fused.gradient(v2[k])) for k in v)
    print(f"\n{len(prim)} nodes against {len(fused)}; largest gradient difference: {gap:.1e}")
    return prim, fused


if __name__ == "__main__":
    main(sys.argv[1:])
