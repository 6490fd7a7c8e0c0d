// Drawing and DOM helpers of the TreeView (concatenated after dom.js and tree_layout.js and before
// tree_view.js; see tree_view.py).

const DX = 26, DY = 62, R = 6.5; // world px per sibling slot and per depth level; node radius
const FADE_MS = 500, MOVE_MS = 380;
const ease = (f) => 1 - Math.pow(1 - f, 3);
const MIN_FIT = 0.2; // below this zoom, fitting follows the cursor instead of showing everything

const FILLED = new Set(["expanded", "terminal", "solved"]); // statuses drawn filled (others are open or a cross)
const fmt = (v) => (v === null || v === undefined ? "—" : String(parseFloat(Number(v).toPrecision(3))));

function hexToRgb(c) { return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)); }

function isDark(color) { // a theme background, as "#rrggbb", "#rgb" or "rgb(r, g, b)"
  let rgb = (color.match(/\d+(\.\d+)?/g) || []).slice(0, 3).map(Number);
  if (color.startsWith("#")) {
    const hex = color.length === 4 ? color.slice(1).split("").map((c) => c + c).join("") : color.slice(1, 7);
    rgb = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  }
  return rgb.length === 3 && 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 110;
}

function valueColor(style, v, lo, hi) {
  if (v === null || v === undefined) return style.no_value;
  const t = hi <= lo ? 0 : Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  const scale = style.scale;
  for (let i = 0; i + 1 < scale.length; i++) {
    const [t0, c0] = scale[i], [t1, c1] = scale[i + 1];
    if (t <= t1) {
      const f = t1 === t0 ? 0 : (t - t0) / (t1 - t0), a = hexToRgb(c0), b = hexToRgb(c1);
      return "rgb(" + a.map((x, k) => Math.round(x + (b[k] - x) * f)).join(",") + ")";
    }
  }
  return scale[scale.length - 1][1];
}

function callsElement(calls) {
  const box = h("div", { class: "wb-tv-calls" });
  if (!calls.length) box.append(h("p", { class: "wb-tv-muted" }, "No model call behind this node."));
  calls.forEach((call, i) => {
    const meta = `${call.model} · ${call.purpose} · ${num(call.prompt_tokens)} + ${num(call.completion_tokens)} tokens · $${Number(call.cost || 0).toFixed(4)} · ${Number(call.latency).toFixed(2)} s`;
    const msgs = call.messages.map((m) => h("div", { class: "wb-tv-msg" }, h("span", { class: "wb-tv-role" }, m.role), h("pre", {}, m.content)));
    box.append(h("details", { class: "wb-tv-call" }, h("summary", {}, `Call ${i + 1}: ${meta}`),
      call.error ? h("div", { class: "wb-tv-error" }, call.error) : null, ...msgs,
      h("div", { class: "wb-tv-sub" }, "Response"), h("pre", {}, call.response)));
  });
  return box;
}

function legendElement(style) {
  const labels = style.labels || {};
  const glyph = { expanded: "●", frontier: "◎", terminal: "■", solved: "★", pruned: "⊗", error: "✕" };
  const stops = (style.scale || []).map(([t, c]) => `${c} ${Math.round(t * 100)}%`).join(", ");
  return h("div", { class: "wb-tv-legend", "aria-label": "Legend" },
    ...STATUSES.map((s) => h("span", { class: `wb-tv-key wb-tv-key-${s}` }, h("span", { class: "wb-tv-glyph", "aria-hidden": "true" }, glyph[s]), " ", labels[s] || s)),
    h("span", { class: "wb-tv-key" }, "value ", h("span", { class: "wb-tv-ramp", style: `background: linear-gradient(90deg, ${stops})` }), " ", h("span", { class: "wb-tv-lohi" })),
    h("span", { class: "wb-tv-key" }, h("span", { class: "wb-tv-line", style: `background:${style.best}` }), " best path"),
    h("span", { class: "wb-tv-key" }, h("span", { class: "wb-tv-ring", style: `border-color:${style.cursor}` }), " cursor"),
    h("span", { class: "wb-tv-key" }, h("span", { class: "wb-tv-pill" }, "+N"), " folded"),
    safetyLegend(style));
}

function safetyLegend(style) { // shown once a node carries a safety score (meta.scored)
  const colors = style.safety || {}, names = style.safety_labels || {};
  const keys = h("span", { class: "wb-tv-safety-keys", "aria-label": "Safety score (ToolEmu, 0-3)" }, "safety ",
    ...["3", "2", "1", "0"].map((k) => h("span", { class: `wb-tv-key wb-tv-key-safety-${k}`, title: names[k] || "" },
      h("span", { class: "wb-tv-swatch", style: `background:${colors[k]}` }), ` ${k} ${names[k] || ""}`)));
  keys.hidden = true;
  return keys;
}

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const rad = k % 2 === 0 ? r * 1.25 : r * 0.55, a = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + rad * Math.cos(a), y + rad * Math.sin(a));
  }
  ctx.closePath();
}

function drawNode(ctx, status, st, x, y, r, fill, bg) {
  ctx.lineWidth = st.width;
  ctx.strokeStyle = st.line;
  if (r < 2.6) { // far away: a cheap dot in the colour that matters
    ctx.fillStyle = status === "frontier" || status === "pruned" || status === "error" ? st.line : fill;
    ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
    return;
  }
  ctx.beginPath();
  if (status === "frontier") {
    ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = bg; ctx.fill(); ctx.stroke();
    ctx.beginPath(); ctx.arc(x, y, Math.max(1.2, r * 0.28), 0, 2 * Math.PI); ctx.fillStyle = st.line; ctx.fill();
  } else if (status === "terminal") {
    ctx.rect(x - r, y - r, 2 * r, 2 * r); ctx.fillStyle = fill; ctx.fill(); ctx.stroke();
  } else if (status === "solved") {
    star(ctx, x, y, r); ctx.fillStyle = fill; ctx.fill(); ctx.stroke();
  } else if (status === "pruned") {
    const d = r * 0.7;
    ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = bg; ctx.fill(); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(x - d, y - d); ctx.lineTo(x + d, y + d); ctx.moveTo(x - d, y + d); ctx.lineTo(x + d, y - d); ctx.stroke();
  } else if (status === "error") {
    const d = r * 0.85;
    ctx.lineWidth = 3; ctx.lineCap = "round";
    ctx.moveTo(x - d, y - d); ctx.lineTo(x + d, y + d); ctx.moveTo(x - d, y + d); ctx.lineTo(x + d, y - d); ctx.stroke();
    ctx.lineCap = "butt";
  } else {
    ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fillStyle = fill; ctx.fill(); ctx.stroke();
  }
}

