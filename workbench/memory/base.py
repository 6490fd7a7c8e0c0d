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
from ..errors import ConfigError
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
        if kind not in self.entry_kinds or not num.isdigit():
            forms = ", ".join(f"{k}:<{'n' if k == 'note' else 'node id'}>" for k in self.entry_kinds)
            raise ConfigError(
                f"no memory entry {entry_id!r}; valid entry ids: {forms} (entries() lists them)"
            )
        if kind == "note" and not 1 <= int(num) <= len(self.notes):
            raise ConfigError(f"no memory entry {entry_id!r}; valid notes: note:1..note:{len(self.notes)}")
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

    # --- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "edits": dict(self.edits),
            "pinned": sorted(self.pinned),
            "forgotten": sorted(self.forgotten),
            "notes": list(self.notes),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.edits = dict(state.get("edits", {}))
        self.pinned = set(state.get("pinned", ()))
        self.forgotten = set(state.get("forgotten", ()))
        self.notes = list(state.get("notes", ()))


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
