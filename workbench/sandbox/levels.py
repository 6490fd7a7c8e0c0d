"""Isolation levels: which work here, the command line that starts a kernel at each, and process clean-up.

- `bwrap`: the kernel runs under bubblewrap in new network, PID and mount namespaces, with a read-only
  view of `/`, a private `/tmp`, the home directories hidden, only the work directory (and its own
  runtime directory) writable. Run as root, the launcher also drops to a uid of its own (one per
  sandbox), so `RLIMIT_NPROC` holds and root-only files are unreadable.
- `process`: the same launcher and limits, a scrubbed environment and cwd = work directory, but no file
  or network isolation and the host's uid.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

LEVELS = ("bwrap", "process")
_LAUNCHER = Path(__file__).with_name("launch.py")


@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    """The bubblewrap binary if it runs here with a new network namespace (probed once)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return None
    try:
        probe = subprocess.run(
            [exe, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--proc", "/proc", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return exe if probe.returncode == 0 else None


def sandbox_levels() -> list[str]:
    """The levels that work on this machine, strongest first (`bwrap` is probed once and cached)."""
    return [level for level in LEVELS if level != "bwrap" or bwrap_path() is not None]


def resolve_level(level: str) -> str:
    """`auto` -> the strongest level available; an unavailable level is a clear error."""
    if level == "auto":
        return sandbox_levels()[0]
    if level not in LEVELS:
        raise ValueError(f"unknown sandbox level {level!r}; valid: 'auto', {', '.join(map(repr, LEVELS))}")
    if level not in sandbox_levels():
        raise RuntimeError(
            "sandbox level 'bwrap' is not available here: install Debian's `bubblewrap` "
            "(apt-get install -y bubblewrap) and allow user namespaces, or use level='process'"
        )
    return level


def pick_uid() -> int:
    """A uid no process uses, for one sandbox's kernel (root only): `RLIMIT_NPROC` counts per uid."""
    used = {_uid_of(pid) for pid in _pids()}
    while True:
        uid = 200_000 + random.randrange(1_000_000)
        if uid not in used:
            return uid


def scrubbed_env(workdir: Path, runtime: Path) -> dict[str, str]:
    """The whole environment the kernel gets: no keys, tokens or anything else of the host's."""
    path = os.pathsep.join(
        dict.fromkeys([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
    )
    env = {
        "PATH": path,
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "IPYTHONDIR": str(runtime / "ipython"),
        "MPLBACKEND": "Agg",
        "TERM": "dumb",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def kernel_argv() -> list[str]:
    """ipykernel from this very Python, with no history database."""
    return [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
        "--HistoryManager.enabled=False",
    ]


def launcher_argv(limits: dict[str, int], uid: int | None) -> list[str]:
    spec = ",".join(f"{name}={value}" for name, value in limits.items())
    argv = [sys.executable, "-I", "-S", str(_LAUNCHER), "--limits", spec]
    if uid is not None:
        argv += ["--uid", str(uid)]
    return [*argv, "--", *kernel_argv()]


def _python_roots() -> list[str]:
    """Directories Python needs that may sit under a hidden home: prefixes and sys.path entries."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    roots.add(str(_LAUNCHER.parent.parent.parent))  # the checkout that holds `workbench`
    outer = []
    for root in sorted(roots):  # a parent sorts before its children
        if not any(root.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(root)
    return outer


def _hidden_homes() -> list[str]:
    homes = {"/root", "/home", os.path.expanduser("~")}
    return sorted(h for h in homes if os.path.isdir(h) and h != "/")


def bwrap_argv(command: list[str], workdir: Path, runtime: Path, tmp_mb: int) -> list[str]:
    """bubblewrap around `command`: read-only `/`, private `/tmp`, homes hidden, no network."""
    exe = bwrap_path()
    assert exe is not None
    argv = [exe, "--ro-bind", "/", "/", "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
    homes = _hidden_homes()
    for home in homes:
        argv += ["--perms", "0755", "--tmpfs", home]
    made: set[str] = set()
    for root in _python_roots():
        home = next((h for h in homes if root == h or root.startswith(h.rstrip("/") + "/")), None)
        if home is None:
            continue
        # bubblewrap makes missing parents mode 0700; the kernel's uid must be able to pass them
        for parent in reversed(Path(root).parents):
            if len(parent.parts) > len(Path(home).parts) and str(parent) not in made:
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", root, root]
    argv += ["--bind", str(workdir), str(workdir), "--bind", str(runtime), str(runtime)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm"]
    argv += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "sandbox"]
    argv += ["--die-with-parent", "--new-session", "--chdir", str(workdir)]
    if os.geteuid() == 0:  # the launcher drops to its own uid inside; it needs these two to do so
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return [*argv, "--", *command]


# ---- processes -------------------------------------------------------------------------------


def _pids() -> Iterable[int]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def _uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, session id) of `pid`, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    return int(fields[1]), int(fields[3])


def sandbox_pids(root: int, uid: int | None = None) -> set[int]:
    """Every live process of one sandbox: descendants of `root`, its session, and (if set) `uid`.

    The session catches processes orphaned at the `process` level (re-parented away from `root`);
    the uid catches anything that left the session, when the sandbox runs as a uid of its own."""
    children: dict[int, list[int]] = {}
    found: set[int] = set()
    for pid in _pids():
        st = _stat(pid)
        if st is None:
            continue
        ppid, sid = st
        children.setdefault(ppid, []).append(pid)
        if sid == root or (uid is not None and _uid_of(pid) == uid):
            found.add(pid)
    stack = [root] if _stat(root) is not None else []
    while stack:
        pid = stack.pop()
        found.add(pid)
        stack.extend(children.get(pid, ()))
    found.discard(os.getpid())
    return found


def task_count(pids: Iterable[int]) -> int:
    """Processes plus their threads: what `RLIMIT_NPROC` counts."""
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return total


def kill_tree(root: int, uid: int | None = None, wait: float = 10.0) -> set[int]:
    """SIGKILL the sandbox's process group and every process of it, until none is left.

    Killing a process group is atomic with respect to fork, so a fork bomb in the group cannot
    outrun it; the repeated scans catch processes that left the group, and give killed processes
    (a torn-down PID namespace takes a moment) time to go. Returns what was still alive after
    `wait` seconds (empty when all went). Blocking: call it from a thread."""
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        with contextlib.suppress(OSError):
            os.killpg(root, signal.SIGKILL)
        left = {pid for pid in sandbox_pids(root, uid) if not is_zombie(pid)}
        if not left or time.monotonic() > deadline:
            return left
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(pause)  # waiting for the kernel to finish killing, not for a result
        pause = min(pause * 2, 0.1)


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    return data[data.rfind(b")") + 2 : data.rfind(b")") + 3] in (b"Z", b"X")
