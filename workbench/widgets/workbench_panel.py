"""`Workbench(session)`: the panel for one session.

Header (task, model, strategy, memory, status, steps, tokens, cost), controls (Step, Run, Pause,
Rewind to the selected step, Stop, a breakpoint toggle) and tabs: Trajectory (a card per step of
the current path), Plan (a `PlanEditor`), Memory (a `MemoryEditor`), Usage (tokens and cost per
step, drawn in the browser from `workbench.viz.usage` data; `usage_figure()` gives the plotly figure).

The agent runs as an asyncio task on the loop the panel was made on (`core/background.py`), so
Pause, edits and other cells work while it runs. Step cards are synced as pages of 25 cards
(traits `cards_0`, `cards_1`, ...): a new step re-sends only its page, never the whole history.
Every control routes to a plain method: `on_step_clicked()`, `on_run_clicked(max_steps)`,
`on_pause_clicked()`, `on_stop_clicked()`, `on_rewind_clicked(node_id)`, `on_node_selected(node_id)`,
`on_breakpoint_toggled(enabled, pattern)`, `on_call_requested(node_id)`, and on the approval card
(a gated action waiting, see `approval.py`) `on_approve_clicked(edited)`, `on_reject_clicked(reason)`.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..core.background import Runner
from ..core.breakpoints import Breakpoint
from ..errors import ConfigError
from ..viz.usage import usage_series
from . import cards as cards_mod
from .approval import Decisions, approval_state, violation_state
from .base import SessionWidget, static_module
from .cards import safe
from .memory_editor import MemoryEditor
from .plan_editor import PlanEditor, plan_items
from .static_html import workbench_html
from .tree_view import TreeView

PAGE = 25  # step cards per synced page


def _child_to_json(widget: Any, _owner: Any) -> str | None:
    return None if widget is None else f"anywidget:{widget.model_id}"  # what anywidget's host API reads


def _child(name: str) -> dict[str, Any]:
    """Serialization of a child widget trait; the children are set in Python only, never by the browser."""
    return {"to_json": _child_to_json, "from_json": lambda _value, owner: getattr(owner, name)}


class Workbench(Decisions, SessionWidget):
    """The panel for one session: header, controls, the approval card when an action waits, and
    Trajectory / Plan / Memory / Tree / Usage tabs."""

    _esm = static_module("dom.js", "approval_card.js", "workbench.js")
    _css = static_module("fallback.css", "workbench.css", "approval.css")

    header = traitlets.Dict().tag(sync=True)
    path = traitlets.List(traitlets.Int()).tag(sync=True)  # node ids, root to cursor
    card_pages = traitlets.Int(0).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)  # the node Rewind goes to; the front end sets it
    tab = traitlets.Unicode("Trajectory").tag(sync=True)  # the open tab; the front end sets it
    usage = traitlets.Dict().tag(sync=True)
    approval = traitlets.Dict().tag(sync=True)  # the action waiting for approval ({} when none)
    violation = traitlets.Dict().tag(sync=True)  # the behaviour spec the cursor's step broke ({} when none)
    plan_editor = traitlets.Instance(PlanEditor).tag(sync=True, **_child("plan_editor"))
    memory_editor = traitlets.Instance(MemoryEditor).tag(sync=True, **_child("memory_editor"))
    tree_view = traitlets.Instance(TreeView).tag(sync=True, **_child("tree_view"))

    part_intervals: ClassVar[dict[str, float]] = {"usage": 1.0}
    intents: ClassVar[dict[str, str]] = {
        "step": "on_step_clicked",
        "run": "on_run_clicked",
        "pause": "on_pause_clicked",
        "stop": "on_stop_clicked",
        "rewind": "on_rewind_clicked",
        "select": "on_node_selected",
        "breakpoint": "on_breakpoint_toggled",
        "call": "on_call_requested",
        "approve": "on_approve_clicked",
        "reject": "on_reject_clicked",
    }
    immediate: ClassVar[frozenset[str]] = frozenset({"pause"})  # a threading.Event: safe anywhere

    def __init__(self, session: Any, **kwargs: Any) -> None:
        self._pending: int | None = None  # parent of the step in flight
        self._next_notice: str | None = None
        self._breakpoint: Breakpoint | None = None
        self._break_pattern = ""
        self._cards: dict[int, dict[str, Any]] = {}
        self._stale: set[int] = set()
        self._usage_stale = True
        super().__init__(
            session,
            plan_editor=PlanEditor(session),
            memory_editor=MemoryEditor(session),
            tree_view=TreeView(session),
            **kwargs,
        )
        self._remove_listener = self.runner.on_finished(self._task_finished)
        self.observe(self._on_tab_change, names="tab")

    # --- state -----------------------------------------------------------------------------------
    def initial_state(self) -> dict[str, Any]:
        run = self.session.tree
        pages = self._build_pages(set(run.nodes))
        for name in pages:  # before the comm opens: the pages travel with the first state
            traitlets.HasTraits.add_traits(self, **{name: traitlets.List().tag(sync=True)})
        return {
            "header": self._header(),
            "path": [n.id for n in self.session.path()],
            "card_pages": len(pages),
            "approval": safe(approval_state(self.session)),
            "violation": safe(violation_state(self.session)),
            **pages,
        }

    def _header(self) -> dict[str, Any]:
        brk = {"enabled": self._breakpoint in self.session.breakpoints, "pattern": self._break_pattern}
        running = self.runner.running
        pending = self._pending if running or self.session.status == "running" else None
        header = cards_mod.header(self.session, running=running, pending=pending, breakpoint=brk)
        return safe({**header, "page_size": PAGE})

    def _build_pages(self, node_ids: set[int]) -> dict[str, list[dict[str, Any]]]:
        """The pages holding `node_ids`, with their cards rebuilt; {trait name: cards}."""
        run = self.session.tree
        for node_id in node_ids:
            node = run.nodes.get(node_id)
            if node is not None:
                self._cards[node_id] = safe(cards_mod.card(node, run))
        total = len(run.nodes)
        pages = {}
        for k in sorted({i // PAGE for i in node_ids}):
            ids = range(k * PAGE, min((k + 1) * PAGE, total))
            for i in ids:
                if i not in self._cards:
                    self._cards[i] = safe(cards_mod.card(run.nodes[i], run))
            pages[f"cards_{k}"] = [self._cards[i] for i in ids]
        return pages

    def cards(self) -> list[dict[str, Any]]:
        """The cards of the current path (what the Trajectory tab shows)."""
        run = self.session.tree
        return [self._cards.get(n.id) or safe(cards_mod.card(n, run)) for n in self.session.path()]

    # --- events ----------------------------------------------------------------------------------
    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, ev.NodeAdded):
            with self._lock:
                self._stale.add(event.node.id)
            if self._pending is not None and event.node.parent_id == self._pending:
                self._pending = None
            return {"cards", "path", "header", "usage"}
        if isinstance(event, ev.NodeUpdated):
            with self._lock:
                self._stale.add(event.node.id)
            return {"cards", "header"}
        if isinstance(event, ev.StepStarted):
            self._pending, self._next_notice = event.parent_id, ""
            return {"header"}
        if isinstance(event, (ev.StepFinished, ev.LLMCallFinished, ev.RunStarted)):
            if isinstance(event, ev.StepFinished):
                self._pending = None
            return {"header", "usage"}
        if isinstance(event, ev.CursorMoved):
            return {"path", "header", "approval"}
        if isinstance(event, (ev.ApprovalNeeded, ev.ApprovalDecided, ev.SpecViolated)):
            return {"approval", "header"}
        if isinstance(event, (ev.Paused, ev.RunFinished, ev.Error, ev.BreakpointHit)):
            notice = self._notice_for(event)
            if notice is not None:
                self._next_notice = notice
            if not isinstance(event, ev.Error):
                self._pending = None
            return {"header", "usage", "approval"}
        return set()

    def _notice_for(self, event: ev.Event) -> str | None:
        depth = self.session.tree.current.depth
        if isinstance(event, ev.Error):
            return f"Error: {event.message}"
        if isinstance(event, ev.BreakpointHit):
            return f"Breakpoint ({event.breakpoint}) hit at step {depth}: paused. Run or Step to go on."
        if isinstance(event, ev.RunFinished):
            return f"Done: {event.outcome} at step {depth}. Select an earlier step and Rewind to branch."
        if isinstance(event, ev.Paused):
            return {
                "user": f"Paused at step {depth}.",
                "max_steps": f"Paused after the requested steps, at step {depth}.",
                "until": f"Paused: the until condition matched at step {depth}.",
                "stopped": "Stopped: the step in flight was dropped. Step or Run to go on.",
                "approval": "Waiting for your approval: Approve, Edit and approve, or Reject with a reason.",
            }.get(event.reason)  # budget / error / breakpoint keep the message they came with
        return None

    def _task_finished(self, runner: Runner) -> None:
        if runner.error is not None:
            self._next_notice = f"Error: {type(runner.error).__name__}: {runner.error} (details below)"
            self.detail = safe(runner.traceback)
        self.mark("header", "usage", urgent=True)

    def _on_tab_change(self, change: dict[str, Any]) -> None:
        if change["new"] == "Usage" and self._usage_stale:
            self.call_soon(self.mark, "usage", urgent=True)

    def refresh(self, part: str) -> None:
        if part == "header":
            self.header = self._header()
            if self._next_notice is not None:
                self.notice, self._next_notice = safe(self._next_notice), None
        elif part == "path":
            self.path = [n.id for n in self.session.path()]
        elif part == "approval":
            self.approval = safe(approval_state(self.session))
            self.violation = safe(violation_state(self.session))
        elif part == "cards":
            with self._lock:
                stale, self._stale = self._stale, set()
            self.set_pages(self._build_pages(stale))
            self.card_pages = max(self.card_pages, (len(self.session.tree.nodes) + PAGE - 1) // PAGE)
        elif part == "usage":
            if self.tab == "Usage":
                self.usage = safe(usage_series(self.session.tree))
                self._usage_stale = False
            else:
                self._usage_stale = True  # drawn when the Usage tab opens

    # --- intents ---------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return self.runner.running or self.session.status == "running"

    def on_step_clicked(self) -> asyncio.Task[Any] | None:
        """One step in the background; returns its task (None when it cannot step now)."""
        if self._busy():
            self.notice = "The agent is running; Pause or Stop it first."
            return None
        if self.session.done:
            self.notice = "The run is finished. Select an earlier step and Rewind to branch from it."
            return None
        return self.runner.start_step()

    def on_run_clicked(self, max_steps: int | None = None) -> asyncio.Task[Any] | None:
        """Run in the background until done, paused, a breakpoint or `max_steps`; returns the task."""
        if self._busy():
            self.notice = "The agent is already running."
            return None
        if self.session.done:
            self.notice = "The run is finished. Select an earlier step and Rewind to branch from it."
            return None
        return self.session.start(max_steps=None if max_steps is None else int(max_steps))

    def on_pause_clicked(self) -> None:
        """Stop after the step in flight (thread-safe: runs on the thread the click arrived on)."""
        self.session.pause()
        if self._busy():
            self._next_notice = "Pausing after the step in flight…"
            self.call_soon(self.mark, "header")

    def on_stop_clicked(self) -> bool:
        """Cancel the background task now; the step in flight is dropped."""
        if not self.runner.stop():
            self.notice = "Nothing runs in the background."
            return False
        return True

    def on_rewind_clicked(self, node_id: int | None = None) -> Any:
        """Move the cursor to `node_id` (default: the selected card); the next step branches there."""
        target = self.selected if node_id is None else int(node_id)
        if target < 0:
            raise ConfigError("Select a step first (click its number), then Rewind to branch from it.")
        if self._busy():
            raise ConfigError("Pause or Stop the agent before rewinding.")
        node = self.session.rewind(target)
        self.selected = -1
        self._next_notice = f"Rewound to step {node.depth}: the next step grows a new branch from here."
        self.mark("header")
        return node

    def on_node_selected(self, node_id: int | None) -> None:
        """Select a card (the target of Rewind and of a breakpoint without a pattern); -1 clears."""
        node_id = -1 if node_id is None else int(node_id)
        if node_id >= 0 and node_id not in self.session.tree.nodes:
            raise ConfigError(f"no node {node_id} in this run")
        self.selected = node_id

    def on_breakpoint_toggled(self, enabled: bool, pattern: str = "") -> Breakpoint | None:
        """Turn the panel's breakpoint on (break after an action matching `pattern`) or off.

        Without a pattern it breaks on the selected step's action."""
        if self._breakpoint is not None and self._breakpoint in self.session.breakpoints:
            self.session.breakpoints.remove(self._breakpoint)
        self._breakpoint = None
        pattern = str(pattern or "").strip()
        if enabled:
            if not pattern and self.selected >= 0:
                action = self.session.tree.nodes[self.selected].action
                pattern = f"^{re.escape(action)}$" if action else ""
            if not pattern:
                raise ConfigError(
                    "Type an action pattern next to Breakpoint (a regular expression, e.g. 'open'), "
                    "or select a step whose action to break on."
                )
            self._breakpoint = self.session.break_on(action=pattern)
            self._break_pattern = pattern
        self.mark("header")
        return self._breakpoint

    def on_approve_clicked(self, edited: str | None = None) -> asyncio.Task[Any] | None:
        """Run the waiting action (`edited`: JSON arguments, or new code / action text); a run that
        paused for it goes on. Returns the background task."""
        return self.decide_approve(edited)

    def on_reject_clicked(self, reason: str = "") -> asyncio.Task[Any] | None:
        """Do not run the waiting action; `reason` is the agent's next observation."""
        return self.decide_reject(reason)

    def on_call_requested(self, node_id: int) -> dict[str, Any]:
        """Send the LLM call details of a node to the browser (on demand: prompts can be long)."""
        node = self.session.tree.nodes.get(int(node_id))
        if node is None:
            raise ConfigError(f"no node {node_id} in this run")
        return self.send_calls(node)

    # --- Python conveniences -----------------------------------------------------------------------
    def usage_figure(self) -> Any:
        """The plotly figure of tokens and cost per step of this run."""
        from ..viz.usage import usage_figure

        return usage_figure(self.session.tree)

    # --- display ---------------------------------------------------------------------------------
    def static_html(self) -> str:
        diff_memory = bool(getattr(self.session.memory, "diff", False))
        return workbench_html(self._header(), self.cards(), plan_items(self.session), diff_memory=diff_memory)

    def run_snapshot(self) -> dict[str, Any]:
        from .snapshot import run_snapshot

        best = self.tree_view.best_path() if self.tree_view is not None else None
        return run_snapshot(
            self.session.tree,
            header=self._header(),
            plan=plan_items(self.session),
            best=best,
            cards=self._cards,  # the cards the panel built already (static_html uses them too)
        )

    def summary(self) -> str:
        return cards_mod.summary_line(self._header())

    def sync(self) -> None:
        for child in (self.plan_editor, self.memory_editor, self.tree_view):
            if child is not None:
                child.sync()
        super().sync()

    def close(self) -> None:
        self._remove_listener()
        super().close()
        for child in (self.plan_editor, self.memory_editor, self.tree_view):
            if child is not None:
                child.close()
