// TreeView: the run tree on a canvas (pan, zoom, fade-in), a card for the selected node, steering.
// Node records arrive in pages (traits nodes_0, nodes_1, ...): [id, parent, status, value, visits,
// flags, label, safety] (safety: ToolEmu's 0-3 score or null; a scored node is filled in its colour). Layout and folding: tree_layout.js; drawing helpers: tree_parts.js (the three files
// are one module in the browser). Every button sends an intent ({event: name, ...}) that Python
// routes to a plain method of workbench/widgets/tree_view.py.

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const style = model.get("palette") || {};
  const labels = style.labels || {};
  const send = (event, args) => model.send({ event, ...(args || {}) });
  const uid = "wbtv" + Math.random().toString(36).slice(2, 8);
  const S = {
    recs: new Map(), pages: [], kids: new Map(), lay: null, disp: new Map(), born: new Map(), screen: new Map(),
    badges: [], next: new Map(), fitAll: false, expanded: new Set(), collapsed: new Set(), keepKey: "", dirty: true, first: true, frame: 0,
    view: { k: 1, ky: 1, tx: 20, ty: 24 }, viewFrom: null, viewTo: null, viewT0: 0, autoFit: true, // screen = world * (k, ky) + t
    focus: -1, pending: -1, fullObs: false, calls: new Map(), callsOpen: -1, r: R,
    stats: { ingestMs: 0, layoutMs: 0, drawMs: 0, draws: 0, layouts: 0, firstMs: 0 }, t0: performance.now(),
  };

  // --- DOM ---
  const btn = (label, cls, title, onclick, extra) => h("button", { type: "button", class: `wb-tv-btn ${cls}`, title, "aria-label": title, onclick, ...(extra || {}) }, label);
  const summary = h("div", { class: "wb-tv-summary" });
  const toolbar = h("div", { class: "wb-tv-tools", role: "toolbar", "aria-label": "Tree view" },
    btn("−", "wb-tv-zoom-out", "Zoom out", () => zoomBy(1 / 1.4)),
    btn("+", "wb-tv-zoom-in", "Zoom in", () => zoomBy(1.4)),
    btn("Fit", "wb-tv-fit", "Fit the whole tree in view (and keep it fitted as it grows)", () => { S.autoFit = S.fitAll = true; fitView(true); }));
  const canvas = h("canvas", { class: "wb-tv-canvas", "aria-hidden": "true" });
  const tip = h("div", { class: "wb-tv-tip", role: "tooltip" });
  tip.hidden = true;
  const hint = h("div", { id: `${uid}-hint`, class: "wb-tv-hint" },
    "Drag to pan · Ctrl+wheel or + / − to zoom · click a node to select it · arrow keys move between parent, children and siblings, Enter selects · click +N to unfold");
  const stage = h("div", { class: "wb-tv-stage", tabindex: 0, role: "application", "aria-roledescription": "tree",
    "aria-label": "Run tree", "aria-describedby": `${uid}-hint` }, canvas, tip);
  const live = h("div", { class: "wb-tv-live", role: "status", "aria-live": "polite" });
  const card = h("aside", { class: "wb-tv-card", "aria-label": "Selected node" });
  const legend = legendElement(style);
  const notice = h("div", { class: "wb-tv-notice", role: "status", "aria-live": "polite" });
  const detail = h("details", { class: "wb-tv-detail" }, h("summary", {}, "Error details"), h("pre", {}));
  const root = h("div", { class: "wb-tv" },
    h("div", { class: "wb-tv-top" }, summary, toolbar), notice, detail,
    h("div", { class: "wb-tv-body" }, h("div", { class: "wb-tv-main" }, stage, legend, hint), card), live);
  el.append(root);

  // --- data -> layout ---
  function ingest() {
    const t = performance.now();
    const count = model.get("page_count") || 0;
    let added = false, changed = false;
    for (let k = 0; k < count; k++) {
      const page = model.get(`nodes_${k}`) || [];
      if (S.pages[k] === page) continue;
      S.pages[k] = page;
      for (const [id, parent, status, value, visits, flags, label, safety = null] of page) {
        const old = S.recs.get(id);
        if (!old) {
          S.recs.set(id, { id, parent, status, value, visits, flags, label, safety });
          if (!S.first) S.born.set(id, t);
          added = true;
        } else if (old.status !== status || old.value !== value || old.visits !== visits || old.flags !== flags || old.label !== label || old.parent !== parent || old.safety !== safety) {
          Object.assign(old, { parent, status, value, visits, flags, label, safety });
          changed = true;
        }
      }
    }
    if (added) S.kids = childrenMap(S.recs);
    S.stats.ingestMs = performance.now() - t;
    return added || changed;
  }

  function keepIds() {
    const m = model.get("meta") || {}, best = m.best || [];
    return [m.cursor, best[best.length - 1], model.get("selected"), S.focus].filter((n) => n !== undefined && n !== null && n >= 0 && S.recs.has(n));
  }

  function posAt(d, now) {
    const f = ease(Math.min(1, (now - d.t0) / MOVE_MS));
    return [d.fx + (d.tx - d.fx) * f, d.fy + (d.ty - d.fy) * f];
  }

  function relayout() {
    const t = performance.now();
    const fold = chooseCollapsed(S.recs, S.kids, { maxNodes: model.get("max_nodes"), keep: keepIds(), expanded: S.expanded, collapsed: S.collapsed });
    const lay = layoutTree(S.recs, S.kids, fold);
    const next = new Map();
    for (const id of lay.order) {
      const tx = lay.x.get(id) * DX, ty = lay.y.get(id) * DY, cur = S.disp.get(id);
      let from = [tx, ty];
      if (cur) from = posAt(cur, t);
      else if (!S.born.has(id) && S.disp.has(S.recs.get(id).parent)) from = posAt(S.disp.get(S.recs.get(id).parent), t); // unfolded: grow out of the parent
      next.set(id, { fx: from[0], fy: from[1], tx, ty, t0: t });
    }
    S.disp = next;
    S.lay = lay;
    S.next = new Map(); // the next node to the right at the same depth (labels stop there)
    const rows = new Map();
    for (const id of lay.order) { const d = lay.y.get(id); if (!rows.has(d)) rows.set(d, []); rows.get(d).push(id); }
    for (const row of rows.values()) { row.sort((a, b) => lay.x.get(a) - lay.x.get(b)); row.forEach((id, i) => S.next.set(id, row[i + 1])); }
    S.stats.layoutMs = performance.now() - t;
    S.stats.layouts += 1;
    if (S.autoFit) fitView(!S.first);
  }

  // --- view: pan and zoom ---
  function viewAt(now) {
    if (!S.viewTo) return S.view;
    const f = ease(Math.min(1, (now - S.viewT0) / MOVE_MS)), a = S.viewFrom, b = S.viewTo;
    if (f >= 1) { S.view = b; S.viewTo = null; return b; }
    const mix = (key) => a[key] + (b[key] - a[key]) * f;
    return { k: mix("k"), ky: mix("ky"), tx: mix("tx"), ty: mix("ty") };
  }

  function setView(target, animate) {
    if (animate) { S.viewFrom = viewAt(performance.now()); S.viewTo = target; S.viewT0 = performance.now(); }
    else { S.view = target; S.viewTo = null; }
    requestDraw();
  }

  function fitView(animate) {
    const lay = S.lay;
    if (!lay || !lay.order.length) return;
    const w = stage.clientWidth || 640, ht = stage.clientHeight || 440, m = 30;
    let maxX = 0, maxY = 0;
    for (const id of lay.order) { maxX = Math.max(maxX, lay.x.get(id) * DX); maxY = Math.max(maxY, lay.y.get(id) * DY); }
    const fitH = (ht - 2 * m - 16) / Math.max(maxY, 1);
    let k = Math.max(0.01, Math.min(1.5, (w - 2 * m) / Math.max(maxX, 1), fitH));
    const follow = k < MIN_FIT && !S.fitAll; // too big to show whole: follow the cursor (or the newest node)
    if (follow) k = MIN_FIT;
    const ky = Math.max(k, Math.min(1, fitH)); // a wide, shallow tree keeps its levels apart
    let tx = (w - maxX * k) / 2, ty = m;
    if (follow) {
      const cursor = (model.get("meta") || {}).cursor;
      const d = S.disp.get(S.disp.has(cursor) ? cursor : lay.order[lay.order.length - 1]);
      tx = Math.min(m, Math.max(w - m - maxX * k, w / 2 - d.tx * k));
      ty = Math.min(m, Math.max(ht - m - 16 - maxY * ky, ht / 2 - d.ty * ky));
    }
    setView({ k, ky, tx, ty }, animate);
  }

  function zoomAt(px, py, factor) {
    const v = viewAt(performance.now());
    const f = Math.min(4, Math.max(0.03, v.k * factor)) / v.k, k = v.k * f, ky = v.ky * f;
    S.autoFit = S.fitAll = false;
    setView({ k, ky, tx: px - (px - v.tx) * f, ty: py - (py - v.ty) * f }, false);
  }
  const zoomBy = (f) => zoomAt(stage.clientWidth / 2, stage.clientHeight / 2, f);

  function ensureVisible(id) {
    const d = S.disp.get(id);
    if (!d) return;
    const v = viewAt(performance.now()), w = stage.clientWidth, ht = stage.clientHeight, m = 24;
    const x = d.tx * v.k + v.tx, y = d.ty * v.ky + v.ty;
    const dx = x < m ? m + 60 - x : x > w - m ? w - m - 60 - x : 0;
    const dy = y < m ? m + 40 - y : y > ht - m ? ht - m - 40 - y : 0;
    if (!dx && !dy) return;
    S.autoFit = S.fitAll = false;
    setView({ ...v, tx: v.tx + dx, ty: v.ty + dy }, true);
  }

  // --- drawing ---
  function requestDraw() { if (!S.frame) S.frame = requestAnimationFrame(frame); }

  function frame() {
    S.frame = 0;
    if (S.dirty) {
      S.dirty = false;
      const changed = ingest();
      const keepKey = keepIds().join(",") + "|" + (model.get("max_nodes") || 0);
      if (changed || keepKey !== S.keepKey || !S.lay) { S.keepKey = keepKey; relayout(); }
      drawSummary();
      S.first = false;
    }
    draw();
    if (!S.stats.firstMs && S.lay) S.stats.firstMs = performance.now() - S.t0; // render() to the first tree drawn
  }

  function draw() {
    const t = performance.now();
    const lay = S.lay;
    const dpr = window.devicePixelRatio || 1, w = stage.clientWidth, ht = stage.clientHeight;
    if (!w || !ht) return; // not shown (a hidden tab, JupyterLab switching themes): keep the drawing
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(ht * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(ht * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, ht);
    if (!lay) return;
    const css = getComputedStyle(root);
    const fg = css.getPropertyValue("--wb-tv-fg").trim() || "#1f1f1f";
    const bg = css.getPropertyValue("--wb-tv-bg").trim() || "#fff";
    const accent = css.getPropertyValue("--wb-tv-accent").trim() || "#1976d2";
    const dark = isDark(bg); // dark outlines would vanish on a dark theme: lighten them
    const v = viewAt(t);
    let animating = Boolean(S.viewTo);
    const P = new Map();
    for (const id of lay.order) {
      const d = S.disp.get(id);
      if (t - d.t0 < MOVE_MS && (d.fx !== d.tx || d.fy !== d.ty)) animating = true;
      const [x, y] = posAt(d, t);
      P.set(id, [x * v.k + v.tx, y * v.ky + v.ty]);
    }
    const alpha = (id) => {
      const b = S.born.get(id);
      if (b === undefined) return 1;
      const a = (t - b) / FADE_MS;
      if (a >= 1) { S.born.delete(id); return 1; }
      animating = true;
      return Math.max(0.04, a);
    };
    const inView = (x, y, m) => x > -m && x < w + m && y > -m && y < ht + m;
    const r = Math.max(1.6, Math.min(9, DX * v.k * 0.36, DY * v.ky * 0.2));
    S.r = r;
    const meta = model.get("meta") || {};
    const lo = meta.lo ?? 0, hi = meta.hi ?? 1;
    // edges (young ones fade in with their node)
    ctx.lineWidth = Math.max(0.6, Math.min(1.4, v.k));
    ctx.strokeStyle = style.edge;
    ctx.beginPath();
    const young = [];
    for (const id of lay.order) {
      const p = S.recs.get(id).parent, a = P.get(p), b = P.get(id);
      if (!a) continue;
      if (!inView(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(a[0] - b[0]) + 20) && !inView(b[0], b[1], 20)) continue;
      if (S.born.has(id)) { young.push([a, b, id]); continue; }
      ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
    }
    ctx.stroke();
    for (const [a, b, id] of young) {
      ctx.globalAlpha = alpha(id); ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // best path
    const best = (meta.best || []).filter((id) => P.has(id));
    if (best.length > 1) {
      ctx.strokeStyle = style.best; ctx.lineWidth = Math.max(2, 4 * Math.min(1, v.k)); ctx.lineJoin = "round";
      ctx.beginPath();
      best.forEach((id, i) => (i ? ctx.lineTo(...P.get(id)) : ctx.moveTo(...P.get(id))));
      ctx.stroke();
    }
    ctx.lineWidth = 2;
    if (best.length > 1) for (const id of best) { const [x, y] = P.get(id); ctx.beginPath(); ctx.arc(x, y, r + 3, 0, 2 * Math.PI); ctx.stroke(); }
    // selection halo
    const sel = S.pending >= 0 ? S.pending : model.get("selected");
    if (P.has(sel)) {
      const [x, y] = P.get(sel);
      ctx.fillStyle = accent; ctx.globalAlpha = 0.25;
      ctx.beginPath(); ctx.arc(x, y, r + 10, 0, 2 * Math.PI); ctx.fill(); ctx.globalAlpha = 1;
    }
    // nodes
    let labelled = 0;
    const family = css.getPropertyValue("--jp-ui-font-family").trim() || "system-ui, sans-serif";
    const labelsFit = DY * v.ky >= 28 && v.k >= 0.15;
    ctx.font = `10px ${family}`;
    for (const id of lay.order) {
      const [x, y] = P.get(id);
      if (!inView(x, y, r + 12)) continue;
      const rec = S.recs.get(id), status = STATUSES[rec.status], st = style.status[status];
      ctx.globalAlpha = alpha(id) * st.opacity;
      const scored = rec.safety !== null && rec.safety !== undefined && style.safety;
      const fill = scored ? style.safety[rec.safety] : valueColor(style, rec.value, lo, hi);
      drawNode(ctx, status, dark && isDark(st.line) ? { ...st, line: status === "error" ? "#ef7c6a" : "#c8c8c8" } : st, x, y, r, fill, bg);
      if (scored && r >= 5.5 && FILLED.has(status)) { // the score's digit doubles its colour
        ctx.save(); ctx.font = `bold ${Math.round(Math.min(12, r * 1.35))}px ${family}`; ctx.textAlign = "center"; ctx.textBaseline = "middle";
        ctx.fillStyle = style.safety_ink[rec.safety]; ctx.fillText(String(rec.safety), x, y + 0.5); ctx.restore();
      }
      if (rec.flags & 1) { // pinned: a small triangle above
        ctx.fillStyle = fg; ctx.beginPath();
        ctx.moveTo(x - 4, y - r - 9); ctx.lineTo(x + 4, y - r - 9); ctx.lineTo(x, y - r - 3); ctx.closePath(); ctx.fill();
      }
      const next = P.get(S.next.get(id)); // labels go right of the node, as far as its neighbour allows
      const room = Math.floor(Math.min(150, next ? next[0] - x - 2 * r - 10 : 150) / 5.8);
      if (labelsFit && room >= 3 && labelled < 400 && rec.label) {
        labelled += 1;
        ctx.fillStyle = fg; ctx.globalAlpha *= 0.8;
        const gap = id === meta.cursor ? 11 : 5; // clear of the cursor ring
        ctx.fillText(rec.label.length > room ? rec.label.slice(0, room - 1) + "…" : rec.label, x + r + gap, y + 3.5);
      }
    }
    ctx.globalAlpha = 1;
    // cursor ring
    if (P.has(meta.cursor)) {
      const [x, y] = P.get(meta.cursor);
      ctx.strokeStyle = style.cursor; ctx.lineWidth = 3.5;
      ctx.beginPath(); ctx.arc(x, y, r + 7, 0, 2 * Math.PI); ctx.stroke();
    }
    // keyboard focus
    if (document.activeElement === stage && P.has(S.focus)) {
      const [x, y] = P.get(S.focus);
      ctx.strokeStyle = fg; ctx.lineWidth = 1.5; ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.arc(x, y, r + 12, 0, 2 * Math.PI); ctx.stroke(); ctx.setLineDash([]);
    }
    // folded subtrees: "+N" badges
    S.badges = [];
    ctx.font = `bold 10px ${family}`;
    const pills = DX * v.k >= 24; // room for "+N" pills; closer than that, a small mark under the node
    for (const [id, n] of lay.hidden) {
      const [x, y] = P.get(id);
      if (!inView(x, y, 40)) continue;
      ctx.globalAlpha = alpha(id);
      ctx.fillStyle = bg; ctx.strokeStyle = fg; ctx.lineWidth = 1;
      if (pills) {
        const text = `+${n}`, tw = ctx.measureText(text).width + 8, bx = x - tw / 2, by = y + r + 4;
        ctx.beginPath(); ctx.roundRect ? ctx.roundRect(bx, by, tw, 14, 7) : ctx.rect(bx, by, tw, 14); ctx.fill(); ctx.stroke();
        ctx.fillStyle = fg; ctx.fillText(text, bx + 4, by + 10.5);
        S.badges.push({ id, x0: bx, y0: by, x1: bx + tw, y1: by + 14 });
      } else {
        const by = y + r + 2;
        ctx.fillStyle = fg; ctx.beginPath(); ctx.moveTo(x - 3, by); ctx.lineTo(x + 3, by); ctx.lineTo(x, by + 4); ctx.closePath(); ctx.fill();
        S.badges.push({ id, x0: x - 4, y0: by - 1, x1: x + 4, y1: by + 6 });
      }
    }
    ctx.globalAlpha = 1;
    S.screen = P;
    S.stats.drawMs = performance.now() - t;
    S.stats.draws += 1;
    if (animating) requestDraw();
  }

  // --- summary, card, notices ---
  function drawSummary() {
    const m = model.get("meta") || {};
    const counts = Object.entries(m.counts || {}).map(([k, n]) => `${num(n)} ${k}`).join(", ");
    const folded = S.lay ? [...S.lay.hidden.values()].reduce((a, b) => a + b, 0) : 0;
    const best = (m.best || [])[(m.best || []).length - 1];
    summary.replaceChildren(
      h("span", { class: `wb-tv-status wb-tv-status-${m.status}` }, "● ", m.status || ""),
      h("span", {}, ` ${m.strategy || ""} · ${m.model || ""}${m.simulated && !(m.model || "").includes("simulated") ? " (simulated)" : ""}`),
      h("span", { class: "wb-tv-count" }, ` · ${num(m.nodes)} nodes` + (counts ? ` (${counts})` : "") + (folded ? ` · ${num(folded)} folded` : "")),
      h("span", {}, ` · cursor ${m.cursor}` + (best !== undefined && (m.best || []).length > 1 ? ` · best ${best}` : "") + (m.outcome ? ` · ${m.outcome}` : "")));
    const safetyKeys = legend.querySelector(".wb-tv-safety-keys");
    if (safetyKeys) safetyKeys.hidden = !m.scored;
    const lohi = legend.querySelector(".wb-tv-lohi");
    if (lohi) lohi.textContent = `${fmt(m.lo ?? 0)}–${fmt(m.hi ?? 1)}`;
    stage.setAttribute("aria-label", `Run tree: ${m.nodes || 0} nodes` + (folded ? `, ${folded} folded` : ""));
  }

  function describe(id) {
    const rec = S.recs.get(id);
    if (!rec || !S.lay) return "";
    const status = labels[STATUSES[rec.status]] || STATUSES[rec.status];
    const folded = S.lay.hidden.get(id);
    return `Node ${id}, depth ${S.lay.y.get(id)}, ${status}` + (rec.label ? `, action ${rec.label}` : "") +
      `, value ${fmt(rec.value)}, ${rec.visits} visits` + (rec.flags & 1 ? ", pinned" : "") + safetyText(rec, ", ") +
      (folded ? `, ${folded} nodes folded below (Arrow Down unfolds)` : "") + ". Enter selects.";
  }

  function safetyText(rec, sep) {
    if (rec.safety === null || rec.safety === undefined) return "";
    return `${sep}safety ${rec.safety}/3 (${(style.safety_labels || {})[rec.safety] || ""})`;
  }

  function row(label, body) {
    return h("div", { class: "wb-tv-row" }, h("span", { class: "wb-tv-label" }, label), h("div", { class: "wb-tv-val" }, body));
  }

  function drawCard() {
    const c = model.get("card") || {};
    const sel = model.get("selected");
    const old = card.querySelector(".wb-tv-value-input");
    const typing = old && document.activeElement === old && Number(old.dataset.node) === c.id ? old.value : null;
    if (sel < 0 || c.id === undefined) {
      card.replaceChildren(h("div", { class: "wb-tv-card-title" }, h("b", {}, "No node selected")),
        h("p", { class: "wb-tv-muted" }, "Click a node (or focus the tree, move with the arrow keys and press Enter) to read its thought, action and observation, and to prune, pin, set its value or resume from it."));
      return;
    }
    const chip = (cls, text) => h("span", { class: `wb-tv-chip ${cls}` }, text);
    const input = h("input", { type: "number", step: "any", class: "wb-tv-value-input", "aria-label": "New value", placeholder: "value", "data-node": c.id });
    input.value = typing !== null ? typing : c.value === null || c.value === undefined ? "" : String(c.value);
    const setValue = () => send("set_value", { node_id: c.id, value: input.value });
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") setValue(); });
    const isFolded = S.lay && S.lay.hidden.has(c.id);
    const actions = h("div", { class: "wb-tv-actions", role: "toolbar", "aria-label": "Steer this node" },
      h("button", { type: "button", class: "wb-tv-btn wb-tv-prune", disabled: !c.can_prune, title: "Never expand this node or anything below it again", onclick: () => send("prune", { node_id: c.id }) }, "Prune"),
      h("button", { type: "button", class: "wb-tv-btn wb-tv-pin", disabled: !c.can_pin, title: "Expand this node next", onclick: () => send("pin", { node_id: c.id }) }, "Pin"),
      h("span", { class: "wb-tv-setvalue" }, input,
        h("button", { type: "button", class: "wb-tv-btn wb-tv-set-value", title: "Override this node's value (the search keeps yours)", onclick: setValue }, "Set value")),
      h("button", { type: "button", class: "wb-tv-btn wb-tv-resume", disabled: !c.can_resume, title: "Rewind the cursor to this node: the next step grows from here", onclick: () => send("resume", { node_id: c.id }) }, "Resume from here"),
      c.children ? h("button", { type: "button", class: "wb-tv-btn wb-tv-fold", onclick: () => toggleFold(c.id, !isFolded) }, isFolded ? "Unfold subtree" : "Fold subtree") : null);
    const obsRow = () => {
      if (c.note) return row("Observation", h("span", { class: "wb-tv-muted" }, c.note));
      if (c.kind === "start" || !c.diff || S.fullObs) {
        const toggle = c.kind !== "start" && c.diff ? h("button", { type: "button", class: "wb-tv-link", onclick: () => { S.fullObs = false; drawCard(); } }, "Show as diff") : null;
        return row("Observation", h("div", {}, h("pre", { class: "wb-tv-full" }, c.obs || ""), toggle));
      }
      return row("Obs. diff", h("div", {}, h("div", { class: "wb-tv-muted" }, `against node ${c.parent}`), diffElement(c.diff, "wb-tv-"),
        h("button", { type: "button", class: "wb-tv-link", onclick: () => { S.fullObs = true; drawCard(); } }, "Show full text")));
    };
    const info = Object.entries(c.info || {}).filter(([k]) => k !== "value_by").map(([k, v]) => `${k} ${typeof v === "number" ? fmt(v) : String(v).slice(0, 200)}`);
    const callsBox = h("div", { class: "wb-tv-calls-box" });
    if (S.callsOpen === c.id && S.calls.has(c.id)) callsBox.append(callsElement(S.calls.get(c.id)));
    const tokens = (c.prompt_tokens || 0) + (c.completion_tokens || 0);
    card.replaceChildren(...[
      h("div", { class: "wb-tv-card-title" },
        h("b", {}, c.kind === "start" ? "Start (root)" : `Node ${c.id}`), ` · depth ${c.depth} `,
        chip(`wb-tv-chip-${c.visual}`, labels[c.visual] || c.status), c.cursor ? chip("wb-tv-chip-cursor", "cursor") : null,
        c.pinned ? chip("wb-tv-chip-pinned", "pinned") : null,
        h("button", { type: "button", class: "wb-tv-close", "aria-label": "Clear the selection", title: "Clear the selection", onclick: () => { S.pending = -1; send("select", { node_id: -1 }); } }, "×")),
      actions,
      c.error ? row("Error", h("span", { class: "wb-tv-error" }, c.error)) : null,
      c.action ? row("Action", h("code", {}, c.action)) : null,
      c.thought ? row("Thought", c.thought) : null,
      obsRow(),
      row("Value", `${fmt(c.value)}` + (c.value_by === "user" ? " · set by you" : c.value_by ? ` · by ${c.value_by}` : "")),
      row("Visits", String(c.visits)),
      c.terminal ? row("Reward", String(c.reward)) : null,
      c.safety && c.safety.score >= 0 ? row("Safety", h("span", { class: "wb-tv-safety", title: c.safety.reasoning || "" },
        h("span", { class: "wb-tv-swatch", style: `background:${(style.safety || {})[c.safety.score]}` }), ` ${c.safety.score}/3 · ${c.safety.label}`,
        c.safety.reasoning ? h("div", { class: "wb-tv-muted" }, c.safety.reasoning) : null)) : null,
      info.length ? row("Search", info.join(" · ")) : null,
      row("LLM calls", h("div", {},
        c.calls ? h("button", { type: "button", class: "wb-tv-link wb-tv-show-calls", onclick: () => { S.callsOpen = c.id; send("calls", { node_id: c.id }); } },
          `Show ${c.calls} call${c.calls > 1 ? "s" : ""} (${num(tokens)} tokens)`) : h("span", { class: "wb-tv-muted" }, "none"), callsBox)),
    ].filter(Boolean));
    if (typing !== null) { const again = card.querySelector(".wb-tv-value-input"); again.focus(); }
  }

  function drawNotice() {
    const text = model.get("notice") || "";
    notice.textContent = text;
    notice.classList.toggle("wb-tv-notice-error", /^(Error|\w+Error)/.test(text));
    const tb = model.get("detail") || "";
    detail.hidden = !tb;
    detail.querySelector("pre").textContent = tb;
  }

  function toggleFold(id, fold) {
    if (fold) { S.collapsed.add(id); S.expanded.delete(id); } else { S.expanded.add(id); S.collapsed.delete(id); }
    relayout(); drawCard(); drawSummary(); requestDraw();
  }

  // --- pointer: pan, hover, click ---
  function local(e) { const b = canvas.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; }

  function hit(x, y) {
    for (const b of S.badges) if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) return { badge: b.id };
    let best = -1, bd = Infinity;
    for (const [id, [px, py]] of S.screen) {
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bd) { bd = d; best = id; }
    }
    return bd <= Math.max(9, S.r + 5) ** 2 ? { node: best } : null;
  }

  function selectNode(id) {
    S.focus = id;
    S.pending = id;
    send("select", { node_id: id });
    requestDraw();
  }

  let drag = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const v = viewAt(performance.now());
    drag = { x: e.clientX, y: e.clientY, view: v, moved: false };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    const [x, y] = local(e);
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 4) { drag.moved = true; S.autoFit = S.fitAll = false; tip.hidden = true; }
      if (drag.moved) setView({ ...drag.view, tx: drag.view.tx + dx, ty: drag.view.ty + dy }, false);
      return;
    }
    const found = hit(x, y);
    if (found && found.node !== undefined) {
      const rec = S.recs.get(found.node);
      tip.replaceChildren(h("b", {}, `node ${rec.id}`), ` · ${labels[STATUSES[rec.status]] || ""}`, h("br"),
        `action: ${rec.label || "—"}`, h("br"), `value: ${fmt(rec.value)} · visits: ${rec.visits}` + (rec.flags & 1 ? " · pinned" : "") + (rec.flags & 2 ? " · value set by you" : "") + safetyText(rec, " · "));
      tip.hidden = false;
      tip.style.left = `${Math.min(x + 14, stage.clientWidth - 220)}px`;
      tip.style.top = `${y + 12}px`;
      canvas.style.cursor = "pointer";
    } else {
      tip.hidden = true;
      canvas.style.cursor = found ? "pointer" : "grab";
    }
  });
  canvas.addEventListener("pointerleave", () => { tip.hidden = true; });
  canvas.addEventListener("pointerup", (e) => {
    const d = drag;
    drag = null;
    if (!d || d.moved) return;
    const found = hit(...local(e));
    if (!found) return;
    if (found.badge !== undefined) toggleFold(found.badge, false);
    else selectNode(found.node);
  });
  canvas.addEventListener("wheel", (e) => {
    if (!(e.ctrlKey || e.metaKey)) return; // plain wheel scrolls the notebook
    e.preventDefault();
    zoomAt(...local(e), Math.exp(-e.deltaY * 0.0025));
  }, { passive: false });

  // --- keyboard: parent / children / siblings, Enter selects ---
  function sameDepthNeighbour(id, step) {
    const y = S.lay.y.get(id);
    const row = S.lay.order.filter((n) => S.lay.y.get(n) === y).sort((a, b) => S.lay.x.get(a) - S.lay.x.get(b));
    return row[row.indexOf(id) + step];
  }

  stage.addEventListener("keydown", (e) => {
    if (!S.lay || !S.lay.order.length) return;
    const sel = model.get("selected");
    const f = S.disp.has(S.focus) ? S.focus : S.disp.has(sel) ? sel : S.lay.order[0];
    const rec = S.recs.get(f);
    const visibleKids = (n) => (S.kids.get(n) || []).filter((c) => S.disp.has(c));
    let next;
    switch (e.key) {
      case "ArrowUp": next = S.disp.has(rec.parent) ? rec.parent : f; break;
      case "ArrowDown":
        if (S.lay.hidden.has(f)) toggleFold(f, false);
        next = visibleKids(f)[0] ?? f;
        break;
      case "ArrowLeft": case "ArrowRight": {
        const step = e.key === "ArrowLeft" ? -1 : 1, sibs = visibleKids(S.recs.has(rec.parent) ? rec.parent : ROOT);
        next = sibs[sibs.indexOf(f) + step] ?? sameDepthNeighbour(f, step) ?? f;
        break;
      }
      case "Home": next = S.lay.order[0]; break;
      case "End": { const c = (model.get("meta") || {}).cursor; next = S.disp.has(c) ? c : f; break; }
      case "Enter": case " ": e.preventDefault(); selectNode(f); return;
      case "+": case "=": e.preventDefault(); zoomBy(1.4); return;
      case "-": case "_": e.preventDefault(); zoomBy(1 / 1.4); return;
      case "0": e.preventDefault(); S.autoFit = S.fitAll = true; fitView(true); return;
      default: return;
    }
    e.preventDefault();
    S.focus = next;
    live.textContent = describe(next);
    ensureVisible(next);
    requestDraw();
  });
  stage.addEventListener("focus", () => {
    if (!S.disp.has(S.focus) && S.lay && S.lay.order.length) {
      const sel = model.get("selected");
      S.focus = S.disp.has(sel) ? sel : S.lay.order[0];
    }
    live.textContent = describe(S.focus);
    requestDraw();
  });
  stage.addEventListener("blur", requestDraw);

  // --- model -> view ---
  const schedule = () => { S.dirty = true; requestDraw(); };
  model.on("change", schedule);
  model.on("change:card", () => { S.pending = -1; drawCard(); });
  model.on("change:selected", () => { S.pending = -1; drawCard(); schedule(); });
  model.on("change:notice", drawNotice);
  model.on("change:detail", drawNotice);
  model.on("msg:custom", (msg) => {
    if (!msg || msg.type !== "calls") return;
    S.calls.set(msg.node_id, msg.calls);
    if (S.callsOpen === msg.node_id) drawCard();
  });
  const resize = new ResizeObserver(() => { if (S.autoFit && S.lay) fitView(false); requestDraw(); });
  resize.observe(stage);
  // JupyterLab hides its whole shell while it switches themes, and the resize observer does not
  // always report the size coming back: redraw (in the new theme's colours) whenever it shows again
  const shown = new IntersectionObserver(requestDraw);
  shown.observe(stage);

  // for tests and benchmarks: where a node is on screen, what is drawn, how long it took
  root.wbTree = {
    screenPos(id) {
      const p = S.screen.get(id);
      if (!p) return null;
      const b = canvas.getBoundingClientRect();
      return { x: b.left + p[0], y: b.top + p[1] };
    },
    badgePos(id) {
      const b = S.badges.find((x) => x.id === id), c = canvas.getBoundingClientRect();
      return b ? { x: c.left + (b.x0 + b.x1) / 2, y: c.top + (b.y0 + b.y1) / 2 } : null;
    },
    visible: () => (S.lay ? S.lay.order.length : 0),
    ids: () => (S.lay ? [...S.lay.order] : []),
    node: (id) => (S.recs.has(id) ? { ...S.recs.get(id), status: STATUSES[S.recs.get(id).status], depth: S.lay.y.get(id) } : null),
    folded: () => (S.lay ? Object.fromEntries(S.lay.hidden) : {}),
    nodes: () => S.recs.size,
    stats: () => ({ ...S.stats }),
    focus: () => S.focus,
    meta: () => model.get("meta") || {},
    view: () => ({ ...viewAt(performance.now()), autoFit: S.autoFit, width: stage.clientWidth, height: stage.clientHeight }),
    settled: () => !S.frame && !S.dirty,
    measure() { // fold, lay out and draw once, now (for benchmarks)
      const t = performance.now();
      relayout();
      draw();
      return { layoutMs: S.stats.layoutMs, drawMs: S.stats.drawMs, totalMs: performance.now() - t };
    },
    fitAll() { S.autoFit = S.fitAll = true; fitView(false); },
    pixel(id, dx, dy) { // the colour drawn at (dx, dy) px from a node's centre, [r, g, b, a]
      draw(); // at the stage's size now: a resize since the last frame would misplace the sample
      const p = S.screen.get(id);
      if (!p) return null;
      const dpr = canvas.width / Math.max(1, stage.clientWidth);
      return [...canvas.getContext("2d").getImageData(Math.round((p[0] + dx) * dpr), Math.round((p[1] + dy) * dpr), 1, 1).data];
    },
    radius: () => S.r,
  };

  drawSummary();
  drawCard();
  drawNotice();
  requestDraw();
  return () => { resize.disconnect(); shown.disconnect(); if (S.frame) cancelAnimationFrame(S.frame); };
}

export default { render };
