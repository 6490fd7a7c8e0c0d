"""The `workbench` commands that drive a model: `run`, `resume` and `record`.

Each checks its arguments (model name, components, `--window`) before any file is touched, then
lets a `Session` do the work while the printer consumes its events.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..console import importable_cwd, out
from ..errors import ConfigError
from .parser import SEARCH_OPTIONS
from .printing import Printer, clip, print_node, print_summary


def _model(args: argparse.Namespace) -> Any:
    """The Model for `run`, built before the store is opened so a wrong name touches no file."""
    from ..llm.model import Model, check_model_name, default_model_name
    from ..llm.providers import DEMO

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
    from .. import registry
    from ..envs.base import BUILTIN_ENVS, env_names
    from ..memory.base import MEMORY_POLICIES, memory_names
    from ..strategies.base import STRATEGIES, strategy_names

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
    from ..options import memory_options

    return memory_options(args.memory, args.window, getattr(args, "memory_option", None))


def _strategy_options(args: argparse.Namespace) -> dict[str, Any]:
    """The strategy's options: `--strategy-option`s and the flags for them (`--sandbox`, search's)."""
    from ..options import parse

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
    from ..oversight.terminal import WAITING, decide

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
    from ..core.session import Session
    from ..oversight.terminal import gates_for

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
            out(f"task: {clip(session.tree.task, 200)}")
            print_node(session.tree.root, None)
        return _drive(session, store, args.quiet, args.approve)


def cmd_resume(args: argparse.Namespace) -> int:
    from ..core.session import Session
    from ..oversight.terminal import gates_for
    from ..store.sqlite import RunStore

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


def cmd_record(args: argparse.Namespace) -> int:
    from ..llm.model import check_model_name
    from ..teaching.transcripts import record_cassette

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
