"""CodeAct: code actions in a sandboxed kernel, the answer format, the safety rule for the `process`
level, tools and act() as kernel functions, the demo model (with self-debugging), kernel replay on
rewind and resume, and closing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbench import Session, tool
from workbench.envs import game24, gridworld
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.llm.scripted import ScriptedModel
from workbench.sandbox import levels as levels_mod
from workbench.strategies.codeact import CodeAct, choose_level, parse_codeact, signature
from workbench.tools import ToolEnv


def run_code(code: str, thought: str = "I run code.") -> str:
    """An answer as a model with stop=["</execute>"] returns it: the closing tag is cut off."""
    return f"Thought: {thought}\n<execute>\n{code}\n"


# ---- pure parts -----------------------------------------------------------------------------


def test_parse_codeact_blocks_and_thoughts() -> None:
    cut = parse_codeact("Thought: add them\n<execute>\nprint(1 + 1)\n")
    assert cut.code == "print(1 + 1)" and cut.thought == "add them" and cut.error is None
    assert cut.raw.endswith("print(1 + 1)\n</execute>")  # the stop's tag is put back
    closed = parse_codeact("<thought>check it</thought>\n<execute>x = 1</execute>")
    assert closed.code == "x = 1" and closed.thought == "check it" and closed.raw.endswith("</execute>")
    solution = parse_codeact("It is 42.\n<solution> 42 </solution>")
    assert solution.solution == "42" and solution.code is None and solution.thought == "It is 42."
    fenced = parse_codeact("<execute>\n```python\nprint(2)\n```\n</execute>")
    assert fenced.code == "print(2)"
    bare = parse_codeact("Let me see.\n```python\nprint(3)\n```")
    assert bare.code == "print(3)"
    first = parse_codeact("<solution>a</solution> then <execute>print(1)</execute>")
    assert first.solution == "a" and first.code is None
    for bad in ("", "I would print something", "<execute>\n</execute>", None):
        answer = parse_codeact(bad)
        assert answer.error and answer.code is None and answer.solution is None
    planned = parse_codeact("Thought: go\n<execute>print(1)</execute>\nPlan:\n1. [>] look\n2. [ ] solve")
    assert planned.plan is not None and [p["text"] for p in planned.plan] == ["look", "solve"]


def test_process_level_only_for_the_simulated_model_or_on_request() -> None:
    both, only_process = ["bwrap", "process"], ["process"]
    assert choose_level(both, False, "auto") == "bwrap"
    assert choose_level(both, True, "auto") == "bwrap"
    assert choose_level(only_process, True, "auto") == "process"  # the demo model may fall back
    assert choose_level(only_process, False, "process") == "process"  # an explicit opt-in
    assert choose_level(both, False, "process") == "process"
    with pytest.raises(ConfigError, match="sandbox='process'"):
        choose_level(only_process, False, "auto")  # a real model never falls back silently
    with pytest.raises(ConfigError, match="bubblewrap"):
        choose_level(only_process, True, "bwrap")
    with pytest.raises(ConfigError, match="sandbox must be one of"):
        choose_level(both, True, "docker")
    with pytest.raises(ConfigError, match="sandbox must be one of"):
        CodeAct(sandbox="docker")
    with pytest.raises(ConfigError, match="max_solutions"):
        CodeAct(max_solutions=0)


class RealScripted(ScriptedModel):
    """A scripted model that says it is a real one."""

    simulated = False


def test_real_model_without_bwrap_asks_for_an_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(levels_mod, "sandbox_levels", lambda: ["process"])
    s = Session(env="game24", model=RealScripted([run_code("print(1)")]), strategy="codeact")
    with pytest.raises(ConfigError, match="sandbox='process'"):
        s.step()
    assert s.strategy.sandbox is None and "sandbox" not in s.tree.config  # no kernel was started
    s.close()


def test_signature_and_system_prompt_list_the_kernel_functions() -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "default": 1}},
        "required": ["city"],
    }
    assert signature("forecast", schema) == "forecast(city: str, days: int = 1) -> str"
    s = Session(env="game24", model=ScriptedModel(["<solution>answer: 1</solution>"]), strategy="codeact")
    prompt = s.strategy.system_prompt(s)
    assert "<execute>" in prompt and "act(action: str) -> str" in prompt and "answer:" in prompt
    s.close()


def test_malformed_answer_is_an_error_node_without_a_kernel() -> None:
    s = Session(env="game24", model=ScriptedModel(["I am not sure."]), strategy="codeact")
    node = s.step()
    assert node.status == "error" and "<execute>" in node.observation
    assert s.strategy.sandbox is None
    s.close()


# ---- with a kernel ----------------------------------------------------------------------------


@pytest.mark.slow
def test_scripted_code_runs_in_another_process_with_state_and_a_budget() -> None:
    answers = [
        run_code("import os\npid = os.getpid()\nprint(pid)"),
        run_code("print(pid + 0 == os.getpid())\n1 / 0"),
        "Thought: done\n<solution>answer: 1</solution>",
    ]
    model = ScriptedModel(answers)
    s = Session(env="game24", model=model, strategy="codeact", max_steps=3, max_solutions=1)
    try:
        first = s.step()
        assert first.info["kind"] == "code" and first.action == "import os\npid = os.getpid()\nprint(pid)"
        assert int(first.observation) != os.getpid()  # the code ran in the sandbox's process
        assert first.raw.endswith("</execute>")
        assert first.info["code"]["level"] == s.tree.config["sandbox"] == s.strategy.sandbox.level
        assert first.info["env_actions"] == [] and first.executed
        assert (
            "You have 3 steps left and 1 chances to propose solution left."
            in model.requests[0][-1]["content"]
        )
        second = s.step()
        assert second.observation.startswith("True") and "ZeroDivisionError" in second.observation
        assert second.info["code"]["error"] == "ZeroDivisionError"
        assert "You have 2 steps left" in model.requests[1][-1]["content"]
        third = s.step()  # "answer: 1" is sent to game24 as an action: invalid, one chance used
        assert third.info["kind"] == "solution" and third.action == "solution: answer: 1"
        assert "Invalid action" in third.observation and third.info["env_actions"] == ["answer: 1"]
        assert s.done and s.tree.outcome == "failure"  # the only chance was used
    finally:
        s.close()


@pytest.mark.slow
def test_demo_solves_game24_in_code() -> None:
    s = Session(env="game24", model=Model("workbench/demo", error_rate=0.0), strategy="codeact", seed=5)
    try:
        nodes = s.run(max_steps=6)
        assert s.tree.outcome == "success"
        assert nodes[0].info["kind"] == "code" and "24" in nodes[0].observation
        assert nodes[-1].info["kind"] == "solution" and nodes[-1].action.startswith("solution: answer:")
        assert s.tree.config["sandbox"] in levels_mod.sandbox_levels()
    finally:
        s.close()


@pytest.mark.slow
def test_demo_debugs_its_first_cell_from_the_traceback() -> None:
    # error_rate=1.0: the first cell always has a bug; the fix is never buggy
    s = Session(env="game24", model=Model("workbench/demo", error_rate=1.0), strategy="codeact", seed=12)
    try:
        s.run(max_steps=6)
        first, second = s.tree.nodes[1], s.tree.nodes[2]
        assert first.info["code"]["error"] in ("NameError", "SyntaxError")
        assert first.info["code"]["error"] in first.observation  # the traceback is the observation
        assert second.info["kind"] == "code" and second.info["code"]["error"] is None
        assert "traceback says" in second.thought and first.info["code"]["error"] in second.thought
        assert "= 24" in second.observation
        assert s.tree.outcome == "success"
    finally:
        s.close()


@pytest.mark.slow
def test_demo_walks_gridworld_through_act() -> None:
    s = Session(env="gridworld", model=Model("workbench/demo", error_rate=0.0), strategy="codeact", seed=1)
    try:
        s.run(max_steps=20)
        assert s.tree.outcome == "success"
        path = s.tree.path()[1:]
        actions = [a for n in path for a in n.info["env_actions"]]
        assert all(len(n.info["env_actions"]) >= 1 for n in path)
        for node in path:  # each act() call is recorded with its text action
            assert [r["name"] for r in node.info["tool_calls"]] == ["act"] * len(node.info["env_actions"])
            assert [r["env_action"] for r in node.info["tool_calls"]] == node.info["env_actions"]
            assert (
                node.info["tool_calls"][-1]["result"].strip() in node.observation
            )  # printed, not duplicated
        env = gridworld.GridWorld(seed=1)
        env.reset(seed=1)
        for action in actions:  # a replay from reset reaches the goal too
            env.step(action)
        assert env.terminated
        assert not any(n.info.get("diverged") for n in path)
    finally:
        s.close()


weather_calls: list[str] = []
emails: list[str] = []


@tool
def get_weather(city: str) -> str:
    """The current temperature in a city."""
    weather_calls.append(city)
    return f"{ {'Paris': 18, 'Rome': 24}.get(city, 10) } C in {city}"


@tool(destructive=True)
def send_email(to: str, body: str) -> str:
    """Send an email (cannot be undone)."""
    emails.append(to)
    return f"sent to {to}"


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}")


@pytest.mark.slow
def test_tool_env_tools_are_kernel_functions_recorded_and_never_rerun_on_replay() -> None:
    weather_calls.clear()
    emails.clear()
    env = ToolEnv([get_weather, send_email, explode], task="Which is warmer?", check=lambda a: a == "Rome")
    answers = [
        run_code(
            'p = get_weather("Paris")\nr = get_weather(city="Rome")\nsend_email("me@x.org", r)\nprint(p, r)'
        ),
        run_code('try:\n    explode("now")\nexcept Exception as e:\n    print(type(e).__name__, e)'),
        run_code("print(r.upper())"),
        "Thought: Rome is warmer.\n<solution>Rome</solution>",
    ]
    s = Session(env=env, model=ScriptedModel(answers), strategy="codeact")
    try:
        proposed = s.step()  # the cell calls send_email, a destructive tool: the default gate asks
        assert not proposed.executed and s.pending_approval.proposal.kind == "code" and not emails
        first = s.approve()
        assert first is proposed and first.executed
        assert first.observation == "18 C in Paris 24 C in Rome"
        records = first.info["tool_calls"]
        assert [r["name"] for r in records] == ["get_weather", "get_weather", "send_email"]
        assert records[0]["args"] == {"city": "Paris"} and records[2]["destructive"] is True
        assert set(records[0]) >= {
            "id",
            "name",
            "arguments",
            "args",
            "result",
            "error",
            "duration",
            "destructive",
        }
        assert first.info["kind"] == "code"
        second = s.step()
        assert second.observation == "ToolError RuntimeError: boom: now"
        assert second.info["tool_calls"][0]["error"] == "RuntimeError: boom: now"
        s.rewind(1)  # the kernel ran cells 1 and 2: it restarts and replays cell 1 only
        asked = s.step()  # cell 1 was approved once: replaying it asks again first
        assert asked.id == 1 and s.pending_approval.replay == [1] and s.status == "waiting"
        assert s.approve() is None and s.pending_approval is None
        third = s.step()
        assert third.parent_id == 1 and third.observation == "24 C IN ROME"  # r came back by replay
        assert weather_calls == ["Paris", "Rome"] and emails == ["me@x.org"]  # nothing ran twice
        assert not s.tree.nodes[1].info.get("diverged")
        final = s.step()
        assert final.info["kind"] == "solution" and final.terminal and final.reward == 1.0
        assert final.info["answer"] == "Rome" and s.tree.outcome == "success"
    finally:
        s.close()


@pytest.mark.slow
def test_rewind_replays_cells_in_a_fresh_kernel_and_flags_a_changed_output(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "value.txt").write_text("21")
    answers = [
        run_code('x = 21\nprint(open("value.txt").read())'),
        run_code("x = x + 1\nprint(x)"),
        run_code("print(x * 2)"),
    ]
    s = Session(env="game24", model=ScriptedModel(answers), strategy="codeact", workdir=str(work))
    errors = []
    s.subscribe(lambda e: errors.append(e) if type(e).__name__ == "Error" else None)
    try:
        assert s.step().observation == "21"
        assert s.step().observation == "22"
        pid = s.strategy.sandbox.kernel_pid
        (work / "value.txt").unlink()  # cell 1's output will differ when it is replayed
        s.rewind(1)
        node = s.step()
        assert node.parent_id == 1 and node.observation == "42"  # x = 21 again, not 22
        assert s.strategy.sandbox.kernel_pid != pid  # a fresh kernel
        diverged = s.tree.nodes[1].info["diverged"]
        assert "FileNotFoundError" in diverged["replayed"]
        assert not s.tree.nodes[2].info.get("diverged")  # not on the new path: not replayed
        assert any(getattr(e, "error_type", "") == "ReplayDiverged" and e.node_id == 1 for e in errors)
    finally:
        s.close()


@pytest.mark.slow
def test_close_leaves_no_kernel_process() -> None:
    s = Session(
        env="game24",
        model=ScriptedModel([run_code("import subprocess\nsubprocess.Popen(['sleep', '300'])")]),
        strategy="codeact",
    )
    s.step()
    sandbox = s.strategy.sandbox
    pids = levels_mod.sandbox_pids(sandbox.kernel_pid, sandbox._uid)
    assert len(pids) >= 3
    s.close()
    s.close()
    assert not [pid for pid in pids if not levels_mod.is_zombie(pid)]
    assert s.strategy.sandbox is None


@pytest.mark.slow
def test_resume_from_the_store_replays_the_kernel_and_goes_on(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    s = Session(env="game24", model=ScriptedModel([run_code("x = 6 * 7")]), strategy="codeact", store=store)
    node = s.step()
    assert node.observation == "[Executed Successfully with No Output]"
    run_id, level = s.run_id, s.tree.config["sandbox"]
    s.close()
    assert [game24.fmt(n) for n in game24.Game24(seed=0).numbers] == ["1", "2", "3", "4"]
    answers = [run_code("print(x)"), "<solution>answer: (1 + 2 + 3) * 4</solution>"]
    resumed = Session.resume(run_id, store=store, model=ScriptedModel(answers))
    try:
        assert isinstance(resumed.strategy, CodeAct) and resumed.tree.config["sandbox"] == level
        again = resumed.step()
        assert again.parent_id == node.id and again.observation == "42"  # cell 1 was replayed
        assert resumed.step().reward == 1.0 and resumed.tree.outcome == "success"
    finally:
        resumed.close()


@pytest.mark.slow
def test_a_step_whose_kernel_and_env_replays_need_consent_keeps_its_model_call() -> None:
    """Reaching an approved cell that acted in an env without snapshots replays it twice (the
    kernel's cell and the env's actions). One consent covers both, and the step's model call is
    recorded on the node it makes (it used to be dropped when the env replay asked again)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from toys import Counter

    from workbench.oversight.gates import Gate

    answers = [
        run_code('print(act("inc"))'),
        run_code('print("looked")'),
        run_code('print("after the rewind")'),
    ]
    model = ScriptedModel(answers)
    s = Session(
        env=Counter(goal=100, snapshots=False), model=model, strategy="codeact", gates=[Gate.code(r"\bact\(")]
    )
    try:
        s.step()
        first = s.approve()  # the cell that acts in the env, approved once
        assert first.executed and first.observation.strip() == "n=1"
        s.step()
        s.rewind(first.id)  # the kernel and the env both replay cell 1 to get back there
        asked = s.step()
        assert asked.id == first.id and s.pending_approval.replay == [first.id]
        assert len(model.requests) == 2  # asked before any model call
        assert s.approve() is None
        node = s.step()
        assert s.pending_approval is None, s.pending_approval  # one consent for both replays
        assert node.parent_id == first.id and node.observation.strip() == "after the rewind"
        assert len(model.requests) == 3 and len(node.llm_calls) == 1
        assert node.llm_calls[0].response == answers[2]  # this step's model call, on its node
    finally:
        s.close()
