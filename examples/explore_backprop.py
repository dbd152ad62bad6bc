"""See backprop in a browser: the lecture's f = wx + b as a page to step through.

    f = w*x + b     w = -2, x = 5, b = 3     ->  f = -7;  df/dw = 5, df/dx = -2, df/db = 1

`mg.graph.explore` writes one self-contained HTML file: the recorded graph, and the backward
pass of `mg.trace` one node at a time (buttons or the arrow keys). At each node the page shows
its rule with the numbers filled in (for the multiply g = w*x: df/dw = df/dg x dg/dw =
1 x 5 = 5) and the gradient travelling along each edge as the walk reaches it.

    python examples/explore_backprop.py                  # writes ./explore_backprop.html
    python examples/explore_backprop.py --out /tmp/pages --sigmoid
    python -m minigrad.graph explore examples/sigmoid_two_ways.py -o sigmoid.html
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import minigrad as mg                     # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".", help="folder for the page (default: here)")
    p.add_argument("--sigmoid", action="store_true",
                   help="also write the sigmoid taken apart: 1 / (1 + exp(-(w0*x0 + w1*x1 "
                        "+ w2))), as explore_sigmoid.html")
    return p.parse_args(argv)


def lecture():
    """f = w*x + b at w = -2, x = 5, b = 3, on a persistent tape (explore reads the graph)."""
    w, x, b = mg.Variable(-2.0, name="w"), mg.Variable(5.0, name="x"), mg.Variable(3.0, name="b")
    with mg.GradientTape(persistent=True):
        g = w * x
        f = g + b
    return f, {"w": w, "x": x, "b": b}, {"g": g, "f": f}


def sigmoid_apart():
    """The sigmoid neuron of the lecture, one recorded node per primitive."""
    v = {k: mg.Variable(x, name=k, dtype="float64") for k, x in
         {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}.items()}
    with mg.GradientTape(persistent=True):
        z = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
        f = mg.math.reciprocal(mg.exp(mg.negative(z)) + 1.0)
    return f, v, {"z": z, "f": f}


def main(argv=None):
    args = parse_args(argv)
    pages = [("explore_backprop.html", lecture, "f = wx + b, backward")]
    if args.sigmoid:
        pages.append(("explore_sigmoid.html", sigmoid_apart, "sigmoid taken apart, backward"))
    for name, build, title in pages:
        f, sources, names = build()
        path = mg.graph.explore(f, os.path.join(args.out, name), sources=sources, names=names,
                                title=title)
        print(f"wrote {path}: open it in a browser and press the right arrow key to walk "
              f"the backward pass")
    return path


if __name__ == "__main__":
    main(sys.argv[1:])
