"""The sandbox launcher: set resource limits, drop privileges, then run the kernel as a child.

    python -I -S launch.py --limits as=2147483648,cpu=120,nproc=256,fsize=67108864 [--uid N] -- argv...

Runs with the standard library only (it is started as a script with `-I -S`, so it is quick and
imports nothing from the environment). It stays as a small supervisor, the kernel's parent:

- the limits are set on itself before forking, so the kernel inherits them;
- with `--uid`, and only when running as root, it drops to that uid and gid (no supplementary groups)
  so that `RLIMIT_NPROC` applies (the Linux kernel does not enforce it for uid 0);
- the kernel child gets `PR_SET_PDEATHSIG(SIGKILL)`: if the supervisor dies, so does the kernel;
- code in the kernel that kills its parent (`os.kill(os.getppid(), 9)`) kills this supervisor, not
  the host process that started the sandbox;
- SIGINT is ignored here (ipykernel interrupts its whole process group), SIGTERM and SIGHUP are
  passed on to the kernel; the exit status mirrors the kernel's (128 + signal when it was killed).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys

_LIMITS = {
    "as": resource.RLIMIT_AS,
    "cpu": resource.RLIMIT_CPU,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
}
_PR_SET_PDEATHSIG = 1
# Names the kernel may see; everything else the host passed is dropped here again, in case a
# caller handed over the whole environment.
_KEEP_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "IPYTHONDIR", "MPLBACKEND", "TERM"}


def parse_limits(text: str) -> dict[str, int]:
    """`as=1,cpu=2` -> {"as": 1, "cpu": 2}; unknown names are an error."""
    limits: dict[str, int] = {}
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        if name not in _LIMITS:
            raise SystemExit(f"launch: unknown limit {name!r}; valid: {', '.join(_LIMITS)}")
        limits[name] = int(value)
    return limits


def apply_limits(limits: dict[str, int]) -> None:
    """Lower soft and hard limits (a limit can only be raised back by root)."""
    for name, value in limits.items():
        which = _LIMITS[name]
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # CPU: SIGXCPU at the limit (an exit status that names the cause), SIGKILL 2 s later
        hard_value = value + 2 if name == "cpu" else value
        if hard != resource.RLIM_INFINITY:
            hard_value = min(hard_value, hard)
        resource.setrlimit(which, (value, hard_value))


def drop_privileges(uid: int) -> None:
    """Become `uid` (gid = uid, no supplementary groups). Only root can; others keep their uid."""
    if os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: launch.py --limits as=N,cpu=N,nproc=N,fsize=N [--uid N] -- argv...")
    split = argv.index("--")
    opts, command = argv[:split], argv[split + 1 :]
    limits: dict[str, int] = {}
    uid: int | None = None
    it = iter(opts)
    for opt in it:
        if opt == "--limits":
            limits = parse_limits(next(it))
        elif opt == "--uid":
            uid = int(next(it))
        else:
            raise SystemExit(f"launch: unknown option {opt!r}")
    if not command:
        raise SystemExit("launch: no command after --")

    env = {k: v for k, v in os.environ.items() if k in _KEEP_ENV}
    env["JPY_PARENT_PID"] = str(os.getpid())  # ipykernel exits when its parent (this process) changes
    apply_limits(limits)
    if uid is not None:
        drop_privileges(uid)

    parent = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            _die_with_parent()
            if os.getppid() != parent:  # the supervisor died before prctl took effect
                os._exit(1)
            os.execvpe(command[0], command, env)
        except BaseException as exc:  # noqa: BLE001 - report anything and leave without cleanup
            os.write(2, f"launch: cannot start {command[0]}: {exc}\n".encode())
        os._exit(127)

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    while True:
        try:
            _pid, status = os.waitpid(child, 0)
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        if os.WIFEXITED(status):
            return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
