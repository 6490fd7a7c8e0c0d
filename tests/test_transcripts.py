"""`workbench record` over a real litellm model (the loopback OpenAI-compatible server) writes a
named cassette with the model's name, date and label and no secret; `cassette(name)` prefers a real
recording to the shipped simulated one; `replay(name)` plays the run back offline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.llm.cassette import cassette_header, read_cassette
from workbench.teaching import cassette, cassette_info
from workbench.teaching.transcripts import replay

SECRET = "sk-record-secret-5f1e2d3c4b5a6978"
MOVES = ["go north", "go east", "go south", "go west"]


def _gridworld_answers(server) -> None:
    count = {"n": 0}

    def respond(body: dict) -> str:
        move = MOVES[count["n"] % len(MOVES)]
        count["n"] += 1
        return f"Thought: I try {move}.\nAction: {move}"

    server.responder = respond


def test_record_a_real_model_then_replay_it_offline(server, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    _gridworld_answers(server)
    code = main(
        ["record", "walk", "--model", "openai/loopback", "--api-base", server.url, "--env", "gridworld",
         "--memory", "diff", "--window", "3", "--max-steps", "4", "--out", "cassettes"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    path = tmp_path / "cassettes" / "walk.real.jsonl"
    assert "recorded 4 calls of openai/loopback" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    assert SECRET not in text and server.url not in text and "api_key" not in text
    assert any(SECRET in h.get("authorization", "") for h in server.headers)  # the key was really sent
    head = cassette_header(path)
    assert head["model"] == "openai/loopback" and head["label"] == "real" and head["name"] == "walk"
    assert head["recorded_at"] == dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert head["session"] == {
        "env": "gridworld", "strategy": "react", "memory": "diff", "seed": 0, "memory_options": {"window": 3}
    }  # fmt: skip
    entries = read_cassette(path)
    assert len(entries) == len(server.requests) == 4
    assert [json.loads(line) for line in text.splitlines()][1:] == entries

    served = len(server.requests)
    session = replay("walk")  # found by name in ./cassettes, rebuilt from the header
    session.run(max_steps=4)
    assert len(server.requests) == served  # offline: the replay asked the server nothing
    assert [n.action for n in session.path()[1:]] == MOVES
    assert session.model.label == "replay of walk.real.jsonl"


def test_a_real_cassette_wins_over_the_shipped_simulated_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "notebooks" / "cassettes"
    assert (
        main(["record", "demo-walk", "--model", "workbench/demo", "--max-steps", "2", "--out", str(folder)])
        == 0
    )
    simulated = folder / "demo-walk.simulated.jsonl"
    assert cassette("demo-walk") == simulated and cassette_info("demo-walk")["label"] == "simulated"
    real = folder / "demo-walk.real.jsonl"
    real.write_text(
        simulated.read_text(encoding="utf-8").replace('"simulated"', '"real"', 1), encoding="utf-8"
    )
    assert cassette("demo-walk") == real and cassette_info("demo-walk")["label"] == "real"
    monkeypatch.setenv("WORKBENCH_CASSETTES", str(tmp_path / "elsewhere"))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "demo-walk.simulated.jsonl").write_text(simulated.read_text(encoding="utf-8"))
    assert cassette("demo-walk") == real  # a real recording anywhere beats every simulated one


def test_missing_or_malformed_names_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="record one with `workbench record nothing-here --model MODEL`"):
        cassette("nothing-here")
    with pytest.raises(ConfigError, match="a cassette name is a bare name"):
        cassette("walk.real.jsonl")
    assert main(["record", "x", "--model", "workbench/replay"]) == 2


def test_a_failed_recording_leaves_no_cassette(server, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    server.script(*[{"status": 401}] * 10)
    code = main(
        ["record", "broken", "--model", "openai/loopback", "--api-base", server.url, "--max-steps", "2"]
    )
    err = capsys.readouterr().err
    assert code == 1 and "no call of openai/loopback succeeded, nothing was recorded" in err
    assert SECRET not in err
    assert not list(Path(tmp_path).rglob("broken*")), (code, err)
