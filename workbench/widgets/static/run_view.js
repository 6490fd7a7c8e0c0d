// A run drawn from a snapshot (workbench/widgets/snapshot.py) by the widgets' own views: the panel
// (workbench.js) and the tree (tree_view.js) each get a model that answers like the live widget's
// synced model, filled from the snapshot. Used by the lab extension (the MIME renderer for
// application/vnd.agent-workbench.run+json, .wbrun.json documents, the runs browser's run view) and
// by `workbench export --html`. Concatenated after dom.js.
//
//   const view = renderRun({ el, snapshot, panel: panelModule.render, tree: treeModule.render, source });
//   view.update(newerSnapshot);  view.dispose();
//
// A snapshot with `partial: true` (a big run's head: header, path, the last step cards) is drawn
// first and the whole snapshot follows through `update`; until then the note and the Usage tab say
// the rest is being read.
//
// `source` (optional) fetches what a snapshot leaves out: `calls(nodeId)` -> [call details] and
// `card(nodeId)` -> a tree card. Steering a saved run is not possible: those intents answer with a
// notice saying how to steer it (load it in a notebook).

const TREE_PAGE = 200;
const TREE_STATUSES = ["expanded", "frontier", "terminal", "solved", "pruned", "error"];

function snapshotModel(initial, onSend) {
  const state = { ...initial };
  const handlers = new Map();
  const emit = (name, arg) => { for (const f of handlers.get(name) || []) f(arg); };
  return {
    get: (key) => state[key],
    set(key, value) {
      if (state[key] === value) return;
      state[key] = value;
      emit(`change:${key}`);
      emit("change");
    },
    save_changes() {},
    on(name, f) { if (!handlers.has(name)) handlers.set(name, []); handlers.get(name).push(f); },
    off(name) { if (name) handlers.delete(name); else handlers.clear(); },
    send(msg) { onSend(msg || {}); },
    update(next) {
      const changed = Object.keys(next).filter((k) => state[k] !== next[k]);
      Object.assign(state, next);
      for (const k of changed) emit(`change:${k}`);
      if (changed.length) emit("change");
    },
    custom(msg) { emit("msg:custom", msg); },
  };
}

function records(snap) {
  return new Map(((snap.tree || {}).records || []).map((r) => [r[0], r]));
}

// A step card from a node's compact record, for path nodes whose full card the snapshot left out.
function summaryCard(id, depth, rec) {
  const status = rec ? TREE_STATUSES[rec[2]] : "expanded";
  return {
    id, parent: rec ? rec[1] : null, depth, kind: depth ? "step" : "start", thought: "", action: rec ? rec[6] : "",
    obs: "Only a summary of this step is in the snapshot (its action and status).", diff: "", status: status === "error" ? "error" : status,
    error: status === "error" ? "(details not in the snapshot)" : "", terminal: status === "terminal" || status === "solved",
    reward: 0, used: [], tools: [], calls: 0, provenance: "", subgoal: "", summary: true,
  };
}

function panelState(snap) {
  const size = (snap.header || {}).page_size || 25;
  const recs = records(snap);
  const pages = {};
  const path = snap.path || [];
  path.forEach((id, depth) => {
    const card = (snap.cards || {})[id] || summaryCard(id, depth, recs.get(id));
    const key = `cards_${Math.floor(id / size)}`;
    (pages[key] = pages[key] || [])[id % size] = card;
  });
  return {
    header: { ...snap.header, readonly: true },
    path,
    card_pages: Object.keys(pages).length,
    usage: snap.partial ? { pending: true } : snap.usage || {},
    approval: {},
    violation: {},
    notice: "",
    detail: "",
    plan_editor: (snap.plan || []).length ? "plan" : null,
    memory_editor: null,
    tree_view: "tree",
    ...pages,
  };
}

function treeState(snap) {
  const tree = snap.tree || {};
  const recs = tree.records || [];
  const pages = {};
  const count = Math.ceil(recs.length / TREE_PAGE);
  for (let k = 0; k < count; k++) pages[`nodes_${k}`] = recs.slice(k * TREE_PAGE, (k + 1) * TREE_PAGE);
  return { palette: tree.palette || {}, meta: tree.meta || {}, max_nodes: tree.max_nodes || 1500, page_count: count, ...pages };
}

function summaryTreeCard(snap, id) {
  const recs = records(snap);
  const rec = recs.get(id);
  if (!rec) return {};
  const status = TREE_STATUSES[rec[2]];
  let depth = 0;
  for (let p = rec[1]; recs.has(p) && depth <= recs.size; p = recs.get(p)[1]) depth += 1;
  return {
    id, parent: rec[1] < 0 ? null : rec[1], depth, kind: rec[1] < 0 ? "start" : "step", action: rec[6], thought: "", obs: "", diff: "",
    note: "Only a summary of this node is in the snapshot: open the run from its store for the rest.",
    status, visual: status, value: rec[3], visits: rec[4], pinned: Boolean(rec[5] & 1), value_by: rec[5] & 2 ? "user" : "",
    calls: 0, children: 0, cursor: id === (snap.tree.meta || {}).cursor, info: {}, can_prune: false, can_pin: false, can_resume: false,
  };
}

function missingCalls(snap) {
  return [{ model: "", purpose: "", messages: [], response: "", prompt_tokens: 0, completion_tokens: 0, cost: 0, latency: 0, attempts: 1,
    error: `The model calls of this step are not in the snapshot: open run ${snap.run_id} from its store (workbench show ${snap.run_id}) to read them.` }];
}

function renderRun({ el, snapshot, panel, tree, source }) {
  let snap = snapshot;
  const steer = () => `This is a saved run: to steer it, load it in a notebook (%agent load ${snap.run_id}).`;
  let treeModel = null;
  const callsFor = async (id) => {
    const kept = (snap.calls || {})[id];
    if (kept) return kept;
    if (source && source.calls) {
      try { return await source.calls(id); } catch (err) { return [{ ...missingCalls(snap)[0], error: `Could not read the calls: ${err.message || err}` }]; }
    }
    return missingCalls(snap);
  };
  const panelModel = snapshotModel({ ...panelState(snap), tab: snap.view || "Trajectory", selected: -1 }, async (msg) => {
    if (msg.event === "call") panelModel.custom({ type: "calls", node_id: msg.node_id, calls: await callsFor(msg.node_id) });
    else panelModel.set("notice", steer());
  });
  const cardFor = async (id) => {
    const kept = (snap.tree_cards || {})[id];
    if (kept) return { ...(snap.cards || {})[id], ...kept }; // a tree card: the step card and what it adds
    if (source && source.card) {
      try { return await source.card(id); } catch (err) { return { ...summaryTreeCard(snap, id), note: `Could not read this node: ${err.message || err}` }; }
    }
    return summaryTreeCard(snap, id);
  };
  treeModel = snapshotModel({ ...treeState(snap), selected: -1, card: {}, notice: "", detail: "" }, async (msg) => {
    if (msg.event === "select") {
      const id = msg.node_id === null || msg.node_id === undefined ? -1 : Number(msg.node_id);
      const card = id < 0 ? {} : { ...(await cardFor(id)), can_prune: false, can_pin: false, can_resume: false }; // read-only
      treeModel.update({ selected: id, card, notice: "" });
    } else if (msg.event === "calls") {
      treeModel.custom({ type: "calls", node_id: msg.node_id, calls: await callsFor(msg.node_id) });
    } else treeModel.set("notice", steer());
  });
  const host = {
    async getWidget(ref) {
      if (ref === "tree") return { render: ({ el: box }) => tree({ model: treeModel, el: box }) };
      return {
        render: ({ el: box }) => box.append(h("ol", { class: "wb-snapshot-plan" },
          (snap.plan || []).map((item) => h("li", { class: `wb-snapshot-plan-${item.status || "todo"}` }, item.text, item.status ? h("span", { class: "wb-muted" }, ` · ${item.status}`) : null)))),
      };
    },
  };
  const note = h("div", { class: "wb-snapshot-note" });
  const body = h("div", { class: "wb-snapshot-body" });
  const root = h("div", { class: "wb-snapshot", "data-run-id": snap.run_id }, note, body);
  el.append(root);
  const drawNote = () => {
    const left = snap.omitted || {};
    const parts = [`run ${snap.run_id}`];
    const taken = typeof snap.taken_at === "number" ? new Date(snap.taken_at * 1000) : new Date(snap.taken_at);
    if (snap.taken_at && !isNaN(taken)) parts.push(`as of ${taken.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`);
    if (left.cards) parts.push(`${num(left.cards)} earlier steps as summaries`);
    if (left.records) parts.push(`${num(left.records)} tree nodes left out`);
    if (snap.partial) parts.push("reading the tree and usage…");
    note.textContent = `Saved run (read-only) · ${parts.join(" · ")}`;
  };
  drawNote();
  const cleanup = panel({ model: panelModel, el: body, host });
  return {
    panelModel,
    treeModel,
    update(next) {
      snap = next;
      drawNote();
      panelModel.update(panelState(snap));
      treeModel.update(treeState(snap));
    },
    dispose() {
      if (typeof cleanup === "function") cleanup();
      root.remove();
    },
  };
}

export { renderRun, snapshotModel };
