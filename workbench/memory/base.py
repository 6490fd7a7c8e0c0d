"""Memory policies: each turns the path from the root to the cursor into model messages.

A policy is editable state. Its entries (observations, actions, subgoals, notes) carry provenance
(`env`, `agent`, `user`); the user can edit an entry's text, pin it (always shown, even outside a
window), forget it (never shown) or restore it. Every change calls `on_change`, which the session
turns into a `MemoryEdited` event. `state()` is small, JSON-serialisable and is stored on every node,
so a rewind restores the memory as it was.

Message format shared by all policies (the demo model and the tests rely on it):

    user:       "Observation:\n<full observation text>"
    assistant:  <the model's raw answer for that step>
    user:       "Observation:\n<full text>"   or, under diff history,
                "Observation diff:\n<unified diff, n=0, no file headers>"  ("(no change)" when equal)

A user-edited entry is shown with its edited text, and the step that reads it is marked in
`Node.info["used_user_edits"]`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import validate
from ..core.tree import Node, Run
from ..errors import ConfigError, ModelError
from ..registry import build


@dataclass
class MemoryEntry:
    """One thing the policy can show the model."""

    id: str  # "obs:3", "act:3", "subgoal:2", "note:1"
    kind: str  # observation | action | subgoal | note
    text: str
    provenance: str  # env | agent | user
    node_id: int | None = None
    pinned: bool = False
    forgotten: bool = False
    shown: bool = True  # whether the next prompt will include it
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ChangeHook = Callable[[str, str, str, "str | None"], None]  # (entry_id, change, provenance, text)


class Memory:
    """Base policy: shows every step in full (the `full` policy). Subclasses override `render`."""

    name = "full"
    entry_kinds: tuple[str, ...] = ("obs", "act", "note")  # entry ids are "<kind>:<node id or note n>"

    def __init__(self, on_change: ChangeHook | None = None) -> None:
        self.on_change = on_change
        self.edits: dict[str, str] = {}  # entry id -> user text
        self.pinned: set[str] = set()
        self.forgotten: set[str] = set()
        self.notes: list[str] = []  # free-text notes the user added; shown before the history
        # lessons a strategy wrote (Reflexion's reflections): entries "lesson:<n>", editable like the
        # others; the strategy puts them in its prompt (`lesson_items`), the policy does not render them
        self.lessons: list[dict[str, Any]] = []

    # --- prompt --------------------------------------------------------------------------------
    def system_hint(self) -> str:
        """Extra instructions for the system prompt (e.g. how to declare a subgoal)."""
        return ""

    def render(self, run: Run, path: list[Node]) -> list[dict[str, str]]:
        """The history messages for a prompt whose last node is `path[-1]`."""
        raise NotImplementedError

    def use_model(self, model: Any) -> None:
        """The session's model (diff history fits its prompts into the model's context window)."""

    def set_frame(self, texts: list[str]) -> None:
        """The rest of the next prompt (system prompt, trailing notes), told before `render`."""

    async def aprepare(self, ctx: Any, path: list[Node]) -> None:
        """Model calls the next prompt for `path` needs (HiAgent's LLM summaries), made through
        `ctx` (the session: `call_model`, `tree`, `update_node`, `budgets`) before the step."""

    def handle_action(self, action: str, run: Run, path: list[Node]) -> str | None:
        """An observation for a memory action (HiAgent's `retrieve`), or None for env actions."""
        return None

    def on_step(self, node: Node, parsed: Any, run: Run) -> None:
        """Called after each new node joined the path (HiAgent tracks subgoals here)."""

    def entries(self, run: Run, path: list[Node]) -> list[MemoryEntry]:
        """Everything the policy could show for this path, for the memory editor."""
        raise NotImplementedError

    # --- edits ---------------------------------------------------------------------------------
    def _changed(self, entry_id: str, change: str, provenance: str, text: str | None = None) -> None:
        if self.on_change is not None:
            self.on_change(entry_id, change, provenance, text)

    def _entry(self, entry_id: Any) -> str:
        """`entry_id` if it has the form of an entry id of this policy, else a ConfigError."""
        kind, _, num = entry_id.partition(":") if isinstance(entry_id, str) else ("", "", "")
        lesson = kind == "lesson" and bool(self.lessons)
        if (kind not in self.entry_kinds and not lesson) or not num.isdigit():
            forms = ", ".join(f"{k}:<{'n' if k == 'note' else 'node id'}>" for k in self.entry_kinds)
            forms += f", lesson:1..lesson:{len(self.lessons)}" if self.lessons else ""
            raise ConfigError(
                f"no memory entry {entry_id!r}; valid entry ids: {forms} (entries() lists them)"
            )
        if kind == "note" and not 1 <= int(num) <= len(self.notes):
            raise ConfigError(f"no memory entry {entry_id!r}; valid notes: note:1..note:{len(self.notes)}")
        if lesson and not 1 <= int(num) <= len(self.lessons):
            raise ConfigError(
                f"no memory entry {entry_id!r}; valid lessons: lesson:1..lesson:{len(self.lessons)}"
            )
        return entry_id

    def edit(self, entry_id: str, text: str, *, provenance: str = "user") -> None:
        entry_id = self._entry(entry_id)
        text = validate.text("text", text)
        self.edits[entry_id] = text
        self._changed(entry_id, "edit", provenance, text)

    def pin(self, entry_id: str, *, provenance: str = "user") -> None:
        entry_id = self._entry(entry_id)
        self.pinned.add(entry_id)
        self.forgotten.discard(entry_id)
        self._changed(entry_id, "pin", provenance)

    def unpin(self, entry_id: str, *, provenance: str = "user") -> None:
        entry_id = self._entry(entry_id)
        self.pinned.discard(entry_id)
        self._changed(entry_id, "unpin", provenance)

    def forget(self, entry_id: str, *, provenance: str = "user") -> None:
        entry_id = self._entry(entry_id)
        self.forgotten.add(entry_id)
        self.pinned.discard(entry_id)
        self._changed(entry_id, "forget", provenance)

    def restore(self, entry_id: str, *, provenance: str = "user") -> None:
        entry_id = self._entry(entry_id)
        self.forgotten.discard(entry_id)
        self.edits.pop(entry_id, None)
        self._changed(entry_id, "restore", provenance)

    def add_note(self, text: str, *, provenance: str = "user") -> str:
        text = validate.text("text", text, empty=False)
        self.notes.append(text)
        entry_id = f"note:{len(self.notes)}"
        self._changed(entry_id, "add", provenance, text)
        return entry_id

    # --- lessons (written by a strategy, e.g. Reflexion) ----------------------------------------
    def add_lesson(self, text: str, *, node_id: int | None = None, provenance: str = "agent") -> str:
        """Keep a lesson (e.g. a reflection on the failed attempt ending at `node_id`); its entry id."""
        text = validate.text("text", text, empty=False)
        self.lessons.append({"text": text, "node_id": node_id, "provenance": provenance})
        entry_id = f"lesson:{len(self.lessons)}"
        self._changed(entry_id, "add", provenance, text)
        return entry_id

    def lesson_items(self) -> list[tuple[str, str]]:
        """(entry id, text as the prompt shows it: the user's edit if any) of every lesson not forgotten."""
        out = []
        for n, lesson in enumerate(self.lessons, 1):
            entry_id = f"lesson:{n}"
            if entry_id not in self.forgotten:
                out.append((entry_id, self.edits.get(entry_id, lesson["text"])))
        return out

    def lesson_entries(self, shown: set[str] | None = None) -> list[MemoryEntry]:
        """The lessons as memory-editor entries (`shown`: the ids the next prompt holds; None: all kept)."""
        entries = []
        for n, lesson in enumerate(self.lessons, 1):
            entry_id = f"lesson:{n}"
            kept = entry_id not in self.forgotten
            entries.append(
                MemoryEntry(
                    id=entry_id,
                    kind="lesson",
                    text=self.edits.get(entry_id, lesson["text"]),
                    provenance=str(lesson.get("provenance") or "agent"),
                    node_id=lesson.get("node_id"),
                    pinned=entry_id in self.pinned,
                    forgotten=not kept,
                    shown=kept if shown is None else entry_id in shown,
                    extra={"original": lesson["text"]} if entry_id in self.edits else {},
                )
            )
        return entries

    # --- state ---------------------------------------------------------------------------------
    def shared_state(self) -> dict[str, Any]:
        """What another policy takes over when the session switches to it (`Session.set_memory`):
        the user's edits, pins, forgotten entries and notes, and the strategy's lessons."""
        state: dict[str, Any] = {
            "edits": dict(self.edits),
            "pinned": sorted(self.pinned),
            "forgotten": sorted(self.forgotten),
            "notes": list(self.notes),
        }
        if self.lessons:
            state["lessons"] = [dict(lesson) for lesson in self.lessons]
        return state

    def state(self) -> dict[str, Any]:
        """Everything a rewind restores; policies add their own settings to the shared part."""
        return self.shared_state()

    def load_state(self, state: dict[str, Any]) -> None:
        self.edits = dict(state.get("edits", {}))
        self.pinned = set(state.get("pinned", ()))
        self.forgotten = set(state.get("forgotten", ()))
        self.notes = list(state.get("notes", ()))
        self.lessons = [dict(lesson) for lesson in state.get("lessons", ())]


def record_outcome(run: Run, node: Node, result: Any) -> str | None:
    """Record a memory's own model call on `node`: the `LLMCall`, or the call a `ModelError` carries.
    Returns the error's text when the call failed (anything but a ModelError is raised again)."""
    if not isinstance(result, BaseException):
        run.record_call(node, result)
        return None
    if not isinstance(result, ModelError):
        raise result
    call = getattr(result, "call", None)
    if call is not None:
        run.record_call(node, call)
    return str(result)


MEMORY_POLICIES: dict[str, str] = {
    "full": "workbench.memory.window:FullMemory",
    "window": "workbench.memory.window:WindowMemory",
    "diff": "workbench.memory.diff:DiffMemory",
    "hierarchical": "workbench.memory.hierarchical:HierarchicalMemory",
    "layered": "workbench.memory.layered:LayeredMemory",
    "summarized": "workbench.memory.summarized:SummarizedMemory",
}


def memory_names() -> list[str]:
    return list(MEMORY_POLICIES)


def make_memory(spec: str | Memory, **options: Any) -> Memory:
    """A policy by name (with options such as `window=4`), or `spec` itself if it is a Memory."""
    if isinstance(spec, Memory):
        return spec
    return build("memory", MEMORY_POLICIES, spec, **options)
