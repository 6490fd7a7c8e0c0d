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

function stepText(t) {
  if (!t || t.saved === undefined) return "";
  if (t.shown_as === "full")
    return `This step: the diff (${num(t.diff_tokens)} tokens) is not shorter than the full text (${num(t.full_tokens)}), so the model sees the full text.`;
  if (t.saved >= 0) return `This step: ${num(t.diff_tokens)} tokens as a diff vs ${num(t.full_tokens)} in full, saves ${num(t.saved)}.`;
  return `This step: ${num(t.diff_tokens)} tokens as a diff vs ${num(t.full_tokens)} in full, costs ${num(-t.saved)} more.`;
}

// One chip per step: the tokens its diff saves (+) or would cost (full: the model saw the text).
function stepChips(model, r) {
  const steps = (r && r.per_step) || [];
  if (!steps.length) return [];
  const chips = steps.map((t) => {
    const full = t.shown_as === "full";
    const label = full ? "full" : (t.saved >= 0 ? `+${num(t.saved)}` : `−${num(-t.saved)}`);
    const chip = h("button", {
      type: "button",
      class: "wb-dv-chip" + (full ? " wb-dv-chip-full" : t.saved >= 0 ? " wb-dv-chip-save" : " wb-dv-chip-cost"),
      title: `Step ${t.depth}: ${stepText(t).replace(/^This step: /, "")}`,
      "aria-label": `Step ${t.depth}: ${full ? "shown in full" : (t.saved >= 0 ? "saves " : "costs ") + num(Math.abs(t.saved)) + " tokens"}`,
    }, label);
    chip.addEventListener("click", () => model.send({ event: "show", node_id: t.node_id }));
    return chip;
  });
  return [h("span", { class: "wb-dv-steps-label" }, "Per step:"), ...chips];
}

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const title = h("span", { class: "wb-dv-title" });
  const prev = h("button", { type: "button", class: "wb-dv-btn wb-dv-prev", "aria-label": "Previous step" }, "‹");
  const next = h("button", { type: "button", class: "wb-dv-btn wb-dv-next", "aria-label": "Next step" }, "›");
  const toggle = h("button", { type: "button", class: "wb-dv-btn wb-dv-toggle", title: "Switch between the diff and the full observation" }, "Full text");
  const body = h("div", { class: "wb-dv-body", tabindex: 0, role: "region", "aria-label": "Observation" });
  const stepLine = h("p", { class: "wb-dv-step" });
  const strip = h("div", { class: "wb-dv-steps", role: "group", "aria-label": "Tokens saved per step" });
  const report = h("p", { class: "wb-dv-report" });
  const notice = h("div", { class: "wb-dv-notice", role: "status", "aria-live": "polite" });
  el.append(h("div", { class: "wb-dv" }, h("div", { class: "wb-dv-head" }, prev, title, next, toggle), body, stepLine, strip, report, notice));

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
    stepLine.textContent = stepText(d.tokens);
    stepLine.classList.toggle("wb-dv-step-full", Boolean(d.tokens && d.tokens.shown_as === "full"));
    strip.replaceChildren(...stepChips(model, model.get("report")));
    report.textContent = reportText(model.get("report"));
    notice.textContent = model.get("notice") || "";
  }

  model.on("change", draw);
  draw();
}

export default { render };
