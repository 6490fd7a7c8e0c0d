// The approval card: a gated action waits for a person. Shared by the Workbench panel and the
// standalone ApprovalPrompt (concatenated after dom.js). `send(event, args)` routes to Python.

const RISK_CLASS = (r) => (r === null || r === undefined ? "" : r < 1 ? " wb-risk-severe" : r < 2 ? " wb-risk-mild" : " wb-risk-low");

function approvalCard(d, send) {
  const card = h("section", { class: "wb-approval", role: "region", "aria-label": "Action waiting for your approval" });
  const replay = d.kind === "replay";
  const where = replay ? `replay to step #${d.depth - 1}` : `step #${d.depth}`;
  card.append(h("div", { class: "wb-approval-head" },
    h("b", {}, "Waiting for your approval"), h("span", { class: "wb-muted" }, ` · ${where} · ${d.kind}`),
    d.destructive || (d.calls || []).some((c) => c.destructive) ? h("span", { class: "wb-badge wb-badge-error" }, "destructive") : null));
  const rule = h("div", { class: "wb-approval-rule" }, h("span", { class: "wb-label" }, "Rule"),
    h("span", { class: "wb-approval-rule-name" }, d.rule), h("span", { class: "wb-muted" }, ` — ${d.why}`));
  card.append(rule);
  if (d.risk !== null && d.risk !== undefined) {
    card.append(h("div", { class: `wb-approval-risk${RISK_CLASS(d.risk)}` }, h("span", { class: "wb-label" }, "Risk"),
      h("b", {}, `${Number(d.risk).toFixed(0)} / 3`), ` ${d.risk_label || ""}`, d.risk_reasoning ? h("span", { class: "wb-muted" }, ` — ${d.risk_reasoning}`) : null));
  }
  if (d.thought) card.append(h("div", { class: "wb-approval-thought" }, h("span", { class: "wb-label" }, "Thought"), d.thought));
  const body = h("div", { class: "wb-approval-body" });
  if (d.kind === "tool") {
    for (const c of d.calls) {
      body.append(h("div", { class: "wb-approval-call" }, h("code", { class: "wb-approval-tool" }, c.name),
        h("pre", { class: "wb-approval-args" }, d.calls.length === 1 ? d.editable : c.arguments)));
    }
  } else if (d.kind === "code") {
    body.append(h("pre", { class: "wb-approval-code" }, d.code));
  } else {
    body.append(h("code", { class: "wb-approval-action" }, d.action));
  }
  card.append(body);
  if (d.trace && d.trace.length) card.append(traceStrip(d.trace));
  const edit = h("textarea", { class: "wb-approval-edit", rows: Math.min(12, Math.max(2, String(d.editable || "").split("\n").length + 1)),
    "aria-label": d.kind === "tool" ? "Edited arguments (JSON)" : "Edited action", spellcheck: "false", hidden: true });
  edit.value = d.editable || "";
  const reason = h("input", { type: "text", class: "wb-reject-reason", placeholder: "reason (the agent reads it)", "aria-label": "Reason for rejecting", size: 28 });
  const approve = h("button", { type: "button", class: "wb-btn wb-approve-button", title: "Run the action as proposed" }, "Approve");
  const editBtn = h("button", { type: "button", class: "wb-btn wb-edit-approve-button", title: "Change the arguments or code, then approve", hidden: d.editable === null }, "Edit and approve");
  const reject = h("button", { type: "button", class: "wb-btn wb-reject-button", title: "Do not run it; the reason is the agent's next observation" }, "Reject");
  const busy = () => { for (const b of [approve, editBtn, reject]) b.disabled = true; };
  approve.addEventListener("click", () => { busy(); send("approve", {}); });
  editBtn.addEventListener("click", () => {
    if (edit.hidden) { edit.hidden = false; editBtn.textContent = "Approve edited"; edit.focus(); return; }
    busy(); send("approve", { edited: edit.value });
  });
  const doReject = () => {
    if (!reason.value.trim()) { reason.focus(); reason.classList.add("wb-need"); return; }
    busy(); send("reject", { reason: reason.value });
  };
  reject.addEventListener("click", doReject);
  reason.addEventListener("keydown", (e) => { if (e.key === "Enter") doReject(); });
  card.append(edit, h("div", { class: "wb-approval-actions" }, approve, editBtn, h("span", { class: "wb-approval-sep" }), reason, reject));
  return card;
}

// The trace of a behaviour spec around the position where it broke (that one marked).
function traceStrip(trace) {
  return h("ol", { class: "wb-trace", "aria-label": "Trace" }, trace.map((p) =>
    h("li", { class: `wb-trace-pos wb-trace-${p.kind}${p.here ? " wb-trace-here" : ""}`,
      title: `position ${p.index}${p.node !== null && p.node >= 0 ? ", node " + p.node : p.node === -1 ? ", proposed" : ""}` },
    p.kind + (p.names && p.names.length && p.kind === "action" ? `(${p.names.join(", ")})` : ""))));
}

// A behaviour spec broke at the cursor's step: the run paused there.
function violationCard(v) {
  return h("section", { class: "wb-violation", role: "region", "aria-label": "Behaviour spec broken" },
    h("div", { class: "wb-approval-head" }, h("b", {}, "Behaviour spec broken"),
      h("span", { class: "wb-muted" }, ` · step #${v.depth} · the run paused here`),
      v.more ? h("span", { class: "wb-badge" }, `+${v.more} more`) : null),
    h("div", { class: "wb-approval-rule" }, h("span", { class: "wb-label" }, "Rule"), h("span", { class: "wb-approval-rule-name wb-violation-name" }, v.spec)),
    v.formula !== v.spec ? h("div", {}, h("span", { class: "wb-label" }, "Formula"), h("code", { class: "wb-violation-formula" }, v.formula)) : null,
    traceStrip(v.trace || []),
    h("div", { class: "wb-muted" }, "Step or Run goes on; select an earlier step and Rewind to branch."));
}
