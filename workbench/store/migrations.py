"""Numbered schema migrations for the run store.

`MIGRATIONS` is a list of `(version, SQL)` pairs applied in order. The database records the last
applied version in `PRAGMA user_version`, so opening a store applies only what is missing and opening
it again applies nothing. Each migration runs in one `BEGIN IMMEDIATE` transaction together with the
version bump: a crash mid-migration leaves the previous version intact, and two processes opening
the same fresh file cannot both apply a step (the second one sees the new version and skips it).

Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

import sqlite3

from ..errors import StoreError

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE runs (
            id          TEXT PRIMARY KEY,
            task        TEXT NOT NULL DEFAULT '',
            config      TEXT NOT NULL DEFAULT '{}',
            created_at  REAL NOT NULL,
            updated_at  REAL NOT NULL,
            cursor      INTEGER NOT NULL DEFAULT 0,
            status      TEXT NOT NULL DEFAULT 'running',
            outcome     TEXT
        );
        CREATE TABLE nodes (
            run_id      TEXT NOT NULL,
            id          INTEGER NOT NULL,
            parent_id   INTEGER,
            status      TEXT NOT NULL,
            created_at  REAL NOT NULL,
            data        TEXT NOT NULL,
            PRIMARY KEY (run_id, id)
        );
        CREATE TABLE llm_calls (
            run_id      TEXT NOT NULL,
            node_id     INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            data        TEXT NOT NULL,
            PRIMARY KEY (run_id, node_id, seq)
        );
        """,
    ),
    (
        2,
        """
        -- the plan and memory as last edited, and a history of user edits, errors and pauses
        ALTER TABLE runs ADD COLUMN plan TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE runs ADD COLUMN memory TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE events (
            seq         INTEGER PRIMARY KEY,
            run_id      TEXT NOT NULL,
            kind        TEXT NOT NULL,
            provenance  TEXT,
            node_id     INTEGER,
            data        TEXT NOT NULL DEFAULT '{}',
            at          REAL NOT NULL
        );
        CREATE INDEX events_by_run ON events (run_id, seq);
        """,
    ),
    (
        3,
        """
        -- running totals, so listing runs reads one row per run; backfilled for existing runs
        ALTER TABLE runs ADD COLUMN steps INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN cost REAL NOT NULL DEFAULT 0;
        UPDATE runs SET
            steps = (SELECT count(*) FROM nodes n WHERE n.run_id = runs.id AND n.parent_id IS NOT NULL),
            prompt_tokens = (SELECT coalesce(sum(json_extract(c.data, '$.prompt_tokens')), 0)
                             FROM llm_calls c WHERE c.run_id = runs.id),
            completion_tokens = (SELECT coalesce(sum(json_extract(c.data, '$.completion_tokens')), 0)
                                 FROM llm_calls c WHERE c.run_id = runs.id),
            cost = (SELECT coalesce(sum(json_extract(c.data, '$.cost')), 0.0)
                    FROM llm_calls c WHERE c.run_id = runs.id);
        CREATE INDEX runs_by_created ON runs (created_at);
        """,
    ),
    (
        4,
        """
        -- one writer per run (see lease.py), and full texts kept when a size cap clipped a node
        CREATE TABLE leases (
            run_id        TEXT PRIMARY KEY,
            token         TEXT NOT NULL,
            pid           INTEGER NOT NULL,
            host          TEXT NOT NULL,
            started       REAL,
            acquired_at   REAL NOT NULL,
            heartbeat_at  REAL NOT NULL
        );
        CREATE TABLE full_texts (
            run_id      TEXT NOT NULL,
            node_id     INTEGER NOT NULL,
            field       TEXT NOT NULL,
            text        TEXT NOT NULL,
            PRIMARY KEY (run_id, node_id, field)
        );
        """,
    ),
    (
        5,
        """
        -- evaluation sweeps (workbench.eval): a sweep's config and versions, one row per cell with
        -- its run and result row; runs are found by their sweep tag (config.tags.sweep, no index: an
        -- index on it would refuse a damaged config row, which must stay readable for the doctor)
        CREATE TABLE sweeps (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL DEFAULT '',
            config      TEXT NOT NULL DEFAULT '{}',
            versions    TEXT NOT NULL DEFAULT '{}',
            created_at  REAL NOT NULL,
            updated_at  REAL NOT NULL
        );
        CREATE TABLE sweep_cells (
            sweep_id    TEXT NOT NULL,
            key         TEXT NOT NULL,
            idx         INTEGER NOT NULL,
            run_id      TEXT,
            status      TEXT NOT NULL,
            row         TEXT NOT NULL DEFAULT '{}',
            updated_at  REAL NOT NULL,
            PRIMARY KEY (sweep_id, key)
        );
        CREATE INDEX sweep_cells_by_run ON sweep_cells (run_id);
        """,
    ),
]

TABLES = ("runs", "nodes", "llm_calls", "events", "leases", "full_texts", "sweeps", "sweep_cells")

LATEST = MIGRATIONS[-1][0]


def statements(sql: str) -> list[str]:
    """Split a migration's SQL into complete statements (comments and blank lines dropped)."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:60]!r}")
    return out


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int | None = None, *, where: str = "the store") -> int:
    """Apply every migration above the database's version up to `target` (default: all).

    `conn` must be in autocommit mode (`isolation_level=None`). Returns the resulting version."""
    target = LATEST if target is None else target
    current = version(conn)
    if current > LATEST:
        raise StoreError(
            f"{where} has schema version {current}, newer than this workbench knows ({LATEST}); "
            "upgrade agent-workbench to open it"
        )
    for number, sql in MIGRATIONS:
        if number <= current or number > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version(conn) >= number:  # another process applied it while we waited for the lock
                conn.execute("COMMIT")
                continue
            for statement in statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(number)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version(conn)
