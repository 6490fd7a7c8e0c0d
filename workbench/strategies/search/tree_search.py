"""Frontier searches: best-first (Koh et al. 2024), BFS and DFS over the agent's actions.

Best-first, as in "Tree Search for Language Model Agents" (papers.md section 3):

- candidates: sample max(2b, n_samples) answers at temperature 1.0 from the state, group identical
  actions, keep the top-b by count (probability = count / samples) as frontier children;
- the frontier is a max-heap keyed by the PARENT's value (the root's children: 0.5). Each step pops
  the best frontier node (pinned nodes first), realizes it (the engine restores the parent's state
  by snapshot or by replaying the path from `reset()`), scores it with the value function and
  remembers the best; it stops when the value reaches `threshold` or after `max_expansions`; else,
  below `max_depth`, it proposes b children with the node's value as their priority (children are
  not scored until popped). At the end the best node's path is committed (see `engine.py`).
- BFS / DFS: the same machinery; the frontier is a FIFO queue / a LIFO stack of batches (within
  a batch the most sampled action first).

Our choices where the paper is silent: the first step opens the scope (samples the root's children)
and pops the first child in the same step, so `max_expansions` counts popped nodes like the paper's
counter; a popped node's value calls and its children's action samples run as ONE concurrent batch
(if the value reaches the threshold the samples are kept on the node as unused, purpose `sample`);
equal priorities go to the newest batch (depth-first among equals), then to the most sampled action;
a user's `set_value` on a frontier node becomes its priority, and on an expanded node it becomes
its children's priority; a pinned node that was already expanded gives its best frontier child (or,
if it has none, is sampled again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.tree import LLMCall, Node
from .common import gather, propose_top, record_calls, unused
from .engine import SearchStrategy, View, user_valued

if TYPE_CHECKING:
    from ..context import StepContext


class FrontierSearch(SearchStrategy):
    """Pop the first open node by `order_key`, realize it, then `grow` it (score and add children)."""

    def order_key(self, node: Node, view: View) -> tuple[Any, ...]:
        raise NotImplementedError

    async def make_children(
        self, session: StepContext, state: dict[str, Any], node: Node, calls: list[LLMCall]
    ) -> list[Node]:
        """Frontier children of `node` from its sampled answers."""
        raise NotImplementedError

    async def grow(self, session: StepContext, state: dict[str, Any], node: Node, view: View) -> Node:
        """Score a popped, realized node and add its children; mark it `expanded_at`."""
        raise NotImplementedError

    def samples(self) -> int:
        return int(self.config["n_samples"])

    # --- the frontier -----------------------------------------------------------------------------
    def is_open(self, node: Node, view: View) -> bool:
        """A frontier node, or a realized node whose scoring never finished (e.g. a crash)."""
        if node is view.scope or view.depth(node) > int(self.config["max_depth"]):
            return False
        if node.status == "frontier":
            return True
        return node.status == "expanded" and node.executed and "expanded_at" not in node.info

    def opened(self, node: Node) -> bool:
        return "expanded_at" in node.info

    def open_key(self, node: Node, view: View) -> tuple[Any, ...] | None:
        return self.order_key(node, view) if self.is_open(node, view) else None

    def has_work(self, session: StepContext, state: dict[str, Any], view: View) -> bool:
        scope = view.scope
        if not self.opened(scope) and (scope.status == "frontier" or self.can_grow(scope, view)):
            return True
        if view.first_open() is not None:
            return True
        return any(self.can_grow(p, view) for p in self.pinned(view))

    async def open(self, session: StepContext, state: dict[str, Any], node: Node) -> list[Node]:
        """Sample children for `node` without scoring it (the scope, or a pinned expanded node)."""
        (calls,) = await gather(session, [self.act_request(session, node, self.samples())])
        children = await self.make_children(session, state, node, calls)
        if not self.opened(node):
            session.update_node(node, info={**node.info, "expanded_at": 0})
        return children

    async def select(self, session: StepContext, state: dict[str, Any], view: View) -> Node | None:
        for pinned in self.pinned(view):
            self.unpin(session, pinned)
            if pinned.status == "frontier" or self.is_open(pinned, view):
                return pinned
            kids = [c for c in view.children(pinned) if self.is_open(c, view)]
            if not kids and self.can_grow(pinned, view):
                kids = await self.open(session, state, pinned)
                view.refresh()
            if kids:
                return min(kids, key=lambda n: self.order_key(n, view))
        return view.first_open()

    async def expand(self, session: StepContext, state: dict[str, Any], view: View) -> Node | None:
        scope = view.scope
        if not self.opened(scope):
            if scope.status == "frontier":
                await session.arealize(scope)
            if self.can_grow(scope, view):
                await self.open(session, state, scope)
            view.refresh()
        while True:
            node = await self.select(session, state, view)
            if node is None:
                return None
            if node.status == "frontier":
                await session.arealize(node)
                if node.status == "pruned":  # a destructive action: never executed, not an expansion
                    view.refresh()
                    continue
            return await self.grow(session, state, node, view.refresh())


class BestFirst(FrontierSearch):
    """Koh et al.'s best-first search (see the module docstring)."""

    name = "best-first"

    def samples(self) -> int:
        return max(2 * int(self.config["branching"]), int(self.config["n_samples"]))

    def priority(self, node: Node, view: View) -> float:
        if user_valued(node):
            return float(node.value)  # type: ignore[arg-type]
        parent = view.tree.nodes[node.parent_id] if node.parent_id is not None else None
        if parent is not None and parent.value is not None:
            return float(parent.value)
        return float(node.info.get("prior", 0.5))

    def order_key(self, node: Node, view: View) -> tuple[Any, ...]:
        # ties: the newest batch first (depth-first among equals), then the most sampled action
        return (-self.priority(node, view), -int(node.info.get("batch", 0)), node.id)

    async def make_children(
        self, session: StepContext, state: dict[str, Any], node: Node, calls: list[LLMCall]
    ) -> list[Node]:
        prior = node.value if node.value is not None else 0.5
        branching = int(self.config["branching"])
        return propose_top(
            session, node, calls, branching, prior=prior, info={"batch": self.next_batch(state)}
        )

    async def grow(self, session: StepContext, state: dict[str, Any], node: Node, view: View) -> Node:
        more = self.can_grow(node, view)
        requests = self.value_requests(session, node)
        n_value = len(requests)
        if more:
            requests.append(self.act_request(session, node, self.samples()))
        results = await gather(session, requests)
        value_calls = [c for calls in results[:n_value] for c in calls]
        value, info = await self.score(session, node, value_calls)
        info = {**node.info, **info, "expanded_at": self.index(state)}
        session.update_node(node, value=value, visits=node.visits + 1, info=info, llm_calls=node.llm_calls)
        reached = value >= float(self.config["threshold"])
        if reached:
            state["found"] = node.id
        if more and not reached:
            await self.make_children(session, state, node, results[-1])
        elif more:
            record_calls(session, node, unused(results[-1]))
            session.update_node(node, llm_calls=node.llm_calls)
        return node


class BFS(BestFirst):
    """Breadth-first: the frontier is a FIFO queue (values still scored, for the threshold and the best)."""

    name = "bfs"

    def order_key(self, node: Node, view: View) -> tuple[Any, ...]:
        return (node.info.get("batch", 0), node.id)


class DFS(BestFirst):
    """Depth-first: the frontier is a LIFO stack of batches; within a batch the most sampled first."""

    name = "dfs"

    def order_key(self, node: Node, view: View) -> tuple[Any, ...]:
        return (-int(node.info.get("batch", 0)), node.id)
