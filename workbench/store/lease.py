"""One writer per run: a lease row (process id, host, heartbeat) in the store's `leases` table.

    token = take(conn, run_id, where="runs.sqlite")   # raises StoreError naming a live holder
    beat(conn, run_id, token, now)                    # in each write transaction: False = lost
    give_back(conn, run_id, token)                    # on close

A lease is taken when a session opens or resumes a run and given back when it closes. Another
opener may take it over only when the holder is gone: on this host, its process id is not alive (or
now belongs to a process started later: pids are reused); on another host, its heartbeat is older
than `STALE_AFTER` seconds (the heartbeat moves with every write). A holder that lost its lease
notices at its next write, which `beat` refuses, so two writers never both write one run.

Within one process a new opener takes the lease over from an older session of the same process (a
notebook cell that resumes a run again): the older session's next write is refused.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass

from ..errors import StoreError

STALE_AFTER = 600.0  # seconds without a heartbeat after which another host's holder counts as gone


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    started: float | None  # the holder process's start time (this host only), against pid reuse
    heartbeat_at: float

    def describe(self) -> str:
        age = max(0.0, time.time() - self.heartbeat_at)
        return f"process {self.pid} on {self.host} (last write {age:.0f} s ago)"


def _host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> float | None:
    """When process `pid` started (in clock ticks since boot, Linux), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: split after its last ")"
        return float(stat[stat.rindex(b")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def holder_alive(holder: Holder, now: float | None = None) -> bool:
    """Whether the process holding a lease may still write (see the module docstring)."""
    now = time.time() if now is None else now
    if holder.host != _host():
        return now - holder.heartbeat_at < STALE_AFTER
    if not _pid_alive(holder.pid):
        return False
    started = process_start(holder.pid)
    return holder.started is None or started is None or started == holder.started


def current(conn: sqlite3.Connection, run_id: str) -> tuple[str, Holder] | None:
    row = conn.execute(
        "SELECT token, pid, host, started, heartbeat_at FROM leases WHERE run_id = ?", (run_id,)
    ).fetchone()
    if row is None:
        return None
    token, pid, host, started, heartbeat = row
    return str(token), Holder(int(pid), str(host), started, float(heartbeat))


def take(conn: sqlite3.Connection, run_id: str, *, where: str) -> str:
    """Take the lease of `run_id` inside the caller's write transaction; returns its token."""
    now = time.time()
    held = current(conn, run_id)
    if held is not None:
        _, holder = held
        same_process = holder.host == _host() and holder.pid == os.getpid()
        if not same_process and holder_alive(holder, now):
            raise StoreError(
                f"run {run_id} in {where} is open for writing by {holder.describe()}; close that session "
                "first, or open a read-only view: Session.resume(run_id, store=..., read_only=True)"
            )
    token = uuid.uuid4().hex
    pid = os.getpid()
    conn.execute(
        "INSERT OR REPLACE INTO leases (run_id, token, pid, host, started, acquired_at, heartbeat_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run_id, token, pid, _host(), process_start(pid), now, now),
    )
    return token


def beat(conn: sqlite3.Connection, run_id: str, token: str, now: float) -> bool:
    """Move the heartbeat of our lease; False when the lease is no longer ours."""
    return bool(
        conn.execute(
            "UPDATE leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?", (now, run_id, token)
        ).rowcount
    )


def lost_message(conn: sqlite3.Connection, run_id: str, where: str) -> str:
    held = current(conn, run_id)
    who = held[1].describe() if held is not None else "nobody (the lease was removed)"
    return (
        f"run {run_id} in {where} was taken over by {who}; this session no longer writes it. "
        "Resume the run again to continue from what is stored"
    )


def give_back(conn: sqlite3.Connection, run_id: str, token: str) -> None:
    conn.execute("DELETE FROM leases WHERE run_id = ? AND token = ?", (run_id, token))
