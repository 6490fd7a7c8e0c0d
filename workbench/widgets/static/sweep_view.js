// SweepView: progress, totals, Pause / Resume / Cancel, the outcome grid and the errors of a sweep.
// (dom.js is concatenated before this file.)

const MARK = { success: "✓", failure: "✗", budget: "$", error: "!", pending: "·", cancelled: "–" };
const LEGEND = "✓ solved · ✗ failed · $ budget used up · ! error · – cancelled · a number: steps so far";

function render({ model, el }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const root = h("div", { class: "wb-sweep" });
  const title = h("div", { class: "wb-sv-title" });
  const bar = h("div", { class: "wb-sv-bar", role: "progressbar", "aria-valuemin": 0 });
  const fill = h("div", { class: "wb-sv-fill" });
  bar.append(fill);
  const totals = h("div", { class: "wb-sv-totals" });
  const send = (event) => model.send({ event });
  const pause = h("button", { class: "wb-sv-pause", onclick: () => send("pause") }, "Pause");
  const resume = h("button", { class: "wb-sv-resume", onclick: () => send("resume") }, "Resume");
  const cancel = h("button", { class: "wb-sv-cancel", onclick: () => send("cancel") }, "Cancel");
  const buttons = h("div", { class: "wb-sv-buttons" }, pause, resume, cancel);
  const notice = h("div", { class: "wb-notice wb-sv-notice", role: "status", "aria-live": "polite" });
  const gridBox = h("div", { class: "wb-sv-gridbox" });
  const errors = h("ul", { class: "wb-sv-errors" });
  const legend = h("div", { class: "wb-sv-legend" }, LEGEND);
  root.append(title, bar, totals, buttons, notice, gridBox, legend, errors);
  el.append(root);

  function drawHeader() {
    const t = model.get("totals") || {};
    const status = model.get("status") || "";
    const finished = (t.done || 0) + (t.error || 0);
    const cells = t.cells || 0;
    title.replaceChildren(
      h("b", {}, `sweep ${model.get("sweep_id")}`),
      " · ",
      h("span", { class: `wb-sv-status wb-sv-status-${status}` }, status),
    );
    bar.setAttribute("aria-valuemax", cells);
    bar.setAttribute("aria-valuenow", finished);
    fill.style.width = cells ? `${(100 * finished) / cells}%` : "0%";
    totals.textContent =
      `${finished}/${cells} cells · ${t.running || 0} running · ${t.solved || 0} solved · ` +
      `${t.error || 0} errors · ${num(t.tokens)} tokens · ${num(t.calls)} calls · $${Number(t.cost || 0).toFixed(4)}`;
    const live = status === "running" || status === "paused";
    pause.disabled = status !== "running";
    resume.disabled = status !== "paused";
    cancel.disabled = !live;
  }

  function drawGrid() {
    const g = model.get("outcome_grid") || {};
    const corner = `${(g.row_axes || []).join(" · ")} \\ ${(g.column_axes || []).join(" · ")}`;
    const head = h("tr", {}, h("th", { class: "wb-sv-corner" }, corner),
      (g.columns || []).map((c) => h("th", {}, c)));
    const rows = (g.rows || []).map((row) =>
      h("tr", {}, h("th", { class: "wb-sv-rowlabel" }, row.label),
        row.cells.map((c) => {
          const text = c.state === "running" ? String(c.steps) : MARK[c.outcome] || "?";
          const tip = [c.key, `${c.outcome} · ${c.steps} steps · ${c.calls} calls · ${num(c.tokens)} tokens`,
            c.run_id ? `run ${c.run_id} (%agent load ${c.run_id})` : "", c.error || ""].filter(Boolean).join("\n");
          return h("td", { class: `wb-sv-cell wb-sv-${c.state === "running" ? "running" : c.outcome}`,
            title: tip, "data-key": c.key, "data-run": c.run_id || "" }, text);
        })));
    gridBox.replaceChildren(h("table", { class: "wb-sv-grid" },
      h("thead", {}, head), h("tbody", {}, rows)));
  }

  function drawErrors() {
    const list = model.get("errors") || [];
    errors.replaceChildren(...list.map((e) => h("li", {}, h("code", {}, e.key), ": ", e.error || "")));
  }

  model.on("change:totals", drawHeader);
  model.on("change:status", drawHeader);
  model.on("change:outcome_grid", drawGrid);
  model.on("change:errors", drawErrors);
  model.on("change:notice", () => { notice.textContent = model.get("notice") || ""; });
  drawHeader();
  drawGrid();
  drawErrors();
}

export default { render };
