"""Driving a real JupyterLab in headless Chromium (recipe: ../shared/recipes/browser-testing.md).

`lab_server(base)` starts JupyterLab on 127.0.0.1 (free port, random token, every Jupyter directory
under `base`, the announcements popup disabled) and stops it; `launch_chromium(playwright)` starts
Debian's Chromium (never a downloaded one). The rest are small helpers to open a notebook, wait
for its kernel, run cells and read output. Used by tests/test_browser.py and
benchmarks/widget_latency.py. Every wait is on a condition (a log line, a DOM state), with a
generous timeout only as a safety net.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

CHROMIUM = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
IDLE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status='idle']"
START_TIMEOUT = 120.0


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"  # reset: no tabs from before

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # 127.0.0.1 only
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """Shut down every kernel session (start each test clean)."""
        for session in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")


def _lab_env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("IPYTHONDIR", "ipython"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
    ):
        (base / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(base / sub)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("WORKBENCH_MODEL", None)
    # the server extension enabled by the same file the wheel installs into etc/jupyter
    enable = Path(__file__).resolve().parent.parent / "jupyter-config" / "jupyter_server_config.d"
    shutil.copytree(enable, base / "config" / "jupyter_server_config.d", dirs_exist_ok=True)
    # the lab extension as built in this checkout (`pip install` also puts it in share/jupyter)
    built = Path(__file__).resolve().parent.parent / "workbench" / "labextension"
    link = base / "data" / "labextensions" / "agent-workbench"
    if (built / "package.json").is_file() and not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(built, target_is_directory=True)
    return env


@contextlib.contextmanager
def lab_server(base: Path, settings: dict[str, dict[str, Any]] | None = None) -> Iterator[LabServer]:
    """A JupyterLab server rooted at `base / "root"`; `settings` = {plugin id: user settings}."""
    env = _lab_env(base)
    root = base / "root"
    root.mkdir(parents=True, exist_ok=True)
    for plugin, values in (settings or {}).items():
        package, _, name = plugin.partition(":")
        target = base / "settings" / package / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "labextension",
            "disable",
            "@jupyterlab/apputils-extension:announcements",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    log = base / "jupyterlab.log"
    ready = threading.Event()

    def drain() -> None:  # copy the server's output to a file; signal when it serves
        assert process.stdout is not None
        with log.open("wb") as out:
            for line in process.stdout:
                out.write(line)
                out.flush()
                if b"is running at" in line or b"Use Control-C to stop" in line:
                    ready.set()
        ready.set()  # the server exited: stop waiting (checked below)

    threading.Thread(target=drain, name="lab-log", daemon=True).start()
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        if not ready.wait(START_TIMEOUT) or not _listening(port, process):
            raise RuntimeError(
                f"JupyterLab did not start; see {log}:\n{log.read_text(errors='replace')[-3000:]}"
            )
        server.api("GET", "/api/status")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    """After "is running at" the server binds its port on its next loop turn: try until it accepts."""
    deadline = time.monotonic() + START_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return True
        except ConnectionRefusedError:
            os.sched_yield()
    return False


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def write_notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


# --- driving JupyterLab ---------------------------------------------------------------------------------
def expect_kernel_idle(page: Any, timeout: float = 60_000) -> None:
    from playwright.sync_api import expect

    expect(page.locator(IDLE)).to_have_count(1, timeout=timeout)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=timeout)


def open_notebook(page: Any, server: LabServer, name: str) -> None:
    page.goto(server.lab_url(name))
    cells(page).first.wait_for(timeout=60_000)
    expect_kernel_idle(page)


def cells(page: Any) -> Any:
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def run_all(page: Any) -> None:
    """Run every cell and return when all finished (the command's promise resolves then)."""
    from playwright.sync_api import expect

    first = cells(page).first.locator(".jp-InputPrompt")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    if not re.search(r"\[(\*|\d+)\]", first.inner_text()):
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    expect(first).to_have_text(re.compile(r"\[\d+\]"), timeout=60_000)
    expect_kernel_idle(page)


def run_cell(page: Any, index: int) -> Any:
    """Re-run cell `index` and wait until it has a new execution count; returns the cell."""
    from playwright.sync_api import expect

    cell = cells(page).nth(index)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    prompt.click()
    page.keyboard.press("Control+Enter")
    expect(prompt).not_to_have_text(before, timeout=60_000)
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=60_000)
    return cell


def screenshot(target: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    target.screenshot(path=str(path))
    return path


def clean_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
