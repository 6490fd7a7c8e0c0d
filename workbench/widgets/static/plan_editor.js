// PlanEditor: the agent's plan as editable rows. Enter (or leaving the box) saves, Escape cancels,
// Alt+ArrowUp / Alt+ArrowDown move an item, the grip drags it. Rows are patched in place, so an
// update from the kernel never clobbers text being typed.

const WHO = { user: "you", agent: "agent", env: "env", import: "import" };

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const send = (event, args) => model.send({ event, ...(args || {}) });
  const rows = [];
  let focusAfter = -1;
  let dragFrom = -1;

  const list = h("ol", { class: "wb-plan-list", "aria-label": "Plan items" });
  const empty = h("p", { class: "wb-plan-empty" }, "No plan yet. The agent may write one, or add the first step below.");
  const notice = h("div", { class: "wb-plan-notice", role: "status", "aria-live": "polite" });
  const addInput = h("input", { type: "text", class: "wb-plan-add-input", "aria-label": "New plan item", placeholder: "+ add a step" });
  const add = () => {
    const text = addInput.value.trim();
    if (!text) return;
    send("add", { text });
    addInput.value = "";
  };
  addInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  const addBtn = h("button", { type: "button", class: "wb-plan-btn wb-plan-add" }, "Add");
  addBtn.addEventListener("click", add);
  el.append(h("div", { class: "wb-plan" }, list, empty, h("div", { class: "wb-plan-addrow" }, addInput, addBtn), notice));

  function move(r, to) {
    const items = model.get("items") || [];
    if (to < 0 || to >= items.length || to === r.index) return;
    focusAfter = to;
    send("move", { position: r.index + 1, to: to + 1 });
  }

  function makeRow() {
    const r = { index: 0, original: "" };
    r.grip = h("span", { class: "wb-plan-grip", draggable: "true", title: "Drag to reorder", "aria-hidden": "true" }, "⋮⋮");
    r.check = h("input", { type: "checkbox", class: "wb-plan-check" });
    r.num = h("span", { class: "wb-plan-num" });
    r.input = h("input", { type: "text", class: "wb-plan-text" });
    r.badge = h("span", { class: "wb-plan-who" });
    r.steps = h("span", { class: "wb-plan-steps" });
    r.up = h("button", { type: "button", class: "wb-plan-btn wb-plan-up" }, "↑");
    r.down = h("button", { type: "button", class: "wb-plan-btn wb-plan-down" }, "↓");
    r.del = h("button", { type: "button", class: "wb-plan-btn wb-plan-delete" }, "✕");
    r.li = h("li", { class: "wb-plan-item" }, r.grip, r.check, r.num, r.input, r.steps, r.badge, r.up, r.down, r.del);
    r.check.addEventListener("change", () => send("tick", { position: r.index + 1, done: r.check.checked }));
    const commit = () => {
      const text = r.input.value.trim();
      if (text && text !== r.original) { r.original = text; send("edit", { position: r.index + 1, text }); }
      else if (!text) r.input.value = r.original;
    };
    r.input.addEventListener("change", commit);
    r.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); commit(); }
      else if (e.key === "Escape") { r.input.value = r.original; r.input.blur(); }
      else if (e.altKey && e.key === "ArrowUp") { e.preventDefault(); move(r, r.index - 1); }
      else if (e.altKey && e.key === "ArrowDown") { e.preventDefault(); move(r, r.index + 1); }
    });
    r.up.addEventListener("click", () => move(r, r.index - 1));
    r.down.addEventListener("click", () => move(r, r.index + 1));
    r.del.addEventListener("click", () => send("delete", { position: r.index + 1 }));
    r.grip.addEventListener("dragstart", (e) => { dragFrom = r.index; e.dataTransfer.setData("text/plain", String(r.index)); r.li.classList.add("wb-dragging"); });
    r.grip.addEventListener("dragend", () => r.li.classList.remove("wb-dragging"));
    r.li.addEventListener("dragover", (e) => { if (dragFrom >= 0) { e.preventDefault(); r.li.classList.add("wb-drop"); } });
    r.li.addEventListener("dragleave", () => r.li.classList.remove("wb-drop"));
    r.li.addEventListener("drop", (e) => {
      e.preventDefault();
      r.li.classList.remove("wb-drop");
      if (dragFrom >= 0 && dragFrom !== r.index) send("move", { position: dragFrom + 1, to: r.index + 1 });
      dragFrom = -1;
    });
    return r;
  }

  function update() {
    const items = model.get("items") || [];
    while (rows.length < items.length) { const r = makeRow(); rows.push(r); list.append(r.li); }
    while (rows.length > items.length) rows.pop().li.remove();
    items.forEach((item, i) => {
      const r = rows[i];
      const n = i + 1;
      r.index = i;
      r.num.textContent = `${n}.`;
      const typing = document.activeElement === r.input && r.input.value !== r.original;
      if (!typing) r.input.value = item.text;
      r.original = item.text;
      r.input.setAttribute("aria-label", `Plan item ${n}`);
      r.check.checked = item.status === "done";
      r.check.setAttribute("aria-label", `Done: plan item ${n}`);
      r.li.dataset.status = item.status;
      r.badge.textContent = WHO[item.provenance] || item.provenance;
      r.badge.dataset.who = item.provenance;
      r.badge.title = item.status === "doing" ? "in progress" : item.status;
      const steps = item.nodes || [];
      r.steps.textContent = steps.length ? steps.map((id) => `#${id}`).join(" ") : "";
      r.steps.title = steps.length ? `steps that worked on this item: nodes ${steps.join(", ")}` : "";
      r.steps.hidden = !steps.length;
      r.up.setAttribute("aria-label", `Move plan item ${n} up`);
      r.down.setAttribute("aria-label", `Move plan item ${n} down`);
      r.del.setAttribute("aria-label", `Delete plan item ${n}`);
      r.up.disabled = i === 0;
      r.down.disabled = i === items.length - 1;
    });
    empty.hidden = items.length > 0;
    if (focusAfter >= 0 && rows[focusAfter]) rows[focusAfter].input.focus();
    focusAfter = -1;
  }

  const drawNotice = () => { notice.textContent = model.get("notice") || ""; };
  model.on("change:items", update);
  model.on("change:notice", drawNotice);
  update();
  drawNotice();
}

export default { render };
