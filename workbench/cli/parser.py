"""The `workbench` command's argument parser: every subcommand, its options and their help."""

from __future__ import annotations

import argparse
from typing import NoReturn

from ..console import fraction, non_negative_float, positive_int, rounds
from ..eval.cli import add_parsers as sweep_parsers

DEFAULT_STORE_HELP = (
    "default: $WORKBENCH_STORE, else the nearest .workbench/ upward, else per user; `workbench where`"
)

EXPORT_FORMATS = ("json", "html", "notebook", "wbrun")


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
