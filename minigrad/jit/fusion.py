"""Fusions of a lowered step: neighbouring ops done by one kernel call, as TensorFlow's
grappler remapper fuses Conv2D + BiasAdd + Relu into _FusedConv2D.

`fuse(nodes, roots, units)` rewrites the program (minigrad.jit.ir) after lowering and before
code generation, where every op's values and their uses are known. Two patterns, from the
lecture CNNs (conv -> bias -> relu -> max pool, and the gradient back through them):

  forward   Conv2D (a Python step) -> BiasAdd -> Relu (compiled): the convolution's kernel adds
            the bias and applies the ReLU as it stores each sum (kernels.conv.conv2d_forward's
            bias and relu), and the elementwise loop over the whole activation is gone.
  gradient  MaxPool's gradient (a Python step) -> Relu's gradient (compiled), the ReLU's output
            being the pool's input: each window's gradient is multiplied by (pooled output > 0)
            before it goes to the window's winner (kernels.pool.max_pool_backward's relu_of),
            and Relu's gradient loop is gone. Only for windows that do not overlap (strides at
            least the window, or one window along the axis, as max-over-time pooling), where
            each input cell gets at most one gradient.

Each fusion gives the same bits as the ops it replaces: the kernels do the same additions,
maxima and products in the same order (their tests hold them to their composite twins). A
pattern applies only when the values it removes have no other use: not another op, not a
gradient formula, not a result of the step.
"""
from minigrad.kernels.pool import windows_overlap
from minigrad.ops import conv as conv_ops


def _uses(nodes, roots):
    """value id -> the live nodes using it (None: a result of the step). Nodes an earlier
    fusion left without a use are not live (code generation drops them too)."""
    live, stack = set(), [n for n in nodes if n.kind in ("effect", "prelude", "py")] + \
        list(roots)
    while stack:
        v = stack.pop()
        if v.id not in live:
            live.add(v.id)
            stack.extend(v.args)
            if v.kind == "prelude":
                stack.extend(v.attrs["outs"])
    uses = {}
    for n in nodes:
        if n.id not in live:
            continue
        for a in n.args:
            uses.setdefault(a.id, []).append(n)
    for r in roots:
        uses.setdefault(r.id, []).append(None)       # a result of the step
    return uses


def _only_use(uses, v, kind, op):
    """The one node using v, when it is an elementwise `op`; else None."""
    us = uses.get(v.id, [])
    if len(us) == 1 and us[0] is not None and us[0].kind == kind and us[0].op == op:
        return us[0]
    return None


def _is_zero(v):
    return v.kind == "lit" and v.attrs["value"] == 0


def _replace(nodes, roots, old, new):
    for n in nodes:
        if any(a is old for a in n.args):
            n.args = tuple(new if a is old else a for a in n.args)
    roots[:] = [new if r is old else r for r in roots]


def _conv_bias_relu(node, bias_val):
    """The fused call replacing Conv2D's Python step: it keeps what Conv2D's own forward
    keeps for its gradient (its inputs and patches)."""
    from minigrad.kernels.conv import conv2d_forward
    op, detach = node.attrs["op"], node.attrs["step"].detach

    def run(x, w, bias):
        y, op.patches = conv2d_forward(x, w, op.strides, op.dilations, op.pads,
                                       reuse=op.patches, bias=bias, relu=True)
        if detach and y.base is not None:
            y = y.copy()
        op.xs, op.ys = (x, w), (y,)
        return (y,)
    node.attrs["fn"] = run
    node.attrs["fused"] = "bias_relu"
    node.args = tuple(node.args) + (bias_val,)


def _fuse_conv(nodes, roots, uses, fused):
    for node in nodes:
        if node.kind != "py" or node.attrs.get("role") != "forward" or \
                type(node.attrs.get("op")) is not conv_ops.Conv2D or len(node.args) != 2:
            continue
        (c,) = node.attrs["outs"]
        add = _only_use(uses, c, "ew", "add")
        if add is None or add.args[0] is not c or add.shape != c.shape:
            continue
        bias = add.args[1]
        if bias.ndim != 1 or bias.shape[0] != c.shape[-1] or bias.dtype != c.dtype:
            continue
        relu = _only_use(uses, add, "ew", "max")
        if relu is None or relu.args[0] is not add or not _is_zero(relu.args[1]):
            continue
        _conv_bias_relu(node, bias)
        _replace(nodes, roots, relu, c)
        fused[add.unit] = fused[relu.unit] = node.attrs["label"]     # BiasAdd, Relu


def _pool_relu_grad(node):
    from minigrad.kernels.pool import max_pool_backward
    op = node.attrs["op"]

    def run(gy):
        return (max_pool_backward(gy, op.argmax, op.xs[0].shape, relu_of=op.ys[0],
                                  window=(op.ksize, op.strides, op.pads)),)
    node.attrs["fn"] = run


def _fuse_pool_grad(nodes, roots, uses, fused):
    forwards = {id(n.attrs["op"]): n for n in nodes
                if n.kind == "py" and n.attrs.get("role") == "forward"}
    for node in nodes:
        if node.kind != "py" or node.attrs.get("role") != "gradient" or \
                type(node.attrs.get("op")) is not conv_ops.MaxPool or \
                len(node.args) != 1 or not node.attrs.get("first"):
            continue
        op = node.attrs["op"]
        fwd = forwards.get(id(op))
        if fwd is None or windows_overlap(fwd.args[0].shape, op.ksize, op.strides, op.pads):
            continue
        (g,) = node.attrs["outs"]
        if g is None:
            continue
        x = fwd.args[0]                              # the pool's input
        mul = _only_use(uses, g, "ew", "mul")
        if mul is None or mul.args[0] is not g or mul.shape != g.shape:
            continue
        mask = mul.args[1]                           # cast(gt(relu output, 0))
        if not (mask.kind == "ew" and mask.op == "cast" and mask.args[0].kind == "ew" and
                mask.args[0].op == "gt" and mask.args[0].args[0] is x and
                _is_zero(mask.args[0].args[1])):
            continue
        _pool_relu_grad(node)
        _replace(nodes, roots, mul, g)
        fused[mul.unit] = node.attrs["label"]                        # Relu's gradient


def _conv_pool(node, pool_node):
    """Conv2D's fused call (bias, ReLU) that also max-pools each chunk of images as soon as
    it is made, and keeps MaxPool's state for MaxPool's gradient."""
    from minigrad.kernels.conv import conv2d_forward
    from minigrad.kernels.pool import max_pool_images
    op, pool = node.attrs["op"], pool_node.attrs["op"]
    x_shape, dtype = tuple(node.attrs["outs"][0].shape), node.attrs["outs"][0].dtype

    def run(x, w, bias):
        pooled, argmax, images = max_pool_images(x_shape, dtype, pool.ksize, pool.strides,
                                                 pool.pads)
        y, op.patches = conv2d_forward(x, w, op.strides, op.dilations, op.pads,
                                       reuse=op.patches, bias=bias, relu=True, then=images)
        op.xs, op.ys = (x, w), (y,)
        pool.xs, pool.ys, pool.argmax = (y,), (pooled,), argmax
        return (pooled,)
    node.attrs["fn"] = run      # new arrays, never views: nothing to copy for a detach


def _fuse_pool(nodes, roots, uses, fused):
    """A Conv2D already fused with its bias and ReLU whose output only a MaxPool reads: the
    pool runs in the convolution's call, chunk by chunk (the activation is read from cache)."""
    for node in nodes:
        if node.kind != "py" or node.attrs.get("fused") != "bias_relu":
            continue
        (c,) = node.attrs["outs"]
        us = uses.get(c.id, [])
        if len(us) != 1 or us[0] is None or us[0].kind != "py" or \
                us[0].attrs.get("role") != "forward" or \
                type(us[0].attrs.get("op")) is not conv_ops.MaxPool or \
                list(us[0].args) != [c] or len(us[0].attrs["outs"]) != 1:
            continue
        pool_node = us[0]
        (p,) = pool_node.attrs["outs"]
        _conv_pool(node, pool_node)
        p.src = ("py", node.id, 0)
        node.attrs["outs"] = [p]
        nodes.remove(pool_node)
        fused[pool_node.attrs["label"]] = node.attrs["label"]


def fuse(nodes, roots):
    """Apply the fusions in place (nodes' arguments, roots). Returns {unit label: the label of
    the Python step it was fused into}, for explain()."""
    fused = {}
    _fuse_conv(nodes, roots, _uses(nodes, roots), fused)
    _fuse_pool_grad(nodes, roots, _uses(nodes, roots), fused)
    _fuse_pool(nodes, roots, _uses(nodes, roots), fused)
    return fused
