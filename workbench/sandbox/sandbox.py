"""`Sandbox`: a separate Jupyter kernel, under bubblewrap and rlimits, that runs an agent's code.

The kernel talks to the host over ZeroMQ IPC sockets (files in a private runtime directory bound
into the sandbox), so it works with no network at all. One cell runs at a time. A cell that runs
past its timeout is interrupted, and the kernel is restarted if the interrupt does not take; a kernel
that dies (out of memory, killed, crashed) or that reaches the process limit is restarted too, and
the cell's result says that variables are gone. Tools set with `set_tools` are plain functions in
the kernel whose calls run on the host (see `set_tools`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio

from workbench.sandbox import levels
from workbench.sandbox.kernel_code import CUT_MIME, output_cap_code, tools_code
from workbench.sandbox.result import CappedText, CellResult, display_note, trim_traceback

ToolHandler = Callable[[str, dict[str, Any]], "Awaitable[str] | str"]

_KEEP_CHARS = 50_000  # per stream, head and tail each, on the host
_KERNEL_CAP = 200_000  # per stream per cell, in the kernel, before it starts dropping
_INTERRUPT_GRACE = 3.0  # seconds to become idle after an interrupt before a restart
_WATCH_EVERY = 0.5  # seconds between liveness and process-count checks


def _why(status: int) -> str:
    """`: killed by SIGKILL` for a status that says a signal ended the kernel (or its supervisor)."""
    number = -status if status < 0 else status - 128 if status > 128 else 0
    try:
        return f": {signal.Signals(number).name}" if number else ""
    except ValueError:
        return ""


class Sandbox:
    """A Python kernel in a separate process, for code an agent writes (CodeAct).

    `level`: "bwrap" (bubblewrap: no network, read-only system, hidden home directories, a private
    /tmp and PID namespace), "process" (a child process with rlimits and a scrubbed environment
    only) or "auto" (bwrap when it works here). `workdir`: the writable work directory (a new temp
    directory, removed on close, when None; a directory you pass is kept). `timeout`: seconds per
    cell (time spent in host tools does not count). The limits: `memory_mb` (RLIMIT_AS, address
    space per process), `cpu_seconds` (RLIMIT_CPU, per kernel process over its lifetime: the kernel is
    restarted when it runs out), `max_processes` (RLIMIT_NPROC, processes and threads), `max_file_mb`
    (RLIMIT_FSIZE: a bigger write fails with `OSError: [Errno 27] File too large`).

    What holds where (see the README's safety section):

    - `RLIMIT_NPROC` is not enforced by Linux for uid 0. Run as root at the `bwrap` level, the kernel
      drops to a uid of its own (picked per sandbox), so the limit holds. At the `process` level as
      root it does not: a watchdog counts the sandbox's processes every 0.5 s and after each cell and
      restarts the kernel (killing its process group) once they reach `max_processes`; a fork bomb
      can overshoot the limit between two checks.
    - At the `process` level the code runs as the host's user with the host's network and files:
      it can read the home directory, connect to local services and write wherever the user can
      (bounded only by the file-size limit), and signal the user's other processes.
    """

    def __init__(
        self,
        level: str = "auto",
        workdir: str | os.PathLike[str] | None = None,
        timeout: float = 30.0,
        memory_mb: int = 2048,
        cpu_seconds: int = 120,
        max_processes: int = 256,
        max_file_mb: int = 64,
        max_output_chars: int = 2000,
        start_timeout: float = 60.0,
    ) -> None:
        self.requested_level = level
        self.level = levels.resolve_level(level)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir).resolve() if workdir is not None else None
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.max_processes = max_processes
        self.max_file_mb = max_file_mb
        self.max_output_chars = max_output_chars
        self.start_timeout = start_timeout
        self.start_seconds: float | None = None  # how long the last kernel start took
        self._specs: list[dict[str, Any]] = []
        self._handler: ToolHandler | None = None
        self._marker = f"\x00wb-tool-{uuid.uuid4().hex[:12]}:"
        self._km: Any = None
        self._kc: Any = None
        self._root_pid: int | None = None
        self._uid: int | None = None
        self._runtime: Path | None = None
        self._starts = 0
        self._lock: asyncio.Lock | None = None
        self._closed = False
        self._tools_dirty = False

    # ---- life cycle ----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._kc is not None

    @property
    def kernel_pid(self) -> int | None:
        """The pid (in the host's namespace) of the process that holds the whole sandbox."""
        return self._root_pid

    def _prepare_dirs(self) -> None:
        if self._runtime is not None:
            return
        self._runtime = Path(tempfile.mkdtemp(prefix="wbsb-"))
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="wb-work-")).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self._runtime / "ipython").mkdir()
        if self.level == "bwrap" and os.geteuid() == 0:
            self._uid = levels.pick_uid()
            for path in (self._runtime, self._runtime / "ipython", self.workdir):
                os.chown(path, self._uid, self._uid)

    async def astart(self) -> None:
        """Start the kernel (a no-op when it runs already)."""
        if self._closed:
            raise RuntimeError("this sandbox is closed; make a new one")
        if self._kc is not None:
            return
        self._prepare_dirs()
        await self._start_kernel()

    async def _start_kernel(self) -> None:
        from jupyter_client import AsyncKernelManager
        from jupyter_client.kernelspec import KernelSpec

        assert self._runtime is not None and self.workdir is not None
        began = time.perf_counter()
        self._starts += 1
        name = f"k{self._starts}"
        limits = {
            "as": self.memory_mb * 2**20,
            "cpu": self.cpu_seconds,
            "nproc": self.max_processes,
            "fsize": self.max_file_mb * 2**20,
        }
        argv = levels.launcher_argv(limits, self._uid)
        if self.level == "bwrap":
            argv = levels.bwrap_argv(argv, self.workdir, self._runtime, tmp_mb=max(64, self.max_file_mb * 4))
        km = AsyncKernelManager(transport="ipc", ip=str(self._runtime / name))
        km.connection_file = str(self._runtime / f"{name}.json")
        km._kernel_spec = KernelSpec(
            argv=argv, display_name="workbench sandbox", language="python", interrupt_mode="message", env={}
        )
        km.write_connection_file()
        if self._uid is not None:
            os.chown(km.connection_file, self._uid, self._uid)
        log = open(self._runtime / f"{name}.log", "wb")  # noqa: SIM115 - the kernel writes it; closed below
        try:
            await km.start_kernel(
                env=levels.scrubbed_env(self.workdir, self._runtime),
                cwd=str(self.workdir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        finally:
            log.close()
        self._km = km
        self._root_pid = km.provisioner.pid
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=self.start_timeout)
        except RuntimeError as exc:
            kc.stop_channels()
            await self._kill_kernel()
            tail = (self._runtime / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the sandbox kernel did not start ({exc}); its log ends:\n{tail}") from exc
        self._kc = kc
        await self._silent(output_cap_code(_KERNEL_CAP, self.max_output_chars))
        if self._specs:
            await self._silent(tools_code(self._specs, self._marker))
        self._tools_dirty = False
        self.start_seconds = time.perf_counter() - began

    async def _silent(self, code: str) -> None:
        """Run set-up code; it must succeed."""
        result = await self._execute(code, timeout=self.start_timeout, silent=True)
        if result.error is not None or result.timed_out:
            raise RuntimeError(f"sandbox set-up failed: {result.observation()}")

    async def _kill_kernel(self) -> None:
        """Kill the kernel and every process it started; no orphans are left behind."""
        kc, km, root = self._kc, self._km, self._root_pid
        self._kc = self._km = None
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
        if root is not None:
            left = await asyncio.to_thread(levels.kill_tree, root, self._uid)
            if left:  # pragma: no cover - would need a process that survives SIGKILL
                raise RuntimeError(f"sandbox processes survived SIGKILL: {sorted(left)}")

    async def arestart(self) -> None:
        """Kill the kernel and start a fresh one (variables are gone; tools are defined again)."""
        async with self._get_lock():
            await self._restart()

    async def _restart(self) -> None:
        await self._kill_kernel()
        await self._start_kernel()

    async def aclose(self) -> None:
        """Kill the kernel and its processes and remove temp directories. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        await self._kill_kernel()
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    # ---- tools ---------------------------------------------------------------------------------

    def set_tools(self, specs: list[dict[str, Any]], handler: ToolHandler) -> None:
        """Make each tool a function in the kernel whose calls run `handler(name, arguments)` here.

        `specs`: [{"name", "description", "parameters": JSON schema}]; the schema's `properties`
        order gives the positional order. `handler` may be async or plain and returns a string (other
        values are passed through `str`); an exception in it is raised in the kernel as
        `ToolError("ExcType: message")`. The stubs are (re)defined at every kernel start; set before
        `start()` or at any time after."""
        tools_code(specs, self._marker)  # validates names now rather than in the kernel
        self._specs = list(specs)
        self._handler = handler
        self._tools_dirty = self._kc is not None  # a running kernel gets them before the next cell

    async def _call_tool(self, request: str) -> str:
        """Run one tool call asked for by the kernel; the reply is JSON for the stub."""
        try:
            data = json.loads(request)
            name, arguments = data["name"], data["arguments"]
            if self._handler is None:
                raise RuntimeError("no tool handler is set")
            value = self._handler(name, arguments)
            if inspect.isawaitable(value):
                value = await value
            return json.dumps({"result": value if isinstance(value, str) else str(value)})
        except Exception as exc:  # noqa: BLE001 - any tool failure becomes ToolError in the kernel
            return json.dumps({"error": f"{type(exc).__name__}: {exc}"})

    # ---- running code --------------------------------------------------------------------------

    async def arun(self, code: str, timeout: float | None = None) -> CellResult:
        """Run one cell; never raises for errors in the code, timeouts or a dying kernel."""
        async with self._get_lock():
            if self._kc is None:
                await self.astart()
            elif self._tools_dirty:
                await self._silent(tools_code(self._specs, self._marker))
            self._tools_dirty = False
            return await self._execute(code, timeout=self.timeout if timeout is None else timeout)

    async def _execute(self, code: str, timeout: float, silent: bool = False) -> CellResult:
        kc, km = self._kc, self._km
        assert kc is not None and km is not None
        began = time.perf_counter()
        res = CellResult(timeout=timeout, max_output_chars=self.max_output_chars)
        out = {"stdout": CappedText(_KEEP_CHARS, _KEEP_CHARS), "stderr": CappedText(_KEEP_CHARS, _KEEP_CHARS)}
        msg_id = kc.execute(code, silent=silent, store_history=not silent, allow_stdin=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        poller = zmq.asyncio.Poller()
        poller.register(kc.iopub_channel.socket, zmq.POLLIN)
        poller.register(kc.stdin_channel.socket, zmq.POLLIN)
        interrupted_at: float | None = None
        next_watch = loop.time() + _WATCH_EVERY
        outcome = "idle"

        while True:
            now = loop.time()
            if interrupted_at is None and now >= deadline:
                res.timed_out = True
                interrupted_at = now
                with contextlib.suppress(Exception):
                    await km.interrupt_kernel()
            if interrupted_at is not None and now >= interrupted_at + _INTERRUPT_GRACE:
                outcome = "stuck"
                break
            wait = (deadline if interrupted_at is None else interrupted_at + _INTERRUPT_GRACE) - now
            events = dict(await poller.poll(timeout=max(1, int(1000 * min(wait, _WATCH_EVERY)))))
            if kc.stdin_channel.socket in events:
                paused = await self._answer_stdin(kc, msg_id, res)
                deadline += paused
            done = False
            if kc.iopub_channel.socket in events:
                done = await self._drain_iopub(kc, msg_id, res, out)
            if done:
                break
            if loop.time() >= next_watch:
                next_watch = loop.time() + _WATCH_EVERY
                if not await km.is_alive():
                    outcome = "dead"
                    break
                if not silent and await self._too_many_processes():
                    outcome = "procs"
                    break

        if outcome == "idle" and not silent and await self._too_many_processes():
            outcome = "procs"
        res.stdout, res.stderr = out["stdout"].text(), out["stderr"].text()
        if outcome != "idle" and silent:  # set-up code: no restart loop, the caller fails the start
            raise RuntimeError(f"the sandbox kernel failed during set-up ({outcome})")
        if outcome != "idle":
            await self._recover(outcome, res)
        res.duration = time.perf_counter() - began
        return res

    async def _recover(self, outcome: str, res: CellResult) -> None:
        """Restart after a stuck, dead or process-flooded kernel, and say so in the result."""
        status = None
        if outcome == "dead" and self._km is not None:
            status = self._km.provisioner.process.poll() if self._km.provisioner else None
        await self._restart()
        res.restarted = True
        if outcome == "dead":
            how = f" (exit status {status}{_why(status)})" if status is not None else ""
            res.error = res.error or {
                "ename": "KernelDied",
                "evalue": f"the kernel process died{how}",
                "traceback": "",
            }
            res.notes.append(
                f"[The kernel died while running the cell{how}: out of memory, out of CPU time, "
                "killed or crashed. "
                "It was restarted, so variables are gone]"
            )
        elif outcome == "procs":
            res.notes.append(
                f"[The cell started too many processes (limit {self.max_processes}); they were killed "
                "and the kernel was restarted, so variables are gone]"
            )

    async def _too_many_processes(self) -> bool:
        root = self._root_pid
        if root is None:
            return False

        def count() -> int:
            pids = levels.sandbox_pids(root, self._uid)
            if self._uid is not None:
                pids = {p for p in pids if levels._uid_of(p) == self._uid}
            return levels.task_count(pids)

        return await asyncio.to_thread(count) >= self.max_processes

    async def _answer_stdin(self, kc: Any, msg_id: str, res: CellResult) -> float:
        """Answer input requests: tool calls run on the host; plain `input()` gets ''. Returns the
        seconds spent, which do not count against the cell's timeout."""
        began = time.perf_counter()
        while True:
            try:
                msg = await kc.get_stdin_msg(timeout=0)
            except Empty:
                break
            if msg["header"]["msg_type"] != "input_request":
                continue
            prompt = msg["content"].get("prompt", "")
            if prompt.startswith(self._marker):
                kc.input(await self._call_tool(prompt[len(self._marker) :]))
            else:
                res.notes.append("[input() is not available in the sandbox; it returned '']")
                kc.input("")
        return time.perf_counter() - began

    async def _drain_iopub(self, kc: Any, msg_id: str, res: CellResult, out: dict[str, CappedText]) -> bool:
        """Handle every waiting iopub message; True once the cell's kernel is idle again."""
        while True:
            try:
                msg = await kc.get_iopub_msg(timeout=0)
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                return True
            if kind == "stream":
                out[content.get("name", "stdout")].add(content.get("text", ""))
            elif kind == "execute_result":
                text = content.get("data", {}).get("text/plain")
                res.result = text
                note = display_note(content.get("data", {}))
                if note:
                    res.displays.append(note)
            elif kind in ("display_data", "update_display_data"):
                data = content.get("data", {})
                if CUT_MIME in data:
                    cut = data[CUT_MIME]
                    stream = out.get(cut.get("name", "stdout"), out["stdout"])
                    stream.skip(int(cut.get("dropped", 0)))
                    stream.add(cut.get("tail", ""))
                    continue
                note = display_note(data)
                if note:
                    res.displays.append(note)
                elif "text/plain" in data:
                    res.displays.append(data["text/plain"])
            elif kind == "error":
                res.error = {
                    "ename": content.get("ename", ""),
                    "evalue": content.get("evalue", ""),
                    "traceback": trim_traceback(content.get("traceback", [])),
                }

    # ---- blocking forms ------------------------------------------------------------------------

    def start(self) -> Sandbox:
        from workbench.core.sync import run_sync

        run_sync(self.astart())
        return self

    def run(self, code: str, timeout: float | None = None) -> CellResult:
        from workbench.core.sync import run_sync

        return run_sync(self.arun(code, timeout=timeout))

    def restart(self) -> None:
        from workbench.core.sync import run_sync

        run_sync(self.arestart())

    def close(self) -> None:
        from workbench.core.sync import run_sync

        run_sync(self.aclose())

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Sandbox:
        await self.astart()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self.started else "not started"
        return f"Sandbox(level={self.level!r}, workdir={str(self.workdir)!r}, {state})"
