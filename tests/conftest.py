r"""Shared fixtures: a scriptable OpenAI-compatible model server on 127.0.0.1.

Fixtures
--------
model_server (session)
    A plain-Python server (http.server.ThreadingHTTPServer, free port on 127.0.0.1) answering
    `POST /v1/chat/completions` with OpenAI-shaped JSON, or SSE chunks when the request has
    `"stream": true` (a usage chunk is added when `stream_options.include_usage` is true).
    Attributes and methods:
      url                   "http://127.0.0.1:<port>/v1" (pass as api_base)
      requests              every request body received (dicts), oldest first
      headers               the headers of each request (lower-case names), in the same order
      script(*behaviours)   queue behaviours; each request consumes one, in order:
          {"text": "..."}                          a normal answer
          {"tool_calls": [{"id", "name", "arguments"}]}   an OpenAI tool-call answer (text optional)
          {"status": 429} / 500 / 401 / 404 ...    an OpenAI-style error with that status
          {"status": 400, "error": "context_length_exceeded: ..."}   error message to send
          {"delay": seconds, "text": "..."}        wait (on a threading.Event) before answering;
                                                   `release()` ends every wait early
          {"malformed": True}                      200 with a body that is not JSON
          {"usage": {"prompt_tokens": 7, "completion_tokens": 3}}   override the usage
      responder             callable(body: dict) -> str used when the queue is empty; default
                            answers a fixed ReAct step (`default_answer`)
      default_answer        "Thought: I should look around first.\nAction: look"
      api_key               "sk-loopback-test", the key `server_model` uses
      release()             end any pending delays now
      reset()               clear queue, requests and headers, restore the default responder
server (function)
    `model_server`, reset before and after the test (use it instead of model_server in tests).
lab, chromium (session)
    A JupyterLab server and a headless Debian Chromium for the tests marked `browser`.
server_model (function)
    `Model("openai/loopback", api_base=server.url, api_key="sk-loopback-test", max_retries=2,
    backoff=0, timeout=5.0)` talking to `server`.
demo_policy_stub (function)
    Replaces `workbench.demo.policy` with a stub whose `respond(messages, *, seed, error_rate,
    sample)` returns "Thought: stub seed=<seed> sample=<sample>\nAction: look" and appends its
    arguments to `stub.calls`; use it to test the demo provider apart from the real policy.

Also: `pytest_configure` makes litellm's start-up offline (workbench.llm.providers.
prepare_environment) and filters a few of litellm's own warnings by message.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_ANSWER = "Thought: I should look around first.\nAction: look"
LOOPBACK_KEY = "sk-loopback-test"

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_denied", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def _words(value: Any) -> int:
    """A rough token count for the fake usage: whitespace-separated words."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return _words(value.get("content") or value.get("text") or "")
    return 0


def _message(text: str, tool_calls: list[dict[str, Any]] | None) -> dict[str, Any]:
    if not tool_calls:
        return {"role": "assistant", "content": text}
    calls = [
        {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
        for c in tool_calls
    ]
    return {"role": "assistant", "content": text or None, "tool_calls": calls}


class ModelServer:
    """State and scripting API of the fake server (see the module docstring)."""

    default_answer = DEFAULT_ANSWER  # what the default responder says
    api_key = LOOPBACK_KEY  # the key `server_model` sends (tests check it never leaks)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[dict[str, Any]] = deque()
        self._release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.responder: Callable[[dict[str, Any]], str] = lambda body: DEFAULT_ANSWER
        self._httpd: ThreadingHTTPServer | None = None
        self.url = ""

    # -- scripting
    def script(self, *behaviours: dict[str, Any]) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    def release(self) -> None:
        self._release.set()

    def reset(self) -> None:
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._queue.clear()
            self.requests.clear()
            self.headers.clear()
            self.responder = lambda body: DEFAULT_ANSWER

    def next_behaviour(
        self, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[dict[str, Any], threading.Event]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            behaviour = self._queue.popleft() if self._queue else {}
            return behaviour, self._release

    # -- lifecycle
    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms stall

            def log_message(self, format: str, *args: Any) -> None:  # silence the request log
                return

            def do_POST(self) -> None:
                # a client that gave up (a timeout test) leaves nobody to answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server.handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, name="model-server", daemon=True).start()

    def stop(self) -> None:
        self.release()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    # -- request handling
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        if request.path.rstrip("/") != "/v1/chat/completions":
            self._send(request, 404, {"error": {"message": f"no route {request.path}", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(
                request,
                400,
                {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}},
            )
            return
        behaviour, release = self.next_behaviour(body, {k.lower(): v for k, v in request.headers.items()})
        if "delay" in behaviour:
            release.wait(timeout=float(behaviour["delay"]))
        status = int(behaviour.get("status", 200))
        if status != 200:
            kind, code = _ERROR_TYPES.get(status, ("server_error", None))
            message = behaviour.get("error") or f"scripted error {status}"
            if status == 400 and "context" in message:
                code = "context_length_exceeded"
            self._send(
                request, status, {"error": {"message": message, "type": kind, "param": None, "code": code}}
            )
            return
        if behaviour.get("malformed"):
            self._send_raw(request, 200, b'{"id": "chatcmpl-broken", "choices": [', "application/json")
            return
        tool_calls = behaviour.get("tool_calls")  # [{"id", "name", "arguments"}]: an OpenAI tool-call answer
        text = behaviour["text"] if "text" in behaviour else ("" if tool_calls else self.responder(body))
        usage = {
            "prompt_tokens": _words(body.get("messages", [])) + 1,
            "completion_tokens": max(1, _words(text)),
        }
        usage.update(behaviour.get("usage", {}))
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        model = body.get("model", "loopback")
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(request, model, text, usage if include_usage else None)
            return
        self._send(
            request,
            200,
            {
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls" if tool_calls else "stop",
                        "message": _message(text, tool_calls),
                    }
                ],
                "usage": usage,
            },
        )

    def _stream(
        self, request: BaseHTTPRequestHandler, model: str, text: str, usage: dict[str, int] | None
    ) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-cache")
        request.send_header("Connection", "close")
        request.end_headers()
        base = {
            "id": "chatcmpl-loopback",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = [text[i : i + 8] for i in range(0, len(text), 8)] or [""]
        events = [
            {
                **base,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
        ]
        events += [
            {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
            for p in pieces
        ]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if usage is not None:
            events.append({**base, "choices": [], "usage": usage})
        for event in events:
            request.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            request.wfile.flush()
        request.wfile.write(b"data: [DONE]\n\n")
        request.wfile.flush()
        request.close_connection = True

    def _send(self, request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        self._send_raw(request, status, json.dumps(payload).encode(), "application/json")

    @staticmethod
    def _send_raw(request: BaseHTTPRequestHandler, status: int, data: bytes, content_type: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
        request.wfile.flush()


# litellm's own warnings (pydantic schema notes, and its logging worker when an event loop closes
# under it): not ours to fix, filtered by message so every other warning still shows.
_LITELLM_WARNINGS = (
    "ignore:Item '.*' on TypedDict class '.*' is using the `ReadOnly` qualifier:UserWarning",
    "ignore:Accessing the 'model_.*' attribute on the instance is deprecated",
    "ignore:coroutine 'LoggingWorker._worker_loop' was never awaited:RuntimeWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    # A test that imports litellm itself, before any Model call did, must not make litellm fetch
    # its cost map from the internet (see workbench.llm.providers).
    from workbench.llm.providers import prepare_environment

    prepare_environment()
    # The default run store (workbench.store.location) of every test, kernel and Jupyter server this
    # suite starts is a per-user folder inside a temp dir, never the developer's own.
    import os
    import tempfile

    os.environ.pop("WORKBENCH_STORE", None)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="workbench-test-data-")
    for line in _LITELLM_WARNINGS:
        config.addinivalue_line("filterwarnings", line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running on the main thread
    while its session-scoped browser is open, and `asyncio.run` in later tests would refuse to start."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A JupyterLab server on 127.0.0.1 for the browser tests (see tests/browser_fixtures.py)."""
    from browser_fixtures import lab_server

    with lab_server(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test session (a missing one fails under CI)."""
    import os

    from browser_fixtures import CHROMIUM, chromium_available, launch_chromium

    if not chromium_available():
        message = f"Chromium not found at {CHROMIUM} (install it: apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def model_server() -> Iterator[ModelServer]:
    srv = ModelServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server(model_server: ModelServer) -> Iterator[ModelServer]:
    model_server.reset()
    try:
        yield model_server
    finally:
        model_server.reset()


@pytest.fixture
def server_model(server: ModelServer) -> Any:
    from workbench.llm.model import Model

    return Model(
        "openai/loopback",
        api_base=server.url,
        api_key=server.api_key,
        max_retries=2,
        backoff=0,
        timeout=5.0,
    )


@pytest.fixture
def demo_policy_stub(monkeypatch: pytest.MonkeyPatch) -> Any:
    stub = types.ModuleType("workbench.demo.policy")
    stub.calls = []  # type: ignore[attr-defined]

    def respond(
        messages: list[dict[str, Any]], *, seed: int = 0, error_rate: float = 0.1, sample: int = 0
    ) -> str:
        stub.calls.append({"messages": messages, "seed": seed, "error_rate": error_rate, "sample": sample})  # type: ignore[attr-defined]
        return f"Thought: stub seed={seed} sample={sample}\nAction: look"

    stub.respond = respond  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "workbench.demo.policy", stub)
    return stub


@pytest.fixture
def shell() -> Iterator[Any]:
    """A fresh IPython shell with `%load_ext workbench`; its agents are cleared after the test."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "workbench")
    yield sh
    sh.magics_manager.registry["AgentMagics"].agents.clear()
    InteractiveShell.clear_instance()
