"""The `workbench` command (also `python -m workbench`): run agents from a terminal, list and show runs.

    workbench run --env gridworld --model workbench/demo --strategy react --memory diff --max-steps 30
    workbench run --env my_envs:make_maze --max-steps 10    # any env: module:factory
    workbench resume RUN_ID [--max-steps N]
    workbench runs | workbench show RUN_ID | workbench export RUN_ID [--html | --notebook | --format wbrun] [-o FILE]
    workbench envs | workbench models
    workbench sweep sweep.toml | workbench sweep --replay SWEEP_ID | workbench sweeps

`--env`, `--strategy` and `--memory` take a built-in name, a plugin name (entry points in the groups
`workbench.envs`, `workbench.strategies`, `workbench.memories`; `workbench envs` lists env plugins),
or `module:attr`: the module is imported (the current folder is searched too) and the attribute is
called when it is callable. A run stores its env as that string, so `workbench resume` rebuilds it;
a strategy or memory is stored by its `name`, which resume finds when it is a built-in or a plugin.

It is thin on purpose: a `Session` does the work, the printer only consumes its events, and the
listing commands only read the run store. A wrong argument prints one line that says what is valid
and exits with 2; a model failure ends the run with 1; anything else is a bug and keeps its traceback.
Everything printed passes through secret redaction, and control characters from tasks, observations
and answers are shown as visible escapes such as `\\u001b` (a terminal never acts on them).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .console import err, fraction, importable_cwd, non_negative_float, out, positive_int, rounds
from .errors import ConfigError, ModelError, StoreError
from .safety.text import valid_text

DEFAULT_STORE_HELP = (
    "default: $WORKBENCH_STORE, else the nearest .workbench/ upward, else per user; `workbench where`"
)
_WIDTH = 100
EXPORT_FORMATS = ("json", "html", "notebook", "wbrun")


def _clip(text: str | None, width: int = _WIDTH) -> str:
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _changed_lines(before: str | None, after: str, limit: int = 3) -> list[str]:
    """The first lines of `after` that differ from `before` (all of a short observation)."""
    lines = after.splitlines() or [""]
    if before is None or len(lines) <= limit:
        return lines[:limit]
    added = [
        ln[1:]
        for ln in difflib.unified_diff(before.splitlines(), lines, n=0, lineterm="")
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    if len(added) > limit:  # keep the last changed line: text envs often end with their message
        added = [*added[: limit - 1], added[-1]]
    return added or ["(no change)"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


SEARCH_OPTIONS = ("max_expansions", "rounds", "max_depth", "branching", "value")


def _search(p: argparse.ArgumentParser) -> None:
    """The options of the search strategies (bfs, dfs, best-first, astar, mcts)."""
    p.add_argument("--max-expansions", type=positive_int, default=None, help="search: expansions a round")
    p.add_argument(
        "--rounds", type=rounds, default=None, help="search: rounds from each commit, or 'terminal'"
    )
    p.add_argument("--max-depth", type=positive_int, default=None, help="search: depth cap")
    p.add_argument("--branching", type=positive_int, default=None, help="search: children per expansion")
    p.add_argument(
        "--value", choices=["judge", "score", "reward"], default=None, help="search: value function"
    )


def _component_options(p: argparse.ArgumentParser) -> None:
    """`--strategy-option` and `--memory-option`: repeatable KEY=VALUE (see workbench.options)."""
    for kind, example in (("strategy", "replans=1"), ("memory", "every=5")):
        p.add_argument(
            f"--{kind}-option",
            action="append",
            default=None,
            metavar="KEY=VALUE",
            help=f"an option of the {kind}, e.g. {example} (repeat for more; a wrong key lists the valid ones)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="workbench", description="Run LLM agents step by step and inspect stored runs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    store = _Parser(add_help=False)
    store.add_argument("--store", default=None, metavar="PATH", help=f"run store ({DEFAULT_STORE_HELP})")

    run = sub.add_parser("run", parents=[store], help="start a run and print each step as it happens")
    run.add_argument(
        "--env",
        default="gridworld",
        metavar="ENV",
        help="built-in or plugin env (workbench envs lists them), or module:factory",
    )
    run.add_argument(
        "--model",
        default=None,
        help="litellm model string or workbench/demo (default: "
        "$WORKBENCH_MODEL, a model whose key is set, else workbench/demo)",
    )
    run.add_argument(
        "--strategy",
        default="react",
        metavar="STRATEGY",
        help="react, codeact, bfs, dfs, best-first, astar, mcts, a plugin, or module:Class",
    )
    run.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "process"],
        default=None,
        help="codeact: where code runs (process = no file/network isolation; opt in for real models)",
    )
    run.add_argument(
        "--memory",
        default="full",
        metavar="MEMORY",
        help="full, window, diff, hierarchical, layered, summarized, a plugin, or module:Class",
    )
    run.add_argument("--task", default=None, help="task text (default: the env's own task)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--error-rate", type=fraction, default=None, help="demo model only: how often it errs")
    run.add_argument("--window", type=positive_int, default=None, help="steps shown by window/diff memory")
    _component_options(run)
    run.add_argument("--api-base", default=None, help="URL of an OpenAI-compatible server (key from the env)")
    _budgets(run)
    _search(run)
    _approve(run)
    run.add_argument("--quiet", action="store_true", help="print only the summary")

    resume = sub.add_parser("resume", parents=[store], help="continue a stored run from its cursor")
    resume.add_argument("run_id", metavar="RUN_ID")
    _budgets(resume)
    _approve(resume)
    resume.add_argument("--quiet", action="store_true")

    runs = sub.add_parser("runs", parents=[store], help="list stored runs, newest first")
    runs.add_argument("--limit", type=positive_int, default=20)
    runs.add_argument("--sweep", default=None, metavar="SWEEP_ID", help="only the runs of this sweep")
    show = sub.add_parser("show", parents=[store], help="print one run step by step")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--full", action="store_true", help="print whole observations")
    doctor = sub.add_parser(
        "doctor", parents=[store], help="check a run store; --salvage copies its readable runs to a new file"
    )
    doctor.add_argument("--salvage", metavar="OUT", help="write every readable run into this new store file")
    export = sub.add_parser(
        "export",
        parents=[store],
        help="write a run as JSON, a self-contained HTML page, a notebook or a .wbrun.json snapshot",
    )
    export.add_argument("run_id", metavar="RUN_ID")
    export.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="file to write (default: stdout for json, run-ID.html / .ipynb / .wbrun.json otherwise)",
    )
    kind = export.add_mutually_exclusive_group()
    kind.add_argument("--format", choices=EXPORT_FORMATS, default=None, help="what to write (default: json)")
    kind.add_argument(
        "--html", action="store_const", const="html", dest="format", help="same as --format html"
    )
    kind.add_argument(
        "--notebook", action="store_const", const="notebook", dest="format", help="same as --format notebook"
    )
    record = sub.add_parser(
        "record", help="run a model and save its calls as a named cassette the notebooks replay offline"
    )
    record.add_argument("name", metavar="NAME", help="cassette name, e.g. gridworld-react")
    record.add_argument(
        "--model", required=True, help="litellm model string (key from the env) or workbench/demo"
    )
    record.add_argument("--env", default="gridworld", metavar="ENV")
    record.add_argument("--task", default=None)
    record.add_argument("--strategy", default="react", metavar="STRATEGY")
    record.add_argument("--memory", default="full", metavar="MEMORY")
    record.add_argument("--window", type=positive_int, default=None)
    record.add_argument("--seed", type=int, default=0)
    record.add_argument("--max-steps", type=positive_int, default=30)
    record.add_argument(
        "--api-base", default=None, help="URL of an OpenAI-compatible server (key from the env)"
    )
    record.add_argument(
        "--out", default="notebooks/cassettes", metavar="DIR", help="folder (default: notebooks/cassettes)"
    )
    from .eval.cli import add_parsers as sweep_parsers

    sweep_parsers(sub, store)
    sub.add_parser("where", help="print the default run store and why it is the default")
    sub.add_parser("init", help="make .workbench/ here: runs of this project (notebooks below too) go there")
    sub.add_parser("envs", help="list the environments: built-ins, then plugins")
    sub.add_parser("models", help="list the offline models and examples of real ones")
    return parser


def _approve(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--approve",
        default="ask",
        metavar="MODE",
        help="gated actions (destructive tools by default): ask (at the terminal; exit 3 without one), "
        "always, never, or a rules file rules.toml",
    )


def _budgets(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-steps", type=positive_int, default=None, help="steps of the run in total")
    p.add_argument("--max-tokens", type=positive_int, default=None)
    p.add_argument("--max-cost", type=non_negative_float, default=None, help="US dollars")


# --- the live printer ------------------------------------------------------------------------------
class Printer:
    """Prints each new node as its event arrives and remembers how the run ended."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.observations: dict[int, str] = {}
        self.reason: str | None = None
        self.errors: list[str] = []

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind in ("NodeAdded", "NodeUpdated"):
            node = event.node
            waiting = (node.info.get("approval") or {}).get("state") == "pending"
            if kind == "NodeUpdated" and ("observation" not in event.fields or "approval" not in node.info):
                return  # only a decided proposal is printed again (with what happened)
            self.observations[node.id] = node.observation
            if not self.quiet and not waiting:  # a waiting proposal is shown by the approval prompt
                print_node(
                    node, self.observations.get(node.parent_id) if node.parent_id is not None else None
                )
        elif kind == "Paused":
            self.reason = event.reason
        elif kind == "RunFinished":
            self.reason = "done"
        elif kind == "Error":
            self.errors.append(event.message)
            if not self.quiet and event.node_id is None:
                out(f"  ! {_clip(event.message)}")


def print_node(node: Any, parent_obs: str | None, *, full: bool = False) -> None:
    if node.parent_id is None:
        out("start:")
        for line in node.observation.splitlines() if full else _changed_lines(None, node.observation, 6):
            out(f"  {line}")
        return
    tokens = f"{node.prompt_tokens} prompt tokens" if node.llm_calls else "no model call"
    out(f"step {node.depth} [node {node.id}] · {tokens}")
    if node.thought:
        out(f"  thought: {_clip(node.thought)}")
    if node.error:
        out(f"  error:   {_clip(node.error)}")
        return
    out(f"  action:  {_clip(node.action)}")
    lines = node.observation.splitlines() if full else _changed_lines(parent_obs, node.observation)
    for i, line in enumerate(lines):
        out(f"  {'obs:' if i == 0 else '':<8} {line if full else _clip(line)}")
    if node.terminal:
        out(f"  terminal, reward {node.reward:g}")


def print_summary(run: Any, store_path: str, reason: str | None) -> None:
    cfg = run.config
    if run.outcome:
        outcome = run.outcome
    elif run.current.terminal:
        outcome = "done"
    else:
        outcome = f"unfinished ({reason or 'stopped'})"
    out(
        f"outcome: {outcome} · steps: {run.steps} · tokens: {run.tokens} (prompt {run.prompt_tokens}) · "
        f"cost: ${run.cost:.4f}"
    )
    out(
        f"model: {cfg.get('model_label') or cfg.get('model')} · env: {cfg.get('env')} · "
        f"strategy: {cfg.get('strategy')} · memory: {cfg.get('memory')}"
    )
    out(f"run: {run.id} in {store_path} (workbench show {run.id} · workbench resume {run.id})")


# --- commands --------------------------------------------------------------------------------------
def _model(args: argparse.Namespace) -> Any:
    """The Model for `run`, built before the store is opened so a wrong name touches no file."""
    from .llm.model import Model, check_model_name, default_model_name
    from .llm.providers import DEMO

    check_model_name(args.model)
    name = args.model or default_model_name()
    if args.error_rate is not None and name != DEMO:
        raise ConfigError(f"--error-rate applies to the demo model only (--model {DEMO}), not {name}")
    if args.api_base is not None and name.startswith("workbench/"):
        raise ConfigError(
            "--api-base needs a real model, e.g. --model openai/<name>; the workbench models are offline"
        )
    extra: dict[str, Any] = {"seed": args.seed} if name == DEMO else {}
    if args.error_rate is not None:
        extra["error_rate"] = args.error_rate
    if args.api_base is not None:
        extra["api_base"] = args.api_base
    return Model(name, **extra)


def _components(args: argparse.Namespace) -> None:
    """Check --env, --strategy and --memory before any file is touched: a built-in or plugin name,
    or a `module:attr` spec whose module imports and has the attribute (it is called later)."""
    from . import registry
    from .envs.base import BUILTIN_ENVS, env_names
    from .memory.base import MEMORY_POLICIES, memory_names
    from .strategies.base import STRATEGIES, strategy_names

    importable_cwd()
    for kind, table, names in (
        ("env", BUILTIN_ENVS, env_names()),
        ("strategy", STRATEGIES, strategy_names()),
        ("memory", MEMORY_POLICIES, memory_names()),
    ):
        try:
            registry.require(kind, table, getattr(args, kind), names, quote=True)
        except ConfigError as exc:
            raise ConfigError(f"--{kind}: {exc}") from None


def _memory_options(args: argparse.Namespace) -> dict[str, Any]:
    from .options import memory_options

    return memory_options(args.memory, args.window, getattr(args, "memory_option", None))


def _strategy_options(args: argparse.Namespace) -> dict[str, Any]:
    """The strategy's options: `--strategy-option`s and the flags for them (`--sandbox`, search's)."""
    from .options import parse

    flags = {
        key: getattr(args, key) for key in ("sandbox", *SEARCH_OPTIONS) if getattr(args, key) is not None
    }
    given = parse("strategy", args.strategy, args.strategy_option or [], "--strategy-option")
    twice = sorted(set(flags) & set(given))
    if twice:
        shown = ", ".join(f"--{key.replace('_', '-')}" for key in twice)
        raise ConfigError(f"{shown} given twice (also as --strategy-option); give each option once")
    return {**flags, **given}


def _drive(session: Any, store: Any, quiet: bool, approve: str = "ask") -> int:
    from .oversight.terminal import WAITING, decide

    printer = Printer(quiet)
    session.subscribe(printer)
    try:
        session.run()
        while session.pending_approval is not None:  # a gated action waits for a person
            if not decide(session, approve, say=out):
                out(f"waiting for approval: `workbench resume {session.run_id}` asks the model again")
                print_summary(session.tree, str(store.path), "approval")
                return WAITING
            if not session.done:
                session.run()
    except KeyboardInterrupt:
        out(f"interrupted; `workbench resume {session.run_id}` continues from the last finished step")
        return 130
    finally:
        session.close()  # MCP servers and the CodeAct kernel
    if not quiet:
        out()
    print_summary(session.tree, str(store.path), printer.reason)
    return 1 if session.status == "error" else 0


def cmd_run(args: argparse.Namespace) -> int:
    from .core.session import Session
    from .oversight.terminal import gates_for

    _components(args)
    model, memory_options = _model(args), _memory_options(args)
    strategy_options = _strategy_options(args)
    # the Session opens the store after it has made the env, strategy and memory, so a factory
    # that fails leaves no file behind
    session = Session(
        task=args.task,
        env=args.env,
        model=model,
        strategy=args.strategy,
        memory=args.memory,
        store=args.store,
        seed=args.seed,
        max_steps=args.max_steps,
        max_tokens=args.max_tokens,
        max_cost=args.max_cost,
        memory_options=memory_options,
        gates=gates_for(args.approve),
        **strategy_options,
    )
    with session.store as store:
        if not args.quiet:
            cfg = session.config
            out(
                f"run {session.run_id} · {cfg['env']} · {session.model.label} · {cfg['strategy']} · "
                f"{cfg['memory']} memory · store {store.path}"
            )
            out(f"task: {_clip(session.tree.task, 200)}")
            print_node(session.tree.root, None)
        return _drive(session, store, args.quiet, args.approve)


def cmd_resume(args: argparse.Namespace) -> int:
    from .core.session import Session
    from .oversight.terminal import gates_for
    from .store.sqlite import RunStore

    budgets = {k: v for k in ("max_steps", "max_tokens", "max_cost") if (v := getattr(args, k)) is not None}
    importable_cwd()  # a run made with --env module:factory imports it again
    with RunStore(args.store, create=False) as store:
        session = Session.resume(args.run_id, store=store, gates=gates_for(args.approve), **budgets)
        run = session.tree
        if run.current.terminal:
            out(f"run {run.id} already finished ({run.outcome or 'terminal'}); nothing to resume")
            print_summary(run, str(store.path), "done")
            return 0
        if not args.quiet:
            out(
                f"resuming run {run.id} at step {run.current.depth} [node {run.cursor}] · {session.model.label}"
            )
        return _drive(session, store, args.quiet, args.approve)


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def cmd_runs(args: argparse.Namespace) -> int:
    from .store.sqlite import RunStore

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
            _when(r["created_at"]),
            r["env"],
            r["model_label"],
            r["strategy"],
            r["memory"],
            str(r["steps"]),
            str(r["tokens"]),
            f"${r['cost']:.4f}",
            r["outcome"] or r["status"],
            _clip(r["task"], 40),
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


def cmd_doctor(args: argparse.Namespace) -> int:
    from .store import doctor

    report = doctor.salvage(args.store, args.salvage) if args.salvage else doctor.check(args.store)
    for line in report.lines():
        out(line)
    return 0 if report.ok else 1


def cmd_show(args: argparse.Namespace) -> int:
    from .store.sqlite import RunStore

    with RunStore(args.store, create=False) as store:
        run = store.load_run(args.run_id)
        row = next((r for r in store.list_runs(limit=10**9) if r["id"] == run.id), {})
        history = store.events(run.id)
    out(f"run {run.id} · created {_when(run.created_at)} · status {row.get('status', '?')}")
    out(f"task: {_clip(run.task, 200)}")
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
            out(f"  {item['kind']} ({item['provenance'] or 'agent'}): {_clip(str(detail))}")
    out()
    reason = next((e["data"].get("reason") for e in reversed(history) if e["kind"] == "Paused"), None)
    print_summary(run, str(args.store), reason)
    return 0


def _export_page(args: argparse.Namespace) -> int:
    """`workbench export --html | --notebook | --format wbrun`: a file that shows the run."""
    from .export import page
    from .store.sqlite import RunStore

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

    from .export.json import export_run
    from .store.sqlite import RunStore

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


def cmd_record(args: argparse.Namespace) -> int:
    from .llm.model import check_model_name
    from .teaching.transcripts import record_cassette

    check_model_name(args.model)
    if args.api_base is not None and args.model.startswith("workbench/"):
        raise ConfigError(
            "--api-base needs a real model, e.g. --model openai/<name>; the workbench models are offline"
        )
    options: dict[str, Any] = {"api_base": args.api_base} if args.api_base else {}
    if args.model == "workbench/demo":
        options["seed"] = args.seed
    session = {
        "env": args.env,
        "task": args.task,
        "strategy": args.strategy,
        "memory": args.memory,
        "seed": args.seed,
        "memory_options": _memory_options(args) or None,
    }
    path, run = record_cassette(
        args.name, model=args.model, out_dir=args.out, session=session,
        max_steps=args.max_steps, model_options=options,
    )  # fmt: skip
    calls = sum(len(n.llm_calls) for n in run.tree.nodes.values())
    out(f"recorded {calls} calls of {args.model} ({run.status}, {run.tree.steps} steps) to {path}")
    out(f"replay it offline: workbench.teaching.replay({args.name!r})")
    return 0


def cmd_where(args: argparse.Namespace) -> int:
    from .store.location import describe_default

    path, rule = describe_default()
    why = {"project": "the nearest .workbench/ folder", "user": "the per-user default"}.get(rule, rule)
    out(f"{path}  ({why}{'' if path.is_file() else '; no runs yet'})")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from .store.location import FILE_NAME, PROJECT_DIR

    folder = os.path.join(os.getcwd(), PROJECT_DIR)
    os.makedirs(folder, exist_ok=True)
    out(
        f"runs of this project now go to {os.path.join(folder, FILE_NAME)} (from here and every folder below)"
    )
    return 0


def cmd_envs(args: argparse.Namespace) -> int:
    from . import registry
    from .envs.base import BUILTIN_ENVS, env_names

    rows = registry.describe("env", BUILTIN_ENVS, env_names())
    width = max(len(name) for name, _ in rows)
    for name, about in rows:
        out(f"{name.ljust(width)}  {about}".rstrip())
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .llm.model import known_models

    rows = known_models()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        out(f"{name.ljust(width)}  {description}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .eval.cli import cmd_sweep as run_sweep

    return run_sweep(args)


def cmd_sweeps(args: argparse.Namespace) -> int:
    from .eval.cli import cmd_sweeps as list_sweeps

    return list_sweeps(args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "resume": cmd_resume,
    "runs": cmd_runs,
    "show": cmd_show,
    "export": cmd_export,
    "record": cmd_record,
    "where": cmd_where,
    "init": cmd_init,
    "doctor": cmd_doctor,
    "envs": cmd_envs,
    "models": cmd_models,
    "sweep": cmd_sweep,
    "sweeps": cmd_sweeps,
}


def _text_arguments(args: argparse.Namespace) -> None:
    """Every text argument must be valid UTF-8 (a shell can pass any bytes: `--task $'bad\\xff'`)."""
    for name, value in vars(args).items():
        if isinstance(value, str) and valid_text(value) != value:
            flag = f"--{name.replace('_', '-')}" if len(name) > 1 else f"-{name}"
            raise ConfigError(f"{flag} must be valid UTF-8 text; {value!r} is not (check the shell quoting)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"choose a command: {', '.join(COMMANDS)}")
    if getattr(args, "store", False) is None:
        from .store.location import default_store_path, shown

        args.store = shown(default_store_path())
    try:
        _text_arguments(args)
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # `workbench show ID | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (ConfigError, StoreError) as exc:
        err(f"workbench {args.command}: error: {exc}")
        return 2
    except ModelError as exc:
        err(f"workbench {args.command}: model error: {exc}")
        return 1
