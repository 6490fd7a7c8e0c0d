// DiffView: one step's observation as a coloured unified diff against the previous step, a
// "Full text" toggle (the two-way `mode` trait), Previous / Next step, and the token comparison
// of full vs diff history for this run.

function reportText(r) {
  if (!r || !r.steps) return "No steps yet: nothing to compare.";
  const would = r.actual ? "" : " would";
  const window = r.window === null || r.window === undefined ? "" : ` (last ${r.window} steps)`;
  let verdict = "no difference";
  if (r.saved > 0) verdict = `diff history${would} save ${num(r.saved)} tokens (${r.percent}%)`;
  else if (r.saved < 0) verdict = `diff history${would} cost ${num(-r.saved)} more tokens`;
  return `History prompt: ${num(r.full_tokens)} tokens with full observations vs ${num(r.diff_tokens)} as diffs${window}: ${verdict}.`;
}

function render({ model, el }) {
  const title = h("span", { class: "wb-dv-title" });
  const prev = h("button", { type: "button", class: "wb-dv-btn wb-dv-prev", "aria-label": "Previous step" }, "‹");
  const next = h("button", { type: "button", class: "wb-dv-btn wb-dv-next", "aria-label": "Next step" }, "›");
  const toggle = h("button", { type: "button", class: "wb-dv-btn wb-dv-toggle", title: "Switch between the diff and the full observation" }, "Full text");
  const body = h("div", { class: "wb-dv-body", tabindex: 0, role: "region", "aria-label": "Observation" });
  const report = h("p", { class: "wb-dv-report" });
  const notice = h("div", { class: "wb-dv-notice", role: "status", "aria-live": "polite" });
  el.append(h("div", { class: "wb-dv" }, h("div", { class: "wb-dv-head" }, prev, title, next, toggle), body, report, notice));

  const step = (delta) => {
    const d = model.get("data") || {};
    const path = d.path_ids && d.path_ids.length ? d.path_ids : null;
    if (path) {
      const i = path.indexOf(d.node_id) + delta;
      if (i >= 0 && i < path.length) model.send({ event: "show", node_id: path[i] });
      else if (i >= path.length) model.send({ event: "show", node_id: null });
    } else if (delta < 0 && d.prev_id !== null) model.send({ event: "show", node_id: d.prev_id });
  };
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  toggle.addEventListener("click", () => {
    model.set("mode", model.get("mode") === "full" ? "diff" : "full");
    model.save_changes();
  });

  function draw() {
    const d = model.get("data") || {};
    const full = model.get("mode") === "full" || d.first || !d.diff;
    toggle.setAttribute("aria-pressed", String(model.get("mode") === "full"));
    toggle.disabled = Boolean(d.first || !d.diff);
    title.textContent = d.first ? `Start: the first observation (nothing to diff against)`
      : full ? `Step ${d.depth}: full observation` + (d.action ? ` after “${d.action}”` : "")
      : `Step ${d.depth}: diff against step ${d.prev_depth}` + (d.action ? ` after “${d.action}”` : "");
    if (d.following) title.append(h("span", { class: "wb-dv-follow" }, " · latest"));
    body.replaceChildren(full ? h("pre", { class: "wb-dv-full" }, d.full || "") : diffElement(d.diff, "wb-dv-"));
    prev.disabled = d.first;
    next.disabled = Boolean(d.following);
    report.textContent = reportText(model.get("report"));
    notice.textContent = model.get("notice") || "";
  }

  model.on("change", draw);
  draw();
}

export default { render };
