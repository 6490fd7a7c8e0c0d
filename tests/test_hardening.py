"""Hardening (issue 8 items 5-11): hostile text, linear parsing, terminal escapes, secrets in config
and prompts, one validation helper for wrong arguments, and notebook friction.

The parser's 1 MB property run is a benchmark (`benchmarks/parse_linear.py`); here it keeps its answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from workbench.core.session import Session
from workbench.export.json import export_run
from workbench.llm.model import Model
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
