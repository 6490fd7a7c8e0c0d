"""Monte Carlo tree search after LATS (Zhou et al. 2024), with WebPilot's max backup (papers.md 5).

One step = one iteration:

1. Selection: from the scope (or a pinned node), descend by UCT = V + w * sqrt(ln N_parent / N)
   (w = `exploration`, 1.0) through nodes already expanded by MCTS; an unvisited child (N = 0)
   scores +inf, ties by V then id. Terminal, pruned and exhausted subtrees are skipped. The node
   reached (not yet expanded, above `max_depth`) is the leaf.
2. Expansion: sample `n_samples` answers at the leaf, dedupe identical actions (and actions that
   already have a child there), keep up to `branching`, and execute every child.
3. Evaluation: V = lambda * LM + (1 - lambda) * SC, with LM the value function (`value`, default
   the 1-10 LM score) and SC the action's self-consistency (count / samples); lambda = `value_mix`.
   A terminal child is not sent to the LM: V = its reward on success, `failure_value` on failure.
4. Simulation, as in the LATS reference code: from the best new child, each rollout step samples
   `rollout_samples` (n = 5) answers, executes every distinct action as a child (`info.rollout`),
   stops at once on a successful terminal among them, else scores them with the value function
   (LM value only; a failed terminal gets `failure_value`) and continues from the best, until a
   terminal or `max_depth`. The return backed up: reward on success, `failure_value` (LATS: -1)
   on failure, `depth_penalty` (default -1, LATS's HotpotQA code; its WebShop code uses -0.5)
   when the rollout stops at `max_depth` without a terminal (the leaf gets `info.depth_capped`).
   Switches back to the cheaper variant we had before: `rollout_select="count"` takes the most
   frequent sampled action with no scoring (set `rollout_samples=1` for one sample a step), and
   `depth_penalty=None` backs up the depth-capped leaf's LM value instead of a penalty.
5. Backpropagation from the rollout leaf up to the scope: N += 1 and, with `backup="mean"`, V is the
   running mean of the returns (V += (r - V) / N); with `backup="max"` (WebPilot), V = max(V, r).
   The first visit replaces the evaluation prior (V = r). A value set by the user is kept.
6. Reflections: each failed terminal gets one LLM call (purpose `reflect`) writing a short lesson,
   stored in its `info["reflection"]`; the last `reflections` of them are shown in later action and
   value prompts. `reflections=0` turns this off.

The search stops at a terminal whose value reaches `threshold` (a success: its value is the reward,
1.0; as in LATS, which stops on a terminal with reward 1 - a noisy LM value of a non-terminal state
never stops it), when nothing is left to select, or on a budget (`max_expansions` = iterations).
Raise `threshold` above the reward to keep searching after a success. Paper defaults: 30
iterations, depth 7, n = 5, w = 1; lambda 0.8 (acting tasks; LATS uses 0.5 for reasoning).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ... import validate
from ...core.tree import Node
from ...errors import ConfigError
from ..labels import FINAL_OBSERVATION, REFLECTION_LABEL  # noqa: F401 (re-exported)
from .common import Request, action_key, gather, group, propose_top, record_calls, trajectory_text, unused
from .engine import SEARCH_OPTIONS, SearchStrategy, View, user_valued

if TYPE_CHECKING:
    from ..context import StepContext

REFLECT_SYSTEM = f"""You review a failed attempt by an agent at a task. In two or three sentences, say what went
wrong and what to do differently next time. Start your answer with `{REFLECTION_LABEL}`."""


class MCTS(SearchStrategy):
    name = "mcts"
    options = {
        **SEARCH_OPTIONS,
        "max_expansions": 30,
        "max_depth": 7,
        "branching": 5,
        "n_samples": 5,
        "value": "score",
        "value_samples": 1,
        "value_mix": 0.8,  # lambda: weight of the LM value against self-consistency
        "exploration": 1.0,  # w in UCT
        "backup": "mean",  # mean (LATS) | max (WebPilot)
        "failure_value": -1.0,  # the return of a failed terminal
        "rollout_samples": 5,  # n sampled per rollout step (LATS reference: 5)
        "rollout_select": "value",  # value: score the samples, take the best | count: most frequent
        "depth_penalty": -1.0,  # the return of a rollout capped by max_depth (None: the leaf's value)
        "reflections": 3,  # reflections shown in prompts (0: no reflection calls)
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        cfg = self.config
        if cfg["backup"] not in ("mean", "max"):
            raise ConfigError(f"mcts: backup must be 'mean' or 'max', got {cfg['backup']!r}")
        if not isinstance(cfg["value_mix"], (int, float)) or not 0 <= cfg["value_mix"] <= 1:
            raise ConfigError(f"mcts: value_mix must be a number from 0 to 1, got {cfg['value_mix']!r}")
        if cfg["rollout_select"] not in ("value", "count"):
            raise ConfigError(
                f"mcts: rollout_select must be 'value' or 'count', got {cfg['rollout_select']!r}"
            )
        penalty = cfg["depth_penalty"]
        validate.number("mcts: exploration", cfg["exploration"], minimum=0)
        validate.number("mcts: failure_value", cfg["failure_value"])
        validate.number("mcts: depth_penalty", penalty, optional=True)
        for key in ("rollout_samples", "reflections"):
            if not isinstance(cfg[key], int) or cfg[key] < (1 if key == "rollout_samples" else 0):
                raise ConfigError(f"mcts: {key} must be a whole number, got {cfg[key]!r}")

    # --- prompts ----------------------------------------------------------------------------------
    def context(self, session: StepContext) -> str:
        keep = int(self.config["reflections"])
        if not keep:
            return ""
        idx = self._index
        source = idx.refresh() if idx is not None and idx.tree is session.tree else View(session, 0)
        found = [n.info["reflection"] for n in source.reflections()[-keep:]]
        if not found:
            return ""
        lines = "\n".join(f"- {text}" for text in found)
        return f"Reflections on earlier failed attempts (avoid repeating them):\n{lines}"

    def _reflect_request(self, session: StepContext, node: Node) -> Request:
        path = session.tree.path(node.id)
        user = f"{trajectory_text(session, path)}\n\n{FINAL_OBSERVATION}\n{node.observation}"
        messages = [{"role": "system", "content": REFLECT_SYSTEM}, {"role": "user", "content": user}]
        return Request(messages, 1, node, purpose="reflect", kwargs=self.sampling())

    def _failed(self, node: Node) -> bool:
        return node.terminal and node.reward <= 0

    def terminal_value(self, node: Node) -> float:
        return float(node.reward) if node.reward > 0 else float(self.config["failure_value"])

    def best(self, view: View) -> Node:
        """A successful terminal first, then the highest value, then the DEEPER node: backed-up values
        of inner nodes repeat their best leaf's (always, with the max backup), so the leaf is kept."""

        def key(n: Node) -> tuple[Any, ...]:
            value = n.value if n.value is not None else float("-inf")
            return (n.terminal and n.reward > 0, value, n.reward, n.depth, -n.id)

        live = [n for n in view.nodes if n.status in ("expanded", "terminal") and n is not view.scope]
        return max(live, key=key) if live else view.scope

    # --- selection --------------------------------------------------------------------------------
    def _expanded(self, node: Node) -> bool:
        return "mcts_expanded" in node.info

    def leaf_selectable(self, node: Node, view: View) -> bool | None:
        """Whether a live node still leads to something to expand (None: if any child does)."""
        if node.terminal or node.status not in ("expanded", "frontier"):
            return False
        if not self._expanded(node):
            return view.depth(node) < int(self.config["max_depth"]) or node.status == "frontier"
        return None

    def uct(self, node: Node, parent: Node) -> float:
        if node.visits == 0:
            return math.inf
        value = node.value if node.value is not None else 0.0
        explore = math.sqrt(math.log(max(1, parent.visits)) / node.visits)
        return value + float(self.config["exploration"]) * explore

    def has_work(self, session: StepContext, state: dict[str, Any], view: View) -> bool:
        return view.selectable(view.scope)

    def select(self, session: StepContext, view: View) -> Node | None:
        node = view.scope
        for pinned in self.pinned(view):
            self.unpin(session, pinned)
            if view.selectable(pinned):
                node = pinned
                break
        if not view.selectable(node):
            return None
        while self._expanded(node):
            kids = [c for c in view.children(node) if view.selectable(c)]
            parent = node
            node = max(kids, key=lambda c: (self.uct(c, parent), c.value or 0.0, -c.id))
        return node

    # --- one iteration ------------------------------------------------------------------------------
    async def expand(self, session: StepContext, state: dict[str, Any], view: View) -> Node | None:
        while True:
            leaf = self.select(session, view)
            if leaf is None:
                return None
            if leaf.status == "frontier":
                await session.arealize(leaf)
            if leaf.status != "pruned":  # a destructive action is never executed: select again
                break
            view.refresh()
        if leaf.terminal:  # a frontier node that turned out terminal
            await self._evaluate(session, state, [leaf], {})
            await self._backup(session, state, leaf)
            return leaf
        fresh = await self._expand_leaf(session, state, leaf)
        if not fresh:
            await self._backup(session, state, leaf)
            return leaf
        best = max(fresh, key=lambda c: (c.value if c.value is not None else -math.inf, -c.id))
        end = (
            best
            if best.terminal or state.get("found") is not None
            else await self._rollout(session, state, best)
        )
        await self._backup(session, state, end, self._capped_return(session, state, end))
        return end

    async def _expand_leaf(self, session: StepContext, state: dict[str, Any], leaf: Node) -> list[Node]:
        existing = {action_key(c.action) for c in session.tree.children(leaf.id) if c.action}
        (calls,) = await gather(session, [self.act_request(session, leaf, int(self.config["n_samples"]))])
        children = propose_top(session, leaf, calls, int(self.config["branching"]), skip=existing)
        session.update_node(leaf, info={**leaf.info, "mcts_expanded": self.index(state)})
        for child in children:
            await session.arealize(child)
        fresh = [c for c in children if c.status in ("expanded", "terminal")]
        sc = {c.id: float(c.info.get("probability", 0.0)) for c in fresh}
        await self._evaluate(session, state, fresh, sc)
        return fresh

    async def _evaluate(
        self, session: StepContext, state: dict[str, Any], nodes: list[Node], sc: dict[int, float]
    ) -> None:
        """Value every node (one concurrent batch) and ask for reflections on failed terminals."""
        lm_nodes = [n for n in nodes if not n.terminal and not user_valued(n)]
        plan: list[tuple[str, Node, int]] = []
        requests: list[Request] = []
        for node in lm_nodes:
            for req in self.value_requests(session, node):
                plan.append(("value", node, len(requests)))
                requests.append(req)
        if self.config["reflections"]:
            for node in nodes:
                if self._failed(node) and "reflection" not in node.info:
                    plan.append(("reflect", node, len(requests)))
                    requests.append(self._reflect_request(session, node))
        results = await gather(session, requests) if requests else []
        value_calls: dict[int, list[Any]] = {n.id: [] for n in lm_nodes}
        for kind, node, k in plan:
            if kind == "value":
                value_calls[node.id] += results[k]
            elif results[k]:
                text = results[k][0].response.strip()
                if text.lower().startswith(REFLECTION_LABEL.lower()):
                    text = text[len(REFLECTION_LABEL) :].strip()
                record_calls(session, node, results[k])
                session.update_node(node, info={**node.info, "reflection": text}, llm_calls=node.llm_calls)
        threshold = float(self.config["threshold"])
        mix = float(self.config["value_mix"])
        for node in nodes:
            if user_valued(node):
                value, info = float(node.value), {}  # type: ignore[arg-type]
            elif node.terminal:
                value, info = self.terminal_value(node), {"value_by": "reward"}
            else:
                lm, info = await self.score(session, node, value_calls[node.id])
                value = mix * lm + (1 - mix) * sc[node.id] if node.id in sc else lm
                info.update(lm_value=lm, sc=sc.get(node.id))
            session.update_node(node, value=value, info={**node.info, **info}, llm_calls=node.llm_calls)
            if node.terminal and value >= threshold:
                state.setdefault("found", node.id)

    def _capped_return(self, session: StepContext, state: dict[str, Any], end: Node) -> float | None:
        """`depth_penalty` when the simulation ended at `max_depth` without a terminal, else None."""
        penalty = self.config["depth_penalty"]
        view = self.view(session, state["scope"])
        if penalty is None or end.terminal or view.depth(end) < int(self.config["max_depth"]):
            return None
        session.update_node(end, info={**end.info, "depth_capped": True})
        return float(penalty)

    async def _rollout(self, session: StepContext, state: dict[str, Any], start: Node) -> Node:
        if self.config["rollout_select"] == "count":
            return await self._rollout_count(session, state, start)
        node, cap = start, int(self.config["max_depth"])
        view = self.view(session, state["scope"])
        while not node.terminal and view.depth(node) < cap and state.get("found") is None:
            (calls,) = await gather(
                session, [self.act_request(session, node, int(self.config["rollout_samples"]))]
            )
            keys = {cand.key for cand in group(calls)[0]}
            existing = {action_key(c.action): c for c in session.tree.children(node.id) if c.action}
            made = propose_top(session, node, calls, None, skip=set(existing), info={"rollout": True})
            for child in made:
                await session.arealize(child)
            options = [c for k, c in existing.items() if k in keys] + made
            options = [c for c in options if c.status in ("expanded", "terminal")]
            if not options:
                break
            await self._evaluate(session, state, [c for c in options if c.value is None], {})
            won = [c for c in options if c.terminal and c.reward > 0]
            node = won[0] if won else max(options, key=lambda c: (_value(c), -c.id))
        return node

    async def _rollout_count(self, session: StepContext, state: dict[str, Any], start: Node) -> Node:
        """The cheaper rollout: the most frequent sampled action each step, no scoring on the way."""
        node, cap = start, int(self.config["max_depth"])
        view = self.view(session, state["scope"])
        while not node.terminal and view.depth(node) < cap:
            (calls,) = await gather(
                session, [self.act_request(session, node, int(self.config["rollout_samples"]))]
            )
            candidates, _ = group(calls)
            existing = {action_key(c.action): c for c in session.tree.children(node.id) if c.action}
            pick = next((c for c in candidates if not session.is_destructive(c.parsed.action)), None)
            child = existing.get(pick.key) if pick is not None else None
            if pick is not None and child is None:
                child = propose_top(session, node, pick.calls, 1, info={"rollout": True})[0]
                await session.arealize(child)
            spare = [c for c in calls if pick is None or child is None or c not in child.llm_calls]
            if spare:  # samples that made no new node stay on the node they were sampled for
                record_calls(session, node, unused(spare))
                session.update_node(node, llm_calls=node.llm_calls)
            if child is None or child.status not in ("expanded", "terminal"):
                break
            node = child
        if node is not start and node.value is None:
            await self._evaluate(session, state, [node], {})
        return node

    async def _backup(
        self, session: StepContext, state: dict[str, Any], leaf: Node, ret: float | None = None
    ) -> None:
        if ret is not None:
            pass
        elif leaf.terminal:
            ret = self.terminal_value(leaf)
        else:
            ret = float(leaf.value) if leaf.value is not None else 0.0
        scope = state["scope"]
        for node in reversed(session.tree.path(leaf.id)):
            visits = node.visits + 1
            if user_valued(node):
                value = float(node.value)  # type: ignore[arg-type]
            elif node.visits == 0 or node.value is None:
                value = ret
            elif self.config["backup"] == "max":
                value = max(float(node.value), ret)
            else:
                value = float(node.value) + (ret - float(node.value)) / visits
            session.update_node(node, visits=visits, value=value)
            if node.id == scope:
                break


def _value(node: Node) -> float:
    return float(node.value) if node.value is not None else -math.inf
