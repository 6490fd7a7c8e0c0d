// Tree layout for the TreeView, a port of workbench/viz/tree_layout.py (same rules, same numbers:
// tests/test_tree_figure.py runs both on the same trees). Concatenated with tree_parts.js and
// tree_view.js into the widget's module (see workbench/widgets/tree_view.py).

const STATUSES = ["expanded", "frontier", "terminal", "solved", "pruned", "error"];
const ROOT = -1; // the virtual parent of the root

// --- layout (a port of tree_layout.py) -------------------------------------------------------------
function childrenMap(recs) {
  const kids = new Map();
  const ids = [...recs.keys()].sort((a, b) => a - b);
  for (const id of ids) {
    const p = recs.has(recs.get(id).parent) ? recs.get(id).parent : ROOT;
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(id);
  }
  return kids;
}

function visibleOrder(kids, fold) {
  const out = [], stack = [ROOT];
  while (stack.length) {
    const n = stack.pop();
    out.push(n);
    if (fold && fold.has(n)) continue;
    const k = kids.get(n);
    if (k) for (let i = k.length - 1; i >= 0; i--) stack.push(k[i]);
  }
  return out;
}

function ancestors(recs, ids) {
  const out = new Set();
  for (let n of ids) {
    while (n !== undefined && n !== null && recs.has(n) && !out.has(n)) { out.add(n); n = recs.get(n).parent; }
  }
  return out;
}

function chooseCollapsed(recs, kids, { maxNodes, keep, expanded, collapsed }) {
  const isParent = (n) => (kids.get(n) || []).length > 0;
  const chosen = [...collapsed].filter(isParent); // the user's choice wins over `keep`
  if (!maxNodes || recs.size <= maxNodes) return new Set(chosen);
  const fold = new Set(chosen);
  const guard = ancestors(recs, keep);
  const foldable = (n) => isParent(n) && !guard.has(n);
  // folds are chosen as if nothing were unfolded by hand, so unfolding one subtree never folds another
  const done = () => new Set([...[...fold].filter((n) => !expanded.has(n)), ...chosen]);
  const status = (n) => (recs.has(n) ? STATUSES[recs.get(n).status] : null);
  // 1. pruned subtrees fold into their topmost pruned node
  for (const n of visibleOrder(kids, null).slice(1)) {
    if (status(n) === "pruned" && status(recs.get(n).parent) !== "pruned" && foldable(n)) fold.add(n);
  }
  // 2. then a depth cut: everything deeper than the deepest depth that fits folds
  const visible = visibleOrder(kids, fold);
  if (visible.length - 1 <= maxNodes) return done();
  const depth = new Map([[ROOT, -1]]), perDepth = new Map();
  for (const n of visible.slice(1)) {
    const p = recs.has(recs.get(n).parent) ? recs.get(n).parent : ROOT;
    const d = depth.get(p) + 1;
    depth.set(n, d);
    perDepth.set(d, (perDepth.get(d) || 0) + 1);
  }
  let cut = 0, total = 0;
  for (const d of [...perDepth.keys()].sort((a, b) => a - b)) {
    if (total + perDepth.get(d) > maxNodes) break;
    total += perDepth.get(d);
    cut = d;
  }
  const atCut = [];
  for (const n of visible.slice(1)) {
    if (depth.get(n) >= cut && foldable(n)) {
      fold.add(n);
      if (depth.get(n) === cut) atCut.push(n);
    }
  }
  // 3. what the limit leaves unfolds the best nodes at the cut, one level more
  const value = (n) => (recs.get(n).value === undefined ? null : recs.get(n).value);
  atCut.sort((a, b) => (value(a) === null) - (value(b) === null) || (value(b) || 0) - (value(a) || 0) || a - b);
  let left = maxNodes - total;
  for (const n of atCut) {
    if (kids.get(n).length <= left) { fold.delete(n); left -= kids.get(n).length; }
  }
  return done();
}

function place(kids, order, gap) {
  // Contours: leftmost/rightmost x per depth, deepest first; actual = entry + shift.
  const rel = new Map(), contours = new Map();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i], children = kids.get(node);
    if (!children || !children.length) { contours.set(node, { left: [0], right: [0], shift: 0 }); continue; }
    let merged = contours.get(children[0]);
    contours.delete(children[0]);
    const xs = [0];
    for (const child of children.slice(1)) {
      const b = contours.get(child);
      contours.delete(child);
      let d = -Infinity;
      const common = Math.min(merged.left.length, b.left.length);
      for (let j = 1; j <= common; j++) {
        d = Math.max(d, merged.right[merged.right.length - j] + merged.shift + gap - b.left[b.left.length - j] - b.shift);
      }
      xs.push(d);
      b.shift += d;
      if (b.left.length > merged.left.length) {
        for (let j = 1; j <= merged.left.length; j++) b.left[b.left.length - j] = merged.left[merged.left.length - j] + merged.shift - b.shift;
        merged = b;
      } else {
        for (let j = 1; j <= b.left.length; j++) merged.right[merged.right.length - j] = b.right[b.right.length - j] + b.shift - merged.shift;
      }
    }
    const mid = (xs[0] + xs[xs.length - 1]) / 2;
    children.forEach((c, k) => rel.set(c, xs[k] - mid));
    merged.shift -= mid;
    merged.left.push(-merged.shift);
    merged.right.push(-merged.shift);
    contours.set(node, merged);
  }
  return rel;
}

function layoutTree(recs, kids, fold) {
  const order = visibleOrder(kids, fold);
  const shown = new Map([[ROOT, kids.get(ROOT) || []]]);
  for (const n of order.slice(1)) if (!fold.has(n) && kids.has(n)) shown.set(n, kids.get(n));
  const rel = place(shown, order, 1);
  const x = new Map([[ROOT, 0]]), y = new Map([[ROOT, -1]]);
  let low = Infinity;
  for (const n of order.slice(1)) {
    const p = recs.has(recs.get(n).parent) ? recs.get(n).parent : ROOT;
    x.set(n, x.get(p) + rel.get(n));
    y.set(n, y.get(p) + 1);
    low = Math.min(low, x.get(n));
  }
  x.delete(ROOT); y.delete(ROOT);
  for (const [n, v] of x) x.set(n, v - low);
  const size = new Map(), all = visibleOrder(kids, null);
  for (let i = all.length - 1; i >= 0; i--) {
    let s = 1;
    for (const c of kids.get(all[i]) || []) s += size.get(c);
    size.set(all[i], s);
  }
  const hidden = new Map();
  for (const n of order.slice(1)) if (fold.has(n) && size.get(n) > 1) hidden.set(n, size.get(n) - 1);
  return { x, y, order: order.slice(1), hidden };
}

export { ROOT, STATUSES, ancestors, childrenMap, chooseCollapsed, layoutTree, place, visibleOrder };
