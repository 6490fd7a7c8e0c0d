// MemoryEditor: the memory policy's entries with who wrote them and whether the next prompt shows
// them. Compact: each entry is one line (label, badges, the start of its text); Edit (or a click on
// the text) opens its box: Ctrl+Enter or leaving the box saves, Escape cancels. Pin, Forget, Restore.
// Only the newest PAGE entries of the next prompt are listed until "Show N older" is pressed;
// entries the next prompt does not show sit under a collapsed "not in the next prompt" section.

// Every entry shows its provenance and trust; a session's recall (TrustedRecall) adds its sources
// (trust editable) and the items recalled into the next prompt or excluded as untrusted;
// "Hide untrusted" filters untrusted sources and items out of the view.

const PAGE = 8;

const WHO = { user: "you", agent: "agent", env: "env", import: "import" };
const SUMMARY_BY = {
  llm: ["by LLM", "An LLM call summarised this subgoal"],
  last_observation: ["last obs", "The summary is the subgoal's last observation"],
  hook: ["your function", "Your summarize function wrote this summary"],
  user: ["by you", "You wrote this summary"],
  pending: ["LLM pending", "The LLM summary is made before the next step; until then the last observation stands in"],
};

function describe(e) {
  const step = e.depth === null || e.depth === undefined ? "" : ` of step ${e.depth}`;
  if (e.kind === "observation") return { short: `Obs #${e.depth}`, long: `Observation${step}` };
  if (e.kind === "action") return { short: `Answer #${e.depth}`, long: `Agent's answer${step}` };
  if (e.kind === "subgoal") return { short: `Subgoal ${e.k}`, long: `Summary of subgoal ${e.k}` };
  if (e.kind === "memory") return { short: `Mem #${e.depth} · ${e.layer}`, long: `Memory item${step} (${e.layer}-term)` };
  if (e.kind === "summary") return { short: `L1 #${e.depth}`, long: `L1 summary${step}` };
  if (e.kind === "analysis") return { short: `L2 · steps ${e.steps}`, long: `L2 analysis of steps ${e.steps}` };
  const n = e.id.split(":")[1];
  if (e.kind === "lesson") return { short: `Lesson ${n}`, long: `Lesson ${n}, from a failed attempt` };
  return { short: `Note ${n}`, long: `Note ${n}` };
}

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const send = (event, args) => model.send({ event, ...(args || {}) });
  const recs = new Map();
  const titleText = h("span", {});
  const modeSelect = h("select", { class: "wb-mem-summarize", "aria-label": "How finished subgoals are summarised" },
    h("option", { value: "last_observation" }, "last observation"),
    h("option", { value: "llm" }, "LLM (one call per subgoal)"));
  modeSelect.addEventListener("change", () => send("summarize", { mode: modeSelect.value }));
  const modeBox = h("label", { class: "wb-mem-mode", title: "Summaries of finished subgoals: the last observation (no model call) or one LLM call each, through the session's model" }, "Summaries: ", modeSelect);
  const title = h("div", { class: "wb-mem-title" }, titleText, modeBox);
  const main = h("ul", { class: "wb-mem-list", "aria-label": "Memory entries in the next prompt" });
  const rest = h("ul", { class: "wb-mem-list", "aria-label": "Memory entries not in the next prompt" });
  const restSummary = h("summary", {});
  const more = h("button", { type: "button", class: "wb-mem-btn wb-mem-more", onclick: () => { model.set("show_hidden", true); model.save_changes(); } });
  const restBox = h("details", { class: "wb-mem-rest" }, restSummary, rest, more);
  let showOlder = false;
  const older = h("button", { type: "button", class: "wb-mem-btn wb-mem-older", onclick: () => { showOlder = !showOlder; update(); } });
  const notice = h("div", { class: "wb-mem-notice", role: "status", "aria-live": "polite" });
  const note = h("textarea", { class: "wb-mem-note-input", rows: 1, "aria-label": "New note for the agent", placeholder: "+ add a note the agent will see" });
  const addNote = () => { const text = note.value.trim(); if (text) { send("note", { text }); note.value = ""; } };
  note.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); addNote(); } });
  const noteBtn = h("button", { type: "button", class: "wb-mem-btn wb-mem-add-note", onclick: addNote }, "Add note");
  const hideBox = h("input", { type: "checkbox", class: "wb-mem-trusted-only" });
  hideBox.addEventListener("change", () => { model.set("trusted_only", hideBox.checked); model.save_changes(); updateRecall(); });
  const recallTitle = h("span", {});
  const sourceList = h("ul", { class: "wb-mem-sources", "aria-label": "Recall sources and their trust" });
  const itemList = h("ul", { class: "wb-mem-list wb-mem-recalled", "aria-label": "Items recalled for the next prompt" });
  const recallBox = h("section", { class: "wb-mem-recall", "aria-label": "Recall" },
    h("div", { class: "wb-mem-recall-title" }, recallTitle, h("label", { class: "wb-mem-hide", title: "Leave untrusted sources and items out of this view (the prompt never has them)" }, hideBox, " Hide untrusted")),
    sourceList, itemList);
  el.append(h("div", { class: "wb-mem" }, title, notice, older, main, restBox, recallBox, h("div", { class: "wb-mem-addrow" }, note, noteBtn)));

  const trustBadge = (trust, min) => h("span", { class: `wb-mem-badge wb-mem-trust${trust < min ? " wb-mem-untrusted" : ""}`, title: trust < min ? `Trust ${trust} is below the recall's minimum ${min}: never in the prompt` : "Trusted" }, `trust ${trust}`);

  function updateRecall() {
    const rc = model.get("recall") || {};
    recallBox.hidden = !rc.sources;
    if (!rc.sources) return;
    const only = model.get("trusted_only");
    hideBox.checked = only;
    const min = rc.min_trust;
    const sources = rc.sources.filter((s) => !only || s.recalled);
    const items = rc.items.filter((i) => !only || i.used);
    const used = rc.items.filter((i) => i.used).length, out = rc.items.length - used;
    recallTitle.textContent = `Recall (min trust ${min}) · ${used} item${used === 1 ? "" : "s"} in the next prompt` + (out ? ` · ${out} excluded as untrusted` : "");
    sourceList.replaceChildren(...sources.map((s) => {
      const input = h("input", { type: "number", step: "0.1", min: "0", class: "wb-mem-trust-input", "aria-label": `Trust of ${s.source}`, value: String(s.trust) });
      const commit = () => { if (input.value !== String(s.trust)) send("trust", { source: s.source, level: input.value }); };
      input.addEventListener("change", commit);
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") commit(); });
      return h("li", { class: `wb-mem-source${s.recalled ? "" : " wb-mem-untrusted-row"}`, "data-source": s.source },
        h("b", {}, s.source), " ", h("span", { class: "wb-mem-who", "data-who": s.provenance }, WHO[s.provenance] || s.provenance),
        ` ${s.items} item${s.items === 1 ? "" : "s"} · trust `, input,
        s.recalled ? null : h("span", { class: "wb-mem-badge wb-mem-untrusted" }, "excluded: untrusted"));
    }));
    itemList.replaceChildren(...items.map((i) => h("li", { class: `wb-mem-entry wb-mem-recall-item${i.used ? "" : " wb-mem-untrusted-row"}`, "data-entry-id": i.id },
      h("div", { class: "wb-mem-head" }, h("span", { class: "wb-mem-label" }, i.used ? "Recalled" : "Left out"),
        h("span", { class: "wb-mem-badges" }, h("span", { class: "wb-mem-who", "data-who": i.provenance }, WHO[i.provenance] || i.provenance),
          h("span", { class: "wb-mem-badge" }, i.source), trustBadge(i.trust, min),
          i.used ? null : h("span", { class: "wb-mem-badge wb-mem-untrusted" }, "excluded: untrusted"))),
      h("div", { class: "wb-mem-recall-text" }, i.text, " → ", h("code", {}, i.action)))));
  }

  function makeRec(e) {
    const r = { id: e.id, original: "", open: false };
    r.label = h("span", { class: "wb-mem-label" });
    r.preview = h("span", { class: "wb-mem-preview", title: "Click to edit" });
    r.edit = h("button", { type: "button", class: "wb-mem-btn wb-mem-edit", "aria-expanded": "false" }, "Edit");
    r.badges = h("span", { class: "wb-mem-badges" });
    r.pin = h("button", { type: "button", class: "wb-mem-btn wb-mem-pin" }, "Pin");
    r.forget = h("button", { type: "button", class: "wb-mem-btn wb-mem-forget" }, "Forget");
    r.revert = h("button", { type: "button", class: "wb-mem-btn wb-mem-revert" }, "Revert");
    r.text = h("textarea", { class: "wb-mem-text", hidden: "" });
    r.li = h("li", { class: "wb-mem-entry", "data-entry-id": e.id },
      h("div", { class: "wb-mem-head" }, r.label, r.badges, r.preview, r.revert, r.edit, r.pin, r.forget), r.text);
    const toggle = () => {
      r.open = !r.open;
      r.text.hidden = !r.open;
      r.preview.hidden = r.open;
      r.edit.setAttribute("aria-expanded", String(r.open));
      if (r.open) r.text.focus();
    };
    r.edit.addEventListener("click", toggle);
    r.preview.addEventListener("click", toggle);
    r.pin.addEventListener("click", () => send("pin", { entry_id: r.id, pinned: r.pin.getAttribute("aria-pressed") !== "true" }));
    r.forget.addEventListener("click", () => send("forget", { entry_id: r.id, forgotten: !r.entry.forgotten }));
    r.revert.addEventListener("click", () => send("restore", { entry_id: r.id }));
    const commit = () => { if (r.text.value !== r.original) { r.original = r.text.value; send("edit", { entry_id: r.id, text: r.text.value }); } };
    r.text.addEventListener("change", commit);
    r.text.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { r.text.value = r.original; r.text.blur(); }
      else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); commit(); }
    });
    if (e.kind === "memory") { // layered memory: the item's importance, editable (its layer follows)
      r.imp = h("input", { type: "number", min: 0, max: 1000, step: 1, class: "wb-mem-imp", title: "Importance (60 moves a short-term item to mid-term, 80 a mid-term one to long-term)" });
      r.imp.addEventListener("change", () => send("importance", { entry_id: r.id, value: Number(r.imp.value) }));
      r.pin.before(r.imp);
    }
    return r;
  }

  function patch(r, e) {
    r.entry = e;
    const names = describe(e);
    r.li.dataset.kind = e.kind;
    r.li.classList.toggle("wb-mem-forgotten", e.forgotten);
    r.li.classList.toggle("wb-mem-hidden", !e.shown && e.kind !== "subgoal");
    r.label.textContent = e.kind === "subgoal" ? `${names.short} · ${e.subgoal}` : names.short;
    const badges = [h("span", { class: "wb-mem-who", "data-who": e.provenance }, WHO[e.provenance] || e.provenance), trustBadge(e.trust ?? 1, 0)];
    if (e.kind === "subgoal") badges.push(h("span", { class: "wb-mem-badge" }, e.status === "done" ? "done" : "now"));
    if (e.kind === "subgoal" && SUMMARY_BY[e.summary_by]) {
      const [text, tip] = SUMMARY_BY[e.summary_by];
      badges.push(h("span", { class: "wb-mem-badge wb-mem-by", "data-by": e.summary_by, title: tip }, text));
    }
    if (e.detail) badges.push(h("span", { class: "wb-mem-badge wb-mem-detail", title: "How this entry scores" }, e.detail));
    if (r.imp) { r.imp.setAttribute("aria-label", `Importance: ${names.long}`); if (document.activeElement !== r.imp) r.imp.value = e.importance; }
    if (e.shown_as === "diff") badges.push(h("span", { class: "wb-mem-badge", title: "The next prompt shows this observation as a diff" }, "as diff"));
    if (e.edited) badges.push(h("span", { class: "wb-mem-badge wb-mem-edited" }, "edited"));
    if (e.pinned) badges.push(h("span", { class: "wb-mem-badge" }, "pinned"));
    if (e.forgotten) badges.push(h("span", { class: "wb-mem-badge" }, "forgotten"));
    r.badges.replaceChildren(...badges);
    r.pin.setAttribute("aria-pressed", String(e.pinned));
    r.pin.setAttribute("aria-label", `Pin: ${names.long}`);
    r.forget.setAttribute("aria-pressed", String(e.forgotten));
    r.forget.setAttribute("aria-label", `Forget: ${names.long}`);
    r.forget.title = e.forgotten ? "Forgotten: the next prompt leaves it out. Press again to restore it." : "Leave this out of the next prompt";
    r.revert.hidden = !e.edited;
    r.revert.setAttribute("aria-label", `Revert your edit: ${names.long}`);
    r.text.setAttribute("aria-label", names.long);
    r.edit.setAttribute("aria-label", `Edit: ${names.long}`);
    // the line that tells entries apart: an observation's last line (its message), else the first
    const lines = (e.text || "").split("\n").filter((line) => line.trim());
    const telling = e.kind === "observation" ? lines[lines.length - 1] : lines[0];
    r.preview.textContent = telling || (e.kind === "subgoal" ? "(summary written when the subgoal is done)" : "(empty)");
    const typing = document.activeElement === r.text && r.text.value !== r.original;
    if (!typing) r.text.value = e.text;
    r.original = e.text;
    r.text.rows = Math.min(8, Math.max(1, e.text.split("\n").length));
    r.text.placeholder = e.kind === "subgoal" && e.status !== "done" ? "summary (written when the subgoal is done)" : "";
  }

  function update() {
    const entries = model.get("entries") || [];
    const policy = model.get("policy") || {};
    const reason = model.get("empty_reason") || "";
    const seen = new Set();
    const inMain = (e) => e.shown || e.forgotten || e.pinned || e.edited || e.kind === "subgoal" || e.kind === "note" || e.kind === "lesson";
    let prevMain = null, prevRest = null, hidden = 0, shown = 0;
    for (const e of entries) {
      seen.add(e.id);
      let r = recs.get(e.id);
      if (!r) { r = makeRec(e); recs.set(e.id, r); }
      patch(r, e);
      const box = inMain(e) ? main : rest;
      const prev = box === main ? prevMain : prevRest;
      if (r.li.parentNode !== box || r.li.previousElementSibling !== prev) {
        if (prev) prev.after(r.li); else box.prepend(r.li);
      }
      if (box === main) { prevMain = r.li; shown += e.shown ? 1 : 0; } else { prevRest = r.li; hidden += 1; }
    }
    for (const [id, r] of recs) if (!seen.has(id)) { r.li.remove(); recs.delete(id); }
    // paging: only the newest PAGE entries of the next prompt until the user asks for the older ones
    // (subgoals, notes, lessons and entries the user pinned, edited or forgot always stay listed)
    const plain = [...main.children].filter((li) => {
      const e = recs.get(li.dataset.entryId)?.entry;
      return e && !(e.pinned || e.edited || e.forgotten || e.kind === "subgoal" || e.kind === "note" || e.kind === "lesson");
    });
    const cut = showOlder ? 0 : Math.max(0, plain.length - PAGE);
    for (const li of main.children) li.hidden = false;
    plain.forEach((li, i) => { li.hidden = i < cut && !li.querySelector(".wb-mem-text:focus"); });
    older.hidden = plain.length <= PAGE;
    older.textContent = showOlder ? `Show only the newest ${PAGE}` : `Show ${cut} older entries in the next prompt`;
    const window = policy.window === null || policy.window === undefined ? "" : `, window ${policy.window}`;
    titleText.textContent = reason || `Memory: ${policy.name || ""}${window} · ${shown} of ${entries.length} entries in the next prompt`;
    const mode = policy.summarize || "";
    modeBox.hidden = !policy.hierarchical || Boolean(reason);
    modeSelect.disabled = mode === "hook";
    if (mode === "hook" && !modeSelect.querySelector("option[value=hook]")) modeSelect.append(h("option", { value: "hook" }, "your function"));
    if (document.activeElement !== modeSelect) modeSelect.value = mode;
    const total = model.get("hidden_total") || 0;
    restSummary.textContent = `${total} earlier entries not in the next prompt`;
    more.textContent = `Show all ${total}`;
    more.hidden = hidden >= total;
    restBox.hidden = total === 0;
  }

  const drawNotice = () => { notice.textContent = model.get("notice") || ""; };
  model.on("change:entries", update);
  model.on("change:policy", update);
  model.on("change:empty_reason", update);
  model.on("change:hidden_total", update);
  model.on("change:notice", drawNotice);
  model.on("change:recall", updateRecall);
  model.on("change:trusted_only", updateRecall);
  update();
  updateRecall();
  drawNotice();
}

export default { render };
