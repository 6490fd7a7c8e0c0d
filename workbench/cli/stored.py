"""The `workbench` commands that read the run store: `runs`, `show`, `export` and `doctor`."""

from __future__ import annotations

import argparse
import os

from ..console import err, out
from ..errors import ConfigError
from .printing import clip, print_node, print_summary, when


def cmd_runs(args: argparse.Namespace) -> int:
    from ..store.sqlite import RunStore

    if not os.path.lexists(args.store):
        out(f"no runs yet in {args.store}; `workbench run` starts one")
        return 0
    with RunStore(args.store, create=False) as store:
        rows = store.list_runs(limit=args.limit, sweep=args.sweep)
    if not rows:
        out(f"no runs yet in {args.store}; `workbench run` starts one")
        return 0
    head = (
        "ID",
        "CREATED",
        "ENV",
        "MODEL",
        "STRATEGY",
        "MEMORY",
        "STEPS",
        "TOKENS",
        "COST",
        "STATUS",
        "TASK",
    )
    table = [head] + [
        (
            r["id"],
            when(r["created_at"]),
            r["env"],
            r["model_label"],
            r["strategy"],
            r["memory"],
            str(r["steps"]),
            str(r["tokens"]),
            f"${r['cost']:.4f}",
            r["outcome"] or r["status"],
            clip(r["task"], 40),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    for row in table:
        out("  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    damaged = [r for r in rows if r.get("damaged")]
    for r in damaged:
        err(f"workbench runs: run {r['id']} is damaged: {r['damaged']}")
    if damaged:
        err(
            f"workbench runs: `workbench doctor --store {args.store} --salvage NEW.sqlite` copies what is readable"
        )
        return 1
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..store.sqlite import RunStore

    with RunStore(args.store, create=False) as store:
        run = store.load_run(args.run_id)
        row = next((r for r in store.list_runs(limit=10**9) if r["id"] == run.id), {})
        history = store.events(run.id)
    out(f"run {run.id} · created {when(run.created_at)} · status {row.get('status', '?')}")
    out(f"task: {clip(run.task, 200)}")
    path = run.path()
    for node in path:
        parent = run.nodes[node.parent_id].observation if node.parent_id is not None else None
        print_node(node, parent, full=args.full)
    failed = [n for n in run.children(run.cursor) if n.status == "error"]  # a failed step leaves the cursor
    for node in failed:
        print_node(node, run.current.observation, full=args.full)
    off_path = len(run.nodes) - len(path) - len(failed)
    if off_path:
        out(f"({off_path} more nodes on other branches of the tree)")
    for item in history:
        own_line = item["kind"] == "Error" and item["node_id"] is not None  # printed with its node above
        if not own_line and (item["kind"] in ("Error", "BreakpointHit") or item["provenance"] == "user"):
            detail = (
                item["data"].get("message")
                or item["data"].get("change")
                or item["data"].get("breakpoint")
                or ""
            )
            out(f"  {item['kind']} ({item['provenance'] or 'agent'}): {clip(str(detail))}")
    out()
    reason = next((e["data"].get("reason") for e in reversed(history) if e["kind"] == "Paused"), None)
    print_summary(run, str(args.store), reason)
    return 0


def _export_page(args: argparse.Namespace) -> int:
    """`workbench export --html | --notebook | --format wbrun`: a file that shows the run."""
    from ..export import page
    from ..store.sqlite import RunStore

    with RunStore(args.store, create=False) as store:
        snapshot = page.stored_snapshot(store, args.run_id)
    suffix = {"html": ".html", "notebook": ".ipynb", "wbrun": ".wbrun.json"}[args.format]
    target = args.output or f"run-{snapshot['run_id'][:8]}{suffix}"
    if os.path.isdir(target):
        raise ConfigError(
            f"-o: {target} is a folder; give a file path such as {target.rstrip('/')}/run{suffix}"
        )
    try:
        if args.format == "html":
            page.write_html(snapshot, target)
        elif args.format == "notebook":
            page.write_notebook(snapshot, target, args.store)
        else:
            page.write_wbrun(snapshot, target)
    except OSError as exc:
        raise ConfigError(
            f"-o: cannot write {target}: {exc.strerror or exc}; give a writable file path"
        ) from None
    out(f"wrote {target} ({snapshot['header'].get('steps', 0)} steps)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import json

    from ..export.json import export_run
    from ..store.sqlite import RunStore

    if args.format not in (None, "json"):
        return _export_page(args)
    with RunStore(args.store, create=False) as store:
        run = store.load_run(args.run_id)
        state = store.load_state(run.id)
    target = args.output
    if target is not None and os.path.isdir(target):
        raise ConfigError(f"-o: {target} is a folder; give a file path such as {target.rstrip('/')}/run.json")
    try:
        data = export_run(run, target, plan=state["plan"], memory=state["memory"])
    except OSError as exc:
        raise ConfigError(
            f"-o: cannot write {target}: {exc.strerror or exc}; give a writable file path"
        ) from None
    if args.output is None:
        out(json.dumps(data, indent=1, ensure_ascii=False))
    else:
        out(f"wrote {args.output} ({run.steps} steps)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from ..store import doctor

    report = doctor.salvage(args.store, args.salvage) if args.salvage else doctor.check(args.store)
    for line in report.lines():
        out(line)
    return 0 if report.ok else 1
