// ApprovalPrompt: the approval card on its own (approval_card.js is concatenated before this file).

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const root = h("div", { class: "wb-approval-prompt" });
  const notice = h("div", { class: "wb-notice", role: "status", "aria-live": "polite" });
  const slot = h("div", {});
  root.append(slot, notice);
  el.append(root);
  let last = null;
  const send = (event, args) => model.send({ event, ...(args || {}) });
  function draw() {
    const d = model.get("approval") || {};
    const key = JSON.stringify(d);
    if (key === last) return;
    last = key;
    if (!d.kind) slot.replaceChildren(h("p", { class: "wb-muted wb-approval-none" }, "Nothing waits for approval."));
    else slot.replaceChildren(approvalCard(d, send));
  }
  function drawNotice() {
    notice.textContent = model.get("notice") || "";
    for (const b of slot.querySelectorAll("button")) b.disabled = false;  // a refused decision can be retried
  }
  model.on("change:approval", draw);
  model.on("change:notice", drawNotice);
  draw();
  drawNotice();
}

export default { render };
