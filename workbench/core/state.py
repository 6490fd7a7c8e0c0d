"""The state a `Session` holds, as the parts of the engine see it.

`Session` (session.py) is put together from mixins, one part of the engine each: `ExecuteMixin`
(execute.py), `EnvMixin` (envstate.py), `SteeringMixin` (steering.py), `ApprovalMixin`
(approval.py, with `MonitorMixin` from monitor.py) and `PersistMixin` (persist.py). They are never
used alone: each reads and writes the attributes declared here and calls the other parts' methods
through `self`. Declaring the state here, instead of importing `Session` into each part, keeps the
imports one-way: session.py imports its parts and no part imports session.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import re

    from ..memory.base import Memory
    from ..strategies.base import Strategy
    from .events import EventBus
    from .limits import Limits
    from .plan import Plan
    from .tree import LLMCall, Run


class SessionState:
    """The attributes of a `Session` that its parts share (set in `Session.__init__`)."""

    tree: Run
    env: Any
    model: Any
    strategy: Strategy
    memory: Memory
    plan: Plan
    events: EventBus
    limits: Limits
    seed: int
    status: str  # idle, running, waiting (an approval), done, error
    concurrency: int
    destructive: list[re.Pattern[str]]
    tool_calling: str
    redact_prompts: bool
    scheduler: Any
    scheduler_name: str
    store: Any
    # properties of Session
    run_id: str
    config: dict[str, Any]
    done: bool
    # the engine's bookkeeping
    _stepping: bool  # a step is in flight
    _step_calls: list[LLMCall] | None  # the model calls of the step in flight
    _env_node: int | None  # the node whose state the env holds (None: unknown, mid-step)
    _snapshots: dict[int, Any]  # node id -> the env's snapshot in that node's state
