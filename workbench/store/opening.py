"""Opening a run store file: its connection, the integrity check and the schema check.

    conn = connect(path, timeout)                 # writable; creates the folder
    conn = connect_read_only(path, timeout)       # also on a read-only mount
    prepare(conn, path, read_only=False, check=True, timeout=timeout)   # WAL, quick_check, migrations

Each failure is a `StoreError` that names the file and what to do: another path, `workbench doctor`
for a damaged file, an upgrade for a newer schema. `RunStore` (`sqlite.py`) opens its file here.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

from ..errors import StoreError
from .migrations import LATEST, TABLES, migrate, version

DEFAULT_TIMEOUT = 5.0  # seconds a write waits for another connection's write lock before it fails


def default_timeout() -> float:
    """The lock timeout: $WORKBENCH_STORE_TIMEOUT seconds when set, else DEFAULT_TIMEOUT."""
    text = os.environ.get("WORKBENCH_STORE_TIMEOUT", "").strip()
    try:
        value = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise StoreError(f"WORKBENCH_STORE_TIMEOUT must be a number of seconds, not {text!r}") from None
    if not value >= 0:
        raise StoreError(f"WORKBENCH_STORE_TIMEOUT must be 0 or more seconds, not {text!r}")
    return value


def writable(path: Path) -> bool:
    """Whether this process may write `path` and create its WAL files next to it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A writable connection in autocommit mode (transactions are begun by hand); creates the folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=timeout)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open run store {path}: {exc}; pass another store path") from None


def connect_read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to the store file `path`, or the last `sqlite3.Error`.

    `mode=ro` still needs the WAL index file; on a read-only mount only `immutable=1` can read."""
    base = "file:" + urllib.parse.quote(str(Path(path).resolve()))
    last: sqlite3.Error | None = None
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        conn = None
        try:
            conn = sqlite3.connect(base + query, uri=True, check_same_thread=False, timeout=timeout)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
            if conn is not None:
                conn.close()
    assert last is not None
    raise last


def open_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """`connect_read_only` with its failure as a `StoreError` that says what to do."""
    try:
        return connect_read_only(path, timeout)
    except sqlite3.Error as exc:
        raise StoreError(
            f"cannot open run store {path} read-only: {exc}; copy it somewhere writable"
        ) from None


def damaged_text(path: Path, detail: str) -> str:
    return (
        f"run store {path} is damaged ({detail}); nothing more is written to it. "
        f"`workbench doctor --store {path} --salvage NEW.sqlite` copies the readable runs into a "
        "new file"
    )


def prepare(conn: sqlite3.Connection, path: Path, *, read_only: bool, check: bool, timeout: float) -> None:
    """Make a fresh connection ready: WAL, the integrity check (once per unchanged file and
    process), the schema brought to `LATEST` (or refused when read-only), every table present."""
    try:
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        stamp = _stamp(path)
        if check and stamp not in _CHECKED:
            problems = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise StoreError(damaged_text(path, "; ".join(problems[:3])))
            _CHECKED.add(stamp)
        if read_only:
            current = version(conn)
            if current != LATEST:
                newer = current > LATEST
                raise StoreError(
                    f"run store {path} has schema version {current} and is read-only; "
                    + (
                        "upgrade agent-workbench to read it"
                        if newer
                        else "open it once where it is writable to upgrade it, or copy it"
                    )
                )
        else:
            migrate(conn, where=str(path))
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = [t for t in TABLES if t not in names]
        if missing:
            raise StoreError(
                f"run store {path} lacks the table(s) {', '.join(missing)}: it is not a complete "
                f"workbench store. `workbench doctor --store {path} --salvage NEW.sqlite` copies "
                "what is readable into a new file"
            )
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "not a database" in text or "file is encrypted" in text:
            raise StoreError(
                f"cannot open run store {path}: {exc}; is it a workbench store? pass another path"
            ) from None
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"cannot open run store {path}: another process held its write lock for more than "
                f"{timeout:g} s; close it or try again"
            ) from None
        raise StoreError(damaged_text(path, text)) from None


# files this process found sound, by (path, size, mtime): reopening an unchanged file skips the check
_CHECKED: set[tuple[str, int, int]] = set()


def _stamp(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)
