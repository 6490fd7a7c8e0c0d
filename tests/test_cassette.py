"""Recording real calls to a cassette and replaying them offline with `workbench/replay`."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import ConfigError, ReplayMissError
from workbench.llm.cassette import Player, read_cassette, request_key
from workbench.llm.model import Model


def conversation(i: int) -> list[dict]:
    return [{"role": "system", "content": "Solve the task."}, {"role": "user", "content": f"Observation {i}"}]


def recording_model(server, path, **kwargs) -> Model:
    return Model(
        "openai/loopback", api_base=server.url, api_key=server.api_key, backoff=0, record=path, **kwargs
    )


def ask(model: Model, messages: list[dict]) -> object:
    return asyncio.run(model.acomplete(messages))


def test_record_then_replay_gives_the_same_answers_offline(server, tmp_path):
    path = tmp_path / "cassette.jsonl"
    server.responder = lambda body: "answer to " + body["messages"][-1]["content"]
    recorder = recording_model(server, path, temperature=0.3)
    recorded = [ask(recorder, conversation(i)) for i in range(3)]
    assert len(server.requests) == 3
    server.reset()

    replay = Model("workbench/replay", cassette=str(path))
    replayed = [ask(replay, conversation(i)) for i in (2, 0, 1)]
    assert server.requests == []
    assert [c.response for c in replayed] == [recorded[i].response for i in (2, 0, 1)]
    assert [(c.prompt_tokens, c.completion_tokens) for c in replayed] == [
        (recorded[i].prompt_tokens, recorded[i].completion_tokens) for i in (2, 0, 1)
    ]
    assert all(c.cost == 0.0 and c.model == "workbench/replay" for c in replayed)
    assert replay.label == "replay of cassette.jsonl"
    assert not replay.simulated and replay.offline


def test_cassette_lines_have_the_documented_shape(server, tmp_path):
    path = tmp_path / "c.jsonl"
    ask(recording_model(server, path, temperature=0.3), conversation(1))
    (entry,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert entry["request"]["model"] == "openai/loopback"
    assert entry["request"]["messages"] == conversation(1)
    assert entry["request"]["params"] == {"temperature": 0.3}
    assert entry["response"]["text"] == server.default_answer
    assert set(entry["response"]) == {"text", "prompt_tokens", "completion_tokens"}


def test_failed_calls_are_not_recorded(server, tmp_path):
    path = tmp_path / "c.jsonl"
    server.script({"status": 500}, {"text": "ok"})
    ask(recording_model(server, path), conversation(1))
    assert [json.loads(line)["response"]["text"] for line in path.read_text().splitlines()] == ["ok"]


def test_repeated_request_replays_in_order_then_repeats_the_last(server, tmp_path):
    path = tmp_path / "c.jsonl"
    server.script({"text": "first"}, {"text": "second"})
    recorder = recording_model(server, path)
    ask(recorder, conversation(0))
    ask(recorder, conversation(0))
    replay = Model("workbench/replay", cassette=path)
    assert [ask(replay, conversation(0)).response for _ in range(4)] == [
        "first",
        "second",
        "second",
        "second",
    ]
    # another model replaying the same file starts from the beginning
    assert ask(Model("workbench/replay", cassette=path), conversation(0)).response == "first"


def test_replay_miss_explains_how_to_re_record(server, tmp_path):
    path = tmp_path / "short.jsonl"
    ask(recording_model(server, path), conversation(0))
    replay = Model("workbench/replay", cassette=path)
    off_path = [{"role": "user", "content": "Observation: something the recording never saw " + "x" * 300}]
    with pytest.raises(ReplayMissError) as info:
        ask(replay, off_path)
    message = str(info.value)
    assert "short.jsonl" in message
    assert "Observation: something the recording never saw" in message
    assert "x" * 300 not in message  # only the start of the message is shown
    assert "record=" in message
    assert info.value.call.attempts == 1 and info.value.call.error == message


def test_secrets_never_reach_the_cassette(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-very-secret-42")
    path = tmp_path / "c.jsonl"
    server.responder = lambda body: "I saw " + body["messages"][-1]["content"]
    messages = [{"role": "user", "content": "use tok-very-secret-42 to log in"}]
    ask(recording_model(server, path), messages)
    text = path.read_text()
    assert server.api_key not in text
    assert "tok-very-secret-42" not in text
    assert "[REDACTED:MY_SERVICE_TOKEN]" in text
    assert "api_key" not in text and "api_base" not in text
    # the request still matches on replay (both sides are keyed on the redacted messages)
    replayed = ask(Model("workbench/replay", cassette=path), messages)
    assert replayed.response == "I saw use [REDACTED:MY_SERVICE_TOKEN] to log in"


def test_replay_through_litellm_directly(server, tmp_path):
    from workbench.llm.providers import load_litellm

    path = tmp_path / "c.jsonl"
    ask(recording_model(server, path), conversation(3))
    litellm = load_litellm()
    response = asyncio.run(
        litellm.acompletion(model="workbench/replay", messages=conversation(3), cassette=str(path))
    )
    assert response.choices[0].message.content == server.default_answer
    assert response.usage.prompt_tokens > 0


def test_replay_needs_an_existing_readable_cassette(tmp_path):
    with pytest.raises(ConfigError, match="needs a cassette"):
        Model("workbench/replay")
    with pytest.raises(ConfigError, match="not found.*record="):
        Model("workbench/replay", cassette=tmp_path / "missing.jsonl")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"request": {"messages": []}, "response": {"text": "ok"}}\nnot json\n')
    with pytest.raises(ConfigError, match="line 2"):
        Model("workbench/replay", cassette=broken)


def test_blank_lines_are_ignored(tmp_path):
    path = tmp_path / "c.jsonl"
    entry = {"request": {"messages": conversation(1)}, "response": {"text": "hi"}}
    path.write_text("\n" + json.dumps(entry) + "\n\n")
    assert len(read_cassette(path)) == 1
    assert Player(path).answer(conversation(1))["text"] == "hi"


message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": st.text(max_size=40)},
    optional={"name": st.text(min_size=1, max_size=8)},
)


@given(st.lists(message, max_size=4))
def test_request_key_ignores_key_order_but_not_content(messages):
    reordered = [dict(reversed(list(m.items()))) for m in messages]
    assert request_key(messages) == request_key(reordered)
    changed = [*messages, {"role": "user", "content": "one more"}]
    assert request_key(changed) != request_key(messages)
