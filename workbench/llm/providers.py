"""litellm, loaded lazily and offline, plus the workbench's own providers.

`load_litellm()` is the one way into litellm. On first use it

1. makes litellm's start-up offline: litellm 1.110 downloads its model cost map from GitHub while
   it is being imported (and keeps retrying in a background thread) unless
   `LITELLM_LOCAL_MODEL_COST_MAP` is exactly "true" (any case) when `import litellm` runs. A value
   such as "1" or "yes" is *not* understood and still fetches, and setting the variable after
   litellm is imported is too late (code that runs `import litellm` itself before the first
   Model call brings the fetch back: that is what logs "model cost map fetch attempt 1/3 failed").
   So the variable is set, an empty or truthy spelling normalised to "True", before the import;
   the same for `LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS`, which otherwise fetches a config from
   GitHub on the first Anthropic call. An explicit "false" is left alone.
2. imports litellm, turns off its debug banners on stdout (`suppress_debug_info`), and
3. registers the `workbench` provider in `litellm.custom_provider_map`, keeping other entries.

The `workbench` provider serves two models:

- `workbench/demo`: a simulated model; answers come from `workbench.demo.policy.respond(
  messages, seed=, error_rate=, sample=)`. Extra keyword arguments of `litellm.acompletion` reach a
  custom provider in `optional_params`, which is how `seed`, `error_rate` and `sample` arrive.
  Usage is counted with `workbench.llm.tokens` so token reports look like a real model's.
- `workbench/replay`: answers from a cassette (`cassette=path`, see `workbench.llm.cassette`);
  `replay_id` picks the per-Model player. Usage is the recorded usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, MutableMapping
from typing import Any

from ..errors import (
    AuthenticationError,
    ConfigError,
    ContextWindowError,
    ModelError,
    ModelNotFoundError,
    ModelTimeoutError,
    ProviderError,
    RateLimitError,
    WorkbenchError,
)
from ..safety.redact import is_secret_kwarg, public_kwargs
from . import cassette as _cassette
from .tokens import count_tokens

PROVIDER = "workbench"
DEMO = "workbench/demo"
REPLAY = "workbench/replay"
MODELS = (DEMO, REPLAY)

_OFFLINE_SWITCHES = ("LITELLM_LOCAL_MODEL_COST_MAP", "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS")
_TRUTHY = {"", "1", "yes", "on", "y", "t"}
_STREAM_PIECE = 4  # words per streamed chunk of a simulated answer

_lock = threading.RLock()
_handler: Any = None
_loaded: Any = None  # the litellm module once load_litellm() has finished
_start_lock = threading.Lock()
_import_thread: threading.Thread | None = None


def prepare_environment(environ: MutableMapping[str, str] | None = None) -> None:
    """Make litellm's import use its bundled data instead of fetching it (see the module docstring)."""
    env = os.environ if environ is None else environ
    for name in _OFFLINE_SWITCHES:
        value = env.get(name)
        if value is None or value.strip().lower() in _TRUTHY:  # "" counts as unset
            env[name] = "True"


def load_litellm() -> Any:
    """The litellm module, imported offline-first and with the workbench provider registered."""
    with _lock:
        prepare_environment()
        import litellm

        litellm.suppress_debug_info = True
        handler = _get_handler(litellm)
        current = list(litellm.custom_provider_map or [])
        if not any(e.get("provider") == PROVIDER and e.get("custom_handler") is handler for e in current):
            others = [e for e in current if e.get("provider") != PROVIDER]
            litellm.custom_provider_map = [*others, {"provider": PROVIDER, "custom_handler": handler}]
        global _loaded
        _loaded = litellm
        return litellm


async def aload_litellm() -> Any:
    """`load_litellm()` without blocking the event loop: the first import (~3 s) runs in a thread
    (and waits there for an import `import_in_background` started)."""
    if _loaded is not None:
        return load_litellm()  # cheap now: re-checks the registration only
    return await asyncio.to_thread(load_litellm)


def import_in_background() -> None:
    """Start importing litellm in a daemon thread, once, so that the first call finds it loaded.

    A call made while the import is still running waits for it (`load_litellm` holds the lock for
    the whole import); an import that fails is left for that call to report."""
    global _import_thread
    with _start_lock:
        if _loaded is not None or _import_thread is not None:
            return
        _import_thread = threading.Thread(
            target=_import_quietly, name="workbench-litellm-import", daemon=True
        )
        _import_thread.start()


def _import_quietly() -> None:
    with contextlib.suppress(BaseException):  # the first call imports again and reports the failure
        load_litellm()


def _get_handler(litellm: Any) -> Any:
    global _handler
    if _handler is None:
        _handler = _handler_class(litellm)()
    return _handler


def is_workbench_model(name: str) -> bool:
    return name.startswith(PROVIDER + "/")


# ----------------------------------------------------------------------------- answers


def demo_answer(
    messages: list[dict[str, Any]], params: Mapping[str, Any]
) -> tuple[str, list[dict[str, Any]] | None]:
    """The simulated model's (text, tool calls); the policy is imported at call time (tests swap it).

    With `tools=` in the request the policy's `respond_tools` answers with native tool calls."""
    policy = importlib.import_module("workbench.demo.policy")
    settings = {
        "seed": int(params.get("seed") or 0),
        "error_rate": float(params.get("error_rate", 0.1)),
        "sample": int(params.get("sample") or 0),
    }
    tools = params.get("tools")
    if tools and hasattr(policy, "respond_tools"):
        text, calls = policy.respond_tools(messages, list(tools), **settings)
        return str(text), calls
    return str(policy.respond(messages, **settings)), None


def answer(
    model: str, messages: list[dict[str, Any]], params: Mapping[str, Any]
) -> tuple[str, int, int, list[dict[str, Any]] | None]:
    """(text, prompt_tokens, completion_tokens, tool_calls) for `workbench/<model>`."""
    short = model.split("/", 1)[1] if "/" in model else model
    if short == "demo":
        text, calls = demo_answer(messages, params)
        return text, count_tokens(messages), count_tokens(text + (json.dumps(calls) if calls else "")), calls
    if short == "replay":
        path = params.get("cassette")
        if not path:
            raise ConfigError(
                "workbench/replay needs a cassette: Model('workbench/replay', cassette='run.jsonl')"
            )
        player = _cassette.find_player(str(path), params.get("replay_id"))
        recorded = player.answer(messages)
        text = str(recorded.get("text", ""))
        prompt = recorded.get("prompt_tokens")
        completion = recorded.get("completion_tokens")
        return (
            text,
            int(prompt) if prompt is not None else count_tokens(messages),
            int(completion) if completion is not None else count_tokens(text),
            recorded.get("tool_calls") or None,
        )
    raise ConfigError(f"unknown workbench model {model!r}; valid: {', '.join(MODELS)}")


def stream_pieces(text: str) -> list[str]:
    """`text` cut into small chunks that concatenate back to exactly `text`."""
    words = text.split(" ")
    out = []
    for i in range(0, len(words), _STREAM_PIECE):
        piece = " ".join(words[i : i + _STREAM_PIECE])
        out.append(piece if i + _STREAM_PIECE >= len(words) else piece + " ")
    return out or [""]


# ----------------------------------------------------------------------------- the handler


def _handler_class(litellm: Any) -> type:
    """The CustomLLM subclass (defined here because its base class needs litellm imported)."""
    from litellm.types.utils import Choices, GenericStreamingChunk, Message, ModelResponse, Usage

    def native(calls: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if not calls:
            return None
        return [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls
        ]

    def build(model: str, text: str, prompt: int, completion: int, calls: Any = None) -> Any:
        message = Message(role="assistant", content=text or None, tool_calls=native(calls))
        return ModelResponse(
            model=model,
            choices=[Choices(index=0, finish_reason="tool_calls" if calls else "stop", message=message)],
            usage=Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion),
        )

    def chunks(text: str, prompt: int, completion: int, calls: Any = None) -> Iterator[Any]:
        pieces = stream_pieces(text)
        tool_chunks = native(calls) or []
        for i, call in enumerate(tool_chunks):  # one chunk per call, before the text's last piece
            yield GenericStreamingChunk(
                text="",
                is_finished=False,
                finish_reason="",
                usage=None,
                index=0,
                tool_use={**call, "index": i},
            )
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            yield GenericStreamingChunk(
                text=piece,
                is_finished=last,
                finish_reason=("tool_calls" if tool_chunks else "stop") if last else "",
                usage=(
                    {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    }
                    if last
                    else None
                ),
                index=0,
                tool_use=None,
            )

    class WorkbenchLLM(litellm.CustomLLM):  # type: ignore[misc, name-defined]
        """Serves `workbench/demo` and `workbench/replay` (see the module docstring)."""

        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            text, prompt, completion, calls = answer(model, messages, kwargs.get("optional_params") or {})
            return build(f"{PROVIDER}/{model}", text, prompt, completion, calls)

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            return self.completion(model, messages, *args, **kwargs)

        def streaming(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Iterator[Any]:
            text, prompt, completion, calls = answer(model, messages, kwargs.get("optional_params") or {})
            yield from chunks(text, prompt, completion, calls)

        async def astreaming(
            self, model: str, messages: list, *args: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            text, prompt, completion, calls = answer(model, messages, kwargs.get("optional_params") or {})
            for chunk in chunks(text, prompt, completion, calls):
                yield chunk

    return WorkbenchLLM


# ----------------------------------------------------------------------------- errors

DEMO_HINT = "or use model='workbench/demo' (offline, simulated)"
_RETRY_HINT = "the provider or the connection is failing: try again later or check api_base, " + DEMO_HINT
_NO_KEY_MARKERS = (
    "missing credentials",
    "api_key client option must be set",
    "no api key",
    "missing api key",
)
_CONTEXT_MARKERS = ("context_length_exceeded", "context length", "context window", "maximum context")


_CLASS_SUFFIXES = ("Error", "Exception", "Timeout")


class Malformed(Exception):
    """The provider answered, but not with a usable chat completion."""


def map_error(
    litellm: Any, exc: Exception, *, model: str, timeout: float, attempt: int, kwargs: Mapping[str, Any]
) -> tuple[ModelError, bool] | None:
    """(workbench error, retry?) for a failed attempt; None when `exc` is not a provider failure.

    Messages may quote the provider; the caller scrubs secrets from them before raising.
    """
    import openai

    detail = describe(exc)
    lowered = f"{type(exc).__name__} {detail}".lower()
    tried = f"after {attempt} attempt{'s' if attempt != 1 else ''}"
    bad_request = isinstance(exc, litellm.BadRequestError)
    if isinstance(exc, Malformed):
        return ProviderError(f"{model} sent a malformed response {tried} ({detail}); {_RETRY_HINT}"), True
    if isinstance(exc, litellm.ContextWindowExceededError) or (
        bad_request and any(m in lowered for m in _CONTEXT_MARKERS)
    ):
        message = (
            f"the prompt is too long for {model}'s context window ({detail}): use memory='diff' or "
            "'window' or a smaller window, or a model with a longer context"
        )
        return ContextWindowError(message), False
    if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)) or any(
        m in lowered for m in _NO_KEY_MARKERS
    ):
        return AuthenticationError(auth_message(litellm, model, detail, kwargs)), False
    if isinstance(exc, litellm.NotFoundError) or (bad_request and "llm provider not provided" in lowered):
        message = (
            f"unknown model {model!r} ({detail}): use a litellm model string such as "
            f"'openai/gpt-4o-mini' or 'anthropic/claude-haiku-4-5' (`%agent models` lists examples), {DEMO_HINT}"
        )
        return ModelNotFoundError(message), False
    if isinstance(exc, litellm.RateLimitError):
        message = (
            f"{model} is still rate limited {tried} ({detail}): wait or lower the concurrency "
            "(fewer parallel runs or samples), or raise max_retries/backoff"
        )
        return RateLimitError(message), True
    if isinstance(exc, (litellm.Timeout, asyncio.TimeoutError, TimeoutError)):
        message = (
            f"no answer from {model} within {timeout:g}s, {tried}: raise timeout=..., or check that the "
            f"provider is reachable, {DEMO_HINT}"
        )
        return ModelTimeoutError(message), True
    if bad_request or isinstance(
        exc, (litellm.UnprocessableEntityError, litellm.ContentPolicyViolationError)
    ):
        shown = ", ".join(sorted(public_kwargs(kwargs))) or "none set"
        return ProviderError(
            f"{model} rejected the request ({detail}): check its parameters ({shown})"
        ), False
    if isinstance(exc, (openai.APIError, ConnectionError, OSError)):
        return ProviderError(f"{model} failed {tried} ({detail}); {_RETRY_HINT}"), True
    return None


def auth_message(litellm: Any, model: str, detail: str, kwargs: Mapping[str, Any]) -> str:
    """Which key is missing or rejected, and where to set it (never the key itself)."""
    try:
        provider = litellm.get_llm_provider(model)[1]
    except Exception:  # only words the message
        provider = model.split("/", 1)[0]
    try:
        missing = list(litellm.validate_environment(model=model).get("missing_keys") or [])
    except Exception:  # only words the message
        missing = []
    names = [k for k in missing if k.endswith("KEY")] or missing or [f"{str(provider).upper()}_API_KEY"]
    wanted = " or ".join(names)
    if not any(os.environ.get(n) for n in names) and not any(is_secret_kwarg(k) for k in kwargs):
        return f"no API key for {provider}: set {wanted} in the environment, {DEMO_HINT}"
    return (
        f"{provider} rejected the API key ({detail}): set a valid key in {wanted} "
        f"(or check the api_key passed to Model), {DEMO_HINT}"
    )


def describe(exc: BaseException) -> str:
    """The provider's own words, shortened: the first line, without litellm's class-name prefixes."""
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0].strip()
    for _ in range(4):
        head, sep, rest = line.partition(": ")
        if not sep or " " in head.strip() or not head.strip().endswith(_CLASS_SUFFIXES):
            head, sep, rest = line.partition(" - ")  # "OpenAIException - message"
            if not sep or " " in head.strip() or not head.strip().endswith(_CLASS_SUFFIXES):
                break
        line = rest.strip()
    return line[:200] + ("..." if len(line) > 200 else "")


def workbench_cause(exc: BaseException) -> WorkbenchError | None:
    """A WorkbenchError that litellm wrapped (our providers raise them inside litellm)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, WorkbenchError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a Retry-After header on the failed response, if there was one."""
    headers = getattr(exc, "litellm_response_headers", None)
    if not headers:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        value = headers.get("retry-after") if headers else None
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None
