"""Shared pieces of the search strategies: batched model calls, candidate grouping, prompts.

- `gather(session, requests)` runs several sampling requests (action samples, value judgements,
  imaginations) as ONE batch under a single limit of `session.concurrency` calls in flight, so a
  step that needs 20 action samples and 5 value samples keeps the limit across both. Each call gets
  `sample=i` (its index within its request), which the offline models use to vary their answer.
- `group(calls)` parses sampled answers and groups identical actions (Koh et al.): candidates sorted
  by count, each with `probability = count / total samples`.
- `propose_top(...)` turns the top-b candidates into frontier children of a node.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.tree import LLMCall, Node
from ...errors import ModelError
from ..parsing import Parsed, parse_react

if TYPE_CHECKING:
    from ..context import StepContext


@dataclass
class Request:
    """`n` samples of one prompt, made for `node` (the events and the run record name it)."""

    messages: list[dict[str, str]]
    n: int
    node: Node
    purpose: str = "act"
    kwargs: dict[str, Any] = field(default_factory=dict)


class BudgetStop(Exception):
    """A token or cost budget ran out in the middle of a batch: `done` holds the calls already made
    (per request), which the engine records before it commits."""

    def __init__(self, key: str, done: list[tuple[Request, list[LLMCall]]]) -> None:
        super().__init__(f"{key} reached during an expansion")
        self.key = key
        self.done = done


class _Skip(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


class BudgetGuard:
    """Starts a batch's calls only while the session's token, cost and model-call budgets allow them.

    A call starts only if the budget is not used up counting the calls this batch already made; and
    while other calls are in flight, only if the budget still holds them all plus this one at the
    size of the largest call so far (none known yet: one call at a time). So a budget is exceeded
    by at most one call (a call budget not at all), and far from the limit the batch still runs
    `concurrency` calls at once.
    """

    def __init__(self, session: StepContext) -> None:
        self.session = session
        budgets = session.budgets or {}
        self.limits = {
            k: budgets.get(k) for k in ("max_tokens", "max_cost", "max_calls") if budgets.get(k) is not None
        }
        self.calls = 0
        self.tokens = 0
        self.cost = 0.0
        self.inflight = 0
        self.changed = asyncio.Condition()

    def used(self, key: str) -> float:
        run = self.session.tree
        if key == "max_calls":
            return run.calls + self.calls
        return run.tokens + self.tokens if key == "max_tokens" else run.cost + self.cost

    def exhausted(self) -> str | None:
        """The budget that is used up, if one is."""
        return next((k for k, limit in self.limits.items() if self.used(k) >= limit), None)

    def fits(self) -> bool:
        if not self.limits or self.inflight == 0:
            return True
        run = self.session.tree
        for key, limit in self.limits.items():
            if key == "max_calls":  # every call is one: start it only if all in flight fit too
                if self.used(key) + self.inflight + 1 > limit:
                    return False
                continue
            size = run.largest_call_tokens if key == "max_tokens" else run.largest_call_cost
            if size <= 0 or self.used(key) + (self.inflight + 1) * size > limit:
                return False
        return True

    async def acquire(self) -> None:
        if not self.limits:
            return
        async with self.changed:
            while True:
                key = self.exhausted()
                if key is not None:
                    raise _Skip(key)
                if self.fits():
                    self.inflight += 1
                    return
                await self.changed.wait()

    async def release(self, call: LLMCall | None) -> None:
        if not self.limits:
            return
        async with self.changed:
            self.inflight -= 1
            if call is not None:
                self.calls += 1
                self.tokens += call.tokens
                self.cost += call.cost
            self.changed.notify_all()


async def gather(session: StepContext, requests: list[Request]) -> list[list[LLMCall]]:
    """The calls of every request (in request order), at most `session.concurrency` at once.

    A failed call is dropped, as in `Session.sample`; when every call of a request failed, the
    first failure is raised (the session records it as an error node). Other exceptions propagate.
    When a token or cost budget runs out, the calls not started are skipped and `BudgetStop` is
    raised with the calls made (see `BudgetGuard`).
    """
    limit = session.call_limit()
    guard = BudgetGuard(session)
    key = guard.exhausted()
    if key is not None:
        raise BudgetStop(key, [])

    async def one(req: Request, i: int) -> LLMCall:
        async with limit:
            await guard.acquire()
            call = None
            try:
                call = await session.call_model(
                    req.messages, req.node, purpose=req.purpose, sample=i, **req.kwargs
                )
                return call
            finally:
                await guard.release(call)

    jobs = [(k, i) for k, req in enumerate(requests) for i in range(req.n)]
    results = await asyncio.gather(*(one(requests[k], i) for k, i in jobs), return_exceptions=True)
    calls: list[list[LLMCall]] = [[] for _ in requests]
    errors: list[list[ModelError]] = [[] for _ in requests]
    skipped: str | None = None
    for (k, _), result in zip(jobs, results, strict=True):
        if isinstance(result, LLMCall):
            calls[k].append(result)
        elif isinstance(result, ModelError):
            errors[k].append(result)
        elif isinstance(result, _Skip):
            skipped = result.key
        elif isinstance(result, BaseException):
            raise result
    if skipped is not None:
        raise BudgetStop(skipped, [(req, calls[k]) for k, req in enumerate(requests) if calls[k]])
    for k, req in enumerate(requests):
        if req.n and not calls[k] and errors[k]:
            raise errors[k][0]
    return calls


def action_key(action: str) -> str:
    """Two actions are the same candidate when they match up to case and whitespace."""
    return " ".join(action.lower().split())


@dataclass
class Candidate:
    """One distinct action among the samples; `calls` are the samples that chose it."""

    key: str
    parsed: Parsed
    calls: list[LLMCall]
    probability: float = 0.0

    @property
    def count(self) -> int:
        return len(self.calls)


def group(calls: list[LLMCall]) -> tuple[list[Candidate], list[LLMCall]]:
    """(candidates by count, most first, ties by first appearance; calls with no valid action)."""
    found: dict[str, Candidate] = {}
    malformed: list[LLMCall] = []
    for call in calls:
        parsed = parse_react(call.response)
        if parsed.error or not parsed.action:
            malformed.append(call)
            continue
        key = action_key(parsed.action)
        if key in found:
            found[key].calls.append(call)
        else:
            found[key] = Candidate(key, parsed, [call])
    total = max(1, len(calls))
    ranked = sorted(found.values(), key=lambda c: -c.count)  # stable: first appearance breaks ties
    for cand in ranked:
        cand.probability = cand.count / total
    return ranked, malformed


def unused(calls: list[LLMCall]) -> list[LLMCall]:
    """Copies of sampled calls that became no node, marked with purpose `sample`."""
    return [dataclasses.replace(call, purpose="sample") for call in calls]


def record_calls(session: StepContext, node: Node, calls: list[LLMCall]) -> None:
    for call in calls:
        session.tree.record_call(node, call)


def propose_top(
    session: StepContext,
    parent: Node,
    calls: list[LLMCall],
    branching: int | None,
    *,
    prior: float | None = None,
    skip: set[str] | None = None,
    info: dict[str, Any] | None = None,
) -> list[Node]:
    """Frontier children of `parent` for the top-`branching` sampled actions (None: all of them).

    Actions in `skip` (keys of existing children) are not proposed again. Destructive actions are
    proposed as pruned nodes, so the view shows what was blocked, and do not take a slot. Calls that
    became no node are kept on `parent` with purpose `sample`; when no sample had a valid action, one
    error child shows what the model said. Returns the frontier children.
    """
    candidates, malformed = group(calls)
    skip = skip or set()
    used_edits = session.take_used_edits()
    children: list[Node] = []
    leftover: list[LLMCall] = list(malformed)
    for cand in candidates:
        if cand.key in skip or (branching is not None and len(children) >= branching):
            leftover += cand.calls
            continue
        extra = {"count": cand.count, "probability": cand.probability, **(info or {})}
        if used_edits:
            extra["used_user_edits"] = used_edits
        rep = cand.calls[-1]
        node = session.propose(parent, parse_react(rep.response), cand.calls, prior=prior, **extra)
        if session.is_destructive(node.action):
            session.update_node(
                node, status="pruned", observation="(not executed: the action matches a destructive pattern)"
            )
            continue
        children.append(node)
    if not candidates and malformed:
        last = malformed[-1]
        session.propose(parent, parse_react(last.response), malformed, **(info or {}))
        leftover = []
    if leftover:
        record_calls(session, parent, unused(leftover))
        session.update_node(parent, llm_calls=parent.llm_calls)
    return children


def actions_so_far(path: list[Node]) -> list[str]:
    return [n.action for n in path[1:] if n.action]


def trajectory_text(session: StepContext, path: list[Node]) -> str:
    """Task and actions so far, for value, imagination and reflection prompts."""
    lines = [f"Task: {session.tree.task}", "", "Actions so far:"]
    actions = actions_so_far(path)
    lines += [f"{i}. {a}" for i, a in enumerate(actions, start=1)] or ["(none yet)"]
    return "\n".join(lines)
