"""The agent's plan: an ordered list of items that the prompt shows and the user can edit.

The model revises the plan with a `Plan:` block in its answer (see `strategies/parsing.py`):

    Plan:
    1. [done] find the key
    2. [doing] open the door
    3. reach the goal

Every change calls `on_change(items, provenance, change)`; the session turns it into a
`PlanEdited` event, so a user's edit is recorded and the very next prompt shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .. import validate
from ..errors import ConfigError

STATUSES = ("todo", "doing", "done", "skipped")
_MARKS = {"todo": " ", "doing": ">", "done": "x", "skipped": "-"}


@dataclass
class PlanItem:
    text: str
    status: str = "todo"
    provenance: str = "agent"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Plan:
    """Ordered plan items with status and provenance. Positions are 1-based in the public API."""

    def __init__(
        self,
        items: Iterable[PlanItem | dict[str, Any] | str] = (),
        on_change: Callable[[list[dict[str, Any]], str, str], None] | None = None,
    ) -> None:
        self.items: list[PlanItem] = [self._coerce(i) for i in items]
        self.on_change = on_change

    @staticmethod
    def _coerce(item: PlanItem | dict[str, Any] | str) -> PlanItem:
        if isinstance(item, PlanItem):
            return item
        if isinstance(item, str):
            return PlanItem(validate.text("plan item", item))
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ConfigError(f"a plan item is a text or a dict with 'text' (and 'status'), not {item!r}")
        try:
            return PlanItem(**{**item, "text": validate.text("plan item", item["text"])})
        except TypeError:
            valid = ", ".join(PlanItem.__dataclass_fields__)
            raise ConfigError(f"a plan item dict takes only {valid}; got {sorted(item)}") from None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, position: int) -> PlanItem:
        return self.items[self._index(position)]

    def __repr__(self) -> str:
        return f"Plan({self.render() or 'empty'})"

    def _index(self, position: int) -> int:
        if (
            isinstance(position, bool)
            or not isinstance(position, int)
            or not 1 <= position <= len(self.items)
        ):
            valid = f"1..{len(self.items)}" if self.items else "none: the plan is empty"
            raise ConfigError(f"no plan item {position}; valid positions: {valid}")
        return position - 1

    def _changed(self, provenance: str, change: str) -> None:
        if self.on_change is not None:
            self.on_change(self.to_list(), provenance, change)

    def to_list(self) -> list[dict[str, Any]]:
        return [i.to_dict() for i in self.items]

    def render(self) -> str:
        """The plan as the prompt shows it."""
        return "\n".join(f"{n}. [{_MARKS[i.status]}] {i.text}" for n, i in enumerate(self.items, start=1))

    # --- edits -------------------------------------------------------------------------------
    def add(self, text: str, position: int | None = None, *, provenance: str = "user") -> PlanItem:
        item = PlanItem(validate.text("text", text, empty=False).strip(), provenance=provenance)
        if position is None:
            self.items.append(item)
        else:
            if not 1 <= position <= len(self.items) + 1:
                raise ConfigError(f"cannot insert at {position}; valid: 1..{len(self.items) + 1}")
            self.items.insert(position - 1, item)
        self._changed(provenance, f"add {item.text!r}")
        return item

    def edit(self, position: int, text: str, *, provenance: str = "user") -> None:
        item = self.items[self._index(position)]
        item.text, item.provenance = validate.text("text", text, empty=False).strip(), provenance
        self._changed(provenance, f"edit {position}")

    def set_status(self, position: int, status: str, *, provenance: str = "user") -> None:
        if status not in STATUSES:
            raise ConfigError(f"unknown plan status {status!r}; valid: {', '.join(STATUSES)}")
        self.items[self._index(position)].status = status
        self._changed(provenance, f"{status} {position}")

    def done(self, position: int, *, provenance: str = "user") -> None:
        self.set_status(position, "done", provenance=provenance)

    def remove(self, position: int, *, provenance: str = "user") -> PlanItem:
        item = self.items.pop(self._index(position))
        self._changed(provenance, f"remove {position}")
        return item

    def move(self, position: int, to: int, *, provenance: str = "user") -> None:
        index = self._index(position)
        if not 1 <= to <= len(self.items):
            raise ConfigError(f"cannot move to {to}; valid: 1..{len(self.items)}")
        self.items.insert(to - 1, self.items.pop(index))
        self._changed(provenance, f"move {position} -> {to}")

    def replace(self, items: Iterable[PlanItem | dict[str, Any] | str], *, provenance: str = "user") -> None:
        """Set the whole plan at once (the model's `Plan:` block, or a widget's full state)."""
        if isinstance(items, (str, bytes, dict)) or not isinstance(items, Iterable):
            raise ConfigError(f"items must be a list of plan items (texts or dicts), not {items!r}")
        new = [self._coerce(i) for i in items]
        for item in new:
            if item.status not in STATUSES:
                raise ConfigError(f"unknown plan status {item.status!r}; valid: {', '.join(STATUSES)}")
        self.items = new
        self._changed(provenance, "replace")

    def load(self, items: Iterable[dict[str, Any]]) -> None:
        """Restore items without publishing an edit (resume, rewind)."""
        self.items = [self._coerce(i) for i in items]
