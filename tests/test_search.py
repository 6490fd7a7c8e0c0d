"""Frontier searches (best-first, BFS, DFS) and the search engine: order, steering, budgets, resume."""

from __future__ import annotations

import asyncio

import pytest
from search_toys import Gate, Letters, Sampled, cycle, prefix_value, react, shape

from workbench.core import events as ev
from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.strategies.base import make_strategy

TOY = dict(branching=3, n_samples=6, max_depth=3)


def search(strategy: str = "best-first", env: Letters | None = None, model=None, **kw) -> Session:
    options = {**TOY, "value": prefix_value(), **kw}
    return Session(
        env=env or Letters(), model=model or Sampled(cycle("a", "b", "c")), strategy=strategy, **options
    )


def words(session: Session, nodes) -> list[str]:
    return ["".join(n.action for n in session.tree.path(node.id)[1:]) for node in nodes]


def pop_order(session: Session) -> list[str]:
    popped = [n for n in session.tree.nodes.values() if n.info.get("expanded_at")]
    return words(session, sorted(popped, key=lambda n: n.info["expanded_at"]))


def test_best_first_follows_the_parent_value_heap_and_commits_the_optimal_path():
    s = search(max_expansions=10)
    s.run()
    # root children share the prior 0.5; "a" scores 0 so its children wait; "b" scores 0.3 ...
    assert pop_order(s) == ["a", "b", "c", "ba", "baa", "bab", "bac"]
    assert s.done and s.tree.outcome == "success" and s.status == "done"
    assert words(s, [s.cursor]) == ["bac"] and [n.action for n in s.best_path()[1:]] == ["b", "a", "c"]
    state = s.strategy.state(s)
    assert (state["expansions"], state["reason"], state["committed"]) == (7, "threshold", s.cursor.id)
    # children are not scored until popped, and carry the parent's value as their priority
    ba = next(n for n in s.tree.nodes.values() if words(s, [n]) == ["ba"])
    kids = s.tree.children(ba.id)
    assert [k.info["prior"] for k in kids] == [0.6, 0.6, 0.6]
    assert all(k.info["count"] == 2 and k.info["probability"] == pytest.approx(1 / 3) for k in kids)
    assert next(n for n in s.tree.nodes.values() if words(s, [n]) == ["bb"]).value is None
    with pytest.raises(ConfigError, match="finished"):
        s.step()


def test_bfs_is_level_order_and_dfs_goes_deep_first():
    bfs = search("bfs", max_expansions=40)
    bfs.run()
    assert pop_order(bfs)[:12] == ["a", "b", "c", "aa", "ab", "ac", "ba", "bb", "bc", "ca", "cb", "cc"]
    assert pop_order(bfs)[-1] == "bac" and len(pop_order(bfs)) == 24 and bfs.tree.outcome == "success"
    dfs = search("dfs", max_expansions=40)
    dfs.run()
    assert pop_order(dfs)[:7] == ["a", "aa", "aaa", "aab", "aac", "ab", "aba"]
    assert pop_order(dfs)[-4:] == ["b", "ba", "baa", "bab", "bac"][-4:] and len(pop_order(dfs)) == 18


def test_one_step_is_one_expansion_and_stepping_equals_running():
    stepped = search(max_expansions=10)
    nodes = []
    while not stepped.done:
        nodes.append(stepped.step())
    assert words(stepped, nodes) == ["a", "b", "c", "ba", "baa", "bab", "bac"]
    run = search(max_expansions=10)
    run.run(max_steps=3)  # paused after three expansions
    assert not run.done and run.strategy.state(run)["expansions"] == 3
    run.run()
    assert shape(stepped) == shape(run)


def test_pruned_nodes_are_never_expanded_nor_committed():
    s = search(max_expansions=30)
    s.step()  # pops "a"
    b = next(n for n in s.tree.children(0) if n.action == "b")
    assert s.prune(b.id) == [b.id]
    s.run()
    below_b = [b, *s.descendants(b.id)]
    assert all("expanded_at" not in n.info and not n.executed for n in below_b)
    assert b.status == "pruned" and s.tree.outcome == "failure"
    assert s.strategy.state(s)["reason"] == "frontier empty" and not words(s, [s.cursor])[0].startswith("b")


def test_pinned_nodes_go_first_and_the_pin_is_used_up():
    s = search()
    s.step()  # pops "a" (root children share the prior 0.5)
    c = next(n for n in s.tree.children(0) if n.action == "c")
    s.pin(c.id)
    assert s.step() is c and c.info["pinned"] is False and c.info["expanded_at"] == 2
    # a pinned node that is already expanded gives its best frontier child
    a = next(n for n in s.tree.children(0) if n.action == "a")
    s.pin(a.id)
    assert words(s, [s.step()]) == ["aa"]


def test_set_value_reorders_the_frontier_and_is_never_overwritten():
    s = search()
    s.step()  # "a" scored 0.0
    c = next(n for n in s.tree.children(0) if n.action == "c")
    s.set_value(c.id, 0.9)  # a frontier node: the user's value is its priority
    assert s.step() is c and c.value == 0.9 and c.info["value_by"] == "user"
    a = next(n for n in s.tree.children(0) if n.action == "a")
    s.set_value(a.id, 0.95)  # an expanded node: its children's priority
    assert words(s, [s.step()]) == ["aa"] and a.value == 0.95


def test_destructive_actions_are_never_executed():
    env = Letters()
    s = search(env=env, model=Sampled(cycle("a", "boom", "b", "c")), n_samples=8, branching=4)
    s.step()  # "boom" was proposed before any pattern was marked
    boom = next(n for n in s.tree.children(0) if n.action == "boom")
    assert boom.status == "frontier"
    s.mark_destructive(r"^boom$")
    s.run()
    assert "boom" not in env.log and not env.exploded
    blocked = [n for n in s.tree.nodes.values() if n.action == "boom"]
    assert all(not n.executed for n in blocked) and boom.status == "pruned"  # pruned when selected
    assert "destructive" in boom.observation
    proposed_after = [n for n in blocked if n.id > 8]  # marked before they were proposed
    assert len(proposed_after) >= 3 and all(n.status == "pruned" for n in proposed_after)
    assert s.tree.outcome == "success"


def test_the_concurrency_limit_holds_across_value_and_action_samples():
    async def main() -> None:
        model = Gate(cycle("a", "b", "c"), limit=3)
        s = Session(
            env=Letters(),
            model=model,
            strategy="best-first",
            concurrency=3,
            **TOY,
            value="judge",
            value_samples=4,
        )
        task = asyncio.create_task(s.astep())  # step 1: 6 action samples at the root
        await model.reached.wait()
        assert model.inflight == 3
        model.gate.set()
        await task
        assert model.peak == 3 and model.started == 6 + 6 + 4
        model.reset_gate()
        task = asyncio.create_task(s.astep())  # 4 value calls + 6 action samples in one batch
        await model.reached.wait()
        model.gate.set()
        await task
        assert model.peak == 3 and model.started == 10

    asyncio.run(main())


def test_budgets_and_stop_reasons():
    s = search(max_seconds=0)
    s.step()
    assert s.done and s.strategy.state(s)["reason"] == "max_seconds"
    s = search(max_tokens=1)
    s.step()
    assert s.done and s.strategy.state(s)["reason"] == "max_tokens" and s.tree.outcome == "failure"
    s = search(max_depth=1, max_expansions=10)  # three children, nothing below them
    nodes = s.run()
    assert len(nodes) == 3 and s.strategy.state(s)["reason"] == "frontier empty"
    s = search(max_expansions=2)
    s.run()
    assert s.strategy.state(s)["reason"] == "max_expansions" and s.cursor.action == "b"  # value 0.3 beats 0.0


def test_commit_publishes_cursor_and_finish_events():
    s = search(max_expansions=10)
    seen: list[ev.Event] = []
    s.subscribe(seen.append)
    s.run()
    kinds = [e.kind for e in seen]
    assert "NodeAdded" in kinds and "NodeUpdated" in kinds
    moved = [e for e in seen if isinstance(e, ev.CursorMoved)]
    finished = [e for e in seen if isinstance(e, ev.RunFinished)]
    assert [(e.node_id, e.provenance) for e in moved] == [(s.cursor.id, "agent")]
    assert [(e.node_id, e.outcome) for e in finished] == [(s.cursor.id, "success")]


def test_rewind_starts_a_new_round_below_that_node():
    s = search(max_expansions=2)
    s.run()
    first = s.cursor.id
    c = next(n for n in s.tree.children(0) if n.action == "c")
    s.rewind(c.id)
    assert not s.done
    s.run()
    state = s.strategy.state(s)
    assert state["round"] == 2 and state["scope"] == c.id and s.cursor.id != first
    assert words(s, [s.cursor])[0].startswith("c")


def test_a_stored_search_resumes_and_ends_as_an_uninterrupted_one(tmp_path):
    path = tmp_path / "runs.sqlite"
    whole = search(max_expansions=10)
    whole.run()
    part = search(max_expansions=10, store=path)
    part.run(max_steps=4)
    run_id = part.run_id
    part.store.close()
    with pytest.raises(ConfigError, match="value=prefix_value"):
        Session.resume(run_id, path, env=Letters(), model=Sampled(cycle("a", "b", "c"))).step()
    resumed = Session.resume(
        run_id, path, env=Letters(), model=Sampled(cycle("a", "b", "c")), value=prefix_value()
    )
    assert resumed.strategy.name == "best-first" and resumed.strategy.state(resumed)["expansions"] == 4
    resumed.run()
    assert shape(resumed) == shape(whole)
    assert resumed.tree.outcome == "success" and resumed.cursor.id == whole.cursor.id


def test_judge_values_are_recorded_on_the_node_that_was_judged():
    def answer(messages, sample):
        if "On the right track" in messages[0]["content"]:
            return "Thoughts: fine\nStatus: failure\nOn the right track: " + (
                "yes" if sample % 2 == 0 else "no"
            )
        return react("abc"[sample % 3])

    s = search(model=Sampled(answer), value="judge", value_samples=4, max_expansions=1)
    node = s.step()
    values = [c for c in node.llm_calls if c.purpose == "value"]
    assert (
        len(values) == 4 and node.value == 0.25 and node.info["value_detail"]["samples"] == [0.5, 0, 0.5, 0]
    )


def test_options_are_checked():
    with pytest.raises(ConfigError, match="valid options"):
        make_strategy("best-first", beam=3)
    with pytest.raises(ConfigError, match="branching"):
        make_strategy("bfs", branching=0)
    with pytest.raises(ConfigError, match="unknown value"):
        make_strategy("dfs", value="oracle")
    with pytest.raises(ConfigError, match="backup"):
        make_strategy("mcts", backup="median")
    with pytest.raises(ConfigError, match="alpha"):
        make_strategy("astar", alpha=2)


def test_a_cost_budget_holds_within_one_call_with_calls_in_flight():
    # 6 action samples and 4 value calls per expansion, 3 at once: the batch is sized to what is left
    model = Sampled(cycle("b", "a", "c"), cost_per_token=0.001)
    s = search(model=model, max_cost=0.05, concurrency=3, value="judge", value_samples=4)
    s.run()
    calls = [c for n in s.tree.nodes.values() for c in n.llm_calls]
    assert s.strategy.state(s)["reason"] == "max_cost" and s.done
    assert len(calls) == model.calls  # the calls cut short are kept on the node they were made for
    assert 0.05 <= s.tree.cost <= 0.05 + max(c.cost for c in calls)


def test_a_failed_commit_is_not_a_dead_end_resume_from_the_committed_node():
    # issue 10.1's repro: 2 expansions commit "b" (value 0.3, not terminal) with outcome failure
    s = search(max_expansions=2)
    s.run()
    committed = s.cursor
    assert s.done and s.tree.outcome == "failure" and not committed.terminal
    with pytest.raises(ConfigError, match=rf"rewind\({committed.id}\) searches on"):
        s.step()
    s.rewind(committed.id)  # "resume from here" on the committed node itself
    assert not s.done and s.tree.outcome is None
    s.run()
    state = s.strategy.state(s)
    assert state["round"] == 2 and state["scope"] == committed.id and words(s, [s.cursor]) == ["ba"]


def test_rounds_search_again_from_each_commit_until_a_terminal():
    s = search(max_expansions=2, rounds="terminal")
    seen: list[ev.Event] = []
    s.subscribe(seen.append)
    s.run()
    state = s.strategy.state(s)
    # round 1 commits "b", round 2 (from "b") commits "ba", round 3 reaches the terminal "bac"
    assert words(s, [s.cursor]) == ["bac"] and s.tree.outcome == "success" and s.done
    assert state["round"] == 3 and state["loop_round"] == 3 and state["final"]
    assert words(s, [s.tree.nodes[state["scope"]]]) == ["ba"]
    finished = [e for e in seen if isinstance(e, ev.RunFinished)]
    assert [(e.node_id, e.outcome) for e in finished] == [(s.cursor.id, "success")]  # once, at the end
    moves = [e.node_id for e in seen if isinstance(e, ev.CursorMoved)]
    assert words(s, [s.tree.nodes[i] for i in moves]) == ["b", "ba", "bac"]


def test_rounds_n_stops_after_n_rounds_and_a_rewind_starts_a_new_loop():
    s = search(max_expansions=1, rounds=2, value=lambda node, session: 0.1 * node.depth)
    s.run()
    state = s.strategy.state(s)
    assert s.done and s.tree.outcome == "failure" and (state["round"], state["loop_round"]) == (2, 2)
    assert s.cursor.depth == 2  # each round moved one level down
    s.rewind(s.cursor.id)
    s.run()
    state = s.strategy.state(s)
    assert (state["round"], state["loop_round"]) == (3, 1) and s.cursor.terminal  # a terminal ends a loop
    with pytest.raises(ConfigError, match="rounds must be"):
        make_strategy("mcts", rounds=0)
    with pytest.raises(ConfigError, match="rounds must be"):
        make_strategy("astar", rounds="forever")


def test_rewinding_to_a_pruned_node_says_so_and_unprune_brings_it_back():
    s = search(max_expansions=3)
    s.run(max_steps=2)
    c = next(n for n in s.tree.children(0) if n.action == "c")
    s.prune(c.id)
    with pytest.raises(ConfigError, match=rf"node {c.id} is pruned.*unprune\({c.id}\)"):
        s.rewind(c.id)
    b = next(n for n in s.tree.children(0) if n.action == "b")
    s.prune(b.id)
    below = s.tree.children(b.id)[0]
    with pytest.raises(ConfigError, match=rf"below pruned node {b.id}"):
        s.rewind(below.id)
    assert s.unprune(b.id)[0] == b.id and below.status == "frontier"
    with pytest.raises(ConfigError, match="not pruned"):
        s.unprune(b.id)
    s.rewind(below.id)
    s.run()
    assert s.strategy.state(s)["scope"] == below.id and s.tree.outcome is not None
