"""plan-execute: the planner writes the plan, the executor works through its items, the replanner
revises after failures; nodes record their plan item; a user's plan edit redirects the next step."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.llm.scripted import ScriptedModel
from workbench.strategies.labels import CURRENT_ITEM, PLANNER_ROLE, REPLANNER_ROLE


def demo(seed: int = 0, error_rate: float = 0.0) -> Model:
    return Model("workbench/demo", seed=seed, error_rate=error_rate)


def system_of(call) -> str:
    return call.messages[0]["content"]


@pytest.mark.parametrize("env", ["gridworld", "game24"])
def test_the_planner_writes_the_plan_and_every_node_records_its_item(env: str):
    s = Session(env=env, strategy="plan-execute", model=demo(), seed=12, store=None)
    first = s.step()
    assert [c.role for c in first.llm_calls] == ["planner", "executor"]
    assert [c.purpose for c in first.llm_calls] == ["plan", "act"]
    assert PLANNER_ROLE in system_of(first.llm_calls[0])
    assert first.info["planned"] == "plan" and first.info["plan_version"] == 1
    assert len(s.plan) >= 1 and all(item.provenance == "agent" for item in s.plan)
    assert first.info["plan_item"]["position"] == 1
    assert f"{CURRENT_ITEM} 1: {first.info['plan_item']['text']}" in system_of(first.llm_calls[1])
    s.run(max_steps=60)
    assert s.tree.outcome == "success" and s.done
    steps = s.path()[1:]
    assert all(n.info.get("plan_item") for n in steps)
    assert all(item.status == "done" for item in s.plan)  # the executor ticked every item off
    assert sum(1 for n in steps if n.info.get("planned") == "plan") == 1
    positions = [n.info["plan_item"]["position"] for n in steps if n.info.get("plan_version") == 1]
    assert positions == sorted(positions)  # items are worked through in order
    if env == "game24":  # one move per item: each node's item is the move it played
        for node in steps:
            assert node.info["plan_item"]["text"].startswith(node.action)


def test_editing_the_current_item_redirects_the_next_step():
    s = Session(env="gridworld", strategy="plan-execute", model=demo(), seed=3, store=None)
    s.step()
    assert s.plan[1].text == "pick up the key"
    s.plan.edit(1, "go to the bottom-right corner")  # what the plan editor does (provenance user)
    node = s.step()
    executor = node.llm_calls[-1]
    assert node.llm_calls[0].role == "executor" and len(node.llm_calls) == 1  # no replanning
    assert f"{CURRENT_ITEM} 1: go to the bottom-right corner" in system_of(executor)
    assert node.info["plan_item"] == {"position": 1, "text": "go to the bottom-right corner"}
    assert "plan: edit 1" in node.info["used_user_edits"]
    assert "corner" in node.thought  # the executor now heads for the corner, not the key


def test_a_user_plan_before_the_first_step_is_used_without_a_planner_call():
    s = Session(env="gridworld", strategy="plan-execute", model=demo(), seed=3, store=None)
    s.plan.add("pick up the key")
    s.plan.add("reach the goal")
    node = s.step()
    assert [c.role for c in node.llm_calls] == ["executor"]
    assert node.info["plan_version"] == 0 and node.info["plan_item"]["position"] == 1


PLAN = "Thought: key first.\nPlan:\n1. [ ] pick up the key\n2. [ ] reach the goal"
REPLAN = "Thought: again.\nPlan:\n1. [ ] open the door\n2. [ ] reach the goal"


def test_an_invalid_action_makes_the_replanner_revise_the_plan():
    answers = [PLAN, "Thought: x\nAction: fly away", REPLAN, "Thought: y\nAction: go north"]
    s = Session(env="gridworld", strategy="plan-execute", model=ScriptedModel(answers), seed=3, store=None)
    first = s.step()
    assert "Invalid action" in first.observation
    s.plan.done(1)  # done items survive a replan
    second = s.step()
    assert [c.role for c in second.llm_calls] == ["replanner", "executor"]
    replanner = system_of(second.llm_calls[0])
    assert REPLANNER_ROLE in replanner and "Invalid action" in replanner
    assert second.info["planned"] == "replan" and "Invalid action" in second.info["replan_reason"]
    assert [(i.text, i.status) for i in s.plan] == [
        ("pick up the key", "done"),
        ("open the door", "doing"),
        ("reach the goal", "todo"),
    ]
    assert second.info["plan_item"] == {"position": 2, "text": "open the door"}
    assert second.info["plan_version"] == 2


def test_replans_are_capped_and_options_are_checked():
    answers = [PLAN, "Thought: x\nAction: fly away"]
    s = Session(
        env="gridworld", strategy="plan-execute", model=ScriptedModel(answers), seed=3, store=None, replans=0
    )
    s.step()
    assert [c.role for c in s.step().llm_calls] == ["executor"]
    with pytest.raises(ConfigError, match="item_steps"):
        Session(env="gridworld", strategy="plan-execute", store=None, item_steps=0)
    with pytest.raises(ConfigError, match="valid options: item_steps, replans"):
        Session(env="gridworld", strategy="plan-execute", store=None, reflections=2)


def test_resume_goes_on_with_the_same_plan_and_items(tmp_path: Path):
    path = tmp_path / "runs.sqlite"
    s = Session(env="game24", strategy="plan-execute", model=demo(), seed=12, store=path)
    s.run(max_steps=2)
    plan, run_id = s.plan.to_list(), s.run_id
    s.close()
    again = Session.resume(run_id, path)
    assert again.strategy.name == "plan-execute" and again.plan.to_list() == plan
    node = again.step()
    assert [c.role for c in node.llm_calls] == ["executor"]  # no second planner call
    assert node.info["plan_version"] == 1 and node.info["plan_item"]["position"] == 3
    again.run(max_steps=5)
    assert again.tree.outcome == "success"
    again.close()


def test_planner_and_executor_calls_go_over_http(server, server_model):
    def answer(body):
        system = body["messages"][0]["content"]
        if PLANNER_ROLE in system:
            return PLAN
        return "Thought: the key is near.\nAction: go north"

    server.responder = answer
    s = Session(env="gridworld", strategy="plan-execute", model=server_model, seed=3, store=None)
    node = s.step()
    assert len(server.requests) == 2
    assert PLANNER_ROLE in server.requests[0]["messages"][0]["content"]
    assert f"{CURRENT_ITEM} 1: pick up the key" in server.requests[1]["messages"][0]["content"]
    assert [c.role for c in node.llm_calls] == ["planner", "executor"]
    assert all(c.prompt_tokens > 0 for c in node.llm_calls) and node.action == "go north"
