"""`PlanEditor(session)`: the agent's plan as editable items.

Add, reword, reorder (keyboard: Alt+ArrowUp/Down; or drag), tick and delete items in the browser.
Each edit calls the session's `Plan` at once with provenance "user", so it is a `PlanEdited` event
and the next step's prompt contains it (the step card then says it used your edit).

Python side, every front-end intent is a plain method: `on_add(text)`, `on_edit(position, text)`,
`on_move(position, to)`, `on_tick(position, done)`, `on_status(position, status)`,
`on_delete(position)`; positions are 1-based, as in `Plan`.
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..errors import ConfigError
from .base import SessionWidget, static_module
from .cards import safe


def plan_items(session: Any) -> list[dict[str, Any]]:
    """The plan's items; an item that steps on the current path worked on has `nodes`, their ids
    (plan-execute records `plan_item` on its nodes; steps under an earlier plan are not counted)."""
    by_item = item_nodes(session.path()) if callable(getattr(session, "path", None)) else {}
    items = []
    for position, item in enumerate(session.plan, 1):
        row: dict[str, Any] = {"text": item.text, "status": item.status, "provenance": item.provenance}
        if by_item.get(position):
            row["nodes"] = by_item[position]
        items.append(row)
    return items


def item_nodes(path: list[Any]) -> dict[int, list[int]]:
    """Plan position -> ids of the nodes on `path` that worked on it under the newest plan."""
    marked = [n for n in path if isinstance(n.info.get("plan_item"), dict)]
    if not marked:
        return {}
    latest = max(n.info.get("plan_version", 0) for n in marked)
    out: dict[int, list[int]] = {}
    for node in marked:
        if node.info.get("plan_version", 0) == latest:
            out.setdefault(int(node.info["plan_item"].get("position", 0)), []).append(node.id)
    return out


_MARKS = {"todo": "☐", "doing": "▸", "done": "☑", "skipped": "–"}
_WHO = {"user": "you", "agent": "agent", "env": "env", "import": "import"}


def plan_html(items: list[dict[str, Any]]) -> str:
    """The plan as a static ordered list (for saved notebooks)."""
    if not items:
        return '<p style="opacity:.7;margin:2px 0">Plan: (empty)</p>'
    rows = []
    for item in items:
        done = item["status"] in ("done", "skipped")
        text = html.escape(item["text"])
        if done:
            text = f"<s>{text}</s>" if item["status"] == "skipped" else text
        steps = item.get("nodes") or []
        shown = f" · steps {', '.join(f'#{i}' for i in steps)}" if steps else ""
        rows.append(
            f"<li>{_MARKS.get(item['status'], '☐')} {text} "
            f'<span style="opacity:.65;font-size:85%">[{_WHO.get(item["provenance"], item["provenance"])}{shown}]</span></li>'
        )
    return '<ol style="margin:2px 0 2px 1.4em;padding:0">' + "".join(rows) + "</ol>"


class PlanEditor(SessionWidget):
    """Edit the plan of `session`; edits reach the Python `Plan` at once (provenance "user")."""

    _esm = static_module("dom.js", "plan_editor.js")
    _css = static_module("fallback.css", "plan_editor.css")

    items = traitlets.List(traitlets.Dict()).tag(sync=True)

    intents: ClassVar[dict[str, str]] = {
        "add": "on_add",
        "edit": "on_edit",
        "move": "on_move",
        "tick": "on_tick",
        "status": "on_status",
        "delete": "on_delete",
    }

    def initial_state(self) -> dict[str, Any]:
        return {"items": safe(plan_items(self.session))}

    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, (ev.PlanEdited, ev.CursorMoved, ev.RunStarted, ev.NodeAdded)):
            return {"plan"}
        return set()

    def refresh(self, part: str) -> None:
        if part == "plan":
            self.items = safe(plan_items(self.session))

    # --- intents (plain methods; positions are 1-based) -----------------------------------------
    def on_add(self, text: str, position: int | None = None) -> None:
        text = str(text).strip()
        if not text:
            raise ConfigError("a plan item needs some text")
        self.session.plan.add(text, position, provenance="user")
        self.notice = ""

    def on_edit(self, position: int, text: str) -> None:
        text = str(text).strip()
        if not text:
            raise ConfigError(f"plan item {position} needs some text; use Delete to remove it")
        plan = self.session.plan
        if plan[int(position)].text == text:
            return
        plan.edit(int(position), text, provenance="user")
        self.notice = ""

    def on_move(self, position: int, to: int) -> None:
        if int(position) != int(to):
            self.session.plan.move(int(position), int(to), provenance="user")

    def on_tick(self, position: int, done: bool = True) -> None:
        self.session.plan.set_status(int(position), "done" if done else "todo", provenance="user")

    def on_status(self, position: int, status: str) -> None:
        self.session.plan.set_status(int(position), str(status), provenance="user")

    def on_delete(self, position: int) -> None:
        self.session.plan.remove(int(position), provenance="user")

    # --- display ---------------------------------------------------------------------------------
    def static_html(self) -> str:
        style = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px"
        return (
            f'<div class="wb-static-plan" style="{style}"><b>Plan</b>'
            + plan_html(plan_items(self.session))
            + "</div>"
        )

    def summary(self) -> str:
        return f"PlanEditor · {len(self.session.plan)} items\n{self.session.plan.render()}".rstrip()
