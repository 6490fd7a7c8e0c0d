"""Events: every change to a session is published as one of these.

The store, the CLI printer and the widgets only consume events; none of them reaches into another.
Subscribers are called synchronously, in subscription order, on the thread that made the change.
A subscriber that raises is reported through `EventBus.errors` and never stops the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tree import LLMCall, Node

log = logging.getLogger(__name__)


@dataclass
class Event:
    run_id: str
    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass
class RunStarted(Event):
    """A session was created (or resumed) for this run."""

    task: str
    config: dict[str, Any]
    resumed: bool = False


@dataclass
class NodeAdded(Event):
    node: Node


@dataclass
class NodeUpdated(Event):
    """Fields of an existing node changed (status, value, visits, ...)."""

    node: Node
    fields: tuple[str, ...]
    provenance: str = "agent"


@dataclass
class LLMCallFinished(Event):
    node_id: int
    call: LLMCall


@dataclass
class StepStarted(Event):
    parent_id: int


@dataclass
class StepFinished(Event):
    node: Node


@dataclass
class CursorMoved(Event):
    node_id: int
    provenance: str = "user"


@dataclass
class Paused(Event):
    reason: str  # user | breakpoint | budget | error | max_steps | until | stopped | approval


@dataclass
class BreakpointHit(Event):
    breakpoint: str
    node_id: int


@dataclass
class RunFinished(Event):
    """The agent reached a terminal node."""

    outcome: str
    node_id: int


@dataclass
class Error(Event):
    message: str
    node_id: int | None = None
    error_type: str = ""


@dataclass
class ApprovalNeeded(Event):
    """A gated action was proposed and waits for a person (see `workbench.oversight`).

    `node_id` is the proposed node (None when a replay of approved actions is what waits);
    `approval` is what the approval card shows: the action, its calls or code, the rule and why."""

    node_id: int | None
    approval: dict[str, Any]


@dataclass
class ApprovalDecided(Event):
    """A person (or a rule) decided on a proposal: approved | edited | rejected | dropped."""

    node_id: int | None
    decision: str
    by: str = "user"
    reason: str = ""
    edited: Any = None
    provenance: str = "user"


@dataclass
class SpecViolated(Event):
    """A behaviour spec became false on the path at this node: `violation` has the spec's name,
    its formula, the trace position and the trace around it (see `workbench.oversight.specs`)."""

    node_id: int
    violation: dict[str, Any]


@dataclass
class ConfigChanged(Event):
    """The run's settings changed (e.g. another memory policy from the next step on)."""

    config: dict[str, Any]
    change: str
    provenance: str = "user"


@dataclass
class PlanEdited(Event):
    items: list[dict[str, Any]]
    provenance: str
    change: str = ""


@dataclass
class MemoryEdited(Event):
    entry_id: str
    change: str  # edit | pin | unpin | forget | restore | add | state
    provenance: str
    text: str | None = None
    state: dict[str, Any] | None = None


@dataclass
class FullTextKept(Event):
    """A size cap clipped a node's field; its whole text, kept because the run asked for it."""

    node_id: int
    field: str
    text: str


Subscriber = Callable[[Event], None]


class EventBus:
    """A list of subscribers; `publish` calls each one with the event."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.errors: list[tuple[Event, BaseException]] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Add `fn`; returns a function that removes it again."""
        self._subscribers.append(fn)
        return lambda: self.unsubscribe(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        if fn in self._subscribers:
            self._subscribers.remove(fn)

    def publish(self, event: Event) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception as exc:  # a broken viewer must not break the agent
                log.exception("event subscriber %r failed on %s", fn, event.kind)
                self.errors.append((event, exc))
