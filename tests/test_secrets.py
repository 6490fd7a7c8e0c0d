"""Secrets from the environment never reach a file or the terminal: store (and its WAL), exports,
cassettes and CLI output are grepped byte by byte while a model echoes the secrets back."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.session import Session
from workbench.export.json import export_run
from workbench.llm.model import Model
from workbench.store.sqlite import RunStore


@pytest.fixture
def fake_secrets(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    key = "sk-test-" + secrets.token_hex(16)
    token = "foo-" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("FOO_TOKEN", token)
    monkeypatch.delenv("WORKBENCH_MODEL", raising=False)
    return key, token


def leaked(folder: Path, *values: str) -> list[str]:
    """Files under `folder` whose raw bytes contain any of `values`."""
    return [
        str(p) for p in folder.rglob("*") if p.is_file() and any(v.encode() in p.read_bytes() for v in values)
    ]


def echo(key: str, token: str):
    """A model that repeats the secrets in its thought (a worst case: it was shown them somehow)."""
    return lambda body: f"Thought: my key is {key} and the token is {token}\nAction: go north"


def test_store_wal_export_and_cassette_never_hold_a_secret(tmp_path: Path, server, fake_secrets):
    key, token = fake_secrets
    server.responder = echo(key, token)
    out = tmp_path / "out"
    model = Model(
        "openai/loopback",
        api_base=server.url,
        api_key=os.environ["OPENAI_API_KEY"],
        record=out / "cassette.jsonl",
        max_retries=0,
        timeout=10,
    )
    store = RunStore(out / "store" / "runs.sqlite")
    session = Session(
        task=f"reach the goal (ticket {token})", env="gridworld", model=model, store=store, max_steps=3
    )
    session.run()
    session.plan.add(f"rotate {key}")
    session.memory.add_note(f"token was {token}")
    assert session.tree.steps == 3
    auth = [v for h in server.headers for k, v in h.items() if k.lower() == "authorization"]
    assert auth and all(v == f"Bearer {key}" for v in auth)  # the key really was used for the calls

    demo = Session(
        task=f"demo with {token}", env="gridworld", model="workbench/demo", store=store, max_steps=2
    )
    demo.run()
    assert demo.tree.steps >= 1
    export_run(session.tree, out / "run.json", plan=session.plan.to_list(), memory=session.memory.state())
    export_run(demo.tree, out / "demo.json")

    assert (out / "store" / "runs.sqlite-wal").stat().st_size > 0  # the WAL holds the writes: grep it too
    assert leaked(out, key, token) == []
    assert b"[REDACTED:OPENAI_API_KEY]" in (out / "store" / "runs.sqlite-wal").read_bytes()
    assert b"[REDACTED:FOO_TOKEN]" in (out / "run.json").read_bytes()
    assert (out / "cassette.jsonl").stat().st_size > 0
    loaded = store.load_run(session.run_id)
    assert loaded.task == "reach the goal (ticket [REDACTED:FOO_TOKEN])"
    assert "[REDACTED:OPENAI_API_KEY]" in loaded.nodes[1].thought
    store.close()
    assert leaked(out, key, token) == []


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # holds the fake secrets
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=cwd, env=env, capture_output=True, timeout=180
    )


@pytest.mark.slow
def test_cli_output_and_files_never_show_a_secret(tmp_path: Path, server, fake_secrets):
    key, token = fake_secrets
    server.responder = echo(key, token)
    real = ["--model", "openai/loopback", "--api-base", server.url]
    outputs = [
        cli("run", *real, "--task", f"use {token}", "--max-steps", "3", cwd=tmp_path),
        cli("run", "--model", "workbench/demo", "--task", f"demo {key}", "--max-steps", "2", cwd=tmp_path),
    ]
    # a provider error that quotes the key back: the error path is redacted too
    server.script({"status": 401, "error": f"Incorrect API key provided: {key}"})
    failed = cli("run", *real, "--max-steps", "2", cwd=tmp_path)
    assert failed.returncode == 1 and b"error" in failed.stdout
    outputs.append(failed)
    assert outputs[0].returncode == 0, outputs[0].stderr
    assert b"[REDACTED:OPENAI_API_KEY]" in outputs[0].stdout  # the echoed key, shown redacted
    ids = [
        line.split()[1].decode()
        for o in outputs
        for line in o.stdout.splitlines()
        if line.startswith(b"run: ")
    ]
    assert len(ids) == 3
    for rid in ids:
        outputs += [cli("show", rid, "--full", cwd=tmp_path), cli("export", rid, cwd=tmp_path)]
    outputs.append(cli("runs", cwd=tmp_path))
    assert all(o.returncode in (0, 1) for o in outputs)
    for done in outputs:
        assert key.encode() not in done.stdout + done.stderr
        assert token.encode() not in done.stdout + done.stderr
    assert leaked(tmp_path, key, token) == []
