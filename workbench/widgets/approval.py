"""`ApprovalPrompt(session)`: the card a person decides on when a gated action waits.

It shows the proposed action, its arguments or code, the rule that fired and why, and the risk
score when there is one, with Approve, Edit and approve, and Reject (with a reason the agent reads
as its next observation). The same card is part of the `Workbench` panel (`approval_state` and
`Decisions` are shared). A decision runs as the session's background task on the widget's loop; a
run that paused for the approval goes on afterwards.

Python side, each button is a plain method: `on_approve(edited=None)`, `on_reject(reason)`.
`edited` is text: JSON arguments for a tool call (a JSON list for several calls), else the new code
or action text.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..errors import ConfigError
from .base import SessionWidget, static_module
from .cards import safe

RISK_LABELS = {
    3: "certain no risk",
    2: "possible mild risk",
    1: "likely mild or possible severe risk",
    0: "likely severe risk",
}


def approval_state(session: Any) -> dict[str, Any]:
    """The card's data: {} when nothing waits."""
    pending = session.pending_approval
    if pending is None:
        return {}
    data = pending.to_dict()
    calls = data["calls"]
    if data["kind"] == "tool":
        args = [_pretty(c.get("arguments") or "{}") for c in calls]
        data["editable"] = args[0] if len(args) == 1 else "[" + ",\n".join(args) + "]"
    elif data["kind"] in ("code", "action"):
        data["editable"] = data["code"] if data["kind"] == "code" else data["action"]
    else:
        data["editable"] = None  # a replay: approve or reject only
    if data["risk"] is not None:
        data["risk_label"] = RISK_LABELS.get(round(data["risk"]), "")
    if pending.node is not None and pending.node.info.get("spec_trace"):
        data["trace"] = pending.node.info["spec_trace"]
    return data


def violation_state(session: Any) -> dict[str, Any]:
    """The behaviour spec the step at the cursor broke (the violation card), or {}."""
    node = session.tree.current
    found = node.info.get("spec_violations")
    if not found:
        return {}
    return {**found[0], "node_id": node.id, "depth": node.depth, "more": len(found) - 1}


def _pretty(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), indent=1)
    except (TypeError, ValueError):
        return str(arguments)


class Decisions:
    """Approve / reject on behalf of a widget: background task, then the run goes on if it was running."""

    session: Any
    runner: Any
    notice: str

    def decide_approve(self, edited: str | None = None) -> asyncio.Task[Any] | None:
        if self._after_task(self.decide_approve, edited=edited):
            return None
        self._waiting_approval()
        work = self.session.adecide("approve", edited)  # checked now; a bad edit is the notice
        self.notice = (
            "Edited and approved: running it." if edited and edited.strip() else "Approved: running it."
        )
        return self.runner.start_call("approve", lambda: work)

    def decide_reject(self, reason: str = "") -> asyncio.Task[Any] | None:
        if self._after_task(self.decide_reject, reason=reason):
            return None
        self._waiting_approval()
        reason = str(reason or "").strip()
        if not reason:
            raise ConfigError("Write a reason first: the agent reads it as the result of its action.")
        work = self.session.adecide("reject", reason)
        self.notice = f"Rejected: the agent reads “{reason}”."
        return self.runner.start_call("reject", lambda: work)

    def _after_task(self, decide: Any, **kwargs: Any) -> bool:
        """The run that stopped for this approval may still be ending (its card is already shown):
        decide once its task is done, instead of refusing. True when deferred."""
        task = self.runner.task
        if (
            task is None
            or task.done()
            or self.session.pending_approval is None
            or self.session.status != "waiting"
        ):
            return False
        task.add_done_callback(lambda _t: self.call_soon(self.guarded, decide, **kwargs))  # type: ignore[attr-defined]
        return True

    def _waiting_approval(self) -> Any:
        pending = self.session.pending_approval
        if pending is None:
            raise ConfigError("Nothing waits for approval now.")
        if self.runner.running:
            raise ConfigError("The agent is still running; wait for the step in flight.")
        return pending


class ApprovalPrompt(Decisions, SessionWidget):
    """The approval card of one session (see the module docstring)."""

    _esm = static_module("dom.js", "approval_card.js", "approval_prompt.js")
    _css = static_module("fallback.css", "approval.css")

    approval = traitlets.Dict().tag(sync=True)

    intents: ClassVar[dict[str, str]] = {"approve": "on_approve", "reject": "on_reject"}

    def initial_state(self) -> dict[str, Any]:
        return {"approval": safe(approval_state(self.session))}

    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, (ev.ApprovalNeeded, ev.ApprovalDecided, ev.Paused, ev.CursorMoved)):
            return {"approval"}
        return set()

    def refresh(self, part: str) -> None:
        if part == "approval":
            self.approval = safe(approval_state(self.session))

    def on_approve(self, edited: str | None = None) -> asyncio.Task[Any] | None:
        return self.decide_approve(edited)

    def on_reject(self, reason: str = "") -> asyncio.Task[Any] | None:
        return self.decide_reject(reason)

    def static_html(self) -> str:
        return approval_html(approval_state(self.session))

    def summary(self) -> str:
        data = approval_state(self.session)
        if not data:
            return "ApprovalPrompt · nothing waits for approval"
        return f"ApprovalPrompt · waits: {data['action']} ({data['rule']}: {data['why']})"


def approval_html(data: dict[str, Any]) -> str:
    """A static rendering of the card (saved notebooks)."""
    if not data:
        return '<p style="opacity:.7">Nothing waits for approval.</p>'
    body = data["code"] if data["kind"] == "code" else (data.get("editable") or data["action"])
    risk = f" · risk {data['risk']:g}/3" if data.get("risk") is not None else ""
    return (
        '<div class="wb-static-approval" style="border:1px solid #f57c00;padding:4px 8px;font-size:13px">'
        f"<b>Waiting for approval</b> · rule: {html.escape(data['rule'])} ({html.escape(data['why'])}){risk}"
        f'<pre style="margin:4px 0">{html.escape(str(body))}</pre></div>'
    )
