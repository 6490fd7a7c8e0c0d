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

It is thin on purpose: a `Session` does the work (`running.py`), the printer (`printing.py`) only
consumes its events, and the listing commands (`stored.py`) only read the run store; `parser.py`
holds the arguments, `info.py` the `where`/`init`/`envs`/`models` commands and `workbench.eval.cli`
the sweeps. A wrong argument prints one line that says what is valid and exits with 2; a model
failure ends the run with 1; anything else is a bug and keeps its traceback.
Everything printed passes through secret redaction, and control characters from tasks, observations
and answers are shown as visible escapes such as `\\u001b` (a terminal never acts on them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from ..console import err
from ..errors import ConfigError, ModelError, StoreError
from ..eval.cli import cmd_sweep, cmd_sweeps
from ..safety.text import valid_text
from .info import cmd_envs, cmd_init, cmd_models, cmd_where
from .parser import build_parser
from .running import cmd_record, cmd_resume, cmd_run
from .stored import cmd_doctor, cmd_export, cmd_runs, cmd_show

__all__ = ["COMMANDS", "build_parser", "main"]


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
        from ..store.location import default_store_path, shown

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
