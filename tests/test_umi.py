"""umi (alpha-UMi): the planner routes each step to the caller, the summarizer or gives up; each role
may have its own model; nodes and calls say which role made them."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.strategies.labels import UMI_CALLER_ROLE, UMI_PLANNER_ROLE, UMI_SUMMARIZER_ROLE
from workbench.strategies.umi import split_route
from workbench.viz.usage import usage_by_role

ROUTES = [
    ("The key is next. Next: caller.", "caller", "The key is next. Next: caller."),
    ("Done. Next: conclusion. trailing words", "summarizer", "Done. Next: conclusion."),
    ("All set.\nnext: Conclusion.", "summarizer", "All set.\nnext: Conclusion."),
    ("Stuck. Next: give up.", "give up", "Stuck. Next: give up."),
    # the official order: give up anywhere wins over conclusion, conclusion over caller
    (
        "Next: caller. Next: conclusion. Next: give up.",
        "give up",
        "Next: caller. Next: conclusion. Next: give up.",
    ),
    ("Next: caller. Next: conclusion.", "summarizer", "Next: caller. Next: conclusion."),
    ("I should move east.", "caller", "I should move east."),  # no routing line: the caller
    ("", "caller", ""),
]


@pytest.mark.parametrize(("text", "route", "rationale"), ROUTES)
def test_the_planner_answer_is_routed_by_alpha_umis_rule(text: str, route: str, rationale: str):
    assert split_route(text) == (rationale, route)


def demo(seed: int = 0, error_rate: float = 0.0) -> Model:
    return Model("workbench/demo", seed=seed, error_rate=error_rate)


@pytest.mark.parametrize("env", ["gridworld", "game24"])
def test_a_demo_run_ends_with_the_summarizer_and_every_node_names_its_role(env: str):
    s = Session(env=env, strategy="umi", model=demo(), seed=12, store=None)
    s.run(max_steps=80)
    assert s.done and s.tree.outcome == "success"
    steps = s.path()[1:]
    last = steps[-1]
    assert last.info["route"] == "summarizer" and last.info["role"] == "summarizer" and last.terminal
    assert [c.role for c in last.llm_calls] == ["planner", "summarizer"]
    assert last.info["final_answer"] and last.observation.startswith("Final answer:")
    assert last.reward == steps[-2].reward > 0  # the summary concludes the env's success
    for node in steps[:-1]:
        assert node.info["role"] == "caller" and [c.role for c in node.llm_calls] == ["planner", "caller"]
        assert [c.purpose for c in node.llm_calls] == ["plan", "act"]
        assert UMI_PLANNER_ROLE in node.llm_calls[0].messages[0]["content"]
        assert UMI_CALLER_ROLE in node.llm_calls[1].messages[0]["content"]
        assert node.info["rationale"] in node.llm_calls[1].messages[-1]["content"]
    with pytest.raises(ConfigError, match="finished"):
        s.step()


def test_the_planner_gives_up_when_24_is_out_of_reach():
    s = Session(env="game24", strategy="umi", model=demo(seed=0, error_rate=0.3), seed=0, store=None)
    s.run(max_steps=10)
    last = s.tree.current
    assert s.done and s.tree.outcome == "failure"
    assert last.info["route"] == "give up" and last.info["role"] == "planner"
    assert [c.role for c in last.llm_calls] == ["planner"] and last.terminal and last.reward == 0
    assert "cannot be made" in last.observation


def test_each_role_calls_its_own_model_over_http(server):
    def answer(body):
        system = body["messages"][0]["content"]
        if UMI_PLANNER_ROLE in system:
            done = any(
                "Observation" in str(m.get("content")) and "go north" in str(m) for m in body["messages"]
            )
            return "Thought: that was enough.\nNext: conclusion." if done else "Thought: move.\nNext: caller."
        if UMI_CALLER_ROLE in system:
            return "Thought: north it is.\nAction: go north"
        assert UMI_SUMMARIZER_ROLE in system
        return "Final answer: I moved north once."

    server.responder = answer
    kw = {"api_base": server.url, "api_key": server.api_key, "max_retries": 0, "timeout": 5.0}
    models = {role: Model(f"openai/{role}-model", **kw) for role in ("planner", "caller", "summarizer")}
    session_model = Model("openai/session-model", **kw)
    s = Session(env="gridworld", strategy="umi", model=session_model, models=models, seed=3, store=None)
    s.run(max_steps=4)
    sent = [r["model"] for r in server.requests]
    assert sent == ["planner-model", "caller-model", "planner-model", "summarizer-model"]
    calls = [c for n in s.path()[1:] for c in n.llm_calls]
    assert [(c.role, c.model) for c in calls] == [
        ("planner", "openai/planner-model"),
        ("caller", "openai/caller-model"),
        ("planner", "openai/planner-model"),
        ("summarizer", "openai/summarizer-model"),
    ]
    assert s.tree.current.info["final_answer"] == "I moved north once."
    split = usage_by_role(s.tree)
    assert [r["role"] for r in split] == ["planner", "caller", "summarizer"]
    assert [r["calls"] for r in split] == [2, 1, 1]
    assert sum(r["tokens"] for r in split) == s.tree.tokens and all(r["tokens"] > 0 for r in split)
    # the run keeps the roles' models without keys
    stored = s.config["strategy_options"]["models"]
    assert stored["caller"]["name"] == "openai/caller-model" and server.api_key not in str(stored)


def test_without_models_every_role_uses_the_session_model(server, server_model):
    server.responder = lambda body: "Thought: go.\nNext: give up."
    s = Session(env="gridworld", strategy="umi", model=server_model, seed=3, store=None)
    node = s.step()
    assert [r["model"] for r in server.requests] == ["loopback"] and node.info["route"] == "give up"
    assert s.config["strategy_options"]["models"] is None


def test_models_are_checked():
    with pytest.raises(ConfigError, match="no role critic; valid roles: planner, caller, summarizer"):
        Session(env="gridworld", strategy="umi", store=None, models={"critic": "workbench/demo"})
    with pytest.raises(ConfigError, match="models must be a dict"):
        Session(env="gridworld", strategy="umi", store=None, models="workbench/demo")
    with pytest.raises(ConfigError, match="caller model must be a litellm model string"):
        Session(env="gridworld", strategy="umi", store=None, models={"caller": 3})


def test_resume_calls_the_same_role_models(tmp_path: Path):
    path = tmp_path / "runs.sqlite"
    models = {"caller": "workbench/demo", "summarizer": {"name": "workbench/demo", "error_rate": 0.0}}
    s = Session(env="game24", strategy="umi", model=demo(), models=models, seed=12, store=path)
    s.run(max_steps=2)
    run_id = s.run_id
    s.close()
    again = Session.resume(run_id, path)
    assert again.strategy.config["models"] == models
    again.run(max_steps=5)
    assert again.done and again.tree.outcome == "success"
    assert [c.role for c in again.tree.current.llm_calls] == ["planner", "summarizer"]
    again.close()
