"""Value functions: how a search scores a state (a realized node). Pick one with `value=`:

- `"judge"` (Koh et al.): an LM reads the task, the actions so far and the current observation and
  answers `Status: success|failure` and `On the right track: yes|no`; success = 1.0, on the right
  track = 0.5, otherwise 0.0, averaged over `value_samples` sampled calls.
- `"score"` (LATS): an LM rates the state `Score: N` on a 1-10 scale; N / 10, averaged.
- `"reward"`: the environment's reward for reaching the node (no model call).
- a Python callable `(node, session) -> float` (or an awaitable float), for your own heuristics.

Model-based values run their calls through the strategy's batch (see `common.gather`), with purpose
`value`; the strategy records them on the node they judge. An answer that cannot be read counts as
`unreadable` (default 0.0, as in Koh et al.'s code: one "success" among 19 unreadable answers scores
0.05, not 1.0); `unreadable=None` leaves such answers out of the average instead (0.0 if none can
be read). Either way `detail["unreadable"]` on the node (`info["value_detail"]`) holds how many
answers could not be read. Pass the choice as `value=JudgeValue(unreadable=None)`.

The judge reads both our wording (`On the right track: yes`) and Koh et al.'s (`On the right track
to success: "yes"`), with or without quotes and markdown.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core.tree import LLMCall, Node
from ...errors import ConfigError
from .common import Request, trajectory_text

if TYPE_CHECKING:
    from ..context import StepContext

JUDGE_SYSTEM = """You evaluate an agent's progress on a task from its actions and its current observation.
Decide whether the task is already completed successfully, and whether the agent is on the right track.
Answer in exactly this format:
Thoughts: <one or two sentences>
Status: success or failure
On the right track: yes or no"""

SCORE_SYSTEM = """You evaluate an agent's progress on a task from its actions and its current observation.
Rate how likely it is that the agent completes the task from here, on a scale from 1 to 10 (1-10):
10 means the task is already solved, 1 means it cannot be solved any more.
Answer in exactly this format:
Thoughts: <one or two sentences>
Score: <a whole number from 1 to 10>"""

_STATUS = re.compile(r"status\W*:\W*(success|failure|failed|fail)", re.I)
_TRACK = re.compile(r"on the right track(?:\s+to\s+success)?\W*:\W*(yes|no)", re.I)
_SCORE = re.compile(r"score\W*:\W*(\d+(?:\.\d+)?)", re.I)


def parse_judgement(text: str) -> float | None:
    """1.0 for success, 0.5 for on the right track, 0.0 otherwise; None when unreadable."""
    status, track = _STATUS.search(text or ""), _TRACK.search(text or "")
    if status is None and track is None:
        return None
    if status is not None and status.group(1).lower() == "success":
        return 1.0
    return 0.5 if track is not None and track.group(1).lower() == "yes" else 0.0


def parse_score(text: str) -> float | None:
    """`Score: N` on a 1-10 scale as N / 10 (clamped to 0.1-1.0); None when unreadable."""
    found = _SCORE.search(text or "")
    if found is None:
        return None
    return min(10.0, max(1.0, float(found.group(1)))) / 10.0


def value_messages(session: StepContext, node: Node, system: str, context: str = "") -> list[dict[str, str]]:
    """A value prompt: instructions (plus `context`, e.g. reflections) and the state to judge."""
    if context:
        system = f"{system}\n\n{context}"
    path = session.tree.path(node.id)
    user = f"{trajectory_text(session, path)}\n\nObservation:\n{node.observation}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


class ValueFunction:
    """Base: `requests` lists the model calls needed, `score` turns their answers into a value."""

    name = "value"

    def requests(
        self, session: StepContext, node: Node, samples: int, context: str = "", **kwargs: Any
    ) -> list[Request]:
        return []

    async def score(
        self, session: StepContext, node: Node, calls: list[LLMCall]
    ) -> tuple[float, dict[str, Any]]:
        raise NotImplementedError


class _ModelValue(ValueFunction):
    system = ""

    def __init__(self, unreadable: float | None = 0.0) -> None:
        if unreadable is not None and (
            isinstance(unreadable, bool) or not isinstance(unreadable, (int, float))
        ):
            raise ConfigError(
                f"{self.name}: unreadable must be a number (the vote an unreadable answer counts as) "
                f"or None (leave it out), got {unreadable!r}"
            )
        self.unreadable = None if unreadable is None else float(unreadable)

    def parse(self, text: str) -> float | None:
        raise NotImplementedError

    def requests(
        self, session: StepContext, node: Node, samples: int, context: str = "", **kwargs: Any
    ) -> list[Request]:
        messages = value_messages(session, node, self.system, context)
        return [Request(messages, max(1, samples), node, purpose="value", kwargs=kwargs)]

    async def score(
        self, session: StepContext, node: Node, calls: list[LLMCall]
    ) -> tuple[float, dict[str, Any]]:
        votes = [self.parse(c.response) for c in calls]
        read = [v for v in votes if v is not None]
        detail: dict[str, Any] = {
            "value_fn": self.name,
            "samples": [round(v, 4) for v in read],
            "unreadable": len(votes) - len(read),
        }
        if self.unreadable is not None:
            counted = [self.unreadable if v is None else v for v in votes]
            return (sum(counted) / len(counted) if counted else 0.0), detail
        return (sum(read) / len(read) if read else 0.0), detail


class JudgeValue(_ModelValue):
    name = "judge"
    system = JUDGE_SYSTEM

    def parse(self, text: str) -> float | None:
        return parse_judgement(text)


class ScoreValue(_ModelValue):
    name = "score"
    system = SCORE_SYSTEM

    def parse(self, text: str) -> float | None:
        return parse_score(text)


class RewardValue(ValueFunction):
    name = "reward"

    async def score(
        self, session: StepContext, node: Node, calls: list[LLMCall]
    ) -> tuple[float, dict[str, Any]]:
        return float(node.reward), {"value_fn": self.name}


class CallableValue(ValueFunction):
    """A user function `(node, session) -> float` (or a coroutine function)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__

    async def score(
        self, session: StepContext, node: Node, calls: list[LLMCall]
    ) -> tuple[float, dict[str, Any]]:
        result = self.fn(node, session)
        if inspect.isawaitable(result):
            result = await result
        try:
            value = float(result)
        except (TypeError, ValueError):
            raise ConfigError(
                f"the value function {self.name} returned {result!r}; it must return a number"
            ) from None
        return value, {"value_fn": "callable", "name": self.name}


VALUE_FUNCTIONS: dict[str, type[ValueFunction]] = {
    "judge": JudgeValue,
    "score": ScoreValue,
    "reward": RewardValue,
}


def make_value(spec: Any) -> ValueFunction:
    """A value function from `"judge"`, `"score"`, `"reward"`, a callable or a ValueFunction."""
    if isinstance(spec, ValueFunction):
        return spec
    if isinstance(spec, str):
        if spec not in VALUE_FUNCTIONS:
            raise ConfigError(
                f"unknown value {spec!r}; valid: {', '.join(VALUE_FUNCTIONS)} or a function (node, session) -> float"
            )
        return VALUE_FUNCTIONS[spec]()
    if callable(spec):
        return CallableValue(spec)
    raise ConfigError(f"value must be {', '.join(VALUE_FUNCTIONS)} or a function (node, session) -> float")
