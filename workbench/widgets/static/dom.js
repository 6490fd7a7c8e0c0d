// DOM helpers shared by every workbench widget. anywidget loads a widget's `_esm` as one module,
// so this file is concatenated in front of each widget's own file (see `static_module` in base.py)
// instead of being imported.

// Marks `el` as a live widget view, which hides the static fallback output after it (fallback.css),
// unless its model has no kernel behind it: a widget restored from the widget state a notebook was
// saved with (JupyterLab's "Save Widget State Automatically", nbclient, papermill) holds the state
// last seen, often older than the run, and its controls do nothing. Such a view is marked
// `wb-restored` instead, which hides it, so the fallback output (the run as saved) shows.
// The widget manager resolves the model at once; views without `_self_id` or a manager (the lab
// extension's run view over a snapshot) stay live.
function markLive(model, el) {
  el.classList.add("wb-live");
  const id = model.get("_self_id");
  const manager = model.widget_manager;
  if (!id || !manager || typeof manager.get_model !== "function") return;
  Promise.resolve(manager.get_model(id)).then(
    own => {
      if (own && own.comm_live === false) {
        el.classList.replace("wb-live", "wb-restored");
      }
    },
    () => {} // not known to the manager: leave the view as it is
  );
}

// h("div", { class: "x", onclick: f, "aria-label": "y" }, child, [more, children]): an element.
// null / undefined / false props and children are skipped; true props become empty attributes.
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// A unified diff as a <pre> of one <span> per line; each widget passes its class prefix
// ("wb-", "wb-dv-", "wb-tv-"), giving classes PREFIXdiff, PREFIXhunk, PREFIXadd, PREFIXdel, PREFIXctx.
function diffElement(text, prefix) {
  const pre = h("pre", { class: `${prefix}diff` });
  for (const line of text.split("\n")) {
    let cls = `${prefix}ctx`;
    if (line.startsWith("@@")) cls = `${prefix}hunk`;
    else if (line.startsWith("+")) cls = `${prefix}add`;
    else if (line.startsWith("-")) cls = `${prefix}del`;
    pre.append(h("span", { class: cls }, line || " "));
  }
  return pre;
}

// one formatter for every number drawn (toLocaleString makes one per call: slow over thousands)
const NUM_FORMAT = new Intl.NumberFormat("en-US");
const num = (n) => NUM_FORMAT.format(Number(n || 0));
