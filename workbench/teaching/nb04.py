"""Checks for notebook 04 (tree search): steering by value, forbidding an action, preference pairs.

Each check runs the learner's function on a fresh, seeded search (demo model, simulated), so a
check never depends on what the notebook did before, and says what is wrong when it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .checks import Checker, CheckResult

SEARCH = {"branching": 3, "n_samples": 6, "value_samples": 4, "max_expansions": 12}


def search(seed: int, strategy: str = "best-first", **options: Any) -> Any:
    """The notebook's small seeded search on game24 puzzle `seed` (not stepped yet)."""
    from ..core.session import Session
    from ..llm.model import Model

    settings = {**SEARCH, **options}
    model = Model("workbench/demo", seed=seed, error_rate=0.3)
    return Session(env="game24", seed=seed, strategy=strategy, model=model, store=None, **settings)


def _run_learner(c: Checker, fn: Any, *args: Any) -> tuple[bool, Any]:
    """(ran, result) of the learner's `fn(*args)`; a failed point when it is not a function or raises."""
    if not c.function(fn, "your answer"):
        return False, None
    failures = len(c.result().problems)
    value = c.attempt(lambda: fn(*args), "your function raised an exception")
    return len(c.result().problems) == failures, value


def _by_action(s: Any, action: str) -> Any:
    return next(n for n in s.tree.nodes.values() if n.action == action)


def check_steer_by_value(steer: Callable[[Any], Any]) -> CheckResult:
    """Exercise 1: after two expansions on puzzle 12, `steer(s)` makes `9 - 3` the next expansion
    by `set_value` alone."""
    c = Checker("Exercise 1: re-score instead of pin")
    s = search(12)
    s.step()
    s.step()
    target = _by_action(s, "9 - 3")
    before = {n.id: n.value for n in s.tree.nodes.values()}
    ran, _ = _run_learner(c, steer, s)
    if not ran:
        return c.result()
    pinned = [n.id for n in s.tree.nodes.values() if n.info.get("pinned")]
    c.point(not pinned, "nothing is pinned", f"node(s) {pinned} are pinned: re-score with set_value instead")
    pruned = [n.id for n in s.tree.nodes.values() if n.status == "pruned"]
    c.point(not pruned, "nothing is pruned", f"node(s) {pruned} were pruned: re-score, prune nothing")
    changed = [i for i, v in before.items() if s.tree.nodes[i].value != v]
    if not c.point(
        changed,
        f"you changed the value of node(s) {changed}",
        "no value changed, so best-first keeps its own order: give a node a value with s.set_value(id, v)",
    ):
        return c.result()
    node = s.step()
    c.point(
        node.id == target.id,
        f"the next expansion was #{target.id} ('9 - 3')",
        f"the next expansion was #{node.id} ({node.action!r}), not #{target.id} ('9 - 3'): a frontier "
        "node's priority is its parent's value unless it has a value of its own, and it must beat "
        "every other frontier node's priority",
    )
    return c.result()


def check_forbid_division(forbid: Callable[[Any], Any]) -> CheckResult:
    """Exercise 2: with `forbid(s)` applied before it starts, best-first on puzzle 18 executes no
    action containing '/', and still solves the puzzle."""
    c = Checker("Exercise 2: never divide")
    s = search(18)
    ran, _ = _run_learner(c, forbid, s)
    if not ran:
        return c.result()
    s.run()
    divided = [f"#{n.id} {n.action}" for n in s.tree.nodes.values() if n.executed and "/" in (n.action or "")]
    c.point(
        not divided,
        "no action with a '/' was executed",
        f"the search executed {', '.join(divided)}: the rule must hold for actions proposed later too, "
        "not only for the nodes there are now",
    )
    path = " -> ".join(n.action or "?" for n in s.path()[1:])
    c.point(
        s.tree.outcome == "success",
        f"the puzzle is still solved: {path}",
        f"the search did not solve the puzzle (outcome {s.tree.outcome}, path {path or 'empty'}): "
        "forbid only the actions with a '/'",
    )
    return c.result()


def _trees() -> list[tuple[str, Any, float]]:
    """Trees the preference-pair check runs on, with a gap each: MCTS and best-first runs."""
    runs = []
    for seed, strategy, gap in (
        (16, "mcts", 0.3),
        (12, "mcts", 0.0),
        (25, "mcts", 0.1),
        (13, "best-first", 0.0),
    ):
        options = {"n_samples": 3, "value_samples": 1} if strategy == "mcts" else {}
        s = search(seed, strategy, **options)
        s.run()
        runs.append((f"{strategy} on puzzle {seed}, min_gap={gap}", s.tree, gap))
    return runs


def _why_extra(tree: Any, a: int, b: int, gap: float) -> str:
    na, nb = tree.nodes.get(a), tree.nodes.get(b)
    if na is None or nb is None:
        return "not both are nodes of the tree"
    if na.parent_id != nb.parent_id:
        return f"not siblings (parents #{na.parent_id} and #{nb.parent_id})"
    if na.value is None or nb.value is None:
        return "one of them has no value"
    return f"their values differ by {na.value - nb.value:.2f}: below min_gap={gap}, or zero"


def check_preference_pairs(pairs_fn: Callable[[Any, float], Any]) -> CheckResult:
    """Exercise 3: `pairs_fn(tree, min_gap)` gives the same (chosen, rejected) pairs as `dpo_pairs`."""
    from ..export.training import dpo_pairs

    c = Checker("Exercise 3: preference pairs by hand")
    if not c.function(pairs_fn, "your answer"):
        return c.result()
    for label, tree, gap in _trees():
        want = {
            (p["metadata"]["chosen_id"], p["metadata"]["rejected_id"]) for p in dpo_pairs(tree, min_gap=gap)
        }
        got = c.attempt(lambda tree=tree, gap=gap: pairs_fn(tree, gap), f"{label}: your function raised")
        if got is None:
            return c.result()
        mine = c.attempt(
            lambda got=got: {(int(a), int(b)) for a, b in got},
            f"{label}: return a list of (chosen_id, rejected_id) tuples, not {got!r:.60}",
        )
        if mine is None:
            return c.result()
        swapped = {(b, a) for a, b in mine} & want
        missing, extra = want - mine - swapped, mine - want - {(b, a) for a, b in swapped}
        problems = []
        if swapped:
            problems.append(
                f"{sorted((b, a) for a, b in swapped)[:3]} have chosen and rejected swapped (the higher value is chosen)"
            )
        if missing:
            a, b = sorted(missing)[0]
            va, vb = tree.nodes[a].value, tree.nodes[b].value
            problems.append(
                f"{len(missing)} pair(s) missing, e.g. ({a}, {b}): siblings under #{tree.nodes[a].parent_id} "
                f"with values {va:.2f} and {vb:.2f}"
            )
        if extra:
            a, b = sorted(extra)[0]
            problems.append(f"{len(extra)} pair(s) too many, e.g. ({a}, {b}): {_why_extra(tree, a, b, gap)}")
        c.point(
            not problems,
            f"{label}: all {len(want)} pair(s) match dpo_pairs",
            f"{label}: {'; '.join(problems)}",
        )
    return c.result()
