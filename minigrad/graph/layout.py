"""A layered drawing of a recorded graph, in pure Python: the explorer page's layout when
Graphviz's `dot` is not installed.

Left to right by depth (longest-path layering: an op sits one layer right of its deepest input;
a leaf sits just left of its first consumer). Each name scope is a box: its members are packed
inside it, and the box is packed among its siblings like one tall node, so boxes never overlap
and a scope can be folded away in the page. Within a scope, each item goes to the free height
nearest to the nodes it is connected to (so chains come out straight), leaves last, beside their
consumers. The result is SVG whose elements carry the ids the page script uses.
"""
from html import escape

MIN_W, MAX_W = 64, 168          # node widths, from their labels
CHAR_W = 6.2                    # an 11px label character, about
LINE_H, TOP = 13, 9             # label line height, first baseline below the shape top
BADGE_H = 18                    # room under each node for its gradient, written by the page
GAP_X = 92                      # between layers: room for an edge's gradient
GAP = 12                        # between items stacked in a layer
HEAD, FOOT, PAD = 20, 8, 10     # a scope box: title band, bottom and side padding per level
SPAN = 0.45                     # a scope box reaches this far into the gap beside its layers
MARGIN = 24


class Node:
    """One drawn node: `kind` 'op' (a box) or 'var' / 'const' / 'ext' (ellipses)."""

    def __init__(self, nid, kind, scope, lines):
        self.id, self.kind, self.scope, self.lines = nid, kind, tuple(scope), list(lines)
        text = CHAR_W * max((len(s) for s in self.lines), default=4)
        self.w = min(MAX_W, max(MIN_W, round(text * (1.0 if kind == "op" else 1.22) + 20)))
        self.h = max(2, len(self.lines)) * LINE_H + 10
        self.layer, self.x, self.y = 0, 0.0, 0.0


class _Item:
    """A node or a whole child scope, packed inside its parent scope."""

    def __init__(self, node=None, scope=None, lo=0, hi=0, h=0.0, centers=None):
        self.node, self.scope, self.lo, self.hi, self.h = node, scope, lo, hi, h
        self.centers = centers or {}          # node id -> its centre, from the item's top
        self.y = None
        self.sub = None                       # a child scope: its packed content
        self.members = ()                     # a packed scope: its items

    def reach(self):
        e = SPAN if self.scope is not None else 0.0
        return self.lo - e, self.hi + e


def layout(nodes, edges):
    """Place `nodes` (in forward order) joined by `edges` [(src id, dst id)]: sets each node's
    x, y; returns (width, height, {scope: (x, y, w, h)})."""
    by_id = {n.id: n for n in nodes}
    _layers(nodes, edges, by_id)
    links, into = {}, {}
    for a, b in edges:
        into.setdefault(b, []).append(a)
    for b, srcs in into.items():        # a leaf aims at its slot: first input on top
        for k, a in enumerate(srcs):
            shift = (k - (len(srcs) - 1) / 2) * (by_id[a].h + BADGE_H + GAP)
            links.setdefault(a, []).append((b, shift))
            links.setdefault(b, []).append((a, -shift))
    kids = {}                                   # scope -> child scopes
    for n in nodes:
        for k in range(len(n.scope)):
            kids.setdefault(n.scope[:k], set()).add(n.scope[:k + 1])
    boxes = {}
    root = _pack((), nodes, kids, links, by_id, boxes)
    depth = {s: _depth(s, kids) for s in boxes}
    x0 = MARGIN + PAD * (1 + max(depth.values(), default=-1))
    width_of = {}
    for n in nodes:
        width_of[n.layer] = max(width_of.get(n.layer, MIN_W), n.w)
    cols, x = {}, x0
    for layer in range(max(width_of, default=0) + 1):
        cols[layer] = (x, width_of.get(layer, MIN_W))
        x += cols[layer][1] + GAP_X
    _place(root, (), 0.0, boxes, cols)
    clusters = {}
    for scope, (item, top) in boxes.items():
        if not scope:
            continue
        pad = PAD * (1 + depth[scope])
        left, (right, w) = cols[item.lo][0] - pad, cols[item.hi]
        clusters[scope] = (left, MARGIN + top, right + w + pad - left, item.h)
    width = max((n.x + n.w for n in nodes), default=0) + x0
    height = max((n.y + n.h + BADGE_H for n in nodes), default=0) + MARGIN
    for x, y, w, h in clusters.values():
        width, height = max(width, x + w + MARGIN), max(height, y + h + MARGIN)
    return width, height, clusters


def _layers(nodes, edges, by_id):
    preds, succs = {}, {}
    for a, b in edges:
        preds.setdefault(b, []).append(a)
        succs.setdefault(a, []).append(b)
    for n in nodes:
        if n.kind == "op":
            n.layer = 1 + max((by_id[p].layer for p in preds.get(n.id, ())
                               if by_id[p].kind == "op"), default=0)
    for n in nodes:
        if n.kind != "op":
            n.layer = max(0, min((by_id[s].layer for s in succs.get(n.id, ())), default=1) - 1)


def _depth(scope, kids):
    return 1 + max((_depth(c, kids) for c in kids.get(scope, ())), default=-1)


def _pack(scope, nodes, kids, links, by_id, boxes):
    """Pack the members of `scope`; returns its _Item (h: height of its content)."""
    items, owner = [], {}
    for child in sorted(kids.get(scope, ())):
        sub = _pack(child, nodes, kids, links, by_id, boxes)
        item = _Item(scope=child, lo=sub.lo, hi=sub.hi, h=HEAD + sub.h + FOOT,
                     centers={i: HEAD + c for i, c in sub.centers.items()})
        item.sub = sub
        boxes[child] = (item, None)
        items.append(item)
        for i in item.centers:
            owner[i] = item
    for n in nodes:
        if n.scope == scope:
            item = _Item(node=n, lo=n.layer, hi=n.layer, h=n.h + BADGE_H,
                         centers={n.id: n.h / 2})
            items.append(item)
            owner[n.id] = item
    order = sorted((it for it in items if not _is_leaf(it)), key=lambda it: it.lo)
    order += sorted((it for it in items if _is_leaf(it)), key=lambda it: it.lo)
    placed = []
    for it in order:
        it.y = _free_y(it, placed, _wish(it, owner, links))
        placed.append(it)
    top = min((it.y for it in items), default=0.0)
    for it in items:
        it.y -= top
    centers = {i: it.y + c for it in items for i, c in it.centers.items()}
    h = max((it.y + it.h for it in items), default=0.0)
    whole = _Item(scope=scope, lo=min((it.lo for it in items), default=0),
                  hi=max((it.hi for it in items), default=0), h=h, centers=centers)
    whole.members = items
    return whole


def _is_leaf(item):
    return item.node is not None and item.node.kind != "op"


def _wish(item, owner, links):
    """The top that lines the item's nodes up with the placed items they are joined to."""
    wishes = []
    for i, c in item.centers.items():
        for j, shift in links.get(i, ()):
            other = owner.get(j)
            if other is not None and other is not item and other.y is not None:
                wishes.append(other.y + other.centers[j] - c + (shift if _is_leaf(item)
                                                                 else 0.0))
    return sum(wishes) / len(wishes) if wishes else None


def _free_y(item, placed, wish):
    """The top nearest `wish` (or the lowest, without one) where the item overlaps nothing."""
    lo, hi = item.reach()
    blocks = [(p.y - GAP, p.y + p.h + GAP) for p in placed
              if p.reach()[0] <= hi and lo <= p.reach()[1]]
    fits = lambda y: all(y + item.h <= a or y >= b for a, b in blocks)
    if wish is None:
        cands = [0.0] + [b for _, b in blocks]
        return min(y for y in cands if fits(y))
    cands = [wish] + [b for _, b in blocks] + [a - item.h for a, _ in blocks]
    return min((y for y in cands if fits(y)), key=lambda y: (abs(y - wish), y))


def _place(whole, scope, top, boxes, cols):
    if scope:
        item, _ = boxes[scope]
        boxes[scope] = (item, top - HEAD)
    for it in whole.members:
        y = top + it.y
        if it.node is not None:
            n = it.node
            x, w = cols[n.layer]                  # ops centred, leaves close to their use
            n.x = x + (w - n.w if n.kind != "op" else (w - n.w) / 2)
            n.y = MARGIN + y
        else:
            _place(it.sub, it.scope, y + HEAD, boxes, cols)


# --- SVG ---------------------------------------------------------------------------------
_HEAD = ' class="head"'
_FILL = {"op": "#dbe8f7", "var": "#fde7b0", "const": "#eeeeee", "ext": "#eeeeee"}


def svg(nodes, edges, size, clusters):
    """The drawing as SVG text. edges: [(edge id, src id, dst id, label)]; size and clusters:
    what layout() returned."""
    width, height, _ = size
    by_id = {n.id: n for n in nodes}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="graph" class="layered" '
           f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
           '<g id="graph0" class="graph">']
    for scope in sorted(clusters, key=len):
        x, y, w, h = clusters[scope]
        out.append(f'<g class="cluster" data-scope="{escape("/".join(scope))}">'
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="8"/>'
                   f'<text x="{x + 8:.1f}" y="{y + 14:.1f}">{escape(scope[-1])}</text></g>')
    seen = {}
    for eid, a, b, label in edges:
        u, v = by_id[a], by_id[b]
        k = seen[(a, b)] = seen.get((a, b), -1) + 1
        bend = 14 * k * (1 if k % 2 else -1)
        x1, y1, x2, y2 = u.x + u.w, u.y + u.h / 2, v.x, v.y + v.h / 2
        mx = (x2 - x1) / 2
        c1, c2 = (x1 + mx, y1 + bend), (x2 - mx, y2 + bend)
        lx, ly = _bezier_mid((x1, y1), c1, c2, (x2, y2))
        out.append(f'<g class="edge" data-edge="{eid}" data-lx="{lx:.1f}" data-ly="{ly + 11:.1f}">'
                   f'<path d="M{x1:.1f},{y1:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},'
                   f'{c2[1]:.1f} {x2 - 6:.1f},{y2:.1f}"/>'
                   f'<polygon points="{x2:.1f},{y2:.1f} {x2 - 8:.1f},{y2 - 4:.1f} '
                   f'{x2 - 8:.1f},{y2 + 4:.1f}"/>'
                   f'<text x="{lx:.1f}" y="{ly - 3:.1f}">{escape(label)}</text></g>')
    for n in nodes:
        cx = n.x + n.w / 2
        if n.kind == "op":
            shape = (f'<rect x="{n.x:.1f}" y="{n.y:.1f}" width="{n.w}" height="{n.h}" '
                     f'rx="7" fill="{_FILL[n.kind]}"/>')
        else:
            shape = (f'<ellipse cx="{cx:.1f}" cy="{n.y + n.h / 2:.1f}" rx="{n.w / 2:.1f}" '
                     f'ry="{n.h / 2:.1f}" fill="{_FILL[n.kind]}"/>')
        first = n.y + n.h / 2 - (len(n.lines) - 1) * LINE_H / 2 + 4
        texts = "".join(
            f'<text x="{cx:.1f}" y="{first + k * LINE_H:.1f}"{_HEAD if k == 0 else ""}>'
            f'{escape(_clip(s, n.w))}</text>' for k, s in enumerate(n.lines))
        out.append(f'<g class="node {n.kind}" data-node="{n.id}">{shape}{texts}</g>')
    out += ["</g>", "</svg>"]
    return "\n".join(out)


def _bezier_mid(p0, p1, p2, p3):
    return tuple(0.125 * a + 0.375 * b + 0.375 * c + 0.125 * d
                 for a, b, c, d in zip(p0, p1, p2, p3))


def _clip(s, width):
    room = int(width / 6.3)
    return s if len(s) <= room else s[:room - 1] + "\u2026"
