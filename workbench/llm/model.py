"""`Model`: one litellm model behind a small async API with its own retries and clear errors.

    model = Model("openai/gpt-4o-mini", temperature=0.2)      # key from OPENAI_API_KEY
    call = await model.acomplete(messages)                      # -> LLMCall (text, tokens, cost)

Importing this module does not import litellm. A `Session` with a real model starts importing it in a
background thread (`warm_up`), and the first call waits for that import if it is still running
(offline-first, see `workbench.llm.providers.load_litellm`). The offline models (`workbench/demo`,
`workbench/replay`) never import it: they are answered in this process (`providers.answer`). Each call runs `litellm.acompletion` with litellm's and
the SDK's retries turned off (`num_retries=0, max_retries=0`) and retries itself, with exponential
backoff, on rate limits, server errors, timeouts, connection errors and malformed responses, so
every attempt is counted in `LLMCall.attempts`. A failure raises a `workbench.errors.ModelError`
subclass whose message says what to do, with `.call` holding the failed `LLMCall`.

It can be awaited from any loop (the kernel's, `asyncio.run`, or the background loop behind the
blocking wrappers); the litellm call itself always runs on the background loop (see `acomplete`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import validate
from ..core.prompt import Prompt, as_list
from ..core.tree import LLMCall
from ..errors import ConfigError, WorkbenchError
from ..safety.redact import REDACTED, add_secret, kwarg_secrets, public_kwargs, redact, redact_obj
from ..safety.text import valid_obj, valid_text
from .providers import (
    DEMO,
    MODELS,
    REPLAY,
    Malformed,
    aload_litellm,
    answer,
    is_workbench_model,
    map_error,
    retry_after,
    stream_pieces,
    workbench_cause,
)
from .tokens import count_tokens

DEFAULT_REAL_MODELS = {
    "OPENAI_API_KEY": "openai/gpt-4o-mini",
    "ANTHROPIC_API_KEY": "anthropic/claude-haiku-4-5",
}


def default_model_name() -> str:
    """$WORKBENCH_MODEL, else a small real model whose key is set, else the offline demo model."""
    chosen = os.environ.get("WORKBENCH_MODEL", "").strip()
    if chosen:
        return chosen
    for key, name in DEFAULT_REAL_MODELS.items():
        if os.environ.get(key):
            return name
    return DEMO


def check_model_name(name: str | None) -> None:
    """A ConfigError, with the full hint, for a model name without a provider prefix ("gpt-4o")."""
    if name is None or (isinstance(name, str) and "/" in name):
        return
    raise ConfigError(
        f"model {name!r} needs a provider prefix; valid: workbench/demo or provider/name such as "
        "openai/gpt-4o-mini, anthropic/claude-haiku-4-5, ollama/llama3 (`workbench models` or "
        "%agent models lists them)"
    )


def known_models() -> list[tuple[str, str]]:
    """(name, description) pairs for a `models` listing: the offline models and real examples."""
    return [
        (DEMO, "offline simulated model for the built-in envs (seed=, error_rate=); no key needed"),
        (REPLAY, "plays back a recorded cassette: Model('workbench/replay', cassette='run.jsonl')"),
        ("openai/gpt-4o-mini", "OpenAI; needs OPENAI_API_KEY"),
        ("anthropic/claude-haiku-4-5", "Anthropic; needs ANTHROPIC_API_KEY"),
        ("gemini/gemini-2.0-flash", "Google AI Studio; needs GEMINI_API_KEY"),
        ("ollama/llama3", "a local Ollama server (api_base='http://localhost:11434')"),
        ("openai/<name>", "any OpenAI-compatible server: pass api_base='http://host:port/v1'"),
    ]


class Model:
    """A litellm model string plus retry, timeout and recording settings (see the module docstring)."""

    def __init__(
        self,
        name: str,
        *,
        record: str | Path | None = None,
        max_retries: int = 3,
        timeout: float = 60.0,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        **litellm_kwargs: Any,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"model name must be a litellm model string such as 'openai/gpt-4o-mini', not {name!r}"
            )
        if is_workbench_model(name) and name not in MODELS:
            raise ConfigError(f"unknown workbench model {name!r}; valid: {', '.join(MODELS)}")
        self.name = name
        self.max_retries = validate.number("max_retries", max_retries, minimum=0, integer=True)
        self.timeout = float(validate.number("timeout", timeout, minimum=0, above=True))
        self.backoff = float(validate.number("backoff", backoff, minimum=0))
        self.max_backoff = float(validate.number("max_backoff", max_backoff, minimum=0))
        self.kwargs = dict(litellm_kwargs)
        if "error_rate" in self.kwargs:
            self.kwargs["error_rate"] = validate.number(
                "error_rate", self.kwargs["error_rate"], minimum=0, maximum=1
            )
        if "seed" in self.kwargs:
            self.kwargs["seed"] = validate.number("seed", self.kwargs["seed"], integer=True, optional=True)
        for secret, kwarg in kwarg_secrets(self.kwargs):  # redacted wherever they show up from now on
            add_secret(secret, kwarg)
        self.function_calling: bool | None = self.kwargs.pop("function_calling", None)
        self._context_window: int | None = self.kwargs.pop("context_window", None)
        if self.kwargs.get("cassette") is not None:
            self.kwargs["cassette"] = str(self.kwargs["cassette"])
        self.record_path = Path(record) if record is not None else None
        self._recorder = None
        if self.record_path is not None:
            from .cassette import Recorder

            self._recorder = Recorder(self.record_path)
        self._replay_id: str | None = None
        self._player = None
        if name == REPLAY:
            if not self.kwargs.get("cassette"):
                raise ConfigError(
                    "workbench/replay needs a cassette: Model('workbench/replay', cassette='run.jsonl')"
                )
            from .cassette import Player, register_player

            self._player = Player(self.kwargs["cassette"])
            self._replay_id = uuid.uuid4().hex
            register_player(self._replay_id, self._player)

    def warm_up(self) -> None:
        """Start importing litellm in the background for a real model (no-op for demo and replay)."""
        if not self.offline:
            from .providers import import_in_background

            import_in_background()

    # ------------------------------------------------------------------ description
    @property
    def simulated(self) -> bool:
        """True for the simulated demo model (its answers are not a real model's)."""
        return self.name == DEMO

    @property
    def offline(self) -> bool:
        """True when calls never leave the process (demo and replay)."""
        return is_workbench_model(self.name)

    @property
    def supports_tools(self) -> bool:
        """Whether to use native tool calling: `function_calling=` if given, else what litellm knows.

        The offline models always can (the demo answers either format; replay plays what was recorded)."""
        if self.function_calling is not None:
            return bool(self.function_calling)
        if self.offline:
            return True
        from .providers import load_litellm

        try:
            return bool(load_litellm().supports_function_calling(model=self.name))
        except Exception:  # litellm does not know the model: fall back to the text format
            return False

    @property
    def context_window(self) -> int | None:
        """The model's input context in tokens, as litellm's local model map knows it (None: unknown;
        the offline models have none). `context_window=` given to the Model wins."""
        if self._context_window is not None:
            return int(self._context_window)
        if self.offline:
            return None
        from .providers import load_litellm

        try:
            info = load_litellm().get_model_info(model=self.name)
        except Exception:  # litellm does not know the model
            return None
        found = info.get("max_input_tokens") or info.get("max_tokens")
        return int(found) if found else None

    @property
    def label(self) -> str:
        if self.name == DEMO:
            return "demo model (simulated)"
        if self.name == REPLAY:
            return f"replay of {Path(str(self.kwargs['cassette'])).name}"
        return self.name

    def config(self) -> dict[str, Any]:
        """Name and settings without secrets: safe to store, show and export."""
        out: dict[str, Any] = {"name": self.name, **public_kwargs(self.kwargs)}
        if self.function_calling is not None:
            out["function_calling"] = self.function_calling
        if self._context_window is not None:
            out["context_window"] = self._context_window
        out.update(
            max_retries=self.max_retries,
            timeout=self.timeout,
            backoff=self.backoff,
            max_backoff=self.max_backoff,
        )
        if self.record_path is not None:
            out["record"] = str(self.record_path)
        return self._scrub_obj(out)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        """A model from `config()` output (keys come from the environment again)."""
        data = dict(config)
        for name in ("extra_headers", "headers", "default_headers"):  # stored with their names only
            if isinstance(data.get(name), dict) and REDACTED in data[name].values():
                data.pop(name)
        return cls(data.pop("name"), **data)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in public_kwargs(self.kwargs).items())
        return self._scrub(f"Model({self.name!r}{', ' + shown if shown else ''})")

    # ------------------------------------------------------------------ secrets
    def _secrets(self) -> list[str]:
        return [value for value, _ in kwarg_secrets(self.kwargs) if len(value) >= 4]

    def _scrub(self, text: str) -> str:
        text = redact(text)
        for secret in self._secrets():
            text = text.replace(secret, "[REDACTED]")
        return text

    def _scrub_obj(self, obj: Any) -> Any:
        obj = redact_obj(obj)
        secrets = self._secrets()
        if not secrets:
            return obj
        if isinstance(obj, str):
            return self._scrub(obj)
        if isinstance(obj, dict):
            return {k: self._scrub_obj(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._scrub_obj(v) for v in obj]
        return obj

    # ------------------------------------------------------------------ calls
    def _params(self, sample: int, overrides: dict[str, Any]) -> dict[str, Any]:
        params = {**self.kwargs, **overrides}
        if self.offline:
            params["sample"] = sample
            if self._replay_id is not None:
                params["replay_id"] = self._replay_id
        else:
            for demo_only in ("error_rate", "cassette"):
                params.pop(demo_only, None)
        return params

    async def acomplete(
        self,
        messages: list[dict[str, Any]],
        *,
        purpose: str = "act",
        sample: int = 0,
        on_delta: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> LLMCall:
        """One chat completion, retried as described in the module docstring.

        `sample` numbers alternative samples of the same request (search strategies ask for several);
        the offline models use it to vary their answer. `on_delta` (or `stream=True`) streams the
        answer, calling `on_delta(text)` with each new piece (a retried attempt streams again from
        its start). `overrides` are extra litellm kwargs. `LLMCall.latency` is the whole call's wall
        time, retries and backoff included.

        The litellm call itself always runs on the workbench's background loop (awaited from here
        without blocking): litellm binds its logging worker and clients to the loop it runs on, so
        one process mixing the kernel's loop and blocking calls must show it only one loop.
        `on_delta` is therefore called from that loop's thread.
        """
        if self.offline:
            return self._complete_offline(messages, purpose, sample, on_delta, overrides)
        from ..core.sync import background_loop

        home = background_loop()
        if asyncio.get_running_loop() is not home:
            coro = self.acomplete(messages, purpose=purpose, sample=sample, on_delta=on_delta, **overrides)
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))
        litellm = await aload_litellm()
        params = self._params(sample, overrides)
        stream = bool(params.pop("stream", False)) or on_delta is not None
        sent = [dict(m) for m in messages]  # litellm gets its own dicts
        stored = messages if isinstance(messages, Prompt) else sent  # a Prompt shares, read-only
        started, clock = time.time(), time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            try:
                text, prompt, completion, response, tool_calls = await self._attempt(
                    litellm, sent, params, stream, on_delta
                )
                break
            except WorkbenchError as exc:  # raised on purpose below us, e.g. ReplayMissError
                raise self._fail(exc, stored, purpose, attempt, started, clock) from None
            except Exception as exc:
                own = workbench_cause(exc)
                if own is not None:
                    raise self._fail(own, stored, purpose, attempt, started, clock) from None
                mapped = map_error(
                    litellm, exc, model=self.name, timeout=self.timeout, attempt=attempt, kwargs=self.kwargs
                )
                if mapped is None:
                    raise
                error, retry = mapped
                if not retry or attempt > self.max_retries:
                    raise self._fail(error, stored, purpose, attempt, started, clock) from exc
                await asyncio.sleep(self._delay(attempt, exc))
        call = LLMCall(
            model=self.name,
            messages=stored,
            response=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=self._cost(litellm, response),
            latency=time.perf_counter() - clock,
            attempts=attempt,
            purpose=purpose,
            started_at=started,
            tool_calls=tool_calls,
        )
        self._record(params, sent, text, prompt, completion, tool_calls)
        return call

    def _complete_offline(
        self,
        messages: Sequence[dict[str, Any]],
        purpose: str,
        sample: int,
        on_delta: Callable[[str], None] | None,
        overrides: dict[str, Any],
    ) -> LLMCall:
        """A demo or replay call: answered in this process, without litellm (nothing to retry).

        Runs on the caller's loop; `on_delta` gets the answer in small pieces as a stream would."""
        params = self._params(sample, overrides)
        stream = bool(params.pop("stream", False)) or on_delta is not None
        stored = messages if isinstance(messages, Prompt) else [dict(m) for m in messages]
        started, clock = time.time(), time.perf_counter()
        try:
            text, prompt, completion, calls = answer(self.name, as_list(stored), params)
        except WorkbenchError as exc:  # e.g. a replay that has no recorded answer for this prompt
            raise self._fail(exc, stored, purpose, 1, started, clock) from None
        tool_calls = [
            _tool_call(i, c.get("id"), c.get("name"), c.get("arguments", ""))
            for i, c in enumerate(calls or ())
        ] or None
        if stream and on_delta is not None:
            for piece in stream_pieces(text):
                if piece:
                    on_delta(piece)
        call = LLMCall(
            model=self.name,
            messages=stored,
            response=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            latency=time.perf_counter() - clock,
            purpose=purpose,
            started_at=started,
            tool_calls=tool_calls,
        )
        self._record(params, stored, text, prompt, completion, tool_calls)
        return call

    def _record(
        self,
        params: dict[str, Any],
        messages: Sequence[dict[str, Any]],
        text: str,
        prompt: int,
        completion: int,
        tool_calls: list[dict[str, Any]] | None,
    ) -> None:
        if self._recorder is None:
            return
        recorded = {k: v for k, v in params.items() if k not in ("sample", "replay_id", "api_base")}
        self._recorder.append(
            model=self.name,
            messages=as_list(messages),
            params=self._scrub_obj(recorded),
            text=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            tool_calls=tool_calls,
        )

    def complete(self, messages: list[dict[str, Any]], **kwargs: Any) -> LLMCall:
        """Blocking `acomplete` for scripts (runs on the workbench's background loop)."""
        from ..core.sync import run_sync

        return run_sync(self.acomplete(messages, **kwargs))

    async def _attempt(
        self,
        litellm: Any,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        stream: bool,
        on_delta: Callable[[str], None] | None,
    ) -> tuple[str, int, int, Any, list[dict[str, Any]] | None]:
        call_kwargs = dict(params, num_retries=0, max_retries=0, timeout=self.timeout)
        if not stream:
            response = await litellm.acompletion(model=self.name, messages=messages, **call_kwargs)
        else:
            call_kwargs.setdefault("stream_options", {"include_usage": True})
            chunks = []
            async for chunk in await litellm.acompletion(
                model=self.name, messages=messages, stream=True, **call_kwargs
            ):
                chunks.append(chunk)
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece and on_delta is not None:
                    on_delta(piece)
            if not chunks:
                raise Malformed("the stream ended without any chunk")
            response = litellm.stream_chunk_builder(chunks, messages=messages)
        text, prompt, completion, tool_calls = _parse(response)
        if prompt is None:
            prompt = count_tokens(messages, self.name)
        if completion is None:
            completion = count_tokens(text + json.dumps(tool_calls or ""), self.name)
        return text, prompt, completion, response, tool_calls

    def _cost(self, litellm: Any, response: Any) -> float:
        """The call's cost: litellm's own figure from the response when it made one (None: a model
        without a price), else computed once here (a streamed answer rebuilt from its chunks)."""
        if response is None:
            return 0.0
        hidden = getattr(response, "_hidden_params", None) or {}
        if "response_cost" in hidden:
            try:
                return float(hidden["response_cost"] or 0.0)
            except (TypeError, ValueError):
                return 0.0
        try:
            return float(litellm.completion_cost(completion_response=response, model=self.name) or 0.0)
        except Exception:  # an unknown price is not an error: the local cost map lacks many models
            return 0.0

    def _delay(self, attempt: int, exc: BaseException) -> float:
        delay = self.backoff * (2 ** (attempt - 1))
        wait = retry_after(exc)
        if wait is not None:
            delay = max(delay, wait)
        return min(delay, self.max_backoff)

    def _fail(
        self,
        error: WorkbenchError,
        messages: list[dict[str, Any]],
        purpose: str,
        attempts: int,
        started: float,
        clock: float,
    ) -> WorkbenchError:
        """`error` with a scrubbed message and `.call`, the failed call as the run records it."""
        message = self._scrub(str(error))
        if error.args != (message,):
            error.args = (message,)
        error.call = LLMCall(  # type: ignore[attr-defined]
            model=self.name,
            messages=messages,
            response="",
            attempts=attempts,
            error=message,
            purpose=purpose,
            started_at=started,
            latency=time.perf_counter() - clock,
        )
        return error


def _tool_call(i: int, call_id: Any, name: Any, arguments: Any) -> dict[str, str]:
    """A tool call as the run tree keeps it: arguments as the JSON text the model wrote."""
    return {
        "id": str(call_id or f"call_{i}"),
        "name": str(name or ""),
        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
    }


def _parse(response: Any) -> tuple[str, int | None, int | None, list[dict[str, Any]] | None]:
    """(text, prompt_tokens, completion_tokens, tool_calls) of a chat completion; raises Malformed.

    Tool calls come back as plain dicts `{"id", "name", "arguments"}` (arguments as the JSON text the
    model wrote, malformed or not: the tool layer reports what is wrong to the agent)."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise Malformed("the response has no choices")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise Malformed("the response's first choice has no message")
    text = getattr(message, "content", None)
    tool_calls = [
        _tool_call(i, getattr(c, "id", None), getattr(c.function, "name", ""), c.function.arguments)
        for i, c in enumerate(getattr(message, "tool_calls", None) or [])
        if getattr(c, "function", None) is not None
    ] or None
    if text is None and not tool_calls:
        raise Malformed("the response's message has no content")
    usage = getattr(response, "usage", None)
    prompt = getattr(usage, "prompt_tokens", None) if usage is not None else None
    completion = getattr(usage, "completion_tokens", None) if usage is not None else None
    return valid_text(str(text or "")), prompt, completion, valid_obj(tool_calls)
