"""Search-shaped run trees of any size, built by hand (no model), for the tree view tests and benchmarks.

`grow(run, n)` adds nodes the way a best-first search would: it repeatedly expands the frontier
node with the highest value into about `branching` children with random values, realizing it; some
subtrees are pruned, some children are errors, a few deep nodes (and all at `max_depth`) are
terminal, some of them solved.
Seeded, so the same arguments give the same tree.
"""

from __future__ import annotations

import heapq
import random

from workbench.core.tree import Node, Run


def grow(run: Run, n: int, *, seed: int = 0, branching: int = 4, max_depth: int = 12) -> Run:
    """Add nodes to `run` (which has at least its root) until it holds `n` nodes."""
    rng = random.Random(seed)
    heap: list[tuple[float, int]] = [
        (-(node.value or 0.0), node.id) for node in run.nodes.values() if node.status == "frontier"
    ]
    if not heap:
        leaves = {nd.id for nd in run.nodes.values()} - {nd.parent_id for nd in run.nodes.values()}
        heap = [(0.0, i) for i in sorted(leaves)]
    heapq.heapify(heap)
    while len(run.nodes) < n and heap:
        _, node_id = heapq.heappop(heap)
        parent = run.nodes[node_id]
        if parent.status == "pruned":
            continue
        if parent.parent_id is not None:
            parent.status, parent.executed = "expanded", True
            parent.observation = f"state after {parent.action}"
        parent.visits += 1
        for _ in range(rng.randint(max(1, branching - 2), branching + 1)):
            if len(run.nodes) >= n:
                break
            child = _child(run, parent, rng, max_depth)
            if child.status == "frontier":
                heapq.heappush(heap, (-(child.value or 0.0) - rng.random() * 0.3, child.id))
        if rng.random() < 0.04 and parent.parent_id is not None:
            _prune(run, parent)
    return run


def _child(run: Run, parent: Node, rng: random.Random, max_depth: int) -> Node:
    a, b = rng.randint(1, 13), rng.randint(1, 13)
    action = f"{a} {rng.choice('+-*/')} {b}"
    roll = rng.random()
    if roll < 0.03:
        return run.new_node(
            parent.id, action=action, status="error", error="malformed", observation="malformed"
        )
    if parent.depth >= max_depth - 1 or (parent.depth >= 3 and roll < 0.12):
        solved = rng.random() < 0.3
        return run.new_node(
            parent.id, action=action, status="terminal", terminal=True, executed=True,
            reward=1.0 if solved else 0.0, value=1.0 if solved else 0.0, observation="done", visits=1,
        )  # fmt: skip
    return run.new_node(
        parent.id, action=action, thought=f"try {action}", status="frontier", value=round(rng.random(), 3)
    )


def _prune(run: Run, node: Node) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.status in ("frontier", "expanded"):
            current.status = "pruned"
        stack.extend(run.children(current.id))


def synthetic_run(n: int, *, seed: int = 0, branching: int = 4, max_depth: int = 12) -> Run:
    """A fresh run of `n` nodes (see `grow`)."""
    run = Run(task="synthetic search tree")
    run.new_node(None, observation="start", provenance="env")
    return grow(run, n, seed=seed, branching=branching, max_depth=max_depth)


def chain_parents(n: int) -> dict[int, int | None]:
    return {i: (i - 1 if i else None) for i in range(n)}
