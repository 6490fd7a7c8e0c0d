"""The `workbench` litellm provider (demo and replay), litellm loading, and Model's settings."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.errors import ConfigError
from workbench.llm import providers
from workbench.llm.model import Model, default_model_name, known_models
from workbench.llm.tokens import count_tokens

MESSAGES = [{"role": "user", "content": "You are in a 3x3 grid. Reach the goal."}]
STUB_TEXT = "Thought: stub seed=5 sample=0\nAction: look"


def test_demo_through_litellm_acompletion(demo_policy_stub):
    litellm = providers.load_litellm()
    response = asyncio.run(
        litellm.acompletion(model="workbench/demo", messages=MESSAGES, seed=5, error_rate=0.0)
    )
    assert response.choices[0].message.content == STUB_TEXT
    assert response.usage.prompt_tokens == count_tokens(MESSAGES)
    assert response.usage.completion_tokens == count_tokens(STUB_TEXT)
    (call,) = demo_policy_stub.calls
    assert (call["seed"], call["error_rate"], call["sample"]) == (5, 0.0, 0)
    assert call["messages"] == MESSAGES


def test_demo_sync_and_streaming_paths(demo_policy_stub):
    litellm = providers.load_litellm()
    sync = litellm.completion(model="workbench/demo", messages=MESSAGES, seed=5)
    assert sync.choices[0].message.content == STUB_TEXT
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in litellm.completion(model="workbench/demo", messages=MESSAGES, seed=5, stream=True)
        if chunk.choices
    )
    assert streamed == STUB_TEXT


def test_demo_model_passes_seed_error_rate_and_sample(demo_policy_stub):
    model = Model("workbench/demo", seed=5, error_rate=0.25)
    call = asyncio.run(model.acomplete(MESSAGES, sample=3, purpose="reflect"))
    assert call.response == "Thought: stub seed=5 sample=3\nAction: look"
    assert (call.prompt_tokens, call.completion_tokens) == (
        count_tokens(MESSAGES),
        count_tokens(call.response),
    )
    assert call.cost == 0.0 and call.purpose == "reflect"
    assert demo_policy_stub.calls[-1]["error_rate"] == 0.25
    pieces: list[str] = []
    streamed = asyncio.run(model.acomplete(MESSAGES, sample=1, on_delta=pieces.append))
    assert "".join(pieces) == streamed.response == "Thought: stub seed=5 sample=1\nAction: look"
    assert streamed.prompt_tokens == call.prompt_tokens


def test_demo_defaults_when_no_settings_are_given(demo_policy_stub):
    asyncio.run(Model("workbench/demo").acomplete(MESSAGES))
    (call,) = demo_policy_stub.calls
    assert (call["seed"], call["error_rate"], call["sample"]) == (0, 0.1, 0)


def test_real_demo_policy_answers_offline():
    pytest.importorskip("workbench.demo.policy")
    call = asyncio.run(Model("workbench/demo", seed=1).acomplete(MESSAGES))
    assert isinstance(call.response, str) and call.response
    assert call.completion_tokens == count_tokens(call.response)


def test_loading_keeps_other_custom_providers():
    litellm = providers.load_litellm()
    saved = list(litellm.custom_provider_map)
    other = {"provider": "someone-else", "custom_handler": object()}
    try:
        litellm.custom_provider_map = [other]
        providers.load_litellm()
        names = [e["provider"] for e in litellm.custom_provider_map]
        assert names == ["someone-else", "workbench"]
        providers.load_litellm()  # idempotent
        assert [e["provider"] for e in litellm.custom_provider_map] == names
    finally:
        litellm.custom_provider_map = saved


def test_prepare_environment_makes_litellm_use_its_bundled_data():
    env = {"LITELLM_LOCAL_MODEL_COST_MAP": "1", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": ""}
    providers.prepare_environment(env)
    # litellm only understands "true" (any case): "1" would still fetch from GitHub
    assert env == {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True"}
    explicit = {"LITELLM_LOCAL_MODEL_COST_MAP": "false", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "TRUE"}
    providers.prepare_environment(explicit)
    assert explicit == {
        "LITELLM_LOCAL_MODEL_COST_MAP": "false",
        "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "TRUE",
    }


@given(st.text(max_size=200))
def test_streamed_pieces_rebuild_the_text(text):
    assert "".join(providers.stream_pieces(text)) == text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("litellm.RateLimitError: RateLimitError: OpenAIException - slow down", "slow down"),
        ("litellm.APIConnectionError: no answer here\nTraceback (most recent call last):", "no answer here"),
        ("plain words: kept as they are", "plain words: kept as they are"),
    ],
)
def test_describe_keeps_the_providers_words(raw, shown):
    assert providers.describe(Exception(raw)) == shown


def test_model_description_and_config():
    demo = Model("workbench/demo", seed=3)
    assert demo.simulated and demo.offline
    assert demo.label == "demo model (simulated)"
    real = Model("openai/gpt-4o-mini", api_key="sk-abcdef123456", temperature=0.2, timeout=30)
    assert not real.simulated and not real.offline and real.label == "openai/gpt-4o-mini"
    config = real.config()
    assert config["name"] == "openai/gpt-4o-mini" and config["temperature"] == 0.2 and config["timeout"] == 30
    assert "sk-abcdef123456" not in json.dumps(config) + repr(real)
    assert repr(real) == "Model('openai/gpt-4o-mini', temperature=0.2)"
    rebuilt = Model.from_config(config)
    assert rebuilt.config() == config and "api_key" not in rebuilt.kwargs
    sized = Model.from_config(Model("openai/gpt-4o-mini", context_window=1200).config())
    assert sized.context_window == 1200  # a resumed run keeps the context its diff window fits


def test_model_settings_are_checked():
    with pytest.raises(ConfigError, match="workbench/demo"):
        Model("workbench/nope")
    with pytest.raises(ConfigError, match="litellm model string"):
        Model("")
    with pytest.raises(ConfigError, match="timeout"):
        Model("workbench/demo", timeout=0)


def test_backoff_doubles_up_to_the_cap():
    model = Model("workbench/demo", backoff=0.5, max_backoff=2.0)
    assert [model._delay(n, Exception()) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "workbench/demo"),
        ({"ANTHROPIC_API_KEY": "ak-123456"}, "anthropic/claude-haiku-4-5"),
        ({"OPENAI_API_KEY": "sk-123456", "ANTHROPIC_API_KEY": "ak-123456"}, "openai/gpt-4o-mini"),
        ({"OPENAI_API_KEY": "sk-123456", "WORKBENCH_MODEL": "ollama/llama3"}, "ollama/llama3"),
    ],
)
def test_default_model_name(monkeypatch, env, expected):
    for name in ("WORKBENCH_MODEL", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_model_name() == expected


def test_known_models_lists_the_offline_ones_first():
    names = [name for name, _ in known_models()]
    assert names[:2] == ["workbench/demo", "workbench/replay"]
    assert "openai/gpt-4o-mini" in names
    assert all(isinstance(d, str) and d for _, d in known_models())


def test_a_bug_in_the_demo_policy_keeps_its_traceback(demo_policy_stub):
    def broken(messages, **kwargs):
        demo_policy_stub.calls.append(kwargs)
        raise ZeroDivisionError("policy bug")

    demo_policy_stub.respond = broken
    with pytest.raises(ZeroDivisionError, match="policy bug") as info:
        asyncio.run(Model("workbench/demo", max_retries=3, backoff=0).acomplete(MESSAGES))
    assert len(demo_policy_stub.calls) == 1  # not retried
    assert any(frame.name == "broken" for frame in info.traceback)
