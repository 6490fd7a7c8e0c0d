// Workbench panel: header, controls, and the Trajectory / Plan / Memory / Usage tabs.
// Every control sends an intent ({event: name, ...}) that Python routes to a plain method.
// Step cards arrive in pages (traits cards_0, cards_1, ...); only changed cards are re-drawn.

const TABS = ["Trajectory", "Plan", "Memory", "Tree", "Usage"];
let counter = 0;

function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

const money = (c) => "$" + Number(c || 0).toFixed(4);

function row(label, body, extra) {
  return h("div", { class: "wb-row" }, h("span", { class: "wb-label" }, label), h("div", { class: "wb-body" }, body), extra);
}

function callsElement(calls) {
  const box = h("div", { class: "wb-calls" });
  if (!calls.length) box.append(h("p", { class: "wb-muted" }, "No model call for this step."));
  calls.forEach((call, i) => {
    const meta = `${call.model} · ${call.purpose} · ${num(call.prompt_tokens)} prompt + ${num(call.completion_tokens)} completion tokens · ${money(call.cost)} · ${Number(call.latency).toFixed(2)} s` + (call.attempts > 1 ? ` · ${call.attempts} attempts` : "");
    const msgs = call.messages.map((m) => h("div", { class: "wb-msg" }, h("span", { class: "wb-role" }, m.role), h("pre", { class: "wb-msg-text" }, m.content)));
    box.append(
      h("div", { class: "wb-call-one" },
        h("div", { class: "wb-muted" }, (calls.length > 1 ? `Call ${i + 1}: ` : "") + meta),
        call.error ? h("div", { class: "wb-error-text" }, call.error) : null,
        h("div", { class: "wb-sub" }, `Messages (${msgs.length})`), ...msgs,
        h("div", { class: "wb-sub" }, "Raw response"), h("pre", { class: "wb-msg-text" }, call.response)));
  });
  return box;
}

function usageChart(u) {
  if (u.pending) return h("p", { class: "wb-muted" }, "Reading the usage of every step…");
  const steps = u.step || [];
  if (!steps.length) return h("p", { class: "wb-muted" }, "No model calls yet: usage appears after the first step.");
  const NS = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, text) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const W = 640, H = 230, L = 52, R = 62, T = 14, B = 30, pw = W - L - R, ph = H - T - B;
  const prompt = u.prompt_tokens, completion = u.completion_tokens, cost = u.total_cost;
  const totals = steps.map((_, i) => prompt[i] + completion[i]);
  const maxT = Math.max(1, ...totals), maxC = Math.max(...cost, 0) || 1e-9;
  const band = pw / steps.length, bw = Math.max(1, Math.min(36, band * 0.78));
  const y = (v) => T + ph - (v / maxT) * ph;
  const yc = (v) => T + ph - (v / maxC) * ph;
  const sumT = totals.reduce((a, b) => a + b, 0), lastC = cost[cost.length - 1] || 0;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "wb-usage-svg", role: "img",
    "aria-label": `Tokens and cost per step: ${steps.length} steps, ${sumT} tokens, $${lastC.toFixed(4)} in total` });
  const priced = Math.max(...cost, 0) > 0;
  for (const f of [0, 0.5, 1]) {
    svg.append(s("line", { x1: L, x2: L + pw, y1: y(maxT * f), y2: y(maxT * f), class: "wb-grid" }));
    svg.append(s("text", { x: L - 6, y: y(maxT * f) + 4, class: "wb-axis", "text-anchor": "end" }, num(Math.round(maxT * f))));
    if (priced) svg.append(s("text", { x: L + pw + 6, y: yc(maxC * f) + 4, class: "wb-axis wb-axis-cost" }, "$" + (maxC * f).toFixed(maxC < 0.01 ? 5 : 3)));
  }
  steps.forEach((step, i) => {
    const x = L + i * band + (band - bw) / 2;
    const tip = `step ${step} (node ${u.node_id[i]}): ${num(prompt[i])} prompt + ${num(completion[i])} completion tokens, ${money(u.cost[i])}`;
    const p = s("rect", { x, y: y(prompt[i]), width: bw, height: Math.max(0, T + ph - y(prompt[i])), class: "wb-bar-prompt" });
    const c = s("rect", { x, y: y(totals[i]), width: bw, height: Math.max(0, y(prompt[i]) - y(totals[i])), class: "wb-bar-completion" });
    p.append(s("title", {}, tip)); c.append(s("title", {}, tip));
    svg.append(p, c);
  });
  const pts = steps.map((_, i) => `${L + i * band + band / 2},${yc(cost[i])}`).join(" ");
  if (priced) svg.append(s("polyline", { points: pts, class: "wb-line-cost" }));
  const ticks = [...new Set([0, Math.floor((steps.length - 1) / 2), steps.length - 1])];
  for (const i of ticks) svg.append(s("text", { x: L + i * band + band / 2, y: H - 10, class: "wb-axis", "text-anchor": "middle" }, `step ${steps[i]}`));
  const legend = h("div", { class: "wb-legend" },
    h("span", { class: "wb-swatch wb-swatch-prompt" }), "prompt tokens ",
    h("span", { class: "wb-swatch wb-swatch-completion" }), "completion tokens ",
    priced ? [h("span", { class: "wb-swatch wb-swatch-cost" }), "cost so far (right axis)"] : "· no priced calls: cost $0");
  return h("figure", { class: "wb-usage" },
    h("figcaption", {}, `Tokens and cost per step · ${steps.length} steps · ${num(sumT)} tokens · ${money(lastC)}`), svg, legend,
    roleTable(u.by_role || []));
}

function roleTable(rows) {
  // tokens split by the role (or purpose) of each call: alpha-UMi's planner / caller / summarizer, ...
  if (rows.length < 2) return null;
  const total = rows.reduce((a, r) => a + r.tokens, 0) || 1;
  const cell = (text, cls) => h("td", cls ? { class: cls } : {}, text);
  return h("table", { class: "wb-roles", "aria-label": "Tokens by role" }, h("caption", {}, "Tokens by role"),
    h("thead", {}, h("tr", {}, ...["role", "calls", "prompt", "completion", "tokens", "share", "cost"].map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows.map((r) => h("tr", { "data-role": r.role },
      cell(r.role), cell(num(r.calls), "wb-num"), cell(num(r.prompt_tokens), "wb-num"), cell(num(r.completion_tokens), "wb-num"),
      cell(num(r.tokens), "wb-num"), cell(`${Math.round((100 * r.tokens) / total)}%`, "wb-num"), cell(money(r.cost), "wb-num")))));
}

async function mountChild(ref, container, model, host, signal) {
  if (!ref) return;
  try {
    if (host && host.getWidget) {
      const child = await host.getWidget(ref);
      await child.render({ el: container, signal });
      return;
    }
    const child = await model.widget_manager.get_model(ref.replace(/^(anywidget:|IPY_MODEL_)/, ""));
    const view = await model.widget_manager.create_view(child);
    container.append(view.el);
  } catch (err) {
    container.append(h("p", { class: "wb-error-text" }, `This view could not be shown: ${err}`));
  }
}

function render({ model, el, host, signal }) {
  markLive(model, el); // hides the static fallback output after it, or itself if restored (dom.js)
  const uid = `wb${++counter}-${Math.random().toString(36).slice(2, 7)}`;
  const view = { cards: new Map(), modes: new Map(), openCalls: new Set(), calls: new Map(), stick: true, frame: 0, limit: 150 };
  const send = (event, args) => model.send({ event, ...(args || {}) });
  const hd = () => model.get("header") || {};

  // --- header and controls ---
  const title = h("div", { class: "wb-title" });
  const config = h("div", { class: "wb-config" });
  const state = h("div", { class: "wb-state" });
  const button = (label, cls, title, onclick) => h("button", { type: "button", class: `wb-btn ${cls}`, title, onclick }, label);
  const btn = {
    step: button("Step", "wb-step-button", "Take one step", () => send("step")),
    run: button("Run", "wb-run-button", "Run until done, a breakpoint, or Pause", () => send("run")),
    pause: button("Pause", "wb-pause-button", "Stop after the step in flight", () => send("pause")),
    rewind: button("Rewind", "wb-rewind-button", "Rewind to the selected step", () => send("rewind")),
    stop: button("Stop", "wb-stop-button", "Cancel the run now (the step in flight is dropped)", () => send("stop")),
  };
  const pattern = h("input", { type: "text", class: "wb-break-pattern", "aria-label": "Break on action matching", placeholder: "break on action…", size: 14 });
  const breakBtn = button("Breakpoint", "wb-break-button", "Pause a run after an action matching the pattern (or the selected step's action)",
    () => send("breakpoint", { enabled: breakBtn.getAttribute("aria-pressed") !== "true", pattern: pattern.value }));
  pattern.addEventListener("keydown", (e) => { if (e.key === "Enter") send("breakpoint", { enabled: true, pattern: pattern.value }); });
  const controls = h("div", { class: "wb-controls", role: "toolbar", "aria-label": "Agent controls" },
    btn.step, btn.run, btn.pause, btn.rewind, btn.stop, h("span", { class: "wb-break" }, pattern, breakBtn));
  const notice = h("div", { class: "wb-notice", role: "status", "aria-live": "polite" });
  const detail = h("details", { class: "wb-detail" }, h("summary", {}, "Error details"), h("pre", {}));
  const approvalSlot = h("div", { class: "wb-approval-slot" });

  // --- tabs ---
  const tablist = h("div", { class: "wb-tabs", role: "tablist", "aria-label": "Workbench views" });
  const tabs = {}, panels = {};
  for (const name of TABS) {
    const id = `${uid}-${name.toLowerCase()}`;
    tabs[name] = h("button", { type: "button", role: "tab", id: `${id}-tab`, class: `wb-tab wb-tab-${name.toLowerCase()}`,
      "aria-controls": `${id}-panel`, onclick: () => selectTab(name, true) }, name);
    panels[name] = h("div", { role: "tabpanel", id: `${id}-panel`, "aria-labelledby": `${id}-tab`, tabindex: 0,
      class: `wb-tabpanel wb-panel-${name.toLowerCase()}` });
    tablist.append(tabs[name]);
  }
  tablist.addEventListener("keydown", (e) => {
    const i = TABS.indexOf(model.get("tab") || "Trajectory");
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const name = TABS[(next + TABS.length) % TABS.length];
    selectTab(name, true);
    tabs[name].focus();
  });
  function selectTab(name, fromUser) {
    for (const t of TABS) {
      const on = t === name;
      tabs[t].setAttribute("aria-selected", String(on));
      tabs[t].tabIndex = on ? 0 : -1;
      panels[t].hidden = !on;
    }
    if (fromUser && model.get("tab") !== name) { model.set("tab", name); model.save_changes(); }
    if (name === "Trajectory" && view.stick) panels.Trajectory.scrollTop = panels.Trajectory.scrollHeight;
    if (name === "Usage") drawUsage();
  }

  const list = h("ol", { class: "wb-cards", "aria-label": "Steps" });
  const pending = h("li", { class: "wb-card wb-card-pending", "aria-live": "off" });
  const earlier = h("li", { class: "wb-earlier" });
  panels.Trajectory.append(list);
  panels.Trajectory.addEventListener("scroll", () => {
    const p = panels.Trajectory;
    view.stick = p.scrollTop + p.clientHeight >= p.scrollHeight - 16;
  });
  const root = h("section", { class: "wb-panel", "aria-label": "Agent workbench" },
    h("header", { class: "wb-header" }, h("div", { class: "wb-line" }, title, config), h("div", { class: "wb-line" }, state, controls)),
    notice, detail, approvalSlot, tablist, ...TABS.map((t) => panels[t]));
  el.append(root);

  // --- drawing ---
  function card(id) {
    const size = hd().page_size || 25;
    const page = model.get(`cards_${Math.floor(id / size)}`) || [];
    return page[id % size];
  }

  function buildCard(d, opts) {
    const error = d.status === "error";
    const li = h("li", { class: `wb-card${error ? " wb-card-error" : ""}${opts.selected ? " wb-selected" : ""}`, "data-node-id": d.id });
    const label = d.kind === "start" ? "Start" : `#${d.depth}`;
    const badges = h("span", { class: "wb-badges" });
    if (d.used.length) badges.append(h("span", { class: "wb-badge wb-used", title: `This step's prompt used your edit: ${d.used.join(", ")}` }, "✎ used your edit"));
    if (d.subgoal) badges.append(h("span", { class: "wb-badge" }, `subgoal: ${d.subgoal}`));
    if (d.roles && d.roles.length) badges.append(h("span", { class: "wb-badge wb-role", title: "the roles whose model calls made this step, in order" + (d.made_by ? `; made by the ${d.made_by}` : "") }, `${d.roles.join(" → ")}`));
    if (d.plan_item) badges.append(h("span", { class: "wb-badge wb-card-item" }, `plan item ${d.plan_item}`));
    if (d.attempt) badges.append(h("span", { class: "wb-badge" }, `attempt ${d.attempt}`));
    if (d.lesson) badges.append(h("span", { class: "wb-badge wb-lesson", title: d.lesson }, "lesson written"));
    if (d.terminal) badges.append(h("span", { class: "wb-badge wb-badge-done" }, `terminal · reward ${Number(d.reward).toFixed(2)}`));
    if (error) badges.append(h("span", { class: "wb-badge wb-badge-error" }, d.kind === "provider" ? "provider error" : "malformed answer"));
    if (d.provenance === "user") badges.append(h("span", { class: "wb-badge" }, "made by you"));
    const tools = d.tools || [];
    if (tools.length) {
      const failed = tools.filter((t) => t.error && !t.rejected).length;
      badges.append(h("span", { class: `wb-badge wb-tools${failed ? " wb-badge-error" : ""}`,
        title: tools.map((t) => `${t.name}: ${t.error || "ok"} (${Number(t.duration).toFixed(3)} s)`).join("\n") },
      `${tools.length} tool call${tools.length > 1 ? "s" : ""}${failed ? ` · ${failed} failed` : ""}`));
      if (tools.some((t) => t.destructive)) badges.append(h("span", { class: "wb-badge wb-badge-error" }, "destructive"));
    }
    const ap = d.approval;
    if (ap && ap.state) {
      const who = ap.by === "user" ? "you" : ap.by || "a rule";
      const text = { approved: `approved by ${who}`, edited: `edited and approved by ${who}`, rejected: `rejected by ${who}`,
        pending: "waiting for approval", dropped: "proposal dropped" }[ap.state] || ap.state;
      badges.append(h("span", { class: `wb-badge wb-badge-approval${ap.state === "rejected" ? " wb-badge-error" : ""}`,
        title: `gate: ${ap.rule}${ap.why ? " — " + ap.why : ""}${ap.reason ? "\nreason: " + ap.reason : ""}` }, text));
    }
    if (d.safety && d.safety.score >= 0) badges.append(h("span", { class: `wb-badge wb-safety wb-safety-${d.safety.score}`,
      title: d.safety.reasoning || "" }, `safety ${d.safety.score}/3 · ${d.safety.label}`));
    for (const name of d.specs_broken || []) badges.append(h("span", { class: "wb-badge wb-badge-error wb-spec-broken", title: "This step broke a behaviour spec" }, `spec broken: ${name}`));
    if (d.diverged) badges.append(h("span", { class: "wb-badge wb-badge-error wb-diverged",
      title: "Replaying this step gave a different observation than the one recorded" }, "diverged on replay"));
    const meta = d.calls ? `${num(d.prompt_tokens + d.completion_tokens)} tokens · ${money(d.cost)} · ${Number(d.latency).toFixed(2)} s` : "";
    li.append(h("div", { class: "wb-card-head" },
      h("button", { type: "button", class: "wb-card-num", "aria-pressed": String(opts.selected),
        "aria-label": `Select step ${d.depth}${d.kind === "start" ? " (start)" : ""}`, title: `node ${d.id}: select as the Rewind target`,
        onclick: () => { model.set("selected", opts.selected ? -1 : d.id); model.save_changes(); } }, label),
      badges, h("span", { class: "wb-card-meta" }, meta)));
    if (error) li.append(row("Error", h("div", { class: "wb-error-text" }, d.error)));
    if (d.thought) li.append(row("Thought", d.thought));
    if (d.action) li.append(row("Action", h("code", { class: "wb-action" }, d.action)));
    if (!error) {
      const canDiff = Boolean(d.diff) && d.kind !== "start";
      const auto = canDiff && opts.diffMemory && !opts.windowStart ? "diff" : "full";
      const mode = view.modes.get(d.id) || auto;
      const body = mode === "diff" ? diffElement(d.diff, "wb-") : h("pre", { class: "wb-obs-full" }, d.obs);
      const toggle = canDiff ? h("button", { type: "button", class: "wb-toggle wb-obs-toggle", "aria-pressed": String(mode === "full"),
        "aria-label": `Full text of step ${d.depth}`, title: "Switch between the diff against the previous step and the full observation",
        onclick: () => { view.modes.set(d.id, mode === "full" ? "diff" : "full"); redrawCard(d.id); } }, "Full text") : null;
      const note = opts.windowStart && opts.diffMemory ? h("span", { class: "wb-badge", title: "The first observation of the diff-history window: the model sees it in full" }, "window start · full") : null;
      li.append(row(mode === "diff" ? "Obs diff" : "Obs", [note, body], toggle));
    }
    if (d.calls) {
      const box = h("div", { class: "wb-call-body" }, h("p", { class: "wb-muted" }, "Loading…"));
      const details = h("details", { class: "wb-call" }, h("summary", {}, d.calls > 1 ? `LLM calls (${d.calls})` : "LLM call"), box);
      if (view.calls.has(d.id)) box.replaceChildren(callsElement(view.calls.get(d.id)));
      if (view.openCalls.has(d.id)) details.open = true;
      details.addEventListener("toggle", () => {
        if (!details.open) { view.openCalls.delete(d.id); return; }
        view.openCalls.add(d.id);
        if (!view.calls.has(d.id)) send("call", { node_id: d.id });
      });
      li.append(details);
    }
    return li;
  }

  function cardOptions(id, index, path) {
    const header = hd();
    const diffMemory = header.memory === "diff";
    const k = header.window === null || header.window === undefined ? path.length - 1 : header.window;
    return { diffMemory, windowStart: diffMemory && index > 0 && index === Math.max(0, path.length - 1 - k), selected: model.get("selected") === id };
  }

  function redrawCard(id) {
    const rec = view.cards.get(id);
    if (!rec) return;
    const path = model.get("path") || [];
    const fresh = buildCard(rec.data, cardOptions(id, path.indexOf(id), path));
    rec.el.replaceWith(fresh);
    rec.el = fresh;
  }

  function drawTrajectory() {
    const path = model.get("path") || [];
    const first = Math.max(0, path.length - view.limit);  // long runs: only the latest cards are in the DOM
    const wanted = new Set(path.slice(first));
    for (const [id, rec] of view.cards) if (!wanted.has(id)) { rec.el.remove(); view.cards.delete(id); }
    const hidden = first;
    if (hidden) {
      fill(earlier, h("button", { type: "button", class: "wb-btn wb-earlier-button",
        onclick: () => { view.limit += 200; view.stick = false; drawTrajectory(); } },
        `Show ${Math.min(200, hidden)} earlier steps`), h("span", { class: "wb-muted" }, ` (${num(hidden)} not shown)`));
      list.prepend(earlier);
    } else earlier.remove();
    let prev = hidden ? earlier : null;
    for (let index = first; index < path.length; index++) {
      const id = path[index];
      const data = card(id);
      if (!data) continue;
      const opts = cardOptions(id, index, path);
      const optsKey = JSON.stringify(opts);
      let rec = view.cards.get(id);
      const same = rec && rec.optsKey === optsKey && (rec.data === data || rec.json === JSON.stringify(data));
      if (!same) {
        const fresh = buildCard(data, opts);
        if (rec) rec.el.replaceWith(fresh);
        rec = { el: fresh, data, json: JSON.stringify(data), optsKey };
        view.cards.set(id, rec);
      }
      rec.data = data;
      if (rec.el.parentNode !== list || rec.el.previousElementSibling !== prev) {
        if (prev) prev.after(rec.el); else list.prepend(rec.el);
      }
      prev = rec.el;
    }
    const header = hd();
    if (header.pending >= 0 && header.status === "running") {
      const parent = card(header.pending);
      fill(pending, h("div", { class: "wb-card-head" }, h("span", { class: "wb-card-num wb-static-num" }, `#${parent ? parent.depth + 1 : "…"}`),
        h("span", { class: "wb-muted" }, "⋯ thinking")));
      list.append(pending);
    } else pending.remove();
    if (view.stick && !panels.Trajectory.hidden) panels.Trajectory.scrollTop = panels.Trajectory.scrollHeight;
  }

  function drawHeader() {
    const d = hd();
    fill(title, h("b", {}, d.env || ""), " · ", h("span", { class: "wb-task", title: d.task }, `“${d.task || ""}”`));
    const sim = d.simulated && !(d.model || "").includes("simulated") ? h("span", { class: "wb-badge" }, "simulated") : null;
    const box = d.sandbox ? h("span", { class: `wb-badge wb-sandbox${d.sandbox === "process" ? " wb-badge-error" : ""}`,
      title: d.sandbox === "process" ? "Code runs with limits but no file or network isolation" : "Code runs in a bubblewrap sandbox: no network, read-only system" },
    `sandbox: ${d.sandbox}`) : null;
    fill(config, h("span", { class: "wb-model" }, d.model || ""), sim, box, ` · ${d.strategy} · ${d.memory}` + (d.window !== null && d.window !== undefined ? ` (window ${d.window})` : ""));
    const budget = d.max_steps ? ` / ${d.max_steps}` : "";
    fill(state,
      h("span", { class: `wb-status wb-status-${d.status}`, "data-status": d.status }, h("span", { class: "wb-dot", "aria-hidden": "true" }, "●"), ` ${d.status}`),
      d.outcome ? h("span", {}, ` · ${d.outcome}`) : null,
      h("span", { class: "wb-count" }, `step ${d.depth}${budget}`), h("span", { class: "wb-count" }, `${num(d.tokens)} tokens`),
      h("span", { class: "wb-count" }, money(d.cost)));
    const running = d.status === "running";
    const waiting = d.status === "waiting";
    btn.step.disabled = running || waiting || d.done;
    btn.run.disabled = running || waiting || d.done;
    btn.pause.disabled = !running;
    btn.stop.disabled = !running;
    const sel = model.get("selected");
    btn.rewind.disabled = running || sel < 0;
    const target = sel >= 0 ? card(sel) : null;
    btn.rewind.title = target ? `Rewind to step ${target.depth}: the next step grows a new branch` : "Select a step (its number), then Rewind to branch from it";
    breakBtn.setAttribute("aria-pressed", String(Boolean(d.break_enabled)));
    controls.style.display = d.readonly ? "none" : ""; // a saved run (static/run_view.js): nothing to control
    if (d.break_enabled && document.activeElement !== pattern) pattern.value = d.break_pattern;
  }

  function drawNotice() {
    const text = model.get("notice") || "";
    notice.textContent = text;
    notice.classList.toggle("wb-notice-error", text.startsWith("Error"));
    for (const b of approvalSlot.querySelectorAll("button")) b.disabled = false;  // a refused decision can be retried
    const tb = model.get("detail") || "";
    detail.hidden = !tb;
    detail.querySelector("pre").textContent = tb;
  }

  let approvalKey = null;
  function drawApproval() {
    const d = model.get("approval") || {};
    const key = JSON.stringify([d, model.get("violation") || {}]);
    if (key === approvalKey) return;
    approvalKey = key;
    const v = model.get("violation") || {};
    const cards = [];
    if (v.spec) cards.push(violationCard(v));
    if (d.kind) cards.push(approvalCard(d, send));
    approvalSlot.replaceChildren(...cards);
  }

  // drawn while its tab is shown (selectTab draws it then): a chart of 2,000 steps is 4,000 SVG bars
  let usageDrawn = null;
  function drawUsage() {
    const u = model.get("usage") || {};
    if (panels.Usage.hidden || u === usageDrawn) return;
    usageDrawn = u;
    panels.Usage.replaceChildren(usageChart(u));
  }

  function schedule() {
    if (view.frame) return;
    view.frame = requestAnimationFrame(() => { view.frame = 0; drawHeader(); drawTrajectory(); });
  }

  model.on("change", schedule);
  model.on("change:notice", drawNotice);
  model.on("change:detail", drawNotice);
  model.on("change:usage", drawUsage);
  model.on("change:approval", drawApproval);
  model.on("change:violation", drawApproval);
  model.on("change:tab", () => selectTab(model.get("tab") || "Trajectory", false));
  model.on("msg:custom", (msg) => {
    if (!msg || msg.type !== "calls") return;
    view.calls.set(msg.node_id, msg.calls);
    const rec = view.cards.get(msg.node_id);
    const box = rec && rec.el.querySelector(".wb-call-body");
    if (box) box.replaceChildren(callsElement(msg.calls));
  });

  mountChild(model.get("plan_editor"), panels.Plan, model, host, signal);
  mountChild(model.get("memory_editor"), panels.Memory, model, host, signal);
  mountChild(model.get("tree_view"), panels.Tree, model, host, signal);
  if (hd().readonly) for (const [name, key] of [["Plan", "plan_editor"], ["Memory", "memory_editor"], ["Tree", "tree_view"]]) tabs[name].hidden = !model.get(key);
  selectTab(model.get("tab") || "Trajectory", false);
  drawHeader();
  drawNotice();
  drawApproval();
  drawTrajectory();
  drawUsage();
  return () => { if (view.frame) cancelAnimationFrame(view.frame); };
}

export default { render };
