"""MCP servers' tools as workbench `Tool`s, through the official `mcp` SDK.

    env = ToolEnv.from_mcp(command=["uvx", "mcp-server-time"])                # stdio
    env = ToolEnv.from_mcp(url="http://127.0.0.1:8000/mcp", headers={...})  # streamable HTTP
    conn = connect(command=[sys.executable, "server.py"], env={"DB_URL": "..."}, timeout=30)

`connect(...)` starts (or reaches) the server, lists its tools and returns an `MCPConnection`:
`.tools` (`Tool`s whose runner calls the server; checked against the server's `inputSchema`),
`.names` (workbench name -> MCP name: a name the `Tool` class rejects, such as `text.upper`,
becomes `text_upper`), `.close()`. It blocks until the tools are listed and raises `ConfigError`
saying what failed when the server cannot start or answer within `timeout` seconds.

How it runs: the SDK's transports and `ClientSession` are anyio context managers that must be
entered and left in one task. Each connection owns a daemon thread with its own event loop, and one
long-lived task there opens the transport and the session, lists the tools, waits for `close()`,
then leaves both. A call is submitted to that loop (`asyncio.run_coroutine_threadsafe`) and awaited
with `asyncio.wrap_future`, so a runner can be awaited from any loop: the kernel's, an
`asyncio.run`, the workbench's background loop.

Results: text contents are joined; images, audio and resources become short notes
("[image/png, 12 KB: not shown]"), never base64; structured content shows as JSON when there is no
text. A result flagged `isError` raises `MCPToolError` with the server's text, which `ToolEnv`
shows to the agent as "Error: ...". MCP annotations: `destructiveHint: true` (unless
`readOnlyHint: true`) marks the tool `destructive`.

Processes: a stdio server gets a minimal environment (PATH, HOME, locale, temp dir...) plus `env=`;
the parent's other variables, its `*_API_KEY`, `*_TOKEN` and `*_SECRET` among them, are not passed
unless `env=` names them. The server's stderr goes to a temporary file; when the server fails at
start, its last lines are in the error (with the `env=` and `headers=` values blanked). `close()`
ends the session, and the SDK closes the server's stdin, then terminates its process group; it is
idempotent and also runs at interpreter exit (through `weakref.finalize`, which keeps nothing
alive). If the Python process is killed, the server reads end-of-file on stdin and exits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from .base import Tool

DEFAULT_TIMEOUT = 30.0
CLOSE_WAIT = 15.0  # the SDK's stdio shutdown: 2 s for the server to exit on EOF, then SIGTERM, SIGKILL

# Inherited by a stdio server from the parent process; nothing else is, unless `env=` names it.
# fmt: off
SAFE_ENV_KEYS = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ",
    "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR",
    # Windows
    "APPDATA", "LOCALAPPDATA", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "SYSTEMDRIVE", "SYSTEMROOT", "COMSPEC",
    "PATHEXT", "TEMP", "TMP", "PROCESSOR_ARCHITECTURE",
)
# fmt: on
_SECRET_KEY = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.I)
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class MCPToolError(RuntimeError):
    """The MCP server answered a tool call with `isError`: the message is the server's text."""


def connect(
    command: Sequence[str] | str | None = None,
    *,
    url: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> MCPConnection:
    """Start (stdio `command=[...]`) or reach (streamable HTTP `url=`) an MCP server; list its tools."""
    if (command is None) == (url is None):
        raise ConfigError(
            "give an MCP server as command=[program, *args] (stdio) or url=... (HTTP), not both"
        )
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
    secrets = [str(v) for v in [*(env or {}).values(), *(headers or {}).values()] if v and len(str(v)) >= 4]
    if command is not None:
        if url is not None or headers:
            raise ConfigError("headers= is for url= (HTTP) servers; a stdio server takes env=")
        opener, target, errlog = _stdio_opener(command, env, cwd)
    else:
        if env or cwd is not None:
            raise ConfigError("env= and cwd= are for command= (stdio) servers; an HTTP server takes headers=")
        opener, target, errlog = _http_opener(str(url), headers), _show_url(str(url)), None
    _import_sdk(errlog)
    worker = _Worker(opener, target, float(timeout), errlog)
    try:
        listed = worker.start()
    except BaseException as exc:
        worker.close()
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        message = _redact(_start_failure(exc, target, command is not None, worker), secrets)
        if errlog is not None:
            errlog.close()
        raise ConfigError(message) from exc
    tools, names = build_tools(listed, worker.runner)
    return MCPConnection(worker, tools, names, target)


async def aconnect(*args: Any, **kwargs: Any) -> MCPConnection:
    """`connect` without blocking the running event loop (the start-up waits in a worker thread)."""
    return await asyncio.to_thread(connect, *args, **kwargs)


class MCPConnection:
    """A live MCP session: `.tools`, `.names` (workbench -> MCP name), `.close()` (see the module docstring)."""

    def __init__(self, worker: _Worker, tools: list[Tool], names: dict[str, str], target: str) -> None:
        self.tools = tools
        self.names = names
        self.target = target
        self._worker = worker
        self._finalizer = weakref.finalize(self, worker.close)  # also runs at exit; holds no ref to self

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """End the session and the server process (waits for them); safe to call twice."""
        self._finalizer()

    async def aclose(self) -> None:
        """`close` without blocking the running event loop."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> MCPConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self.tools)} tools"
        return f"<MCPConnection {self.target}: {state}>"


# ------------------------------------------------------------------------------------ tools and results


def build_tools(
    listed: Sequence[Mapping[str, Any]], runner: Callable[[str], Any]
) -> tuple[list[Tool], dict[str, str]]:
    """`Tool`s from MCP tool listings (wire-format dicts); `runner(mcp_name)` -> async (args) -> str.

    Returns the tools and the names that had to change (workbench name -> MCP name)."""
    tools: list[Tool] = []
    renamed: dict[str, str] = {}
    used: set[str] = set()
    for spec in listed:
        mcp_name = str(spec.get("name") or "")
        name = valid_name(mcp_name, used)
        used.add(name)
        schema = spec.get("inputSchema")
        schema = dict(schema) if isinstance(schema, Mapping) else {}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        notes = spec.get("annotations") or {}
        description = (
            spec.get("description") or spec.get("title") or notes.get("title") or f"the MCP tool {mcp_name}"
        )
        if name != mcp_name:
            renamed[name] = mcp_name
            description = f"{description} (MCP tool {mcp_name!r})"
        destructive = notes.get("destructiveHint") is True and notes.get("readOnlyHint") is not True
        tools.append(
            Tool(
                name=name,
                description=description,
                parameters=schema,
                destructive=destructive,
                runner=runner(mcp_name),
            )
        )
    return tools, renamed


def valid_name(name: str, used: set[str] | frozenset[str] = frozenset()) -> str:
    """`name` as a valid, unused tool name: other characters become '_', at most 64 characters."""
    base = _BAD_CHARS.sub("_", name) or "tool"
    if not (base[0].isascii() and (base[0].isalpha() or base[0] == "_")):
        base = f"t_{base}"
    base = base[:64]
    candidate, n = base, 1
    while candidate in used:
        n += 1
        suffix = f"_{n}"
        candidate = base[: 64 - len(suffix)] + suffix
    return candidate


def result_to_text(result: Mapping[str, Any]) -> tuple[str, bool]:
    """(the text the agent reads, is_error) from a wire-format `CallToolResult`."""
    parts = [_content_text(item) for item in result.get("content") or ()]
    has_text = any(item.get("type") == "text" for item in result.get("content") or ())
    structured = result.get("structuredContent")
    if structured is not None and not has_text:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(p for p in parts if p)
    return text or "(no output)", bool(result.get("isError"))


def _content_text(item: Mapping[str, Any]) -> str:
    kind = item.get("type")
    if kind == "text":
        return str(item.get("text") or "")
    if kind in ("image", "audio"):
        return f"[{item.get('mimeType') or kind}, {_size(_b64_size(item.get('data')))}: not shown]"
    if kind == "resource":
        res = item.get("resource") or {}
        size = (
            len(str(res.get("text")).encode()) if res.get("text") is not None else _b64_size(res.get("blob"))
        )
        mime = f", {res['mimeType']}" if res.get("mimeType") else ""
        return f"[resource {res.get('uri', '')}{mime}, {_size(size)}: not shown]"
    if kind == "resource_link":
        label = item.get("title") or item.get("name") or ""
        return f"[resource link {label} {item.get('uri', '')}]".replace("  ", " ")
    return f"[{kind or 'unknown'} content: not shown]"


def _b64_size(data: Any) -> int:
    data = str(data or "").strip()
    return max(len(data) * 3 // 4 - data[-2:].count("="), 0)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} KB"
    return f"{n / 1024 / 1024:.1f} MB"


# ------------------------------------------------------------------------------------ the connection's thread


class _Worker:
    """One thread, one event loop and one long-lived task holding the transport and the session."""

    def __init__(self, opener: Callable[[], Any], target: str, timeout: float, errlog: Any) -> None:
        self.opener = opener
        self.target = target
        self.timeout = timeout
        self.errlog = errlog
        self.loop = asyncio.new_event_loop()
        self.ready: concurrent.futures.Future[list[dict[str, Any]]] = concurrent.futures.Future()
        self.finished = threading.Event()
        self.closing = False
        self.ended: BaseException | None = None  # why the session task ended on its own, if it did
        self._lock = threading.Lock()
        self._session: Any = None
        self._stop: asyncio.Event | None = None
        self._scope: Any = None
        self._calls: set[asyncio.Task[Any]] = set()
        self.thread = threading.Thread(
            target=self._thread_main, name=f"workbench-mcp {target}"[:60], daemon=True
        )

    # --- caller side ------------------------------------------------------------------------------
    def start(self) -> list[dict[str, Any]]:
        self.thread.start()
        try:
            return self.ready.result(timeout=self.timeout + CLOSE_WAIT)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no answer within {self.timeout:g} s") from None

    def runner(self, mcp_name: str) -> Callable[[dict[str, Any]], Any]:
        async def run(args: dict[str, Any]) -> str:
            result = await self.call(mcp_name, args)
            text, is_error = result_to_text(result)
            if is_error:
                raise MCPToolError(text)
            return text

        return run

    async def call(self, mcp_name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Call a tool from any event loop; the wire-format result."""
        with self._lock:
            if self.closing or self.ended is not None:
                raise ConnectionError(self._gone())
            future = asyncio.run_coroutine_threadsafe(self._call(mcp_name, args), self.loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            cancelling = getattr(task, "cancelling", lambda: 0)()
            if future.cancelled() and self.closing and not cancelling:
                raise ConnectionError(self._gone()) from None
            raise

    def close(self) -> None:
        with self._lock:
            first, self.closing = not self.closing, True
        if first and self.thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                self.loop.call_soon_threadsafe(self._request_stop)
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.finished.wait(CLOSE_WAIT)

    def _gone(self) -> str:
        why = f" ({_root(self.ended)})" if self.ended is not None else ""  # it ended on its own
        return f"the connection to the MCP server {self.target} is closed{why}"

    # --- the loop's side ------------------------------------------------------------------------------
    def _thread_main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported through `ready` (a start-up failure) or `ended`
            if not self.ready.done():
                self.ready.set_exception(exc)
        finally:
            with self._lock:
                self.closing = True
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
            started = self.ready.done() and not self.ready.cancelled() and self.ready.exception() is None
            if (
                self.errlog is not None and started
            ):  # after a failed start, connect() reads it, then closes it
                with contextlib.suppress(OSError):
                    self.errlog.close()
            self.finished.set()

    async def _main(self) -> None:
        import anyio
        from mcp import ClientSession

        self._stop = asyncio.Event()
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + self.timeout) as scope:
                self._scope = scope
                if self.closing:
                    scope.cancel()
                async with contextlib.AsyncExitStack() as stack:
                    streams = await stack.enter_async_context(self.opener())
                    session = await stack.enter_async_context(ClientSession(streams[0], streams[1]))
                    await session.initialize()
                    listed = await _list_tools(session)
                    scope.deadline = math.inf
                    self._session = session
                    self.ready.set_result(listed)
                    await self._stop.wait()
                    await self._cancel_calls()
            if not self.ready.done():
                why = "it was closed" if self.closing else f"no answer within {self.timeout:g} s"
                self.ready.set_exception(TimeoutError(why))
        except BaseException as exc:
            if not self.ready.done():
                self.ready.set_exception(exc)
            elif not self.closing:
                self.ended = exc
            if not isinstance(exc, Exception):
                raise

    def _request_stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._scope is not None and not self.ready.done():
            self._scope.cancel()

    async def _call(self, mcp_name: str, args: dict[str, Any]) -> dict[str, Any]:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            result = await self._session.call_tool(mcp_name, args)
        except asyncio.CancelledError:
            if self.closing:
                raise ConnectionError(self._gone()) from None
            raise
        finally:
            self._calls.discard(task)
        return _wire(result)

    async def _cancel_calls(self) -> None:
        calls = list(self._calls)
        for task in calls:
            task.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


async def _list_tools(session: Any) -> list[dict[str, Any]]:
    """Every page of `tools/list`, as wire-format dicts."""
    listed: list[dict[str, Any]] = []
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        if cursor is None:
            page = await session.list_tools()
        else:
            from mcp.types import PaginatedRequestParams

            try:  # mcp 2.x (and late 1.x)
                page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
            except TypeError:  # mcp 1.x
                page = await session.list_tools(cursor=cursor)
        wire = _wire(page)
        listed.extend(wire.get("tools") or [])
        cursor = wire.get("nextCursor")
        if not cursor or cursor in seen:
            return listed
        seen.add(cursor)


def _wire(model: Any) -> dict[str, Any]:
    """An SDK model as its JSON-RPC form (camelCase keys in mcp 1.x and 2.x alike)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


# ------------------------------------------------------------------------------------ transports


def _stdio_opener(
    command: Sequence[str] | str, env: Mapping[str, str] | None, cwd: str | Path | None
) -> tuple[Callable[[], Any], str, Any]:
    argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
    if not argv or not argv[0]:
        raise ConfigError("command= must name the MCP server program, e.g. command=['npx', 'server-name']")
    shown = " ".join(shlex.quote(a) for a in argv)
    if len(shown) > 160:
        shown = shown[:157] + "..."
    if env is not None and not isinstance(env, Mapping):
        raise ConfigError(f"env= must be a dict of environment variables, got {type(env).__name__}")
    full_env = server_environment(env)
    if cwd is not None and not Path(cwd).is_dir():
        raise ConfigError(f"cwd={str(cwd)!r} for the MCP server {shown} is not a directory")
    program = argv[0]
    found = shutil.which(program, path=full_env.get("PATH")) if os.sep not in program else program
    if found is None or not os.path.exists(found):
        raise ConfigError(
            f"cannot start the MCP server {shown}: the program {program!r} was not found"
            + (" on PATH" if os.sep not in program else "")
            + ". Install it, or give its full path as the first item of command=."
        )
    # lives as long as the connection (closed by its thread), so no `with` here
    errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")  # noqa: SIM115

    @contextlib.asynccontextmanager
    async def open_stdio() -> AsyncIterator[Any]:
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=found, args=argv[1:], env=full_env, cwd=cwd)
        async with stdio_client(params, errlog=errlog) as streams:
            yield streams

    return open_stdio, shown, errlog


def server_environment(env: Mapping[str, Any] | None) -> dict[str, str]:
    """A stdio server's environment: the parent's SAFE_ENV_KEYS (never a secret-looking one), then `env=`."""
    out = {
        k: v
        for k in SAFE_ENV_KEYS
        if (v := os.environ.get(k)) is not None and not v.startswith("()") and not _SECRET_KEY.search(k)
    }
    out.update({str(k): str(v) for k, v in (env or {}).items() if v is not None})
    return out


def _http_opener(url: str, headers: Mapping[str, str] | None) -> Callable[[], Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"url= must be an http(s) URL of an MCP endpoint, e.g. http://127.0.0.1:8000/mcp; got {url!r}"
        )
    sent = {str(k): str(v) for k, v in (headers or {}).items()}

    @contextlib.asynccontextmanager
    async def open_http() -> AsyncIterator[Any]:
        from mcp.client import streamable_http

        modern = getattr(streamable_http, "streamable_http_client", None)
        if modern is not None:  # mcp 2.x (and late 1.x): headers go on the HTTP client
            from mcp.shared._httpx_utils import create_mcp_http_client

            async with (
                create_mcp_http_client(headers=sent or None) as client,
                modern(url, http_client=client) as streams,
            ):
                yield streams
        else:  # mcp 1.x
            async with streamable_http.streamablehttp_client(url, headers=sent or None) as streams:
                yield streams

    return open_http


def _show_url(url: str) -> str:
    """The URL without credentials or a query string (either may hold a secret)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


# ------------------------------------------------------------------------------------ errors


def _import_sdk(errlog: Any) -> None:
    try:
        import mcp  # noqa: F401
    except Exception as exc:
        if errlog is not None:
            errlog.close()
        raise ConfigError(
            f"the MCP SDK cannot be imported ({_root(exc)}); install or upgrade it: pip install -U 'mcp>=1.9'"
        ) from exc


def _root(exc: BaseException | None) -> str:
    """The first real cause inside (nested) exception groups, as 'Type: message'."""
    seen = 0
    while exc is not None and seen < 20:
        seen += 1
        inner = getattr(exc, "exceptions", None)
        if inner:
            real = [e for e in inner if not isinstance(e, asyncio.CancelledError)]
            exc = (real or inner)[0]
            continue
        break
    if exc is None:
        return "unknown error"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _start_failure(exc: BaseException, target: str, stdio: bool, worker: _Worker) -> str:
    reason = _root(exc)
    if isinstance(exc, TimeoutError) and "no answer" in str(exc):
        if stdio:
            advice = (
                "Check that the command starts an MCP server on stdio (one that does not wait for input "
                "or serve HTTP instead), or give it more time with timeout=."
            )
        else:
            advice = "Check that the server is running and answers at this URL, or give it more time with timeout=."
        message = f"the MCP server {target} did not finish starting within {worker.timeout:g} s. {advice}"
    elif stdio:
        message = (
            f"the MCP server {target} failed during start-up ({reason}). Run the command in a terminal to "
            "see why; it should wait for JSON-RPC messages on stdin."
        )
    else:
        message = (
            f"cannot connect to the MCP server at {target} ({reason}). Check that the server is running and "
            "that the URL is its streamable-HTTP endpoint (often ending in /mcp)."
        )
    tail = _stderr_tail(worker.errlog)
    if tail:
        message += f"\nThe server's last output on stderr:\n{tail}"
    return message


def _stderr_tail(errlog: Any, limit: int = 1500) -> str:
    if errlog is None:
        return ""
    try:
        fd = errlog.fileno()
        size = os.fstat(fd).st_size
        start = max(size - limit, 0)
        if hasattr(os, "pread"):
            data = os.pread(fd, size - start, start)
        else:  # pragma: no cover - Windows
            errlog.seek(start)
            data = errlog.read().encode()
    except (OSError, ValueError):
        return ""
    text = data.decode("utf-8", "replace").strip()
    lines = text.splitlines()[-15:]
    return "\n".join(f"  {line}" for line in lines)


def _redact(text: str, secrets: Sequence[str]) -> str:
    for value in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


__all__ = [
    "DEFAULT_TIMEOUT",
    "MCPConnection",
    "MCPToolError",
    "SAFE_ENV_KEYS",
    "aconnect",
    "build_tools",
    "connect",
    "result_to_text",
    "server_environment",
    "valid_name",
]
