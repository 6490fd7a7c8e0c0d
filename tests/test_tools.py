"""Bring your own tools: @tool schemas, ToolEnv, native function calling over real HTTP, the text
format, rewind and replay over tool calls, and the demo model's action tools."""

from __future__ import annotations

import asyncio
import json

import pytest

from workbench import Session, tool
from workbench.errors import ConfigError
from workbench.llm.model import Model
from workbench.llm.scripted import ScriptedModel
from workbench.store.sqlite import RunStore
from workbench.tools import FINAL_ANSWER, ToolCall, ToolEnv


@tool
def get_weather(city: str, unit: str = "C") -> str:
    """The current weather in a city.

    Args:
        city: the city's name, e.g. "Paris"
        unit: "C" or "F"
    """
    calls.append(("get_weather", city))
    return f"{ {'Paris': 18, 'Rome': 24}.get(city, 10) } {unit} in {city}"


@tool
async def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    calls.append(("add", a, b))
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}")


@tool(destructive=True)
def send_email(to: str, body: str) -> str:
    """Send an email (cannot be undone)."""
    calls.append(("send_email", to))
    return f"sent to {to}"


calls: list[tuple] = []


@pytest.fixture(autouse=True)
def _clear_calls():
    calls.clear()


def native(*items: tuple[str, dict | str]) -> dict:
    """A loopback-server behaviour answering with tool calls."""
    return {
        "tool_calls": [
            {
                "id": f"call_{i}",
                "name": name,
                "arguments": args if isinstance(args, str) else json.dumps(args),
            }
            for i, (name, args) in enumerate(items)
        ]
    }


# --- @tool ------------------------------------------------------------------------------------------


def test_tool_schema_comes_from_signature_and_docstring():
    spec = get_weather.spec()["function"]
    assert spec["name"] == "get_weather" and spec["description"] == "The current weather in a city."
    params = spec["parameters"]
    assert params["required"] == ["city"] and params["additionalProperties"] is False
    assert params["properties"]["city"] == {"type": "string", "description": 'the city\'s name, e.g. "Paris"'}
    assert params["properties"]["unit"]["default"] == "C"
    assert get_weather("Rome") == "24 C in Rome"  # still the plain function


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ('{"unit": "F"}', "missing argument 'city'"),
        ('{"city": "Paris", "days": 3}', "unknown argument 'days'"),
        ('{"city": ["Paris"]}', "'city': Input should be a valid string"),
        ('{"city": "Paris"', "not valid JSON"),
        ("[1, 2]", "takes a JSON object"),
    ],
)
def test_argument_errors_become_observations_the_agent_can_read(arguments, says):
    env = ToolEnv([get_weather])
    env.reset()
    obs, reward, done, _, info = env.step(ToolCall("get_weather", arguments))
    assert (
        obs.startswith("Error: ")
        and says in obs
        and "Expected get_weather(city: string" in obs
        or "JSON" in obs
    )
    assert (reward, done) == (0.0, False) and info["tool_calls"][0]["error"] and not calls


def test_unknown_tool_and_tool_exception_are_observations():
    env = ToolEnv([explode, add])
    env.reset()
    obs, *_ = env.step(ToolCall("nope", "{}"))
    assert "unknown tool 'nope'" in obs and "add" in obs
    obs, *_, info = env.step(ToolCall("explode", '{"reason": "x"}'))
    assert obs == "Error: explode raised RuntimeError: boom: x"
    assert info["tool_calls"][0]["error"] == "RuntimeError: boom: x"


def test_parallel_calls_run_concurrently_and_answer_in_order():
    started: list[str] = []
    gate = asyncio.Event()

    @tool
    async def first() -> str:
        """Waits for the second call to start."""
        started.append("first")
        await gate.wait()
        return "one"

    @tool
    async def second() -> str:
        """Releases the first."""
        started.append("second")
        gate.set()
        return "two"

    env = ToolEnv([first, second])
    env.reset()
    obs, _, _, _, info = asyncio.run(env.astep([ToolCall("first", "{}", "a"), ToolCall("second", "{}", "b")]))
    assert [r["result"] for r in info["tool_calls"]] == ["one", "two"]
    assert obs == "Result of first (call 1):\none\n\nResult of second (call 2):\ntwo"
    assert all(r["duration"] >= 0 for r in info["tool_calls"])


def test_final_answer_ends_the_episode_with_the_checked_reward():
    env = ToolEnv([add], check=lambda answer: answer.strip() == "5")
    env.reset()
    obs, reward, done, _, info = env.step(ToolCall(FINAL_ANSWER, '{"answer": "5"}'))
    assert (reward, done, info["checked"], info["answer"]) == (1.0, True, True, "5")
    env.reset()
    assert env.step(ToolCall(FINAL_ANSWER, '{"answer": "6"}'))[1] == 0.0
    unchecked = ToolEnv([add])
    unchecked.reset()
    assert unchecked.step(ToolCall(FINAL_ANSWER, '{"answer": "?"}'))[4]["checked"] is False


def test_duplicate_names_and_non_functions_are_config_errors():
    with pytest.raises(ConfigError, match="two tools are named 'add'"):
        ToolEnv([add, add])
    with pytest.raises(ConfigError, match="must be a function"):
        ToolEnv([42])


# --- native function calling over the real litellm HTTP path ----------------------------------------


def tool_session(server, **kw) -> Session:
    model = Model(
        "openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, function_calling=True
    )
    return Session(tools=[get_weather, add], task="Is it warmer in Paris or Rome?", model=model, **kw)


def test_native_single_call_over_http(server):
    server.script(native(("get_weather", {"city": "Paris"})))
    s = tool_session(server)
    node = s.step()
    assert node.action == 'get_weather({"city": "Paris"})' and node.tool == "get_weather"
    assert node.observation == "18 C in Paris" and node.info["kind"] == "tool"
    assert node.info["tool_format"] == "native"
    (record,) = node.info["tool_calls"]
    assert record["args"] == {"city": "Paris", "unit": "C"} and record["id"] == "call_0"
    sent = server.requests[0]
    assert {t["function"]["name"] for t in sent["tools"]} == {"get_weather", "add", FINAL_ANSWER}
    assert node.llm_calls[0].tool_calls[0]["name"] == "get_weather"


def test_native_parallel_calls_and_the_next_prompt_carries_tool_messages(server):
    server.script(
        native(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})),
        native((FINAL_ANSWER, {"answer": "Rome"})),
    )
    s = tool_session(server)
    first = s.step()
    assert [r["result"] for r in first.info["tool_calls"]] == ["18 C in Paris", "24 C in Rome"]
    last = s.step()
    assert last.terminal and s.tree.outcome == "success" and last.info["answer"] == "Rome"
    history = server.requests[1]["messages"]
    roles = [m["role"] for m in history]
    assert roles[-3:] == ["assistant", "tool", "tool"]
    assert [c["function"]["name"] for c in history[-3]["tool_calls"]] == ["get_weather", "get_weather"]
    assert [(m["tool_call_id"], m["content"]) for m in history[-2:]] == [
        ("call_0", "18 C in Paris"),
        ("call_1", "24 C in Rome"),
    ]


def test_malformed_native_arguments_are_an_observation_and_the_run_goes_on(server):
    server.script(native(("add", '{"a": 2, "b": ')), native(("add", {"a": 2, "b": 3})))
    s = tool_session(server)
    bad = s.step()
    assert "not valid JSON" in bad.observation and bad.status == "expanded" and not calls
    good = s.step()
    assert good.observation == "5" and calls == [("add", 2, 3)]


def test_text_format_when_the_model_has_no_function_calling(server):
    server.script(
        {"text": 'Thought: look it up\nAction: get_weather\nAction Input: {"city": "Rome"}'},
        {"text": 'Thought: x\nAction: add\nAction Input: {"a": 1}'},
    )
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0)
    s = Session(tools=[get_weather, add], model=model, task="weather")
    assert s.tool_mode() == "text"
    node = s.step()
    assert node.observation == "24 C in Rome" and node.info["tool_format"] == "text"
    system = server.requests[0]["messages"][0]["content"]
    assert "- get_weather(city: string, unit?: string): The current weather in a city." in system
    assert "Action Input:" in system and "tools" not in server.requests[0]
    assert "missing argument 'b'" in s.step().observation


# --- tools on a text env, rewind and replay -----------------------------------------------------------


def test_tools_compose_with_a_text_env():
    from toys import Counter, react

    answers = ['Thought: check\nAction: add\nAction Input: {"a": 1, "b": 1}', react("inc"), react("inc")]
    s = Session(env=Counter(), tools=[add], model=ScriptedModel(answers), tool_calling="text")
    assert s.step().observation == "2"
    assert s.step().observation == "n=1"  # a text action still goes to the env


def test_rewind_replays_recorded_results_and_never_reruns_tools(tmp_path):
    answers = [
        'Thought: a\nAction: get_weather\nAction Input: {"city": "Paris"}',
        'Thought: b\nAction: send_email\nAction Input: {"to": "x@y", "body": "hi"}',
        'Thought: c\nAction: add\nAction Input: {"a": 1, "b": 2}',
    ]
    s = Session(
        tools=[get_weather, send_email, add],
        model=ScriptedModel(answers),
        tool_calling="text",
        store=tmp_path / "runs.sqlite",
    )
    s.run(max_steps=2)  # send_email is destructive: the default gate asks first
    assert calls == [("get_weather", "Paris")] and s.pending_approval.node_id == 2
    s.approve()
    assert calls == [("get_weather", "Paris"), ("send_email", "x@y")]
    s.rewind(1)
    node = s.step()  # a sibling of node 2, from node 1's state
    assert node.parent_id == 1 and calls[-1] == ("add", 1, 2)
    assert [c for c in calls if c[0] != "add"] == [("get_weather", "Paris"), ("send_email", "x@y")]
    prompt = node.llm_calls[0].messages
    assert any("18 C in Paris" in str(m["content"]) for m in prompt)  # the recorded result is shown again
    report = s.replay_tools(2)  # re-execution on request: the destructive call is skipped
    assert [(r["name"], r.get("same"), r.get("skipped", "")[:11]) for r in report] == [
        ("get_weather", True, ""),
        ("send_email", None, "destructive"),
    ]
    assert calls.count(("send_email", "x@y")) == 1
    resumed = Session.resume(
        s.run_id,
        store=tmp_path / "runs.sqlite",
        tools=[get_weather, send_email, add],
        model=ScriptedModel(answers),
    )
    assert resumed.tree.nodes[1].info["tool_calls"][0]["result"] == "18 C in Paris"


def test_replay_tools_flags_a_result_that_changed():
    weather = {"Paris": "sunny"}

    @tool
    def forecast(city: str) -> str:
        """Changes between calls."""
        return weather[city]

    s = Session(
        tools=[forecast],
        model=ScriptedModel(['Thought: t\nAction: forecast({"city": "Paris"})']),
        tool_calling="text",
    )
    node = s.step()
    weather["Paris"] = "rain"
    (entry,) = s.replay_tools()
    assert entry["same"] is False and entry["result"] == "rain"
    assert node.info["diverged"] == {"call_0": "rain"}


# --- the demo model plays the built-in games through tools, in both formats --------------------------


@pytest.mark.parametrize("mode", ["native", "text"])
@pytest.mark.parametrize("env", ["game24-tools", "gridworld-tools"])
def test_demo_model_calls_the_action_tools(env, mode):
    model = Model("workbench/demo", error_rate=0.0, seed=12)
    s = Session(env=env, tool_calling=mode, seed=12, model=model, max_steps=40)
    s.run()
    assert s.tree.outcome == "success"
    steps = s.path()[1:]
    assert all(n.info["tool_format"] == mode for n in steps)
    assert all(n.info["env_actions"] for n in steps)
    assert s.config["model_label"] == "demo model (simulated)"
    if mode == "native":
        assert steps[0].llm_calls[0].tool_calls
    else:
        assert "Action Input:" in steps[0].raw


def test_demo_model_says_it_does_not_know_user_tools():
    s = Session(tools=[get_weather], task="weather in Paris?", tool_calling="native")
    node = s.step()
    assert node.terminal and "simulated demo model" in node.info["answer"]


def test_action_tools_replay_from_reset_when_snapshots_are_off():
    model = Model("workbench/demo", error_rate=0.0, seed=3)
    s = Session(env="gridworld-tools", tool_calling="native", seed=3, model=model)
    s.run(max_steps=4)
    s._snapshots.clear()  # force the replay path: env actions recorded on the nodes are stepped again
    s.rewind(2)
    node = s.step()
    assert node.parent_id == 2 and not any(n.info.get("diverged") for n in s.tree.nodes.values())
    assert s.tree.nodes[3].observation.split("Message:")[0] == node.observation.split("Message:")[0]


def test_run_store_keeps_tool_calls(tmp_path):
    s = Session(
        tools=[add],
        model=ScriptedModel(['Thought: t\nAction: add({"a": 2, "b": 2})']),
        tool_calling="text",
        store=tmp_path / "r.sqlite",
    )
    s.step()
    run = RunStore(tmp_path / "r.sqlite").load_run(s.run_id)
    assert run.nodes[1].info["tool_calls"][0]["result"] == "4"


def test_a_run_with_tools_on_a_named_env_resumes_with_both(tmp_path):
    from toys import react

    answers = [react("go east"), 'Thought: t\nAction: add\nAction Input: {"a": 1, "b": 2}']
    s = Session(
        env="gridworld",
        tools=[add],
        model=ScriptedModel(answers),
        tool_calling="text",
        store=tmp_path / "r.sqlite",
    )
    s.run(max_steps=2)
    resumed = Session.resume(s.run_id, store=tmp_path / "r.sqlite", tools=[add], model=ScriptedModel(answers))
    assert type(resumed.env.inner).__name__ == "GridWorld" and "add" in resumed.env.tools
    with pytest.raises(ConfigError, match="used an env object"):
        Session.resume(s.run_id, store=tmp_path / "r.sqlite", model=ScriptedModel(answers))


def test_a_failing_checker_keeps_the_answer_and_says_why():
    env = ToolEnv([add], check=lambda answer: 1 / 0)
    env.reset()
    _, reward, done, _, info = env.step(ToolCall(FINAL_ANSWER, '{"answer": "5"}'))
    assert (reward, done, info["checked"], info["answer"]) == (0.0, True, False, "5")
    assert info["check_error"] == "ZeroDivisionError: division by zero"
