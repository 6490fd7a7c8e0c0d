"""A* over the agent's actions, after ToolChain* (Zhuang et al., ICLR 2024; papers.md section 4).

Each step pops the frontier node with the lowest f = g + h (pinned nodes first), realizes it and,
unless it is terminal or at `max_depth`, proposes up to `branching` next actions as children with
their g, h and f. As in ToolChain*, ONE model call proposes them (`proposals="list"`, default):
the prompt asks for a numbered list, most promising first, in this format

    Thought: <one or two sentences>
    Candidate actions:
    1. <an action>
    2. <an action>

(an answer without the list but with an `Action:` line gives one candidate). `proposals="sample"`
instead samples `n_samples` answers in the usual one-action format (one call each) and groups
them; with tools offered (text or native tool calls) A* always samples. Each child's raw answer
is `Thought: ...` / `Action: <its action>`, so later prompts show it like any step; the list call
itself is recorded on the expanded node (purpose `propose`).

The paper's exact aggregation is unverified (no public code): everything below is OUR choice,
and every term is pluggable (`cost=`, `heuristic=`, `alpha`, `beta`, `imagination`).

- Self-consistency `sc(a)`: with sampled proposals, how often action a appears among the samples
  (count / samples); with a list, the model's ranking stands in for the counts: the item at rank r
  (0-based) of m distinct items weighs m - r, normalised to sum to 1 (m = 5: 1/3, 4/15, ... 1/15).
- Long-term memory = successful action sequences: the option `plans=[[...], ...]` plus the paths
  of every successful terminal node of this run. `ltm` = the best LCS match of the path so far
  (with a) against a stored plan, as a fraction of the path's length.
- Step cost = 1 - (alpha * ltm + (1 - alpha) * sc); with no stored plan at all the memory term is
  left out (cost = 1 - sc). g = the sum of step costs from the root. `cost=fn(node, session)`
  replaces the step cost (the node's info already holds `sc` and `ltm`).
- Progress ratio r = steps so far / expected total steps, from two sources: memory (where a sits in
  the best-matching stored plan that contains it: (position + 1) / plan length) and imagination (one
  LLM call per child imagines the remaining actions: `Remaining steps: N`, else the number of
  `Action:` lines; r = depth / (depth + N)). r = beta * r_memory + (1 - beta) * r_imagination
  (whichever exists; none: h = 0, i.e. uniform-cost search).
- h = g * (1 - r) / r: the remaining steps priced at the path's mean step cost so far, so that
  f = (mean step cost) * (expected total steps). `heuristic=fn(node, session)` replaces h.
- A node's `value` is 1 - (mean step cost of its path) (terminals: 1.0 success, 0.0 failure), so
  the committed best node is a successful terminal or the most consistent path. A user's
  `set_value(v)` on a frontier node sets its step cost to 1 - v. The search stops at a terminal
  whose value reaches `threshold` (the paper's Finish) or on a budget.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

from ...core.tree import LLMCall, Node
from ...errors import ConfigError
from ..labels import CANDIDATES_LABEL, IMAGINE_STATE, REMAINING_LABEL  # noqa: F401 (re-exported)
from ..parsing import Parsed, parse_react
from .common import (
    Request,
    action_key,
    actions_so_far,
    gather,
    propose_top,
    record_calls,
    trajectory_text,
)
from .engine import SEARCH_OPTIONS, View, user_valued
from .tree_search import FrontierSearch

if TYPE_CHECKING:
    from ..context import StepContext

IMAGINE_SYSTEM = f"""You plan ahead for an agent working on a task. Its last listed action is about to be taken.
Imagine the rest of the plan: list the actions still needed after it, one per line as `Action: <action>`,
then end with a line `{REMAINING_LABEL} <number>` (0 if the last action already finishes the task)."""

LIST_HELP = f"""Propose up to {{k}} different next actions, the most promising first. Answer in exactly this format:
Thought: <one or two sentences of reasoning>
{CANDIDATES_LABEL}
1. <exactly one action>
2. <exactly one action>
(and so on, one action per numbered line, at most {{k}})"""

_CANDIDATES = re.compile(r"^\s*(?:[*_#>]+\s*)?candidate actions\s*[*_]*\s*:", re.I | re.M)
_ITEM = re.compile(r"^\s*(?:[*_]+\s*)?\d+\s*[.)]\s*(?:[*_]+\s*)?(?:action\s*[*_]*\s*:\s*)?(.+?)\s*$", re.I)
_REMAINING = re.compile(r"remaining steps\W*:\W*(\d+)", re.I)
_ACTION_LINE = re.compile(r"^\s*(?:[*_-]+\s*)?(?:action|step\s*\d*)\s*[*_]*\s*:", re.I | re.M)
_MIN_RATIO = 0.05


def lcs(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two action lists."""
    if not a or not b:
        return 0
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, start=1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def memory_match(seq: list[str], plans: list[list[str]]) -> tuple[float, float | None]:
    """(ltm score, progress ratio from memory or None) of an action sequence against stored plans."""
    if not seq or not plans:
        return 0.0, None
    best, ratio, ratio_score = 0.0, None, -1.0
    for plan in plans:
        score = lcs(seq, plan) / len(seq)
        best = max(best, score)
        if seq[-1] in plan and score > ratio_score:
            ratio_score, ratio = score, (plan.index(seq[-1]) + 1) / len(plan)
    return best, ratio


def parse_remaining(text: str) -> int | None:
    found = _REMAINING.search(text or "")
    if found is not None:
        return int(found.group(1))
    lines = _ACTION_LINE.findall(text or "")
    return len(lines) if lines else None


def parse_candidates(text: str) -> tuple[str, list[str]]:
    """(thought, the listed actions in order, duplicates dropped) of a list answer; no list: []."""
    text = (text or "").replace("\r\n", "\n")
    found = _CANDIDATES.search(text)
    if found is None:
        return "", []
    thought = parse_react(text[: found.start()] + "\nAction: -").thought
    actions: list[str] = []
    seen: set[str] = set()
    for line in text[found.end() :].split("\n")[1:]:  # the header line's rest is markup
        if line.strip().startswith("```") or not line.strip():
            continue
        item = _ITEM.match(line)
        if item is None:
            break  # the list ended
        action = item.group(1).strip().strip("`").strip()
        if action and action_key(action) not in seen:
            seen.add(action_key(action))
            actions.append(action)
    return thought, actions


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class AStar(FrontierSearch):
    name = "astar"
    options = {
        **{
            k: SEARCH_OPTIONS[k]
            for k in ("max_expansions", "max_depth", "branching", "temperature", "threshold")
        },
        "max_seconds": None,
        "rounds": 1,
        "proposals": "list",  # list: one call proposes `branching` actions | sample: n_samples calls
        "n_samples": 10,  # k samples per expansion with proposals="sample" (sc = count / k)
        "alpha": 0.5,  # weight of long-term memory vs self-consistency in the step cost
        "beta": 0.5,  # weight of the memory heuristic vs imagination in h
        "plans": [],  # successful action sequences (long-term memory)
        "imagination": True,  # one LLM call per child to imagine the remaining plan
        "cost": None,  # fn(node, session) -> step cost, replaces the default
        "heuristic": None,  # fn(node, session) -> h, replaces the default
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cfg = self.config
        for key in ("alpha", "beta"):
            if not isinstance(cfg[key], (int, float)) or not 0 <= cfg[key] <= 1:
                raise ConfigError(f"astar: {key} must be a number from 0 to 1, got {cfg[key]!r}")
        if cfg["proposals"] not in ("list", "sample"):
            raise ConfigError(f"astar: proposals must be 'list' or 'sample', got {cfg['proposals']!r}")
        for key in ("cost", "heuristic"):
            if cfg[key] is not None and not callable(cfg[key]):
                raise ConfigError(f"astar: {key} must be a function (node, session) -> float, or None")
        try:
            self.stored = [[action_key(str(a)) for a in plan] for plan in cfg["plans"] or []]
        except TypeError:
            raise ConfigError("astar: plans must be a list of action lists, e.g. [['4 * 6', ...]]") from None

    def plans(self, session: StepContext) -> list[list[str]]:
        idx = self._index
        source = idx.refresh() if idx is not None and idx.tree is session.tree else View(session, 0)
        found = [[action_key(a) for a in actions_so_far(session.tree.path(n.id))] for n in source.successes()]
        return self.stored + [p for p in found if p]

    def f(self, node: Node, view: View) -> float:
        if user_valued(node):
            parent = view.tree.nodes[node.parent_id] if node.parent_id is not None else None
            g = float(parent.info.get("g", 0.0)) if parent is not None else 0.0
            return g + (1.0 - float(node.value)) + float(node.info.get("h", 0.0))  # type: ignore[arg-type]
        return float(node.info.get("f", 0.0))

    def order_key(self, node: Node, view: View) -> tuple[Any, ...]:
        return (self.f(node, view), node.id)

    async def grow(self, session: StepContext, state: dict[str, Any], node: Node, view: View) -> Node:
        fields: dict[str, Any] = {"visits": node.visits + 1}
        if node.terminal and not user_valued(node):
            fields["value"] = 1.0 if node.reward > 0 else 0.0
        value = fields.get("value", node.value)
        if node.terminal and value is not None and value >= float(self.config["threshold"]):
            state["found"] = node.id
        session.update_node(node, info={**node.info, "expanded_at": self.index(state)}, **fields)
        if self.can_grow(node, view):
            (calls,) = await gather(session, [self.act_request(session, node, self.samples())])
            await self.make_children(session, state, node, calls)
        return node

    async def make_children(
        self, session: StepContext, state: dict[str, Any], node: Node, calls: list[LLMCall]
    ) -> list[Node]:
        cfg = self.config
        batch = self.next_batch(state)
        listed = self._listed(calls)
        if listed is not None:
            children = self._propose_listed(session, node, calls, *listed, batch=batch)
        else:
            children = propose_top(session, node, calls, int(cfg["branching"]), info={"batch": batch})
        plans = self.plans(session)
        g0 = float(node.info.get("g", 0.0))
        for child in children:
            seq = [action_key(a) for a in actions_so_far(session.tree.path(child.id))]
            sc = float(child.info.get("probability", 0.0))
            ltm, r_mem = memory_match(seq, plans)
            child.info.update(sc=sc, ltm=round(ltm, 6), memory_ratio=r_mem)
            if cfg["cost"] is not None:
                step = float(await _maybe_await(cfg["cost"](child, session)))
            elif plans:
                step = 1.0 - (cfg["alpha"] * ltm + (1.0 - cfg["alpha"]) * sc)
            else:
                step = 1.0 - sc
            child.info.update(step_cost=step, g=g0 + step)
        await self._heuristics(session, children)
        for child in children:
            g, h = float(child.info["g"]), float(child.info["h"])
            value = max(0.0, min(1.0, 1.0 - g / max(1, child.depth)))
            info = {**child.info, "f": g + h, "value_by": self.name}
            session.update_node(child, value=value, info=info, llm_calls=child.llm_calls)
        return children

    # --- proposals --------------------------------------------------------------------------------
    def _list_mode(self, session: StepContext) -> bool:
        return self.config["proposals"] == "list" and session.tool_mode() is None

    def format_help(self, session: StepContext) -> str:
        if self._list_mode(session):
            return LIST_HELP.format(k=int(self.config["branching"]))
        return super().format_help(session)

    def act_request(self, session: StepContext, node: Node, n: int) -> Request:
        if not self._list_mode(session):
            return super().act_request(session, node, n)
        messages = self.messages(session, session.tree.path(node.id))
        return Request(messages, 1, node, "propose", self.sampling())

    def _listed(self, calls: list[LLMCall]) -> tuple[str, list[str]] | None:
        """(thought, actions) when the calls are one list answer, else None (sampled answers)."""
        if len(calls) != 1 or calls[0].purpose != "propose":
            return None
        thought, actions = parse_candidates(calls[0].response)
        return (thought, actions) if actions else None

    def _propose_listed(
        self,
        session: StepContext,
        node: Node,
        calls: list[LLMCall],
        thought: str,
        actions: list[str],
        *,
        batch: int,
    ) -> list[Node]:
        """Children for the listed actions; the list call is recorded on `node` (not per child)."""
        record_calls(session, node, calls)
        session.update_node(node, llm_calls=node.llm_calls)
        used_edits = session.take_used_edits()
        kept = actions[: int(self.config["branching"])]
        total = len(kept) * (len(kept) + 1) / 2
        children: list[Node] = []
        for rank, action in enumerate(kept):
            info: dict[str, Any] = {
                "rank": rank,
                "count": 1,
                "probability": (len(kept) - rank) / total,
                "batch": batch,
                "proposed_by": "list",
            }
            if used_edits:
                info["used_user_edits"] = used_edits
            child = session.propose(node, Parsed(thought=thought, action=action), [], **info)
            raw = f"Thought: {thought}\nAction: {action}" if thought else f"Action: {action}"
            session.update_node(child, raw=raw)
            if session.is_destructive(action):
                session.update_node(
                    child,
                    status="pruned",
                    observation="(not executed: the action matches a destructive pattern)",
                )
                continue
            children.append(child)
        return children

    async def _heuristics(self, session: StepContext, children: list[Node]) -> None:
        cfg = self.config
        if cfg["heuristic"] is not None:
            for child in children:
                child.info["h"] = float(await _maybe_await(cfg["heuristic"](child, session)))
            return
        imagine = [
            c for c in children if cfg["imagination"] and (cfg["beta"] < 1 or c.info["memory_ratio"] is None)
        ]
        requests = [self._imagine_request(session, c) for c in imagine]
        results = await gather(session, requests) if requests else []
        imagined: dict[int, int | None] = {}
        for child, calls in zip(imagine, results, strict=True):
            counts = [n for n in (parse_remaining(c.response) for c in calls) if n is not None]
            imagined[child.id] = counts[0] if counts else None
            for call in calls:
                session.tree.record_call(child, call)
        for child in children:
            remaining = imagined.get(child.id)
            r_img = child.depth / (child.depth + remaining) if remaining is not None else None
            r_mem = child.info["memory_ratio"]
            parts = [(w, r) for w, r in ((cfg["beta"], r_mem), (1 - cfg["beta"], r_img)) if r is not None]
            weight = sum(w for w, _ in parts)
            if not parts:
                ratio = None
            elif weight > 0:
                ratio = sum(w * r for w, r in parts) / weight
            else:
                ratio = sum(r for _, r in parts) / len(parts)
            g = float(child.info["g"])
            h = 0.0 if ratio is None else g * (1 - max(_MIN_RATIO, ratio)) / max(_MIN_RATIO, ratio)
            child.info.update(imagined_remaining=remaining, ratio=ratio, h=h)

    def _imagine_request(self, session: StepContext, child: Node) -> Request:
        parent = session.tree.nodes[child.parent_id]  # type: ignore[index]
        user = (
            f"{trajectory_text(session, session.tree.path(child.id))}\n\n"
            f"{IMAGINE_STATE}\n{parent.observation}"
        )
        messages = [{"role": "system", "content": IMAGINE_SYSTEM}, {"role": "user", "content": user}]
        return Request(messages, 1, child, purpose="imagine", kwargs=self.sampling())
