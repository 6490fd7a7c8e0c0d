"""The search's incremental index agrees with a full rescan of the tree after any mix of search
steps and user steering (prune, pin, set_value, rewind, resume from the store)."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from search_toys import Letters, Sampled

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.store.sqlite import RunStore
from workbench.strategies.search.index import SearchIndex, View

STRATEGIES = ("best-first", "bfs", "dfs", "astar", "mcts")
OPTIONS: dict[str, dict[str, Any]] = {
    "best-first": {"n_samples": 3, "branching": 3, "value_samples": 1, "value": "score"},
    "bfs": {"n_samples": 3, "branching": 3, "value_samples": 1, "value": "score"},
    "dfs": {"n_samples": 3, "branching": 3, "value_samples": 1, "value": "score"},
    "astar": {"n_samples": 3, "branching": 3},
    "mcts": {"n_samples": 3, "branching": 3, "reflections": 2},
}


def answer(messages: list[dict[str, Any]], sample: int) -> str:
    """Action prompts: letter (hash + sample) mod 3; value, reflection and imagination prompts too."""
    system = str(messages[0].get("content", ""))
    last = str(messages[-1].get("content", ""))
    h = int.from_bytes(hashlib.blake2s(last.encode(), digest_size=2).digest(), "big")
    if "evaluate an agent" in system:
        return f"Thoughts: ok.\nScore: {1 + (h + sample) % 10}"
    if "failed attempt" in system:
        return "Reflection: try another letter first."
    if "imagine" in system.lower() or "remaining" in system.lower():
        return f"Remaining steps: {1 + h % 3}"
    return f"Thought: go.\nAction: {'abc'[(h + sample) % 3]}"


def make(strategy: str, store: Any = None) -> Session:
    return Session(
        env=Letters(goal="cab", length=4),
        model=Sampled(answer),
        strategy=strategy,
        store=store,
        max_expansions=8,
        max_depth=4,
        threshold=2.0,
        **OPTIONS[strategy],
    )


def agree(session: Session) -> None:
    strategy = session.strategy
    idx = strategy._index
    if idx is None:
        return
    assert isinstance(idx, SearchIndex)
    idx.refresh()
    ref = View(session, idx.scope.id, strategy)
    assert [n.id for n in idx.nodes] == [n.id for n in ref.nodes]
    assert [n.id for n in idx.open_nodes()] == [n.id for n in ref.open_nodes()]
    first, want = idx.first_open(), ref.first_open()
    assert (first.id if first else None) == (want.id if want else None)
    for node in session.tree.nodes.values():
        assert idx.selectable(node) == ref.selectable(node), node.id
        assert [c.id for c in idx.children(node)] == [c.id for c in ref.children(node)]
    assert [n.id for n in idx.pinned()] == [n.id for n in ref.pinned()]
    assert [n.id for n in idx.successes()] == [n.id for n in ref.successes()]
    assert [n.id for n in idx.reflections()] == [n.id for n in ref.reflections()]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["step", "step", "step", "prune", "pin", "value", "rewind", "resume"]),
        st.integers(0, 10**6),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(strategy=st.sampled_from(STRATEGIES), ops=OPS)
# known hard cases: a user's value on an expanded node re-orders its frontier children (best-first);
# a prune below a selectable MCTS node; a pin then a resume
@example(strategy="best-first", ops=[("step", 0), ("step", 0), ("value", 1)])
@example(strategy="mcts", ops=[("step", 0), ("step", 0), ("prune", 3), ("step", 0), ("rewind", 5)])
@example(strategy="astar", ops=[("step", 0), ("pin", 6), ("resume", 0), ("value", 3), ("step", 0)])
def test_incremental_index_agrees_with_a_full_rescan(tmp_path_factory: Any, strategy: str, ops: list) -> None:
    store = RunStore(tmp_path_factory.mktemp("idx") / "runs.sqlite")
    s = make(strategy, store)
    for op, k in ops:
        nodes = list(s.tree.nodes.values())
        if k % 2:  # half the time steer a node with children (its children's order may change)
            nodes = [n for n in nodes if s.tree.children(n.id)] or nodes
        pick = nodes[k // 2 % len(nodes)]
        if op == "step" and not s.done:
            s.step()
        elif op == "prune" and pick.id != 0:
            s.prune(pick.id)
        elif op == "pin":
            with contextlib.suppress(ConfigError):  # not a pinnable node
                s.pin(pick.id)
        elif op == "value":
            s.set_value(pick.id, (k % 11) / 10)
        elif op == "rewind" and pick.info.get("kind") != "provider":
            with contextlib.suppress(ConfigError):  # a node that is not a state
                s.rewind(pick.id)
        elif op == "resume":
            s = Session.resume(s.run_id, store, env=Letters(goal="cab", length=4), model=Sampled(answer))
            if not s.done:
                s.step()  # the resumed session builds its index from the stored tree
        agree(s)


def test_run_children_come_from_an_index_kept_with_the_tree() -> None:
    s = make("best-first")
    s.run(max_steps=4)
    for node in s.tree.nodes.values():
        scan = [n.id for n in s.tree.nodes.values() if n.parent_id == node.id]
        assert [c.id for c in s.tree.children(node.id)] == scan
    again = type(s.tree).from_dict(s.tree.to_dict())
    assert {i: [c.id for c in again.children(i)] for i in again.nodes} == {
        i: [c.id for c in s.tree.children(i)] for i in s.tree.nodes
    }
