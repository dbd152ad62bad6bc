"""Fusions of a lowered step: neighbouring ops done by one kernel call, as TensorFlow's
grappler remapper fuses Conv2D + BiasAdd + Relu into _FusedConv2D.

`fuse(nodes, roots)` rewrites the program (minigrad.jit.ir) after lowering and before code
generation, where every op's values and their uses are known. The patterns come from the
lecture CNNs (conv -> bias -> relu -> max pool, and the gradient back through them):

  forward   Conv2D (a Python step) -> BiasAdd -> Relu (compiled): the convolution's kernel adds
            the bias and applies the ReLU to each image's sums while they are in cache
            (kernels.conv.conv2d_forward's bias and relu); the loop over the whole activation
            is gone.
  pool      ... -> MaxPool, the activation's only reader: each thread pools the images it just
            made (conv2d_forward's then), reading them from its cache.
  gradient  MaxPool's gradient (a Python step) -> Relu's gradient (compiled), the ReLU's output
            being the pool's input: each window's gradient is multiplied by (pooled output > 0)
            as it goes to the window's winner (kernels.pool.max_pool_backward's relu_of), and
            Relu's gradient loop is gone. Only for windows that do not overlap (strides at
            least the window, or one window along the axis, as max-over-time pooling), where
            each input cell gets at most one gradient.
  layer     that pooled gradient, read only by a direct-kernel Conv2D's gradient (and BiasAdd's
            sum of it): one call, a group of images at a time (kernels.conv_direct.
            backward_fused); the gradient between them is never written whole.

The first three give the same bits as the ops they replace (their kernels' tests hold them to
their composite twins, NaN and signed zeros included); the layer fusion gives the input and
filter gradients' bits too, but sums the bias gradient per group of images, where BiasAdd's
gradient is one BLAS product: float64 agrees to ~1e-15 of the sum's scale. A pattern applies
only when the values it removes have no other use: not another op, not a gradient formula,
not a result of the step.
"""
from minigrad.jit.codegen import live_ids
from minigrad.kernels.pool import windows_overlap
from minigrad.ops import conv as conv_ops


def _uses(nodes, roots):
    """value id -> the live nodes using it (None: a result of the step). Nodes an earlier
    fusion left without a use are not live (code generation drops them too)."""
    live = live_ids(nodes, roots)
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
    node.attrs["fused"] = "relu_grad"


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
    y_shape, dtype = tuple(node.attrs["outs"][0].shape), node.attrs["outs"][0].dtype

    def run(x, w, bias):
        pooled, argmax, images = max_pool_images(y_shape, dtype, pool.ksize, pool.strides,
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


def _layer_grad(conv_node, pool_node, gb_out):
    """Conv2D's gradient taking MaxPool's (with the ReLU's) a group of images at a time, and
    the bias gradient with it (kernels.conv_direct.backward_fused)."""
    from minigrad.kernels import conv_direct
    from minigrad.kernels.pool import max_pool_backward_images
    op, pool = conv_node.attrs["op"], pool_node.attrs["op"]
    inputs = conv_node.attrs["inputs"]

    def run(gy_pool):
        x, w = op.xs
        y = pool.ys[0]
        fill = max_pool_backward_images(gy_pool, pool.argmax, pool.xs[0].shape, y,
                                        (pool.ksize, pool.strides, pool.pads))
        xp = op.patches.store.reshape(op.patches.cols.shape)
        gx, gw, gb = conv_direct.backward_fused(
            xp, w, x.shape, op.strides, op.dilations, op.pads, pool.xs[0].shape, fill,
            0 in inputs, 1 in inputs, gb_out is not None)
        outs = tuple(gx if k == 0 else gw for k in inputs)
        return outs + ((gb,) if gb_out is not None else ())
    conv_node.attrs["fn"] = run


def _fuse_layer_grad(nodes, roots, uses, fused):
    """MaxPool's gradient (ReLU fused in) whose only reader is the gradient of a direct-kernel
    Conv2D, and maybe BiasAdd's sum of it: one call, a group of images at a time, the
    gradient between them never written whole (its groups stay in cache)."""
    from minigrad.kernels import conv, conv_direct
    for q in list(nodes):
        if q.kind != "py" or q.attrs.get("fused") != "relu_grad" or len(q.args) != 1:
            continue
        (g,) = q.attrs["outs"]
        us = uses.get(g.id, [])
        convs = [u for u in us if u is not None and u.kind == "py" and
                 u.attrs.get("role") == "gradient" and type(u.attrs.get("op")) is
                 conv_ops.Conv2D and list(u.args) == [g] and u.attrs.get("first")]
        views = [u for u in us if u is not None and u.kind == "view" and
                 not u.attrs.get("copy")]
        if len(convs) != 1 or len(convs) + len(views) != len(us) or len(views) > 1:
            continue
        c = convs[0]
        op, gy_shape = c.attrs["op"], g.shape
        fwd = next((n for n in nodes if n.kind == "py" and n.attrs.get("op") is op and
                    n.attrs.get("role") == "forward"), None)
        if fwd is None:
            continue
        x_val, w_val = fwd.args[0], fwd.args[1]
        x_shape, w_shape = x_val.shape, w_val.shape
        if conv.choose_method(x_shape, w_shape, dtype=x_val.dtype) != "direct" or \
                not conv_direct.can_fuse_backward(x_shape, w_shape, op.strides, op.dilations,
                                                  op.pads, gy_shape[1:3],
                                                  0 in c.attrs["inputs"]):
            continue
        s_node = None
        if views:
            vu = uses.get(views[0].id, [])
            if len(vu) != 1 or vu[0] is None or vu[0].kind != "py" or \
                    not vu[0].attrs.get("sum_rows") or len(vu[0].attrs["outs"]) != 1:
                continue
            s_node = vu[0]
        gb_out = s_node.attrs["outs"][0] if s_node is not None else None
        if gb_out is not None and any(u.pos < c.pos for u in uses.get(gb_out.id, [])
                                      if u is not None):
            continue                # the bias gradient is read before the conv's gradient
        _layer_grad(c, q, gb_out)
        c.args = tuple(q.args)
        if gb_out is not None:
            gb_out.src = ("py", c.id, len(c.attrs["outs"]))
            c.attrs["outs"] = list(c.attrs["outs"]) + [gb_out]
            nodes.remove(s_node)
            fused[s_node.unit] = c.attrs["label"]        # BiasAdd's gradient
        nodes.remove(q)
        for unit, into in list(fused.items()):           # Relu's gradient, already in q
            if into == q.attrs["label"]:
                fused[unit] = c.attrs["label"]
        fused[q.attrs["label"]] = c.attrs["label"]


def fuse(nodes, roots):
    """Apply the fusions in place (nodes' arguments, roots). Returns {unit label: the label of
    the Python step it was fused into}, for explain()."""
    fused = {}
    _fuse_conv(nodes, roots, _uses(nodes, roots), fused)
    _fuse_pool_grad(nodes, roots, _uses(nodes, roots), fused)
    _fuse_pool(nodes, roots, _uses(nodes, roots), fused)
    _fuse_layer_grad(nodes, roots, _uses(nodes, roots), fused)
    return fused
