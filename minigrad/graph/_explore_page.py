"""The explorer page of `mg.graph.explore`: HTML, CSS and script, all inline (nothing fetched).

explore.py fills in %%TITLE%%, %%SVG%% (the drawing: elements marked data-node, data-edge and
data-scope) and %%DATA%% (JSON: the steps, each step's panel, the gradients after each
contribution). The script only shows what Python computed; it does no arithmetic on values.
"""

CSS = r"""
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, -apple-system, "Segoe UI",
  Helvetica, Arial, sans-serif; color: #1d2430; background: #f7f8fa; }
body { display: flex; flex-direction: column; }
header { display: flex; align-items: baseline; gap: 14px; padding: 8px 16px;
  background: #1f2b3d; color: #e9eef6; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header .sub { color: #a9b6c9; font-size: 13px; }
header .legend { margin-left: auto; font-size: 12px; color: #c6d0de; display: flex; gap: 12px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 3px;
  vertical-align: -1px; margin-right: 4px; border: 2px solid; }
.sw.cur { border-color: #f76707; background: #ffe8cc; }
.sw.done { border-color: #2f9e44; background: #dbe8f7; }
.sw.flow { border-color: #e03131; background: #e03131; height: 3px; border-width: 1px;
  vertical-align: 3px; }
main { flex: 1; display: flex; min-height: 0; }
#view { flex: 1; position: relative; overflow: hidden; background: #fff; cursor: grab;
  border-right: 1px solid #d5dae2; }
#view.drag { cursor: grabbing; }
#view > svg#graph { width: 100%; height: 100%; display: block; user-select: none; }
#zoom { position: absolute; right: 10px; bottom: 10px; display: flex; gap: 4px; }
#mini { position: absolute; left: 10px; bottom: 10px; background: rgba(255,255,255,.92);
  border: 1px solid #c9d0da; border-radius: 6px; cursor: crosshair; }
#mini rect.c { fill: #eef1f6; stroke: #b5c0d0; vector-effect: non-scaling-stroke; }
#mini rect.n { fill: #9fb3cf; }
#mini rect.n.done { fill: #2f9e44; }
#mini rect.n.current { fill: #f76707; }
#mini #minivb { fill: rgba(247, 103, 7, .12); stroke: #f76707; stroke-width: 2;
  vector-effect: non-scaling-stroke; }
aside { width: 440px; display: flex; flex-direction: column; min-height: 0; }
#controls { padding: 10px 14px 8px; border-bottom: 1px solid #d5dae2; background: #fff; }
.row { display: flex; align-items: center; gap: 6px; }
button { font: inherit; font-size: 13px; padding: 3px 9px; border: 1px solid #b9c2cf;
  border-radius: 6px; background: #f3f5f8; cursor: pointer; color: #1d2430; }
button:hover { background: #e6ebf2; }
button:disabled { opacity: .4; cursor: default; }
#counter { min-width: 96px; text-align: center; font-variant-numeric: tabular-nums;
  font-weight: 600; }
#slider { width: 100%; margin: 8px 0 2px; }
.opts { font-size: 12px; color: #556; display: flex; gap: 12px; flex-wrap: wrap; }
#panels { flex: 1; overflow: auto; padding: 4px 14px 20px; }
#panels h3 { font-size: 15px; margin: 12px 0 4px; }
#panels h4 { font-size: 13px; margin: 16px 0 4px; color: #445; text-transform: uppercase;
  letter-spacing: .04em; }
.opname { color: #667; font-weight: 400; }
.rule { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px;
  background: #eef2f8; border-left: 3px solid #5b7fa6; padding: 4px 8px; margin: 4px 0 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-weight: 500; color: #667; padding: 2px 16px 2px 0;
  vertical-align: top; white-space: nowrap; width: 1%; }
td { padding: 2px 6px 2px 0; vertical-align: top; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.kv { margin: 3px 0; }
.kv .k { display: inline-block; min-width: 74px; color: #667; }
.kv code.n { color: #34405a; }
.kv pre.v { margin: 2px 0 6px 74px; padding: 3px 6px; background: #f1f3f6;
  border-radius: 4px; white-space: pre-wrap; word-break: break-word; }
.kv.sum code.v, .kv.sum pre.v { color: #9c36b5; }
.kv.passed code.v, .kv.passed pre.v, .kv.passed code.n { color: #c92a2a; font-weight: 600; }
.to { margin: 8px 0 4px; padding: 4px 0 2px 10px; border-left: 3px solid #e03131; }
.toname { font-weight: 600; font-size: 13px; }
.chainrow { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  color: #2b5d34; margin: 2px 0 2px 74px; }
.none { color: #99a; font-style: italic; font-size: 13px; }
#grads td.grad { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px;
  color: #c92a2a; font-weight: 600; white-space: pre-wrap; }
#grads td.grad.sum { color: #9c36b5; }
#grads td.grad.pending { color: #aab; font-weight: 400; }
#grads th code { white-space: nowrap; }
details.tracetext pre { font-size: 11.5px; background: #f3f4f6; padding: 6px 8px;
  overflow-x: auto; margin: 4px 0; }
details summary { cursor: pointer; color: #556; font-size: 12.5px; }
.hint { color: #778; font-size: 12.5px; }
#nodepanel:empty { display: none; }
#nodepanel { margin-top: 14px; border-top: 1px dashed #c9d0da; }
#scopelist label { display: block; font-size: 12.5px; }

svg text { font-family: Helvetica, Arial, sans-serif; }
.layered g.node rect { stroke: #5b7fa6; stroke-width: 1.2; }
.layered g.node ellipse { stroke: #a08a52; stroke-width: 1.2; }
.layered g.node.const ellipse, .layered g.node.ext ellipse { stroke: #999; }
.layered g.node text { font-size: 11px; text-anchor: middle; fill: #1d2430; }
.layered g.node text.head { font-weight: 700; }
.layered g.edge path { fill: none; stroke: #8a94a3; stroke-width: 1.2; }
.layered g.edge polygon { fill: #8a94a3; }
.layered g.edge text { font-size: 9.5px; fill: #7a8494; text-anchor: middle; }
.layered g.cluster rect { fill: #f5f7fb; stroke: #93a3bb; stroke-dasharray: 5 3; }
.layered g.cluster text { font-size: 12px; font-weight: 700; fill: #3d4b61; }
g.cluster text { cursor: pointer; }
.graphviz g.cluster path, .graphviz g.cluster polygon { fill: #f5f7fb; stroke: #93a3bb; }
g.node { cursor: pointer; }
g.node > rect, g.node > path, g.node > polygon, g.node > ellipse {
  transition: stroke .15s, stroke-width .15s; }
g.node.done > rect, g.node.done > path, g.node.done > polygon, g.node.done > ellipse {
  stroke: #2f9e44; stroke-width: 2.2; }
g.node.got > ellipse, g.node.got > polygon, g.node.got > path { stroke: #2f9e44;
  stroke-width: 2.2; }
g.node.current > rect, g.node.current > path, g.node.current > polygon,
g.node.current > ellipse { stroke: #f76707; stroke-width: 3.5; fill: #ffe8cc;
  filter: drop-shadow(0 0 6px rgba(247, 103, 7, .55)); }
g.node.selected > rect, g.node.selected > path, g.node.selected > polygon,
g.node.selected > ellipse { stroke-dasharray: 4 2; }
g.edge.flowed path { stroke: #e03131; stroke-width: 2; }
g.edge.flowed polygon { fill: #e03131; stroke: #e03131; }
g.edge.active path { stroke: #f76707; stroke-width: 3; stroke-dasharray: 7 4;
  animation: flow .6s linear infinite; }
g.edge.active polygon { fill: #f76707; stroke: #f76707; }
g.edge.blocked path { stroke-dasharray: 2 3; }
@keyframes flow { to { stroke-dashoffset: -11; } }
#overlay text { paint-order: stroke; stroke: #fff; stroke-width: 3.5px; stroke-linejoin: round; }
#overlay text.gl { font-size: 10.5px; font-weight: 700; fill: #c92a2a; text-anchor: middle; }
#overlay text.gl.active { fill: #e8590c; font-size: 11.5px; }
#overlay text.badge { font-size: 11px; font-weight: 700; fill: #c92a2a; text-anchor: middle; }
#overlay text.badge.sum { fill: #9c36b5; }
#overlay text.badge.seed { fill: #e8590c; }
#overlay g.foldbar { cursor: pointer; }
#overlay g.foldbar rect { fill: #e4e9f2; stroke: #7d8da6; stroke-width: 1.5; }
#overlay g.foldbar text { font-size: 14px; font-weight: 700; fill: #3d4b61;
  text-anchor: middle; stroke: none; }
#overlay g.foldbar.holds-current rect { fill: #fff0e0; stroke: #f76707; stroke-width: 3; }
#overlay path.proxy { fill: none; stroke: #8a94a3; stroke-width: 1.4; stroke-dasharray: 6 3; }
#overlay path.proxy.flowed { stroke: #e03131; }
g.cluster.folded { display: none; }
.hidden { display: none; }
"""

SCRIPT = r"""
(function () {
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const svg = document.getElementById("graph");
const view = document.getElementById("view");
const g0 = svg.querySelector("g.graph") || svg;
const $ = (id) => document.getElementById(id);
const nodeEl = {}, edgeEl = {}, clusterEl = {};
svg.querySelectorAll("[data-node]").forEach((g) => { nodeEl[g.getAttribute("data-node")] = g; });
svg.querySelectorAll("[data-edge]").forEach((g) => { edgeEl[g.getAttribute("data-edge")] = g; });
svg.querySelectorAll("[data-scope]").forEach((g) => {
  clusterEl[g.getAttribute("data-scope")] = g; });
const N = D.steps.length;
let k = 0, selected = null, timer = null;
const collapsed = new Set();

// --- overlay: a gradient label per edge, a badge under each node -----------------------------
const overlay = document.createElementNS(NS, "g");
overlay.id = "overlay";
g0.appendChild(overlay);
const proxies = document.createElementNS(NS, "g");
overlay.appendChild(proxies);
function text(cls, x, y) {
  const t = document.createElementNS(NS, "text");
  t.setAttribute("class", cls); t.setAttribute("x", x); t.setAttribute("y", y);
  overlay.appendChild(t);
  return t;
}
const box = {};
for (const id in nodeEl) box[id] = nodeEl[id].getBBox();
const badge = {};
for (const id in nodeEl) {
  const b = box[id];
  badge[id] = text("badge", b.x + b.width / 2, b.y + b.height + 13);
  nodeEl[id].addEventListener("click", (ev) => { ev.stopPropagation(); select(id); });
  const title = document.createElementNS(NS, "title");
  title.textContent = "click: value and gradient";
  nodeEl[id].appendChild(title);
}
const glabel = {};
for (const id in edgeEl) {
  const g = edgeEl[id];
  let x = g.getAttribute("data-lx"), y = g.getAttribute("data-ly");
  if (x === null) {
    const t = g.querySelector("text"), p = g.querySelector("path");
    if (t) { x = +t.getAttribute("x"); y = +t.getAttribute("y") + 12; }
    else if (p) { const q = p.getPointAtLength(p.getTotalLength() / 2); x = q.x; y = q.y - 4; }
  }
  glabel[id] = text("gl", x, y);
}

// --- stepping ----------------------------------------------------------------------------------
function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }
function rowsAt(tid, step) {
  const rows = D.tensors[tid] ? D.tensors[tid].rows : [];
  let r = null, n = 0;
  for (const row of rows) if (row.step <= step) { r = row; n++; }
  return [r, n];
}
// Each render works out every element's classes and text, then writes only what changed (a
// step changes a handful of elements; a graph has up to a few thousand).
function put(el, cls, txt) {
  if (el.__cls !== cls) { el.setAttribute("class", cls); el.__cls = cls; }
  if (txt !== undefined && el.__txt !== txt) { el.textContent = txt; el.__txt = txt; }
}
const baseCls = {};
for (const id in nodeEl) baseCls[id] = nodeEl[id].getAttribute("class") || "node";
let lastFolds = null, lastCur = null;
function render() {
  const cur = k > 0 ? D.steps[k - 1].node : D.targetNode;
  if (cur && cur !== lastCur && $("follow").checked) openTo(cur);  // only as the walk moves:
  lastCur = cur;                                                    // a fold by hand stays
  const foldKey = [...collapsed].sort().join("|");
  if (foldKey !== lastFolds) { lastFolds = foldKey; foldsChanged(); }
  const state = {}, edge = {}, gl = {};
  for (let i = 0; i < k; i++) {
    const st = D.steps[i], last = i === k - 1;
    state[st.node] = last ? "current" : "done";
    for (const p of st.passes) {
      edge[p.edge] = p.text === null ? "blocked" : "flowed" + (last ? " active" : "");
      gl[p.edge] = [p.text === null ? "" : clip(p.text, 24), last ? "gl active" : "gl"];
    }
  }
  if (k === 0 && cur) state[cur] = "current";
  for (const id in badge) {
    const lines = [];
    let sum = false;
    for (const tid of D.nodes[id].tensors) {
      const [r, n] = rowsAt(tid, k);
      if (!r) continue;
      const nm = D.tensors[tid].name;
      lines.push(nm.length <= 12 ? nm + " = " + r.short : "grad " + r.short);
      sum = sum || n > 1;
    }
    if (lines.length && !state[id]) state[id] = "got";
    const hide = hidden[id] ? " hidden" : "";
    put(badge[id], "badge" + (sum ? " sum" : "") + (k === 0 && id === cur ? " seed" : "") + hide,
        clip(lines.join("   "), Math.max(30, Math.round(box[id].width / 5.6))));
    put(nodeEl[id], baseCls[id] + (state[id] ? " " + state[id] : "") + hide +
        (id === selected ? " selected" : ""));
    put(miniNode[id], "n" + (state[id] === "current" || state[id] === "done" ?
        " " + state[id] : ""));
  }
  for (const id in edgeEl) {
    const hide = hiddenEdge[id] ? " hidden" : "";
    put(edgeEl[id], "edge" + (edge[id] ? " " + edge[id] : "") + hide);
    const [txt, cls] = gl[id] || ["", "gl"];
    put(glabel[id], cls + hide, txt);
  }
  for (const id in proxyOf) {
    const flowed = proxyOf[id].some((e) => edge[e] && edge[e] !== "blocked");
    put(proxyEl[id], "proxy" + (flowed ? " flowed" : ""));
  }
  const curFold = cur ? foldOf(D.nodes[cur].scope) : null;
  for (const s in folded)
    put(folded[s], "foldbar" + (collapsed.has(s) && foldOf(s) === s ? "" : " hidden") +
        (curFold === s ? " holds-current" : ""));
  for (const td of gradCells) {
    const [r, n] = rowsAt(td.getAttribute("data-tensor"), k);
    put(td, "grad" + (r ? "" : " pending") + (n > 1 ? " sum" : ""), r ? r.full : "\u2014");
  }
  $("steppanel").innerHTML = k === 0 ? D.start : D.steps[k - 1].html;
  $("counter").textContent = k === 0 ? "start / " + N : "step " + k + " / " + N;
  $("slider").value = k;
  $("prev").disabled = $("first").disabled = k === 0;
  $("next").disabled = $("last").disabled = k === N;
  document.body.setAttribute("data-step", k);
  if (cur) reveal(cur);
}
function go(n) { k = Math.max(0, Math.min(N, n)); render(); }
$("first").onclick = () => go(0);
$("prev").onclick = () => go(k - 1);
$("next").onclick = () => go(k + 1);
$("last").onclick = () => go(N);
$("slider").max = N;
$("slider").oninput = (e) => go(+e.target.value);
$("play").onclick = () => {
  if (timer) { stop(); return; }
  if (k === N) go(0);
  $("play").textContent = "\u23f8 pause";
  timer = setInterval(() => { if (k >= N) stop(); else go(k + 1); }, 900);
};
function stop() { clearInterval(timer); timer = null; $("play").textContent = "\u25b6 play"; }
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.altKey || e.ctrlKey || e.metaKey) return;
  const act = { ArrowRight: () => go(k + 1), ArrowDown: () => go(k + 1),
    ArrowLeft: () => go(k - 1), ArrowUp: () => go(k - 1), Home: () => go(0), End: () => go(N),
    " ": () => $("play").click() }[e.key];
  if (act) { e.preventDefault(); act(); }
});

// --- a node's own panel ----------------------------------------------------------------------
function select(id) {
  selected = id === selected ? null : id;
  $("nodepanel").innerHTML = selected ? D.nodes[selected].html : "";
  render();
}

// --- folding name scopes -----------------------------------------------------------------------
function foldOf(scope) {                 // the outermost folded scope holding `scope`, or null
  if (!scope) return null;
  const parts = scope.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const s = parts.slice(0, i).join("/");
    if (collapsed.has(s)) return s;
  }
  return null;
}
function rep(node) { const f = foldOf(D.nodes[node].scope); return f ? "scope:" + f : node; }
function repBox(r) {
  if (r.startsWith("scope:")) return bar[r.slice(6)];
  return box[r];
}
const bar = {};
const cbox = {};
for (const c in clusterEl) cbox[c] = clusterEl[c].getBBox();
function foldBar(s) {       // a folded scope: a bar along the top of its box, one click opens
  const b = cbox[s], h = Math.min(b.height, 44);
  bar[s] = { x: b.x, y: b.y, width: b.width, height: h };
  const fg = document.createElementNS(NS, "g");
  fg.setAttribute("class", "foldbar");
  const r = document.createElementNS(NS, "rect");
  r.setAttribute("x", b.x); r.setAttribute("y", b.y); r.setAttribute("rx", 8);
  r.setAttribute("width", b.width); r.setAttribute("height", h);
  const t = document.createElementNS(NS, "text");
  t.setAttribute("x", b.x + Math.min(b.width / 2, 150)); t.setAttribute("y", b.y + h / 2 + 5);
  t.textContent = "\u25b8 " + labelText[s] + " \u00b7 " + D.scopes[s] + " nodes";
  const tip = document.createElementNS(NS, "title");
  tip.textContent = "folded name scope " + s + ": click to open";
  fg.appendChild(r); fg.appendChild(t); fg.appendChild(tip);
  fg.addEventListener("click", (ev) => { ev.stopPropagation(); toggle(s); });
  fg.addEventListener("pointerdown", (ev) => ev.stopPropagation());
  proxies.parentNode.insertBefore(fg, proxies);
  return fg;
}
const labelText = {}, folded = {};
for (const s in clusterEl) {
  const t = clusterEl[s].querySelector("text");
  if (!t) continue;
  labelText[s] = t.textContent;
  t.textContent = "\u25be " + labelText[s];
  t.addEventListener("click", (ev) => { ev.stopPropagation(); toggle(s); });
  clusterEl[s].addEventListener("click", (ev) => {
    if (collapsed.has(s)) { ev.stopPropagation(); toggle(s); } });
}
function toggle(s) { if (collapsed.has(s)) collapsed.delete(s); else collapsed.add(s); render(); }
function openTo(node) {
  const scope = D.nodes[node].scope;
  if (!scope) return;
  const parts = scope.split("/");
  for (let i = 1; i <= parts.length; i++) collapsed.delete(parts.slice(0, i).join("/"));
}
const hidden = {}, hiddenEdge = {}, proxyOf = {}, proxyEl = {};
function foldsChanged() {           // which nodes and edges a fold hides; edges to folded boxes
  for (const s in clusterEl) {
    const outer = foldOf(s);
    clusterEl[s].classList.toggle("hidden", outer !== null && outer !== s);
    clusterEl[s].classList.toggle("folded", outer === s);
    if (outer === s && !folded[s] && labelText[s] !== undefined) folded[s] = foldBar(s);
  }
  for (const id in nodeEl) hidden[id] = rep(id) !== id;
  while (proxies.firstChild) proxies.removeChild(proxies.firstChild);
  for (const key in proxyOf) { delete proxyOf[key]; delete proxyEl[key]; }
  for (const id in edgeEl) {
    const e = D.edges[id], a = rep(e.src), b = rep(e.dst);
    hiddenEdge[id] = !(a === e.src && b === e.dst);
    if (!hiddenEdge[id] || a === b) continue;
    const key = a + ">" + b;
    if (proxyOf[key]) { proxyOf[key].push(id); continue; }
    const p = repBox(a), q = repBox(b);
    const x1 = p.x + p.width, y1 = p.y + p.height / 2, x2 = q.x, y2 = q.y + q.height / 2;
    const m = Math.max(30, Math.abs(x2 - x1) / 2);
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", `M${x1},${y1} C${x1 + m},${y1} ${x2 - m},${y2} ${x2},${y2}`);
    proxies.appendChild(path);
    proxyOf[key] = [id];
    proxyEl[key] = path;
  }
  document.querySelectorAll("#scopelist input").forEach((c) => {
    c.checked = !collapsed.has(c.value); });
}
const scopes = Object.keys(D.scopes).sort();
if (scopes.length) {
  const list = $("scopelist");
  for (const s of scopes) {
    const lab = document.createElement("label");
    const depth = s.split("/").length - 1;
    lab.style.paddingLeft = (depth * 14) + "px";
    lab.innerHTML = `<input type=checkbox checked value="${s.replace(/"/g, "&quot;")}"> ` +
      `${s.split("/").pop().replace(/</g, "&lt;")} <span class=hint>(${D.scopes[s]})</span>`;
    lab.querySelector("input").onchange = () => toggle(s);
    list.appendChild(lab);
  }
  $("foldall").onclick = () => {
    scopes.forEach((s) => { if (!s.includes("/")) collapsed.add(s); });
    $("follow").checked = false; render(); fit(); };
  $("openall").onclick = () => { collapsed.clear(); render(); };
} else {
  $("scopebox").classList.add("hidden");
}

// --- pan and zoom --------------------------------------------------------------------------------
const whole = (() => {
  const vb = svg.viewBox.baseVal;
  return vb && vb.width ? { x: vb.x, y: vb.y, w: vb.width, h: vb.height }
    : { x: 0, y: 0, w: 800, h: 600 };
})();
svg.removeAttribute("width"); svg.removeAttribute("height");
svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
let vb = { x: whole.x, y: whole.y, w: whole.w, h: whole.h };
let viewW = view.clientWidth || 800, viewH = view.clientHeight || 600;  // read once: reading
function aspect() { return viewH / viewW; }                   // them each step forces a layout
const m0 = g0.transform && g0.transform.baseVal.consolidate();
const M = m0 ? m0.matrix : { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };
function outer(b) { return { x: M.a * b.x + M.e, y: M.d * b.y + M.f, w: M.a * b.width,
  h: M.d * b.height }; }
const mini = $("mini"), minivb = $("minivb"), miniNode = {};
function setView(x, y, w) {
  vb = { x: x, y: y, w: w, h: w * aspect() };
  svg.setAttribute("viewBox", `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
  const all = vb.x <= whole.x && vb.y <= whole.y && vb.x + vb.w >= whole.x + whole.w &&
    vb.y + vb.h >= whole.y + whole.h;
  mini.classList.toggle("hidden", all);
  minivb.setAttribute("x", vb.x); minivb.setAttribute("y", vb.y);
  minivb.setAttribute("width", vb.w); minivb.setAttribute("height", vb.h);
}
(function () {
  const s = Math.min(220 / whole.w, 120 / whole.h);
  mini.setAttribute("width", Math.max(40, whole.w * s));
  mini.setAttribute("height", Math.max(24, whole.h * s));
  mini.setAttribute("viewBox", `${whole.x} ${whole.y} ${whole.w} ${whole.h}`);
  const into = $("miniboxes");
  const add = (b, cls) => {
    const r = document.createElementNS(NS, "rect"), o = outer(b);
    r.setAttribute("x", o.x); r.setAttribute("y", o.y);
    r.setAttribute("width", o.w); r.setAttribute("height", o.h);
    r.setAttribute("class", cls); into.appendChild(r);
    return r;
  };
  for (const c in clusterEl) add(cbox[c], "c");
  for (const id in box) miniNode[id] = add(box[id], "n");
  let on = false;
  const jump = (e) => {
    const r = mini.getBoundingClientRect();
    const x = whole.x + (e.clientX - r.left) / r.width * whole.w;
    const y = whole.y + (e.clientY - r.top) / r.height * whole.h;
    setView(x - vb.w / 2, y - vb.h / 2, vb.w);
  };
  mini.addEventListener("pointerdown", (e) => { e.stopPropagation(); on = true; jump(e); });
  window.addEventListener("pointermove", (e) => { if (on) jump(e); });
  window.addEventListener("pointerup", () => { on = false; });
})();
function fit() {
  const a = aspect(), pad = 20;
  let w = Math.max(whole.w + 2 * pad, (whole.h + 2 * pad) / a);
  w = Math.max(w, viewW / 1.6);                              // never more than 160%
  setView(whole.x - pad - (w - whole.w - 2 * pad) / 2,
          whole.y - pad - (w * a - whole.h - 2 * pad) / 2, w);
}
function reveal(id) {
  const r = rep(id);
  const b = outer(repBox(r)), m = 40;
  if (b.x >= vb.x + m && b.x + b.w <= vb.x + vb.w - m && b.y >= vb.y + m &&
      b.y + b.h <= vb.y + vb.h - m) return;
  if (b.w > vb.w - 2 * m) { setView(b.x - m, b.y + b.h / 2 - vb.h / 2, vb.w); return; }
  setView(b.x + b.w / 2 - vb.w / 2, b.y + b.h / 2 - vb.h / 2, vb.w);
}
view.addEventListener("wheel", (e) => {
  e.preventDefault();
  const r = view.getBoundingClientRect();
  const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
  const f = Math.exp(e.deltaY * 0.0015);
  const w = Math.min(Math.max(vb.w * f, 80), Math.max(whole.w, whole.h) * 4);
  setView(vb.x + fx * (vb.w - w), vb.y + fy * (vb.h - w * aspect()), w);
}, { passive: false });
let drag = null;
view.addEventListener("pointerdown", (e) => {
  if (e.button !== 0) return;
  drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y };
  view.classList.add("drag");
});
window.addEventListener("pointermove", (e) => {
  if (!drag) return;
  const s = vb.w / viewW;
  setView(drag.vx - (e.clientX - drag.x) * s, drag.vy - (e.clientY - drag.y) * s, vb.w);
});
window.addEventListener("pointerup", () => { drag = null; view.classList.remove("drag"); });
$("fit").onclick = fit;
$("zin").onclick = () => setView(vb.x + vb.w * 0.1, vb.y + vb.h * 0.1, vb.w * 0.8);
$("zout").onclick = () => setView(vb.x - vb.w * 0.125, vb.y - vb.h * 0.125, vb.w * 1.25);
window.addEventListener("resize", () => {
  viewW = view.clientWidth || 800; viewH = view.clientHeight || 600; setView(vb.x, vb.y, vb.w); });

// --- start ---------------------------------------------------------------------------------------
$("summary").textContent = D.summary;
const tb = $("gradrows"), gradCells = [];
for (const row of D.table) {
  const tr = document.createElement("tr");
  const th = document.createElement("th"), td = document.createElement("td");
  th.innerHTML = "<code></code>"; th.firstChild.textContent = row.name;
  td.className = "grad"; td.setAttribute("data-tensor", row.tensor);
  td.setAttribute("data-label", row.label);
  tr.appendChild(th); tr.appendChild(td); tb.appendChild(tr);
  gradCells.push(td);
}
fit();                                     // the whole graph, unless that makes it tiny
if (viewW / vb.w < 0.5) setView(vb.x, vb.y, viewW / 0.85);
render();
const query = location.hash + "&" + location.search;
const folds = query.match(/fold=([^&]*)/);                // #fold=all or #fold=a,b/c
if (folds) {
  const names = decodeURIComponent(folds[1]).split(",");
  scopes.forEach((s) => { if (names.includes(s) || (names.includes("all") && !s.includes("/")))
    collapsed.add(s); });
  $("follow").checked = false; render();
}
const want = query.match(/step=(end|\d+)/);
if (want) {
  const n = want[1] === "end" ? N : Math.min(N, +want[1]);
  for (let i = 0; i < n; i++) $("next").click();
}
const zoom = query.match(/zoom=([\d.]+)/);                // #zoom=1: that scale, on the node
if (zoom && +zoom[1] > 0) {
  const cur = k > 0 ? D.steps[k - 1].node : D.targetNode;
  const b = outer(repBox(rep(cur))), w = viewW / +zoom[1];
  setView(b.x + b.w / 2 - w / 2, b.y + b.h / 2 - w * aspect() / 2, w);
}
window.explorer = { go: go, get step() { return k; }, steps: N };
})();
"""

PAGE = (r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%%TITLE%%</title>
<style>""" + CSS + r"""</style>
</head>
<body>
<header>
  <h1>%%TITLE%%</h1><span class="sub" id="summary"></span>
  <span class="legend"><span><i class="sw cur"></i>current node</span>
  <span><i class="sw done"></i>gradient computed</span>
  <span><i class="sw flow"></i>gradient passed on</span></span>
</header>
<main>
<div id="view">
%%SVG%%
<svg id="mini" xmlns="http://www.w3.org/2000/svg"><g id="miniboxes"></g><rect
 id="minivb"></rect></svg>
<div id="zoom"><button id="zin" title="zoom in">+</button><button id="zout"
 title="zoom out">&minus;</button><button id="fit" title="show the whole graph">fit</button></div>
</div>
<aside>
  <div id="controls">
    <div class="row">
      <button id="first" title="back to the start (Home)">|&#x25C0;</button>
      <button id="prev" title="one step back (&larr;)">&#x25C0; back</button>
      <span id="counter"></span>
      <button id="next" title="one step forward (&rarr;)">step &#x25B6;</button>
      <button id="last" title="to the end (End)">&#x25B6;|</button>
      <button id="play" title="play (space)">&#x25B6; play</button>
    </div>
    <input type="range" id="slider" min="0" value="0" aria-label="step">
    <div class="opts"><label><input type="checkbox" id="follow" checked> open the scope the
      walk enters</label></div>
  </div>
  <div id="panels">
    <section id="steppanel"></section>
    <section id="grads"><h4>Gradients</h4><table><tbody id="gradrows"></tbody></table></section>
    <section id="nodepanel"></section>
    <section id="scopebox"><h4>Name scopes</h4>
      <div class="row"><button id="foldall">fold all</button><button id="openall">open
      all</button></div><div id="scopelist"></div></section>
  </div>
</aside>
</main>
<script type="application/json" id="data">%%DATA%%</script>
<script>""" + SCRIPT + r"""</script>
</body>
</html>
""")
