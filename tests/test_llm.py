"""Model over real HTTP (the loopback server): answers, usage, retries, errors, streaming, loops."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading

import pytest

from workbench.errors import (
    AuthenticationError,
    ContextWindowError,
    ModelError,
    ModelNotFoundError,
    ModelTimeoutError,
    ProviderError,
    RateLimitError,
)
from workbench.llm.model import Model

DEFAULT_ANSWER = "Thought: I should look around first.\nAction: look"  # the server's default
LOOPBACK_KEY = "sk-loopback-test"  # the key of the `server_model` fixture

MESSAGES = [
    {"role": "system", "content": "You are an agent in a grid world."},
    {"role": "user", "content": "Observation: you are at (0, 0). What next?"},
]


def ask(model: Model, messages: list[dict] | None = None, **kwargs) -> object:
    return asyncio.run(model.acomplete(messages or MESSAGES, **kwargs))


def expect_error(model: Model, error: type[ModelError], **kwargs) -> ModelError:
    with pytest.raises(error) as info:
        ask(model, **kwargs)
    return info.value


def test_importing_the_model_module_does_not_import_litellm():
    code = "import sys, workbench, workbench.llm.model; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_demo_steps_never_import_litellm():
    code = (
        "import sys; from workbench import Session\n"
        "s = Session(model='workbench/demo', env='gridworld')\n"
        "s.run(max_steps=3)\n"
        "print(s.tree.steps, s.tree.prompt_tokens > 0, 'litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3 True False"


def test_a_session_with_a_real_model_imports_litellm_in_the_background_at_once(server):
    code = (
        "import sys, threading\n"
        "from workbench import Session, Model\n"
        f"model = Model('openai/loopback', api_base={server.url!r}, api_key='sk-x', max_retries=0)\n"
        "before = 'litellm' in sys.modules or any(t.name == 'workbench-litellm-import' for t in threading.enumerate())\n"
        "s = Session(model=model, env='gridworld')\n"
        "started = 'litellm' in sys.modules or any(t.name == 'workbench-litellm-import' for t in threading.enumerate())\n"
        "node = s.step()  # waits for the import still in flight\n"
        "print(before, started, node.action, node.llm_calls[0].response.splitlines()[-1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False True look Action: look"


def test_answer_over_http_fills_the_call(server, server_model):
    assert (server.default_answer, server.api_key) == (DEFAULT_ANSWER, LOOPBACK_KEY)
    call = ask(server_model, purpose="value")
    assert call.response == DEFAULT_ANSWER
    assert call.model == "openai/loopback"
    assert call.purpose == "value"
    assert call.attempts == 1 and call.error is None
    # the server counts words: 7 + 9 words in the messages, plus one
    assert (call.prompt_tokens, call.completion_tokens) == (17, len(DEFAULT_ANSWER.split()))
    assert call.latency > 0
    assert call.messages == MESSAGES
    (body,) = server.requests
    assert body["model"] == "loopback"
    assert body["messages"] == MESSAGES
    assert "num_retries" not in body and "max_retries" not in body
    assert server.headers[0]["authorization"] == f"Bearer {LOOPBACK_KEY}"


def test_model_kwargs_and_overrides_reach_the_server(server):
    model = Model("openai/loopback", api_base=server.url, api_key=LOOPBACK_KEY, temperature=0.25, backoff=0)
    ask(model, max_tokens=12)
    assert server.requests[0]["temperature"] == 0.25
    assert server.requests[0]["max_tokens"] == 12


def test_cost_comes_from_the_local_cost_map(server):
    from workbench.llm.providers import load_litellm

    litellm = load_litellm()  # never a bare `import litellm`: see test_llm_offline.py
    model = Model("openai/gpt-4o-mini", api_base=server.url, api_key=LOOPBACK_KEY, backoff=0)
    call = ask(model)
    price = litellm.model_cost["gpt-4o-mini"]
    expected = call.prompt_tokens * price["input_cost_per_token"]
    expected += call.completion_tokens * price["output_cost_per_token"]
    assert call.cost == pytest.approx(expected)
    assert call.cost > 0


def test_unknown_price_costs_nothing_and_does_not_raise(server_model):
    assert ask(server_model).cost == 0.0


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_error_then_success_is_retried(server, server_model, status):
    server.script({"status": status}, {"text": "second time lucky"})
    call = ask(server_model)
    assert call.response == "second time lucky"
    assert call.attempts == 2
    assert len(server.requests) == 2


def test_server_error_on_every_attempt_raises_provider_error(server, server_model):
    server.script({"status": 500}, {"status": 500}, {"status": 500}, {"text": "too late"})
    error = expect_error(server_model, ProviderError)
    assert len(server.requests) == 3
    assert error.call.attempts == 3
    assert error.call.response == ""
    assert error.call.error == str(error)
    assert error.call.messages == MESSAGES
    assert "after 3 attempts" in str(error)
    assert "workbench/demo" in str(error)


def test_rate_limited_on_every_attempt(server, server_model):
    server.script(*[{"status": 429}] * 3)
    error = expect_error(server_model, RateLimitError)
    assert error.call.attempts == 3
    assert "after 3 attempts" in str(error)
    assert "lower the concurrency" in str(error)


def test_slow_answer_beyond_the_timeout(server):
    model = Model("openai/loopback", api_base=server.url, api_key=LOOPBACK_KEY, max_retries=0, timeout=0.5)
    server.script({"delay": 60, "text": "too slow"})
    error = expect_error(model, ModelTimeoutError)
    server.release()
    assert error.call.attempts == 1
    assert "within 0.5s" in str(error) and "timeout=" in str(error)


def test_slow_answer_then_fast_answer_is_retried(server):
    model = Model(
        "openai/loopback", api_base=server.url, api_key=LOOPBACK_KEY, max_retries=1, timeout=2.0, backoff=0
    )
    server.script({"delay": 60, "text": "too slow"}, {"text": "quick"})
    call = ask(model)
    server.release()
    assert call.response == "quick"
    assert call.attempts == 2


def test_malformed_json_then_success(server, server_model):
    server.script({"malformed": True}, {"text": "well formed"})
    call = ask(server_model)
    assert (call.response, call.attempts) == ("well formed", 2)


def test_malformed_json_on_every_attempt(server, server_model):
    server.script(*[{"malformed": True}] * 3)
    error = expect_error(server_model, ProviderError)
    assert error.call.attempts == 3


def test_rejected_key_is_not_retried_and_names_the_variable(server, server_model):
    server.script({"status": 401, "error": f"Incorrect API key provided: {LOOPBACK_KEY}"})
    error = expect_error(server_model, AuthenticationError)
    assert len(server.requests) == 1
    assert error.call.attempts == 1
    assert "OPENAI_API_KEY" in str(error)
    assert "workbench/demo" in str(error)
    assert LOOPBACK_KEY not in str(error) and LOOPBACK_KEY not in error.call.error


def test_missing_key_says_which_variable_to_set(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = Model("openai/gpt-4o-mini", api_base=server.url, max_retries=2, backoff=0)
    error = expect_error(model, AuthenticationError)
    assert str(error).startswith("no API key for openai: set OPENAI_API_KEY in the environment")
    assert "model='workbench/demo' (offline, simulated)" in str(error)
    assert server.requests == []


def test_unknown_model_on_the_server(server, server_model):
    server.script({"status": 404, "error": "The model `loopback` does not exist"})
    error = expect_error(server_model, ModelNotFoundError)
    assert len(server.requests) == 1
    assert "'openai/loopback'" in str(error) and "openai/gpt-4o-mini" in str(error)


def test_model_string_litellm_does_not_know(server):
    error = expect_error(Model("nosuchprovider/x", api_key=LOOPBACK_KEY), ModelNotFoundError)
    assert "unknown model 'nosuchprovider/x'" in str(error)
    assert error.call.attempts == 1


def test_context_too_long(server, server_model):
    server.script(
        {"status": 400, "error": "This model's maximum context length is 8 tokens (context_length_exceeded)"}
    )
    error = expect_error(server_model, ContextWindowError)
    assert len(server.requests) == 1
    assert "memory='diff' or 'window'" in str(error)


def test_other_bad_request_is_not_retried(server, server_model):
    server.script({"status": 400, "error": "temperature must be <= 2"})
    error = expect_error(server_model, ProviderError)
    assert len(server.requests) == 1
    assert "temperature must be <= 2" in str(error)


def test_streaming_calls_back_with_pieces_and_counts_usage(server, server_model):
    server.script({"text": "Thought: stream it.\nAction: go north", "usage": {"prompt_tokens": 11}})
    pieces: list[str] = []
    call = ask(server_model, on_delta=pieces.append)
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    assert len(pieces) > 1 and "".join(pieces) == "Thought: stream it.\nAction: go north"
    assert call.response == "".join(pieces)
    assert (call.prompt_tokens, call.completion_tokens) == (11, 6)


def test_stream_flag_without_callback(server, server_model):
    call = ask(server_model, stream=True)
    assert server.requests[0]["stream"] is True
    assert call.response == DEFAULT_ANSWER


def test_streaming_error_is_retried(server, server_model):
    server.script({"status": 500}, {"text": "streamed after a 500"})
    call = ask(server_model, stream=True)
    assert (call.response, call.attempts) == ("streamed after a 500", 2)


def test_the_same_model_works_from_different_event_loops(server, server_model):
    first = asyncio.run(server_model.acomplete(MESSAGES))
    second = asyncio.run(server_model.acomplete(MESSAGES))
    result: dict = {}

    def other_thread() -> None:
        loop = asyncio.new_event_loop()
        try:
            result["call"] = loop.run_until_complete(server_model.acomplete(MESSAGES))
        except BaseException as exc:  # surfaced by the assertion below
            result["error"] = exc
        finally:
            loop.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=60)
    assert "error" not in result, result.get("error")
    blocking = server_model.complete(MESSAGES)  # runs on the background loop
    assert [c.response for c in (first, second, result["call"], blocking)] == [DEFAULT_ANSWER] * 4
    assert len(server.requests) == 4


def test_concurrent_calls_on_one_loop(server, server_model):
    server.responder = lambda body: "echo " + body["messages"][-1]["content"]

    async def many() -> list:
        return await asyncio.gather(
            *(server_model.acomplete([{"role": "user", "content": f"q{i}"}]) for i in range(5))
        )

    calls = asyncio.run(many())
    assert [c.response for c in calls] == [f"echo q{i}" for i in range(5)]


def test_secrets_stay_out_of_repr_config_and_errors(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret-0123456789")
    model = Model(
        "openai/loopback",
        api_base=server.url,
        api_key=LOOPBACK_KEY,
        temperature=0.1,
        max_retries=0,
        backoff=0,
    )
    for text in (repr(model), json.dumps(model.config()), model.label):
        assert LOOPBACK_KEY not in text and "sk-env-secret" not in text
    assert model.config()["temperature"] == 0.1 and "api_key" not in model.config()
    server.script({"status": 500, "error": f"boom, key {LOOPBACK_KEY} and sk-env-secret-0123456789"})
    error = expect_error(model, ProviderError)
    assert LOOPBACK_KEY not in str(error) and "sk-env-secret" not in str(error)
    assert "[REDACTED" in str(error)
