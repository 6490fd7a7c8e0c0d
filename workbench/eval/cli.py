"""`workbench sweep sweep.toml` / `workbench sweep --replay ID` / `workbench sweeps`: sweeps in a terminal.

    # sweep.toml
    name = "react-vs-best-first"          # optional: the sweep id (default: a digest of the axes)
    env = "gridworld"
    tasks = [0, 1, 2, 3, 4]
    strategies = ["react", "best-first"]
    memories = ["full", "diff"]
    models = ["workbench/demo"]
    seeds = [0]
    concurrency = 4
    [budgets]
    max_calls = 40

A progress bar (tqdm, on stderr) counts finished cells with the solved, errored and token totals so
far; the summary by strategy and memory follows. Rerunning the same file skips finished cells;
Ctrl-C stops at once and a rerun goes on. Exit code 0 when every cell finished, 1 when a cell
errored (its message is printed), 2 for a wrong file or argument.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..console import err, importable_cwd, out, positive_int
from ..errors import ConfigError


def add_parsers(sub: Any, store: argparse.ArgumentParser) -> None:
    """The `sweep` and `sweeps` subcommands of `workbench`."""
    sweep = sub.add_parser(
        "sweep", parents=[store], help="run a sweep from a TOML file (rerun: finished cells are skipped)"
    )
    sweep.add_argument(
        "file", nargs="?", metavar="SWEEP.toml", help="the sweep's axes (see workbench.eval.cli)"
    )
    sweep.add_argument(
        "--replay", metavar="SWEEP_ID", help="rerun a stored sweep offline from its recorded calls"
    )
    sweep.add_argument(
        "--concurrency", type=positive_int, default=None, help="cells at once (overrides the file)"
    )
    sweep.add_argument(
        "--backend", choices=["local", "ray"], default=None, help="where cells run (default local)"
    )
    sweep.add_argument(
        "--address", default=None, help="ray: cluster address (default $RAY_ADDRESS or a local Ray)"
    )
    sweep.add_argument("--rows", action="store_true", help="print every cell's row, not only the summary")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweeps = sub.add_parser("sweeps", parents=[store], help="list stored sweeps, newest first")
    sweeps.add_argument("--limit", type=positive_int, default=20)


def _sweep(args: argparse.Namespace) -> Any:
    from .build import sweep_from

    if not args.file and not args.replay:
        raise ConfigError("give a sweep file (workbench sweep sweep.toml) or --replay SWEEP_ID")
    flags = {f: getattr(args, f) for f in ("concurrency", "backend", "address")}
    return sweep_from(args.file, replay=args.replay, store=args.store, **flags)


def cmd_sweep(args: argparse.Namespace) -> int:
    importable_cwd()
    sweep = _sweep(args)
    with sweep:
        out(
            f"sweep {sweep.id} · {len(sweep.cells)} cells · {sweep.backend_name} · store {sweep.store_path}"
            + (" · replay (offline)" if sweep.replaying else "")
        )
        bar = None if args.quiet else _bar(sweep)
        try:
            results = sweep.run()
        except KeyboardInterrupt:
            sweep.cancel()
            err(f"interrupted; `workbench sweep {args.file or '--replay ' + args.replay}` goes on from here")
            return 130
        finally:
            if bar is not None:
                bar.close()
        _print_summary(results, rows=args.rows)
        errors = [r for r in results if r["outcome"] == "error"]
        for row in errors:
            err(f"cell {row['key']}: {row['error']}")
        out(f"runs of this sweep: workbench runs --sweep {sweep.id} --store {sweep.store_path}")
        return 1 if errors else 0


def _bar(sweep: Any) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=len(sweep.cells), unit="cell", file=sys.stderr, dynamic_ncols=True)

    def update(kind: str, data: dict[str, Any]) -> None:
        if kind == "status" and data["status"] == "running":  # cells finished by an earlier run count
            bar.n = sweep.totals()["done"]
            bar.refresh()
        elif kind == "finished":
            bar.update(1)
            t = sweep.totals()
            bar.set_postfix(solved=t["solved"], errors=t["error"], tokens=f"{t['tokens']:,}", refresh=False)

    sweep.subscribe(update)
    return bar


def _print_summary(results: Any, rows: bool) -> None:
    from .results import COLUMNS, default_by

    by = default_by(list(results))
    head = (
        *(k.upper() for k in by),
        "N",
        "SOLVED",
        "RATE [95% CI]",
        "CALLS",
        "STEPS",
        "TOKENS/SOLVED",
        "ERRORS",
    )
    table = [head] + [
        (
            *(str(s[k]) for k in by),
            str(s["n"]),
            str(s["solved"]),
            f"{s['rate']:.0%} [{s['ci_low']:.0%}, {s['ci_high']:.0%}]",
            f"{s['calls_mean']:.1f}",
            f"{s['steps_mean']:.1f}",
            "-" if s["tokens_per_solved"] is None else f"{s['tokens_per_solved']:,.0f}",
            str(s["errors"]),
        )
        for s in results.summary(by)
    ]
    _table(table)
    if rows:
        cols = (*(c for c in COLUMNS if c != "cost"), "run_id")
        _table([tuple(c.upper() for c in cols)] + [tuple(str(r.get(c)) for c in cols) for r in results])


def _table(table: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        out("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def cmd_sweeps(args: argparse.Namespace) -> int:
    import os
    import time

    from ..store.sqlite import RunStore

    if not os.path.lexists(args.store):
        out(f"no sweeps yet in {args.store}; `workbench sweep sweep.toml` runs one")
        return 0
    with RunStore(args.store, create=False) as store:
        rows = store.list_sweeps(limit=args.limit)
    if not rows:
        out(f"no sweeps yet in {args.store}; `workbench sweep sweep.toml` runs one")
        return 0
    table = [("ID", "CREATED", "CELLS", "DONE", "ERRORS")] + [
        (
            r["id"],
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r["created_at"])),
            str(r["cells"]),
            str(r["done"]),
            str(r["errors"]),
        )
        for r in rows
    ]
    _table(table)
    return 0
