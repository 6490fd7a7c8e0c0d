"""Hardening (issue 8 items 5-11): hostile text, linear parsing, terminal escapes, secrets in config
and prompts, one validation helper for wrong arguments, and notebook friction.

The parser's 1 MB property run is a benchmark (`benchmarks/parse_linear.py`); here it keeps its answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError
from workbench.export.json import export_run
from workbench.llm.model import Model
from workbench.llm.scripted import ScriptedModel
from workbench.store.sqlite import RunStore
from workbench.strategies.parsing import parse_answer, parse_react


# --- item 6: the parser's answers on the shapes that used to be quadratic --------------------------
def test_long_runs_parse_to_the_same_answers():
    p = parse_react("Thought: t\nAction: go\nPlan:\n1. a" + " " * 2000 + "b")
    assert p.action == "go" and p.plan[0]["text"] == "a" + " " * 2000 + "b"
    assert parse_react("Action: go " + "_" * 2000 + "x").action == "go " + "_" * 2000 + "x"
    assert parse_react("Action: __go north__").action == "go north"
    assert parse_react("  **Action** :  **go north**").action == "go north"
    assert parse_react("Action" + " " * 2000 + "x").action is None
    p = parse_answer("Action: go" + " " * 2000 + "x", tools=["go"])
    assert p.tool_calls is None and p.action == "go" + " " * 2000 + "x"
    p = parse_answer('Action:   go({"to": "north"})   ', tools=["go"])
    assert p.tool_calls[0].name == "go" and p.tool_calls[0].arguments == '{"to": "north"}'


# --- item 5: lone surrogates are made valid UTF-8 where text enters, so every step is stored ---------
class Files:
    """An env listing a directory whose file name is not UTF-8 (as `os.fsdecode` hands it over)."""

    name = "files"
    task = "read the report"

    def reset(self, seed=None):
        return "files: " + os.fsdecode(b"report\xff.txt"), {"path": os.fsdecode(b"/tmp/report\xff.txt")}

    def step(self, action):
        return f"you did {action} on " + os.fsdecode(b"report\xff.txt"), 0.0, False, False, {}


def _stored_steps(store: RunStore, run_id: str) -> list:
    return [n for n in store.load_run(run_id).nodes.values() if n.parent_id is not None]


def test_surrogates_from_the_provider_and_the_env_over_http_do_not_lose_later_steps(tmp_path, server):
    answers = iter(["Thought: caf\ud800e\nAction: look caf\udcffe"])
    server.responder = lambda body: next(answers, "Thought: fine\nAction: look")
    model = Model("openai/loopback", api_base=server.url, api_key=server.api_key, max_retries=0, timeout=10)
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(task="caf\ud800 task", env=Files(), model=model, memory="full", store=store)
    nodes = s.run(max_steps=4)
    assert [n.info.get("kind") for n in nodes] == [None] * 4, [n.observation for n in nodes]
    assert len(server.requests) == 4  # every step's prompt went out (it encodes as UTF-8)
    stored = _stored_steps(store, s.run_id)
    assert len(stored) == 4 and all(n.status != "error" for n in stored)
    first = s.tree.nodes[1]
    assert first.thought == "caf\ufffde" and first.action == "look caf\ufffde"
    assert "report\ufffd.txt" in s.tree.nodes[0].observation and "report\ufffd.txt" in first.observation
    assert s.tree.task == "caf\ufffd task"
    loaded = store.load_run(s.run_id)
    assert loaded.nodes[0].info["env_info"]["path"] == "/tmp/report\ufffd.txt"
    for node in s.tree.nodes.values():
        json.dumps(node.to_dict(), ensure_ascii=False).encode("utf-8")  # valid UTF-8 everywhere
    store.close()


def test_user_edits_with_surrogates_are_stored(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(task="t", env="gridworld", model="workbench/demo", store=store)
    s.step()
    s.plan.add("check caf\ud800e")
    s.memory.add_note("note \udcff")
    s.step()
    loaded = store.load_run(s.run_id)
    assert len(loaded.nodes) == 3
    assert s.plan.to_list()[-1]["text"] == "check caf\ufffde"
    assert any(
        "note \ufffd" in json.dumps(e, ensure_ascii=False)
        for e in s.memory.state().get("notes", [s.memory.state()])
    )
    store.close()


# --- issue 9 item 4: the secrets are found once, not by a regex over the environment per event ----
def test_secret_set_is_cached_until_the_environment_changes(monkeypatch):
    from workbench.safety import redact as redaction
    from workbench.store.rows import current_secrets

    scans = []
    real = redaction._SECRET_NAME

    class Counting:
        def search(self, name):
            scans.append(name)
            return real.search(name)

    monkeypatch.setattr(redaction, "_SECRET_NAME", Counting())
    monkeypatch.setenv("HARDEN_TOKEN", "tok-" + "1" * 20)
    current_secrets()
    scans.clear()
    for _ in range(100):
        pairs = current_secrets()
    assert scans == []  # nothing changed: no scan at all
    assert ("tok-" + "1" * 20, "[REDACTED:HARDEN_TOKEN]") in pairs
    monkeypatch.setenv("HARDEN_TOKEN", "tok-" + "2" * 20)  # a changed value is seen at once
    assert redaction.redact("x tok-" + "2" * 20) == "x [REDACTED:HARDEN_TOKEN]"
    monkeypatch.setenv("LATE_API_KEY", "late-key-value")  # and a new variable
    assert redaction.redact("late-key-value") == "[REDACTED:LATE_API_KEY]"
    monkeypatch.delenv("LATE_API_KEY")
    assert redaction.redact("late-key-value") == "late-key-value"


# --- item 8: credentials in model settings, explicit keys, and short reprs ------------------------
URL_SECRET, QUERY_SECRET, HEADER_SECRET = "pw-" + "u" * 12, "q-" + "v" * 14, "hdr-" + "w" * 12


def test_model_repr_and_config_hold_no_credentials():
    model = Model(
        "openai/x",
        api_base=f"https://me:{URL_SECRET}@host.example/v1?api-key={QUERY_SECRET}&v=2",
        extra_headers={"X-Api-Key": HEADER_SECRET},
        api_key="sk-explicit-" + "k" * 10,
        max_tokens=4096,
    )
    shown = repr(model) + json.dumps(model.config())
    for secret in (URL_SECRET, QUERY_SECRET, HEADER_SECRET, "sk-explicit-"):
        assert secret not in shown
    config = model.config()
    assert (
        config["api_base"] == "https://host.example/v1?api-key=%5BREDACTED%5D&v=2"
        or "REDACTED" in config["api_base"]
    )
    assert config["extra_headers"] == {"X-Api-Key": "[REDACTED]"} and config["max_tokens"] == 4096
    assert "host.example" in repr(model) and "X-Api-Key" in repr(model)


def test_credentials_and_an_explicit_key_never_reach_store_export_or_cassette(tmp_path, server):
    key = "sk-explicit-" + "z" * 20  # not in the environment: only passed to Model
    server.responder = lambda body: f"Thought: the key is {key} and {HEADER_SECRET}\nAction: look"
    model = Model(
        "openai/loopback",
        api_base=server.url,
        api_key=key,
        extra_headers={"X-Team": HEADER_SECRET},
        record=tmp_path / "cassette.jsonl",
        max_retries=0,
        timeout=10,
    )
    store = RunStore(tmp_path / "runs.sqlite")
    s = Session(task="look", env="gridworld", model=model, store=store)
    nodes = s.run(max_steps=2)
    assert len(nodes) == 2 and all(n.status != "error" for n in nodes)
    assert server.headers[0].get("x-team") == HEADER_SECRET  # the header really was sent
    assert "[REDACTED:api_key]" in store.load_run(s.run_id).nodes[1].thought
    # credentials inside api_base (litellm's HTTP client refuses userinfo next to a key, so no call)
    creds = Model("openai/x", api_base=f"https://me:{URL_SECRET}@host.example/v1?api-key={QUERY_SECRET}&v=2")
    other = Session(task="t", env="gridworld", model=creds, store=store)
    shown = repr(nodes) + repr(s.tree)  # what a cell ending in `s.run()` saves as text/plain
    assert len(shown) < 600
    export_run(s.tree, tmp_path / "run.json")
    export_run(other.tree, tmp_path / "other.json")
    store.close()
    blobs = [shown.encode()]
    for run_id in (s.run_id, other.run_id):
        cli = subprocess.run(
            [sys.executable, "-m", "workbench", "export", run_id, "--store", str(tmp_path / "runs.sqlite")],
            capture_output=True,
            timeout=120,
        )
        assert cli.returncode == 0, cli.stderr
        blobs.append(cli.stdout)
    assert b"X-Team" in blobs[1] and b"host.example" in blobs[2]
    blobs += [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    for secret in (key, URL_SECRET, QUERY_SECRET, HEADER_SECRET):
        assert not any(secret.encode() in b for b in blobs), secret


def test_node_and_run_reprs_are_short_and_redacted(monkeypatch):
    monkeypatch.setenv("REPR_TOKEN", "tok-repr-" + "r" * 12)
    s = Session(task="find tok-repr-" + "r" * 12, env="gridworld", model="workbench/demo")
    s.tree.nodes[0].observation = "x" * 10_000 + "tok-repr-" + "r" * 12
    text = repr(s.run(max_steps=3)) + repr(s.tree) + repr(s.tree.nodes[0])
    assert "tok-repr-" not in text and len(repr(s.tree.nodes[0])) < 200
    assert repr(s.tree).startswith(f"Run({s.run_id!r}") and "REDACTED:REPR_TOKEN" in repr(s.tree)


# --- item 9: a secret the env echoes is not sent to the provider (unless the user opts out) --------
class Leaky:
    name = "leaky"
    task = "read the config"

    def reset(self, seed=None):
        return "config loaded", {}

    def step(self, action):
        return f"DEPLOY_TOKEN={os.environ['DEPLOY_TOKEN']}", 0.0, False, False, {}


def test_env_echoed_secrets_are_redacted_from_prompts_unless_opted_out(server, server_model, monkeypatch):
    token = "dep-" + "t" * 24
    monkeypatch.setenv("DEPLOY_TOKEN", token)
    s = Session(env=Leaky(), model=server_model, memory="full")
    s.run(max_steps=3)
    sent = json.dumps(server.requests)
    assert len(server.requests) == 3 and token not in sent and "[REDACTED:DEPLOY_TOKEN]" in sent
    server.reset()
    raw = Session(env=Leaky(), model=server_model, memory="full", redact_prompts=False)
    raw.run(max_steps=2)
    assert token in json.dumps(server.requests) and raw.config["redact_prompts"] is False


# --- item 7: the terminal never acts on control characters from a run ------------------------------
class Shouting:
    name = "shouting"
    task = "t"

    def reset(self, seed=None):
        return "\x1b[2J\x1b[31mred\u202eevil\x9b1m", {}

    def step(self, action):
        return "ok \x07\x1b]0;obs\x07 \r done", 0.0, False, False, {}


def _cli(*args: str, cwd) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], capture_output=True, timeout=180, cwd=cwd
    )


def test_cli_output_escapes_control_characters(tmp_path):
    task = "\x1b]0;pwned\x07 reach the goal"
    store = RunStore(tmp_path / ".workbench" / "runs.sqlite")
    s = Session(task=task, env=Shouting(), model="workbench/demo", store=store)
    s.run(max_steps=2)
    store.close()
    results = [
        _cli("show", s.run_id, cwd=tmp_path),
        _cli("show", s.run_id, "--full", cwd=tmp_path),
        _cli("runs", cwd=tmp_path),
        _cli("run", "--model", "workbench/demo", "--task", task, "--max-steps", "1", cwd=tmp_path),
        _cli("resume", "nope\x1b[2J", cwd=tmp_path),
    ]
    for done in results[:4]:
        assert done.returncode == 0, done.stderr
    for done in results:
        for raw in (b"\x1b", b"\x07", b"\x9b", b"\xc2\x9b", "\u202e".encode(), b"\r"):
            assert raw not in done.stdout + done.stderr
    assert b"\\u001b]0;pwned\\u0007 reach the goal" in results[0].stdout
    assert b"\\u202eevil" in results[1].stdout and b"nope\\x1b[2J" in results[4].stderr
    exported = _cli("export", s.run_id, cwd=tmp_path)
    assert b"\x1b" not in exported.stdout and json.loads(exported.stdout)["task"] == task  # still valid JSON


# --- item 10: every wrong argument is a ConfigError naming it and what is valid ---------------------
NAN = float("nan")


def _session(**kw):
    return Session(task="t", env="gridworld", model="workbench/demo", **kw)


def _fresh():
    s = _session()
    s.step()
    return s


BAD_CALLS = [
    # (what, call, words the message must hold)
    ("max_steps str", lambda: _session(max_steps="10"), ["max_steps", "integer"]),
    ("max_steps nan", lambda: _session(max_steps=NAN), ["max_steps", "integer"]),
    ("max_steps fraction", lambda: _session(max_steps=2.5), ["max_steps", "integer"]),
    ("max_tokens nan", lambda: _session(max_tokens=NAN), ["max_tokens"]),
    ("max_cost nan", lambda: _session(max_cost=NAN), ["max_cost", "number"]),
    ("max_cost inf-neg", lambda: _session(max_cost=-1), ["max_cost", ">= 0"]),
    ("seed str", lambda: _session(seed="x"), ["seed", "integer"]),
    ("concurrency negative", lambda: _session(concurrency=-5), ["concurrency", ">= 1"]),
    ("concurrency nan", lambda: _session(concurrency=NAN), ["concurrency"]),
    ("env_options bogus", lambda: _session(env_options={"bogus": 1}), ["bogus", "valid"]),
    ("env_options not a dict", lambda: _session(env_options=[1]), ["env_options", "dict"]),
    ("memory_options bogus", lambda: _session(memory_options={"bogus": 1}), ["bogus", "valid", "max_tokens"]),
    (
        "memory_options window nan",
        lambda: _session(memory="diff", memory_options={"window": NAN}),
        ["window"],
    ),
    ("redact_prompts str", lambda: _session(redact_prompts="yes"), ["redact_prompts", "True or False"]),
    ("task not text", lambda: Session(task=42, env="gridworld", model="workbench/demo"), ["task", "string"]),
    (
        "game24 seed str",
        lambda: Session(task="t", env="game24", model="workbench/demo", env_options={"seed": "x"}),
        ["seed", "integer"],
    ),
    ("gridworld seed nan", lambda: Session(env="gridworld", model="workbench/demo", seed=NAN), ["seed"]),
    ("add_note None", lambda: _fresh().memory.add_note(None), ["text", "string"]),
    ("memory edit unknown id", lambda: _fresh().memory.edit("nope", "x"), ["nope", "valid"]),
    ("memory edit None", lambda: _fresh().memory.edit("obs:1", None), ["text", "string"]),
    ("memory pin unknown id", lambda: _fresh().memory.pin("nope"), ["nope", "valid"]),
    ("plan add None", lambda: _fresh().plan.add(None), ["text", "string"]),
    ("plan add empty", lambda: _fresh().plan.add("  "), ["text", "non-empty"]),
    ("plan replace str", lambda: _fresh().plan.replace("abc"), ["items", "list"]),
    ("plan edit None", lambda: (lambda s: (s.plan.add("a"), s.plan.edit(1, None)))(_fresh()), ["text"]),
    ("plan position str", lambda: (lambda s: (s.plan.add("a"), s.plan.done("1")))(_fresh()), ["position"]),
    ("break_on tool nan", lambda: _fresh().break_on(tool=NAN), ["tool", "string"]),
    ("break_on cost nan", lambda: _fresh().break_on(cost=NAN), ["cost", "number"]),
    ("break_on tokens str", lambda: _fresh().break_on(tokens="many"), ["tokens", "integer"]),
    ("break_on action None-type", lambda: _fresh().break_on(action=5), ["action", "string"]),
    ("run max_steps nan", lambda: _fresh().run(max_steps=NAN), ["max_steps", "integer"]),
    ("run max_steps str", lambda: _fresh().run(max_steps="3"), ["max_steps", "integer"]),
    ("rewind str", lambda: _fresh().rewind("0"), ["node", "valid"]),
    ("set_value nan", lambda: _fresh().set_value(1, NAN), ["value", "number"]),
    ("set_value str", lambda: _fresh().set_value(1, "high"), ["value", "number"]),
    ("resume store None", lambda: Session.resume("x", store=None), ["store", "RunStore"]),
    ("resume run_id int", lambda: Session.resume(5, store=":memory:"), ["run_id", "string"]),
    ("Model max_retries nan", lambda: Model("openai/x", max_retries=NAN), ["max_retries", "integer"]),
    ("Model max_retries str", lambda: Model("openai/x", max_retries="3"), ["max_retries", "integer"]),
    ("Model timeout nan", lambda: Model("openai/x", timeout=NAN), ["timeout", "> 0"]),
    ("Model timeout 0", lambda: Model("openai/x", timeout=0), ["timeout", "> 0"]),
    ("Model backoff negative", lambda: Model("openai/x", backoff=-1), ["backoff", ">= 0"]),
    ("Model max_backoff nan", lambda: Model("openai/x", max_backoff=NAN), ["max_backoff"]),
    ("demo error_rate 5", lambda: Model("workbench/demo", error_rate=5), ["error_rate", "<= 1"]),
    ("demo error_rate nan", lambda: Model("workbench/demo", error_rate=NAN), ["error_rate"]),
    ("Model name None", lambda: Model(None), ["model"]),
    ("mcts exploration nan", lambda: _session(strategy="mcts", exploration=NAN), ["exploration", "number"]),
]


@pytest.mark.parametrize("what, call, words", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_wrong_python_arguments_raise_config_error(what, call, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message.strip()
    for word in words:
        assert word in message, (what, message)


BAD_CLI = [
    ("task not UTF-8", ["run", "--model", "workbench/demo", "--task", os.fsdecode(b"bad\xff")], "--task"),
    ("export into /proc", ["export", "RUN", "-o", "/proc/x.json"], "-o"),
    ("export into a directory", ["export", "RUN", "-o", "/tmp"], "-o"),
    ("max-cost nan", ["run", "--model", "workbench/demo", "--max-cost", "nan"], "--max-cost"),
    ("max-cost inf", ["run", "--model", "workbench/demo", "--max-cost", "inf"], "--max-cost"),
    ("error-rate nan", ["run", "--model", "workbench/demo", "--error-rate", "nan"], "--error-rate"),
    ("model without provider", ["run", "--model", "gpt-4o", "--max-steps", "1"], "openai/gpt-4o-mini"),
    ("seed not a number", ["run", "--model", "workbench/demo", "--seed", "x"], "--seed"),
]


@pytest.mark.parametrize("what, argv, word", BAD_CLI, ids=[c[0] for c in BAD_CLI])
def test_wrong_cli_arguments_exit_2_with_one_line(what, argv, word, tmp_path):
    if "RUN" in argv:
        store = RunStore(tmp_path / ".workbench" / "runs.sqlite")
        run_id = _session(store=store).run_id
        store.close()
        argv = [run_id if a == "RUN" else a for a in argv]
    done = subprocess.run(
        [sys.executable, "-m", "workbench", *argv], capture_output=True, timeout=180, cwd=tmp_path
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, (what, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert word in err, err


# --- item 11: notebook friction ----------------------------------------------------------------------
def _agents(sh):
    return sh.magics_manager.registry["AgentMagics"].agents


def _magic(sh, line: str):
    from IPython.utils.capture import capture_output

    with capture_output() as cap:
        value = sh.run_line_magic("agent", line)
    return value, "\n".join(o.data.get("text/plain", "") for o in cap.outputs)


def test_magic_comments_start_after_whitespace_only(shell):
    _magic(shell, "new --env gridworld --model workbench/demo  # the demo")
    s = _agents(shell).get().session
    _magic(shell, 'plan add "check the door"  # why: it was locked')
    _magic(shell, "plan add fix issue#4 first")
    _magic(shell, 'plan add "# 2 is quoted"')
    _magic(shell, "memory use diff --window 4   # four steps")
    assert [i["text"] for i in s.plan.to_list()] == ["check the door", "fix issue#4 first", "# 2 is quoted"]
    assert s.memory.name == "diff" and s.memory.window == 4


def test_rewind_keeps_the_memory_options_set_later():
    s = _session()
    s.run(max_steps=2)
    s.memory.add_note("keep")
    s.set_memory("diff", window=4)
    s.run(max_steps=2)
    s.rewind(1)  # a node from before the switch (its memory state has no window)
    assert s.memory.name == "diff" and s.memory.window == 4 and s.memory_options == {"window": 4}
    assert s.memory.notes == []  # the node's own notes come back
    s.step()
    assert s.tree.nodes[s.tree.cursor].parent_id == 1


def test_rewind_while_running_says_stop_and_stop_does_it(shell):
    import asyncio

    from toys import Counter, react

    from workbench.magics.agents import BackgroundRun

    s = Session(env=Counter(goal=50), model=ScriptedYield([react("inc")]))
    _agents(shell).add("toy", s)
    seen = {}

    def on_event(e):
        if e.kind == "StepStarted" and e.parent_id == 2 and "plain" not in seen:
            try:
                _magic(shell, "rewind 1")
            except Exception as exc:  # UsageError
                seen["plain"] = str(exc)
            seen["stop"] = _magic(shell, "rewind 1 --stop")[1]

    s.subscribe(on_event)

    async def go() -> BackgroundRun:
        handle = _magic(shell, "run")[0]
        await handle
        await asyncio.sleep(0)  # the done-callback (the rewind) runs on the next turn of the loop
        return handle

    handle = asyncio.run(go())
    assert "--stop" in seen["plain"] and "rewind 1 --stop" in seen["plain"]
    assert "stopping" in seen["stop"] and handle.task.cancelled()
    assert s.tree.cursor == 1 and s.tree.steps == 2 and not s._stepping


class ScriptedYield(ScriptedModel):
    """A ScriptedModel that gives the loop a turn per call, as a real model awaiting I/O does."""

    async def acomplete(self, messages, **kw):
        import asyncio

        await asyncio.sleep(0)
        return await super().acomplete(messages, **kw)


def test_a_rewind_deferred_by_stop_that_fails_says_so(shell):
    """`rewind N --stop` rewinds once the run has stopped; when that rewind fails (here: node 1 was
    pruned meanwhile) the error is an Error event and the runner's error, not dropped."""
    import asyncio

    from toys import Counter, react

    from workbench.core.background import runner_for

    s = Session(env=Counter(goal=50), model=ScriptedYield([react("inc")]))
    _agents(shell).add("toy", s)
    s.run(max_steps=2)
    s.rewind(0)
    s.prune(1)  # the old branch: nothing grows from it any more
    errors = []
    s.subscribe(lambda e: errors.append(e) if e.kind == "Error" else None)
    seen = {}

    def on_event(e):
        if e.kind == "StepStarted" and e.parent_id == 3 and "stop" not in seen:
            seen["stop"] = _magic(shell, "rewind 1 --stop")[1]

    s.subscribe(on_event)

    async def go() -> None:
        handle = _magic(shell, "run")[0]
        await handle
        await asyncio.sleep(0)  # the deferred rewind runs on the next turn of the loop

    asyncio.run(go())
    assert "stopping" in seen["stop"]
    failed = [e for e in errors if "rewind to node 1 failed" in e.message]
    assert failed and "pruned" in failed[0].message and failed[0].error_type == "ConfigError"
    assert "pruned" in str(runner_for(s).error) and s.tree.cursor != 1
