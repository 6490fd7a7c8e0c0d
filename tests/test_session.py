"""The stepping engine: step, run, pause, rewind, budgets, breakpoints, events, errors."""

from __future__ import annotations

import asyncio
import threading

import pytest
from toys import Counter, react

from workbench.core import events as ev
from workbench.core.session import Session
from workbench.core.tree import LLMCall, Run
from workbench.errors import BudgetExhausted, ConfigError, ProviderError
from workbench.llm.scripted import ScriptedModel


def session(answers, env=None, **kw) -> Session:
    return Session(env=env or Counter(), model=ScriptedModel(answers), **kw)


def test_step_returns_the_new_node_and_moves_the_cursor():
    s = session([react("inc", "one up")])
    node = s.step()
    assert (node.id, node.parent_id, node.depth) == (1, 0, 1)
    assert node.thought == "one up" and node.action == "inc" and node.tool == "inc"
    assert node.observation == "n=1" and node.executed and node.status == "expanded"
    assert s.tree.cursor == 1 and [n.id for n in s.tree.path()] == [0, 1]
    assert node.llm_calls[0].response == react("inc", "one up")
    assert s.tree.tokens == node.tokens > 0


def test_run_until_terminal_records_the_outcome():
    s = session([react("inc")])
    nodes = s.run()
    assert [n.observation for n in nodes] == ["n=1", "n=2", "n=3"]
    assert nodes[-1].terminal and nodes[-1].status == "terminal"
    assert s.tree.outcome == "success" and s.status == "done" and s.done
    with pytest.raises(ConfigError, match="finished"):
        s.step()


def test_malformed_answer_is_an_error_observation_the_agent_reads_next():
    model = ScriptedModel(["I think I should increment", react("inc")])
    s = Session(env=Counter(), model=model)
    bad = s.step()
    assert bad.status == "error" and bad.action is None and not bad.executed
    assert "Action:" in bad.observation
    assert s.tree.cursor == bad.id
    good = s.step()
    assert good.observation == "n=1"  # the env did not move on the malformed step
    last_prompt = model.requests[-1]
    assert any("no `Action:` line" in m["content"] for m in last_prompt if m["role"] == "user")


def test_rewind_grows_a_sibling_branch_and_keeps_the_old_one():
    s = session([react("inc")])
    s.run(max_steps=2)
    s.rewind(1)
    new = s.step()
    assert new.parent_id == 1 and new.id == 3 and new.observation == "n=2"
    assert {n.id for n in s.tree.children(1)} == {2, 3}
    assert [n.id for n in s.tree.path()] == [0, 1, 3]
    with pytest.raises(ConfigError, match="valid ids"):
        s.rewind(99)


@pytest.mark.parametrize("snapshots", [True, False])
def test_rewind_restores_the_env_by_snapshot_or_replay(snapshots):
    env = Counter(goal=10, snapshots=snapshots)
    s = session([react("inc")], env=env)
    s.run(max_steps=4)
    s.rewind(2)
    assert s.step().observation == "n=3"
    if not snapshots:
        assert env.resets == 2  # replayed from reset


def test_rewind_restores_plan_and_memory_as_they_were():
    s = session([react("inc")])
    s.step()
    s.plan.add("first")
    s.step()
    s.plan.add("second")
    s.memory.pin("obs:1")
    s.rewind(1)
    assert [i.text for i in s.plan] == []
    assert "obs:1" not in s.memory.pinned
    s.rewind(2)
    assert [i.text for i in s.plan] == ["first"]


def test_plan_edit_reaches_the_very_next_prompt_and_is_marked():
    model = ScriptedModel([react("inc")])
    s = Session(env=Counter(goal=9), model=model)
    seen = []
    s.subscribe(lambda e: seen.append(e) if isinstance(e, ev.PlanEdited) else None)
    s.step()
    s.plan.add("check the counter twice")
    node = s.step()
    assert "check the counter twice" in model.requests[-1][0]["content"]
    assert node.info["used_user_edits"] == ["plan: add 'check the counter twice'"]
    assert seen[-1].provenance == "user" and seen[-1].items[0]["text"] == "check the counter twice"
    assert "used_user_edits" not in s.step().info


def test_model_can_revise_the_plan_with_agent_provenance():
    s = session([react("inc") + "\nPlan:\n1. [x] start\n2. [>] count up\n3. [ ] stop at 3"])
    s.step()
    assert [(i.text, i.status, i.provenance) for i in s.plan] == [
        ("start", "done", "agent"),
        ("count up", "doing", "agent"),
        ("stop at 3", "todo", "agent"),
    ]


def test_step_budget_pauses_run_and_raises_on_step():
    s = session([react("inc")], env=Counter(goal=50), max_steps=3)
    paused = []
    s.subscribe(lambda e: paused.append(e.reason) if isinstance(e, ev.Paused) else None)
    assert len(s.run()) == 3 and paused == ["budget"] and s.status == "paused"
    with pytest.raises(BudgetExhausted, match="max_steps"):
        s.step()


def test_token_and_cost_budgets():
    s = Session(
        env=Counter(goal=50), model=ScriptedModel([react("inc")], cost_per_token=0.001), max_cost=0.05
    )
    nodes = s.run()
    assert s.tree.cost >= 0.05 and s.tree.cost - nodes[-1].cost < 0.05
    s2 = session([react("inc")], env=Counter(goal=50), max_tokens=200)
    s2.run()
    assert s2.tree.tokens >= 200 and s2.tree.tokens - s2.cursor.tokens < 200


@pytest.mark.parametrize(
    "kind,value,expected_stop",
    [("action", "^dec$", 2), ("tool", "dec", 2), ("tokens", 1, 1)],
)
def test_breakpoints_pause_after_the_matching_step(kind, value, expected_stop):
    s = session([react("inc"), react("dec"), react("inc")], env=Counter(goal=50))
    s.break_on(**{kind: value})
    hits = []
    s.subscribe(lambda e: hits.append(e) if isinstance(e, ev.BreakpointHit) else None)
    nodes = s.run(max_steps=10)
    assert len(nodes) == expected_stop and hits and hits[0].node_id == nodes[-1].id


def test_predicate_and_cost_breakpoints():
    s = Session(env=Counter(goal=50), model=ScriptedModel([react("inc")], cost_per_token=0.01))
    s.break_on(predicate=lambda node, run: node.observation == "n=4")
    assert s.run()[-1].observation == "n=4"
    s.clear_breakpoints()
    s.break_on(cost=s.tree.cost + 0.01)
    assert len(s.run(max_steps=10)) == 1
    assert len(s.run(max_steps=3)) == 3  # a cost threshold fires once
    with pytest.raises(ConfigError, match="exactly one"):
        s.break_on()


def test_until_predicate_or_regex():
    s = session([react("inc")], env=Counter(goal=50))
    assert len(s.run(until=lambda n: n.observation == "n=2")) == 2
    s2 = session([react("inc"), react("inc"), react("dec")], env=Counter(goal=50))
    assert [n.action for n in s2.run(until="dec")] == ["inc", "inc", "dec"]


def test_events_are_published_in_order():
    s = Session(env=Counter(), model=ScriptedModel([react("inc")]))
    kinds = []
    s.subscribe(lambda e: kinds.append(e.kind))
    s.step()
    assert kinds == ["StepStarted", "LLMCallFinished", "NodeAdded", "CursorMoved", "StepFinished"]


def test_a_broken_subscriber_does_not_stop_the_run():
    s = session([react("inc")])
    s.subscribe(lambda e: 1 / 0)
    assert len(s.run()) == 3
    assert s.events.errors


class FailingModel(ScriptedModel):
    def __init__(self, fail_times: int) -> None:
        super().__init__([react("inc")])
        self.fail_times = fail_times

    async def acomplete(self, messages, **kw):
        if self.fail_times > 0:
            self.fail_times -= 1
            err = ProviderError("the provider answered 500 three times; try again later")
            err.call = LLMCall(model="x", messages=messages, response="", error=str(err), attempts=3)
            raise err
        return await super().acomplete(messages, **kw)


def test_provider_error_becomes_an_error_node_and_the_run_survives():
    s = Session(env=Counter(), model=FailingModel(1))
    errors = []
    s.subscribe(lambda e: errors.append(e) if isinstance(e, ev.Error) else None)
    nodes = s.run()
    assert len(nodes) == 1 and nodes[0].status == "error" and nodes[0].info["kind"] == "provider"
    assert nodes[0].llm_calls[0].attempts == 3 and s.status == "error"
    assert s.tree.cursor == 0 and errors[0].error_type == "ProviderError"
    assert [n.observation for n in s.run()] == ["n=1", "n=2", "n=3"]  # the next run goes on
    with pytest.raises(ConfigError, match="provider error"):
        s.rewind(nodes[0].id)


def test_pause_from_another_thread_stops_after_the_step_in_flight():
    gate = threading.Event()
    s_holder = {}

    def answer(messages):
        if len(s_holder["s"].tree.nodes) == 3:
            s_holder["s"].pause()  # as a widget callback on another thread would
            gate.set()
        return react("inc")

    s = Session(env=Counter(goal=50), model=ScriptedModel(answer))
    s_holder["s"] = s
    nodes = s.run()
    assert gate.is_set() and len(nodes) == 3 and s.status == "paused"
    assert len(s.run(max_steps=2)) == 2  # a new run starts fresh


def test_async_forms_run_on_the_callers_loop():
    async def main():
        s = session([react("inc")])
        first = await s.astep()
        rest = await s.arun()
        return first, rest

    first, rest = asyncio.run(main())
    assert first.observation == "n=1" and rest[-1].terminal


def test_wrong_arguments_say_what_is_valid():
    with pytest.raises(ConfigError, match="valid: game24, game24-tools, gridworld"):
        Session(env="nope", model=ScriptedModel([]))
    with pytest.raises(ConfigError, match="valid: react"):
        Session(env=Counter(), strategy="nope", model=ScriptedModel([]))
    with pytest.raises(ConfigError, match="valid: full, window, diff, hierarchical"):
        Session(env=Counter(), memory="nope", model=ScriptedModel([]))
    with pytest.raises(ConfigError, match="max_steps"):
        Session(env=Counter(), max_steps=-1, model=ScriptedModel([]))
    with pytest.raises(ConfigError, match="not an environment"):
        Session(env=object(), model=ScriptedModel([]))


def test_run_tree_round_trips_through_json():
    import json

    s = session([react("inc")])
    s.run()
    data = json.loads(json.dumps(s.tree.to_dict()))
    again = Run.from_dict(data)
    assert again.to_dict() == s.tree.to_dict()
    assert again.tokens == s.tree.tokens and again.cost == s.tree.cost


def test_paths_follow_steps_rewinds_and_branches():
    s = session([react("inc")], env=Counter(goal=50))
    s.run(max_steps=5)

    def walked(node_id):
        out, node = [], s.tree.nodes[node_id]
        while node is not None:
            out.append(node.id)
            node = s.tree.nodes[node.parent_id] if node.parent_id is not None else None
        return out[::-1]

    assert [n.id for n in s.path()] == walked(5)
    s.rewind(2)
    assert [n.id for n in s.path()] == [0, 1, 2]
    s.run(max_steps=2)  # a branch from 2
    assert [n.id for n in s.path()] == walked(7) == [0, 1, 2, 6, 7]
    for node_id in (5, 3, 7, 0, 4, 6, 1):  # jumping between branches in any order
        assert [n.id for n in s.tree.path(node_id)] == walked(node_id)
    got = s.path()
    got.append(s.tree.nodes[5])  # a caller's list is its own: changing it changes no later path
    assert [n.id for n in s.path()] == [0, 1, 2, 6, 7]
