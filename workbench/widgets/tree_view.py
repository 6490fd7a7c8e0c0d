"""`TreeView(session)`: the run tree, live, drawn in the browser; select a node to read and steer it.

    TreeView(session)           # display in a cell; then session.start() (or run a search) and watch

What it sends: every node as a compact record `[id, parent, status, value, visits, flags, label,
safety]` (see `tree_records.py`; `safety` is ToolEmu's 0-3 score from `info["safety"]`: a scored
node is filled in its score's colour with the digit on it, and the legend shows the scale), in
pages of `PAGE` nodes by id (traits `nodes_0`, `nodes_1`, ...). A new or changed node re-sends only its page,
coalesced by `SessionWidget` (at most `1 / min_interval` messages a second), never the whole tree.
`meta` carries the cursor, the best path, the value range and counts; `card` the selected node.

The browser (`static/tree_view.js`) lays the tree out (the same tidy layout and folding rules as
`workbench.viz.tree_layout`) on a canvas with pan and zoom, fades new nodes in where they belong,
folds pruned and deep subtrees into "+N" badges over `max_nodes`, and moves between nodes with the
arrow keys. Clicking a node selects it; its card shows thought, action, the observation as a diff
against its parent's, value, visits, status and (on demand) the LLM calls, with Prune, Pin,
Set value and Resume from here.

Every control routes to a plain public method: `select(node_id)`, `prune_selected()`,
`pin_selected()`, `set_value_selected(value)`, `resume_selected()` (a rewind to the node),
`request_calls(node_id)`. The steering methods call the session, so each change is an event with
provenance `user`. `figure()` gives the plotly figure; the mimebundle's `text/html` is an inline
SVG of the same layout (no plotly.js), so a saved notebook shows the tree without a kernel.
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..errors import ConfigError
from ..viz.tree_figure import STYLE, safety_score
from . import cards as cards_mod
from .base import SessionWidget, static_module
from .cards import safe
from .snapshot import run_snapshot
from .tree_records import node_record, tree_card, tree_meta

PAGE = 200  # node records per synced page
STATIC_MAX_NODES = 300  # nodes drawn in the static fallback before folding


class TreeView(SessionWidget):
    """The live run tree of one session (see the module docstring)."""

    _esm = static_module("dom.js", "tree_layout.js", "tree_parts.js", "tree_view.js")  # layout, drawing, view
    _css = static_module("fallback.css", "tree_view.css")

    page_count = traitlets.Int(0).tag(sync=True)
    meta = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    card = traitlets.Dict().tag(sync=True)
    max_nodes = traitlets.Int(1500).tag(sync=True)  # the browser folds subtrees above this
    palette = traitlets.Dict().tag(sync=True)  # colours and shapes (not `style`: ipywidgets owns that name)

    min_interval: ClassVar[float] = 1 / 20
    intents: ClassVar[dict[str, str]] = {
        "select": "select",
        "prune": "prune_selected",
        "pin": "pin_selected",
        "set_value": "set_value_selected",
        "resume": "resume_selected",
        "calls": "request_calls",
    }

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self._stale: set[int] = set()
        self._records: dict[int, list[Any]] = {}
        super().__init__(session, **kwargs)

    # --- state -----------------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        run = self.session.tree
        pages = self._pages(set(run.nodes))
        for name in pages:  # before the comm opens: the pages travel with the first state
            traitlets.HasTraits.add_traits(self, **{name: traitlets.List().tag(sync=True)})
        return {"page_count": len(pages), "meta": self._meta(), "palette": STYLE, **pages}

    def _pages(self, node_ids: set[int]) -> dict[str, list[list[Any]]]:
        """{trait name: records} of the pages holding `node_ids`, those records rebuilt."""
        nodes = self.session.tree.nodes
        for node_id in node_ids:
            if node_id in nodes:
                self._records[node_id] = safe(node_record(nodes[node_id]))
        total = len(nodes)
        pages = {}
        for k in sorted({i // PAGE for i in node_ids if i in nodes}):
            ids = range(k * PAGE, min((k + 1) * PAGE, total))
            for i in ids:
                if i not in self._records:
                    self._records[i] = safe(node_record(nodes[i]))
            pages[f"nodes_{k}"] = [self._records[i] for i in ids]
        return pages

    def records(self) -> list[list[Any]]:
        """Every node record, in id order (what the browser holds once all pages arrived)."""
        out: list[list[Any]] = []
        for k in range(self.page_count):
            out.extend(getattr(self, f"nodes_{k}", []))
        return out

    def best_path(self) -> list[int]:
        best = getattr(self.session, "best_path", None)
        return [n.id for n in best()] if callable(best) else []

    def _meta(self) -> dict[str, Any]:
        s = self.session
        meta = tree_meta(
            s.tree,
            best=self.best_path(),
            status="running" if self.runner.running else s.status,
            strategy=s.strategy.name,
            model=str(s.config.get("model_label", "")),
            simulated=bool(s.config.get("simulated", False)),
        )
        return safe(meta)

    def _card(self, node_id: int) -> dict[str, Any]:
        return safe(tree_card(self.session.tree, node_id))

    # --- events ----------------------------------------------------------------------------------
    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, (ev.NodeAdded, ev.NodeUpdated)):
            with self._lock:
                self._stale.add(event.node.id)
            parts = {"nodes", "meta"}
            if event.node.id == self.selected or event.node.parent_id == self.selected:
                parts.add("card")
            return parts
        if isinstance(event, ev.CursorMoved):
            return {"meta", "card"} if self.selected >= 0 else {"meta"}
        if isinstance(event, (ev.RunStarted, ev.StepFinished, ev.Paused, ev.RunFinished, ev.Error)):
            return {"meta"}
        return set()

    def refresh(self, part: str) -> None:
        if part == "nodes":
            with self._lock:
                stale, self._stale = self._stale, set()
            self.set_pages(self._pages(stale))
            self.page_count = max(self.page_count, (len(self.session.tree.nodes) + PAGE - 1) // PAGE)
        elif part == "meta":
            self.meta = self._meta()
        elif part == "card":
            self.card = self._card(self.selected) if self.selected in self.session.tree.nodes else {}

    # --- intents ---------------------------------------------------------------------------------
    def _target(self, node_id: int | None) -> int:
        target = self.selected if node_id is None else int(node_id)
        if target < 0:
            raise ConfigError(
                "Select a node first (click it, or move to it with the arrow keys and press Enter)."
            )
        if target not in self.session.tree.nodes:
            raise ConfigError(f"no node {target} in this run")
        return target

    def select(self, node_id: int | None) -> dict[str, Any]:
        """Select `node_id` (None or -1 clears) and fill its card; returns the card."""
        if node_id is None or int(node_id) < 0:
            self.selected, self.card = -1, {}
            return {}
        target = self._target(int(node_id))
        self.selected = target
        self.card = self._card(target)
        self.notice = ""
        return self.card

    def prune_selected(self, node_id: int | None = None) -> list[int]:
        """Prune the selected node (a search never expands it or anything below it again)."""
        target = self._target(node_id)
        pruned = self.session.prune(target)
        below = len(pruned) - (1 if target in pruned else 0)
        self.notice = (
            f"Pruned node {target}" + (f" and {below} below it" if below else "") + ": never expanded again."
            if pruned
            else f"Nothing to prune at node {target}: it is {self.session.tree.nodes[target].status}."
        )
        self._after_edit(target)
        return pruned

    def pin_selected(self, node_id: int | None = None) -> Any:
        """Pin the selected node: the search expands it next."""
        target = self._target(node_id)
        node = self.session.pin(target)
        self.notice = f"Pinned node {target}: the search expands it next."
        self._after_edit(target)
        return node

    def set_value_selected(self, value: Any, node_id: int | None = None) -> Any:
        """Override the selected node's value (recorded with provenance user)."""
        target = self._target(node_id)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError("Type a number in the value box, then press Set value.")
        node = self.session.set_value(target, value)
        self.notice = f"Value of node {target} set to {node.value:g} (by you; the search keeps it)."
        self._after_edit(target)
        return node

    def resume_selected(self, node_id: int | None = None) -> Any:
        """Resume from the selected node: rewind the cursor to it, so the next step grows from there."""
        target = self._target(node_id)
        if self.runner.running or self.session.status == "running":
            raise ConfigError("Pause or Stop the agent before resuming from another node.")
        node = self.session.rewind(target)
        self.notice = f"Resumed from node {target}: the next Step or Run grows from here."
        self._after_edit(target)
        return node

    def request_calls(self, node_id: int | None = None) -> dict[str, Any]:
        """Send the LLM calls behind a node to the browser (on demand: prompts can be long)."""
        return self.send_calls(self.session.tree.nodes[self._target(node_id)])

    def _after_edit(self, node_id: int) -> None:
        self.mark("meta", "card", urgent=True)

    # --- Python conveniences -----------------------------------------------------------------------
    def figure(self, **kwargs: Any) -> Any:
        """The plotly figure of this tree (best path and cursor highlighted)."""
        from ..viz.tree_figure import tree_figure

        return tree_figure(self.session.tree, best_path=self.best_path(), **kwargs)

    # --- display ---------------------------------------------------------------------------------
    def static_html(self) -> str:
        from ..viz.tree_svg import legend_text, safety_legend_html, tree_svg

        run = self.session.tree
        svg = tree_svg(run, best_path=self.best_path(), max_nodes=STATIC_MAX_NODES)
        scored = any(safety_score(n) is not None for n in run.nodes.values())
        safety = (
            f'<div class="wb-tree-static-safety" style="font-size:12px">Safety (ToolEmu, 0-3): '
            f"{safety_legend_html()}</div>"
            if scored
            else ""
        )
        return (
            '<div class="wb-static wb-tree-static-box" style="font-family:var(--jp-ui-font-family,system-ui,'
            'sans-serif);font-size:13px;border:1px solid rgba(128,128,128,.35);border-radius:4px;padding:4px 8px">'
            f"<div><b>Run tree</b> · {html.escape(self.summary())}</div>"
            f'<div style="overflow:auto;max-height:640px">{svg}</div>'
            f'<div style="opacity:.7;font-size:12px">{html.escape(legend_text())}</div>{safety}</div>'
        )

    def run_snapshot(self) -> dict[str, Any]:
        running = self.runner.running
        header = cards_mod.header(self.session, running=running, pending=None, breakpoint={})
        return run_snapshot(self.session.tree, header=header, plan=(), best=self.best_path(), view="Tree")

    def summary(self) -> str:
        m = self._meta()
        counts = ", ".join(f"{v} {k}" for k, v in sorted(m["counts"].items()))
        best = m["best"][-1] if m["best"] else 0
        return (
            f"TreeView · {m['strategy']} · {m['nodes']} nodes ({counts}) · cursor at node {m['cursor']} · "
            f"best node {best}"
        )
