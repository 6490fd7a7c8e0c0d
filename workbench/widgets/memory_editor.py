"""`MemoryEditor(session)`: what the memory policy can show the model, with who wrote it.

Lists the policy's entries for the path to the cursor (`Memory.entries`), one line each (the text
box opens on Edit; only the newest entries of the next prompt until the user asks): observations (env),
answers (agent), notes (user), lessons a strategy wrote (Reflexion's reflections, agent) and, for
hierarchical memory, subgoals with their summaries. Each
shows its provenance, whether the next prompt includes it, and controls to edit, pin, forget and
restore. Every change goes through the policy (provenance "user"), so it is a `MemoryEdited` event
and the next prompt uses it.

For hierarchical memory the editor also shows how finished subgoals are summarised ("last
observation", the cheap default, or "LLM": one call to the session's model per finished subgoal)
with a selector to switch, and on each subgoal who wrote its summary (LLM, last observation, you,
your function, or "pending" while the LLM summary is not made yet).

Trust: every entry shows its provenance and trust level (the run's own entries — env, agent, you —
are trusted, 1). A session with a recall (`Session(recall=TrustedRecall(...))`) also shows the
recall's sources (provenance, items, trust, with a box to change the trust) and the items recalled
into the next prompt, and the items its trust filter leaves out (marked "excluded: untrusted").
"Hide untrusted" filters every untrusted source and item out of the view.

Intents as plain methods: `on_edit(entry_id, text)`, `on_pin(entry_id, pinned)`,
`on_forget(entry_id, forgotten)`, `on_restore(entry_id)`, `on_add_note(text)`,
`on_summarize(mode)`, `on_importance(entry_id, value)`, `on_trust(source, level)`.

For layered memory (FinMem) each item shows its layer, importance, recency, similarity and score,
with a box to set its importance; for summarized memory (Chain of Summarization) the L1 lines and
L2 analyses are entries to edit like any other.
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..errors import ConfigError
from .base import SessionWidget, static_module
from .cards import clip, safe

STATIC_FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.35"
ENTRY_LIMIT = 4_000  # characters of an entry's text sent to the browser
HIDDEN_RECENT = 12  # entries outside the next prompt synced before the user asks for all


def memory_entries(session: Any) -> tuple[list[dict[str, Any]], str]:
    """(entries as plain dicts, a reason when the policy has none to edit)."""
    memory, run = session.memory, session.tree
    lessons = memory.lesson_entries() if callable(getattr(memory, "lesson_entries", None)) else []
    try:
        raw = [*lessons, *memory.entries(run, session.path())]
    except NotImplementedError:
        if not lessons:
            return [], f"the {memory.name} memory policy has no editable entries"
        raw = lessons
    entries = []
    for entry in raw:
        extra = entry.extra or {}
        node = run.nodes.get(entry.node_id) if entry.node_id is not None else None
        entries.append(
            {
                "id": entry.id,
                "kind": entry.kind,
                "text": clip(entry.text, ENTRY_LIMIT),
                "provenance": entry.provenance,
                "node_id": entry.node_id,
                "depth": node.depth if node is not None else None,
                "pinned": entry.pinned,
                "forgotten": entry.forgotten,
                "shown": entry.shown,
                "edited": "original" in extra or entry.id in getattr(memory, "edits", {}),
                "k": extra.get("k"),
                "subgoal": str(extra.get("subgoal") or ""),
                "status": str(extra.get("status") or ""),
                "shown_as": str(extra.get("shown_as") or ""),
                "action": str(extra.get("action") or ""),
                "summary_by": str(extra.get("summary_by") or ""),
                "layer": str(extra.get("layer") or ""),  # layered memory: its layer, scores, importance
                "importance": extra.get("importance"),
                "detail": str(extra.get("detail") or ""),  # a one-line account of the entry's scores
                "steps": str(extra.get("steps") or ""),
                "source": "this run",
                "trust": 1.0,  # the run's own entries (env, agent, you)
            }
        )
    return entries, ""


def recall_state(session: Any) -> dict[str, Any]:
    """The session's recall for the editor: its sources with their trust, the items recalled into
    the next prompt and those the trust filter leaves out ({} without a recall)."""
    recall = getattr(session, "recall", None)
    if recall is None or not callable(getattr(recall, "sources", None)):
        return {}
    query = f"{session.tree.task}\n{session.cursor.observation}"
    index = {id(item): i for i, item in enumerate(recall.items)}

    def row(item: Any, used: bool) -> dict[str, Any]:
        return {
            "id": f"recall:{index[id(item)]}",
            "text": clip(item.text, ENTRY_LIMIT),
            "action": clip(item.action, ENTRY_LIMIT),
            "provenance": item.provenance,
            "source": item.source,
            "trust": recall.trust[item.source],
            "used": used,
        }

    items = [row(i, True) for i in recall.recall(query)] + [row(i, False) for i in recall.excluded(query)]
    sources = [{"source": name, **entry} for name, entry in recall.sources().items()]
    return {"min_trust": recall.min_trust, "sources": sources, "items": items}


def _kept(entry: dict[str, Any]) -> bool:
    """Entries always synced: shown in the next prompt, touched by the user, subgoals and notes."""
    return bool(
        entry["shown"]
        or entry["pinned"]
        or entry["forgotten"]
        or entry["edited"]
        or entry["kind"] in ("subgoal", "note", "lesson")
    )


def policy_info(session: Any) -> dict[str, Any]:
    memory = session.memory
    window = getattr(memory, "window", None)
    return {
        "name": memory.name,
        "window": window if isinstance(window, int) else None,
        "hierarchical": memory.name == "hierarchical",
        "diff": bool(getattr(memory, "diff", False)),
        "summarize": str(getattr(memory, "summary_mode", "") or ""),
    }


SUMMARY_NAMES = {
    "last_observation": "last observation",
    "llm": "LLM",
    "hook": "your function",
    "user": "you",
    "pending": "LLM, pending",
}
_KIND = {
    "observation": "Observation",
    "action": "Answer",
    "subgoal": "Subgoal",
    "note": "Note",
    "memory": "Memory item",
    "summary": "L1 summary",
    "analysis": "L2 analysis",
    "lesson": "Lesson",
}


def memory_html(
    entries: list[dict[str, Any]], policy: dict[str, Any], recall: dict[str, Any] | None = None
) -> str:
    """The entries the next prompt shows, as a static list (for saved notebooks): one line each, the
    full text behind a click (`<details>`), so a long memory stays a short output; then the recall's
    sources and items when the session has one."""
    shown = [e for e in entries if e["shown"] or e["kind"] == "subgoal"]
    rows = []
    for e in shown:
        label = _KIND.get(e["kind"], e["kind"])
        if e["kind"] == "subgoal":
            label = f"Subgoal {e['k']} ({e['status']}): {html.escape(e['subgoal'])}"
        elif e["depth"] is not None:
            label += f" #{e['depth']}"
        flags = [e["provenance"]] + [f for f in ("pinned", "forgotten", "edited") if e[f]]
        flags += [e["detail"]] if e.get("detail") else []
        if e.get("summary_by"):
            flags.append(f"summary: {SUMMARY_NAMES.get(e['summary_by'], e['summary_by'])}")
        lines = [line for line in e["text"].splitlines() if line.strip()] or [""]
        first = lines[-1] if e["kind"] == "observation" else lines[0]  # what tells entries apart
        rows.append(
            f'<li><details><summary><b>{label}</b> <span style="opacity:.65">[{", ".join(flags)}]</span> '
            f'<code style="opacity:.8">{html.escape(first[:90] + ("…" if len(first) > 90 else ""))}</code></summary>'
            f'<pre style="margin:1px 0 4px;white-space:pre-wrap;font-size:12px">{html.escape(e["text"][:600])}</pre>'
            "</details></li>"
        )
    title = f"Memory ({policy['name']}" + (
        f", window {policy['window']}" if policy["window"] is not None else ""
    )
    if policy.get("summarize"):
        title += f", summaries: {SUMMARY_NAMES.get(policy['summarize'], policy['summarize'])}"
    return (
        f'<div class="wb-static-memory" style="{STATIC_FONT}"><b>{title})</b>'
        f'<ul style="margin:2px 0 2px 1.2em;padding:0">{"".join(rows)}</ul>{recall_html(recall or {})}</div>'
    )


def recall_html(recall: dict[str, Any]) -> str:
    """The recall's sources and the items of the next prompt, as static HTML ("" without a recall)."""
    if not recall:
        return ""
    sources = "; ".join(
        f"{html.escape(s['source'])} ({s['provenance']}, {s['items']} items, trust {s['trust']:g}"
        + ("" if s["recalled"] else ", excluded: untrusted")
        + ")"
        for s in recall["sources"]
    )
    items = "".join(
        f'<li><span style="opacity:.65">[{html.escape(i["provenance"])}: {html.escape(i["source"])}, '
        f"trust {i['trust']:g}{'' if i['used'] else ', excluded: untrusted'}]</span> "
        f"{html.escape(i['text'][:300])} -&gt; <code>{html.escape(i['action'][:200])}</code></li>"
        for i in recall["items"]
    )
    return (
        f'<div class="wb-static-recall"><b>Recall</b> (min trust {recall["min_trust"]:g}): {sources}'
        f'<ul style="margin:2px 0 2px 1.2em;padding:0">{items}</ul></div>'
    )


class MemoryEditor(SessionWidget):
    """Edit, pin, forget and restore the memory entries of `session` (provenance "user")."""

    _esm = static_module("dom.js", "memory_editor.js")
    _css = static_module("fallback.css", "memory_editor.css")

    entries = traitlets.List(traitlets.Dict()).tag(sync=True)
    policy = traitlets.Dict().tag(sync=True)
    empty_reason = traitlets.Unicode("").tag(sync=True)
    hidden_total = traitlets.Int(0).tag(sync=True)  # entries the next prompt leaves out
    recall = traitlets.Dict().tag(sync=True)  # recall_state(): sources, recalled and excluded items
    trusted_only = traitlets.Bool(False).tag(sync=True)  # "Hide untrusted": a view filter
    show_hidden = traitlets.Bool(False).tag(sync=True)  # the browser asks for all of them

    min_interval: ClassVar[float] = 0.25  # a long path has many entries: refresh at most 4 times a second
    intents: ClassVar[dict[str, str]] = {
        "edit": "on_edit",
        "pin": "on_pin",
        "forget": "on_forget",
        "restore": "on_restore",
        "note": "on_add_note",
        "summarize": "on_summarize",
        "importance": "on_importance",
        "trust": "on_trust",
    }

    def __init__(self, session: Any, **kwargs: Any) -> None:
        super().__init__(session, **kwargs)
        self.observe(lambda change: self.call_soon(self.mark, "memory", urgent=True), names="show_hidden")

    def _state(self, show_hidden: bool) -> dict[str, Any]:
        """The entries to sync: all the next prompt shows or the user touched, and of the rest the
        most recent `HIDDEN_RECENT` (all of them once the user asks), so a long run stays light."""
        entries, reason = memory_entries(self.session)
        rest = [i for i, e in enumerate(entries) if not _kept(e)]
        dropped = set() if show_hidden else set(rest[:-HIDDEN_RECENT] if HIDDEN_RECENT else rest)
        return {
            "entries": safe([e for i, e in enumerate(entries) if i not in dropped]),
            "hidden_total": len(rest),
            "policy": policy_info(self.session),
            "empty_reason": reason,
            "recall": safe(recall_state(self.session)),
        }

    def initial_state(self) -> dict[str, Any]:
        return self._state(False)

    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, (ev.NodeAdded, ev.CursorMoved, ev.MemoryEdited, ev.NodeUpdated)):
            return {"memory"}
        return set()

    def refresh(self, part: str) -> None:
        if part == "memory":
            for name, value in self._state(self.show_hidden).items():
                setattr(self, name, value)

    def _entry(self, entry_id: str) -> dict[str, Any]:
        entries, _ = memory_entries(self.session)
        for entry in entries:
            if entry["id"] == entry_id:
                return entry
        valid = ", ".join(e["id"] for e in entries[:12]) or "none"
        raise ConfigError(f"no memory entry {entry_id!r} on the current path; valid ids include: {valid}")

    # --- intents ---------------------------------------------------------------------------------
    def on_edit(self, entry_id: str, text: str) -> None:
        """Rewrite an entry's text (for a subgoal: its summary)."""
        entry = self._entry(str(entry_id))
        if entry["text"] == text:
            return
        self.session.memory.edit(entry["id"], str(text), provenance="user")

    def on_pin(self, entry_id: str, pinned: bool = True) -> None:
        entry = self._entry(str(entry_id))
        if pinned:
            self.session.memory.pin(entry["id"], provenance="user")
        else:
            self.session.memory.unpin(entry["id"], provenance="user")

    def on_forget(self, entry_id: str, forgotten: bool = True) -> None:
        entry = self._entry(str(entry_id))
        if forgotten:
            self.session.memory.forget(entry["id"], provenance="user")
        else:
            self.session.memory.restore(entry["id"], provenance="user")

    def on_restore(self, entry_id: str) -> None:
        """Undo the user's edit, pin or forget of an entry."""
        entry = self._entry(str(entry_id))
        memory = self.session.memory
        if entry["pinned"]:
            memory.unpin(entry["id"], provenance="user")
        memory.restore(entry["id"], provenance="user")

    def on_add_note(self, text: str) -> str:
        text = str(text).strip()
        if not text:
            raise ConfigError("a note needs some text")
        return self.session.memory.add_note(text, provenance="user")

    def on_trust(self, source: str, level: Any) -> None:
        """Set a recall source's trust level; below the recall's `min_trust` its items are excluded."""
        from .. import validate

        recall = getattr(self.session, "recall", None)
        if recall is None or not callable(getattr(recall, "set_trust", None)):
            raise ConfigError("this session has no recall; make it with Session(recall=TrustedRecall(...))")
        if isinstance(level, str):
            try:
                level = float(level)
            except ValueError:
                raise ConfigError(f"a trust level is a number such as 0.2, not {level!r}") from None
        level = validate.number("trust", level, minimum=0)
        recall.set_trust(str(source), level)
        self.mark("memory", urgent=True)

    def on_summarize(self, mode: str) -> None:
        """How finished subgoals are summarised: "last_observation" or "llm" (hierarchical memory)."""
        memory = self.session.memory
        if not callable(getattr(memory, "set_summarize", None)):
            raise ConfigError(f"the {memory.name} memory policy has no subgoal summaries to choose")
        memory.set_summarize(str(mode), provenance="user")

    def on_importance(self, entry_id: str, value: float) -> None:
        """Set a layered-memory item's importance from the current step on (its layer follows)."""
        memory = self.session.memory
        if not callable(getattr(memory, "set_importance", None)):
            raise ConfigError(f"the {memory.name} memory policy has no importance to set")
        entry = self._entry(str(entry_id))
        memory.set_importance(entry["id"], value, at_step=self.session.cursor.depth, provenance="user")

    # --- display ---------------------------------------------------------------------------------
    def static_html(self) -> str:
        entries, reason = memory_entries(self.session)
        if reason:
            return f"<p>{html.escape(reason)}</p>"
        return memory_html(entries, policy_info(self.session), recall_state(self.session))

    def summary(self) -> str:
        entries, reason = memory_entries(self.session)
        shown = sum(1 for e in entries if e["shown"])
        return (
            reason or f"MemoryEditor · {self.session.memory.name} · {shown} of {len(entries)} entries shown"
        )
