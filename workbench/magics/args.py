"""The `%agent` grammar: one table of commands, each with a one-line usage and its own parser.

Lines are split shell-style (`shlex`, so `--task "reach the goal"` is one value) and parsed with
IPython's `MagicArgumentParser`, whose errors are `UsageError`s. `parse(line)` returns the command
and its arguments; every mistake ends in a `UsageError` of ONE line that says what is valid.
Commands with verbs (`plan add`, `memory pin`, `break tool`) are keyed by both words.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

ArgSpec = tuple[tuple[str, ...], dict[str, Any]]


def one_line(message: str) -> str:
    """`message` on a single line (a user error never spans several)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def rounds(text: str) -> int | str:
    """An argparse type: a whole number >= 1 or `terminal` (search rounds)."""
    if text == "terminal":
        return text
    try:
        return whole(1)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number >= 1 or 'terminal', not {text!r}"
        ) from None


def whole(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= `minimum`, with a message that says so."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, not {text!r}")
        return value

    convert.__name__ = f"whole number >= {minimum}"
    return convert


def number(text: str) -> float:
    """An argparse type: any finite decimal number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, not {text!r}")
    return value


def amount(text: str) -> float:
    """An argparse type: a non-negative decimal number (dollars)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.05, not {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0 such as 0.05, not {text!r}")
    return value


def _opt(*flags: str, **kw: Any) -> ArgSpec:
    return flags, kw


_TEXT = _opt("text", nargs="+", metavar="TEXT")
_POS = _opt("position", type=whole(1), metavar="N")
_ENTRY = _opt("entry", metavar="ID")
_BUDGETS = [
    _opt("--max-steps", type=whole(0), metavar="N", help="step budget"),
    _opt("--max-tokens", type=whole(0), metavar="N", help="token budget"),
    _opt("--max-cost", type=amount, metavar="X", help="cost budget in dollars"),
]
NEW_OPTIONS = [
    _opt("--env", metavar="ENV", help="gridworld (default), a name from %%agent envs, module:factory, $var"),
    _opt(
        "--model", default=None, help="model: workbench/demo or a litellm string such as openai/gpt-4o-mini"
    ),
    _opt("--strategy", default="react", metavar="S", help="react (default), a search, module:Class, $var"),
    _opt(
        "--memory",
        default="full",
        metavar="M",
        help="full (default), window, diff, hierarchical, layered, summarized, $var",
    ),
    _opt(
        "--strategy-option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the strategy, e.g. replans=1 (repeat for more; listed below)",
    ),
    _opt(
        "--memory-option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the memory policy, e.g. every=5 (repeat for more; listed below)",
    ),
    _opt("--tools", default=None, metavar="TOOLS", help="a list as $var or {expr}, or plugin names a,b"),
    _opt("--window", type=whole(0), metavar="N", help="steps the window/diff memory shows"),
    _opt(
        "--recall",
        default=None,
        metavar="R",
        help="examples recalled into each prompt: a TrustedRecall as $var, or a JSONL file (imported)",
    ),
    _opt("--seed", type=whole(0), default=0, metavar="N", help="seed of the env and the demo model"),
    _opt("--task", nargs="+", metavar="TEXT", help="the task (default: the env's own)"),
    *_BUDGETS,
    _opt("--max-expansions", type=whole(1), metavar="N", help="search: expansion budget"),
    _opt(
        "--rounds", type=rounds, metavar="N", help="search: rounds in a row from each commit, or 'terminal'"
    ),
    _opt("--max-depth", type=whole(1), metavar="N", help="search: depth cap"),
    _opt("--branching", type=whole(1), metavar="N", help="search: children per expansion"),
    _opt("--value", choices=["judge", "score", "reward"], help="search: value function"),
    _opt("--concurrency", type=whole(1), metavar="N", help="model calls at once (search)"),
    _opt("--sandbox", choices=["auto", "bwrap", "process"], help="codeact: where the code runs"),
    _opt("--store", metavar="PATH", help="SQLite run store the run is written to as it goes"),
    _opt("--name", metavar="NAME", help="name of the agent (default agent1, agent2, ...)"),
]


def ints(text: str) -> list[int]:
    """An argparse type: whole numbers as `0-4` (both ends), `0,2,5` or a mix (`0-2,7`)."""
    out: list[int] = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            out += list(range(int(low), int(high) + 1)) if dash else [int(low)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers such as 0-4 or 0,2,5, not {text!r}"
        ) from None
    if not out:
        raise argparse.ArgumentTypeError(f"expected whole numbers such as 0-4 or 0,2,5, not {text!r}")
    return out


def names(text: str) -> list[str]:
    """An argparse type: comma-separated names (`react,best-first`)."""
    out = [part.strip() for part in text.split(",") if part.strip()]
    if not out:
        raise argparse.ArgumentTypeError(
            f"expected names separated by commas such as react,best-first, not {text!r}"
        )
    return out


def _top_level(text: str) -> list[str]:
    """The parts of `text` between commas outside brackets and quotes (`a(x=1,y=2),b` -> 2 parts)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def with_options(kind: str) -> Callable[[str], list[Any]]:
    """An argparse type: comma-separated strategy or memory names, each with its options in
    parentheses as a sweep's labels show them (`react,plan-execute(replans=1)` -> `["react",
    {"name": "plan-execute", "replans": 1}]`), values read as `--strategy-option` reads them."""
    from .. import options
    from ..errors import ConfigError

    def convert(text: str) -> list[Any]:
        out: list[Any] = []
        for part in _top_level(text):
            name, paren, rest = part.partition("(")
            name = name.strip()
            if not paren:
                out.append(name)
                continue
            if not name or not rest.endswith(")"):
                raise argparse.ArgumentTypeError(
                    f"expected name(key=value, ...) such as plan-execute(replans=1), not {part!r}"
                )
            try:
                out.append({"name": name, **options.parse(kind, name, _top_level(rest[:-1]), f"{name}(...)")})
            except ConfigError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        return out or names(text)  # nothing: the names() error

    convert.__name__ = f"{kind} names"
    return convert


SWEEP_OPTIONS = [
    _opt("file", nargs="?", metavar="FILE.toml", help="a sweep file (the axes; see workbench sweep)"),
    _opt("--replay", metavar="SWEEP_ID", help="rerun a stored sweep offline from its recorded calls"),
    _opt("--env", metavar="ENV", help="gridworld (default), game24, a plugin, module:factory"),
    _opt("--tasks", type=ints, metavar="0-4", help="task seeds: 0-4 or 0,2,5 (default 0)"),
    _opt(
        "--strategies",
        type=with_options("strategy"),
        metavar="a,b",
        help="react (default), best-first, mcts, ...; options in parentheses: plan-execute(replans=1)",
    ),
    _opt(
        "--memories",
        type=with_options("memory"),
        metavar="a,b",
        help="full (default), window, diff, ...; options in parentheses: window(window=4)",
    ),
    _opt("--models", type=names, metavar="a,b", help="workbench/demo (default) or litellm model strings"),
    _opt("--seeds", type=ints, metavar="0,1", help="agent seeds (default 0)"),
    _opt("--max-calls", type=whole(1), metavar="N", help="model-call budget of each cell (default 50)"),
    _opt("--max-tokens", type=whole(1), metavar="N", help="token budget of each cell"),
    _opt("--max-steps", type=whole(1), metavar="N", help="step budget of each cell"),
    _opt("--concurrency", type=whole(1), metavar="N", help="cells at once (default 4)"),
    _opt("--name", metavar="NAME", help="the sweep id (default: a digest of the axes)"),
    _opt("--store", metavar="PATH", help="SQLite run store (default: `workbench where`)"),
    _opt("--backend", choices=["local", "ray"], help="where cells run (default local)"),
]


@dataclass(frozen=True)
class Command:
    """One `%agent` command: its words, one-line usage, summary and argument specs."""

    key: str  # "step", "plan add"
    usage: str
    summary: str
    args: list[ArgSpec] = field(default_factory=list)

    def parser(self) -> MagicArgumentParser:
        parser = MagicArgumentParser(prog=f"agent {self.key}", description=self.summary)
        for flags, kw in self.args:
            parser.add_argument(*flags, **kw)
        return parser

    def parse(self, argv: list[str]) -> argparse.Namespace:
        try:
            return self.parser().parse_args(argv)
        except UsageError as exc:
            raise UsageError(one_line(f"%agent {self.key}: {exc}; usage: %agent {self.usage}")) from None


def _c(key: str, usage: str, summary: str, *args: ArgSpec) -> Command:
    return Command(key, usage, summary, list(args))


COMMANDS: dict[str, Command] = {
    c.key: c
    for c in [
        _c("new", "new [--name NAME] [--env ENV] [--model MODEL] [--strategy S] [--memory M] [--window N]"
           " [--strategy-option KEY=VALUE ...] [--memory-option KEY=VALUE ...] [--tools TOOLS] [--recall R] [--seed N] [--task TEXT] [--max-steps N] [--max-tokens N] [--max-cost X]"
           " [--store PATH] [--max-expansions N] [--rounds N|terminal] [--max-depth N] [--branching N] [--value judge|score|reward]"
           " [--concurrency N] [--sandbox auto|bwrap|process]",
           "make a new agent, make it current and show its panel; ENV, S, M: a name, module:attr, $var or"
           " {expr}", *NEW_OPTIONS),
        _c("adopt", "adopt SESSION [--name NAME]",
           "make a Session object (a variable, $var or {expr}) an agent: current, with its panel",
           _opt("session", metavar="SESSION"), _opt("--name", metavar="NAME", help="agent name")),
        _c("use", "use NAME", "make another agent current", _opt("name", metavar="NAME")),
        _c("agents", "agents", "list the agents of this kernel"),
        _c("session", "session [NAME]", "return the Session object (s = %agent session)",
           _opt("name", nargs="?", metavar="NAME")),
        _c("step", "step [N]", "take N steps now (default 1) and show them",
           _opt("n", nargs="?", type=whole(1), default=1, metavar="N")),
        _c("run", "run [--max-steps N] [--until REGEX]",
           "run in the background until done, paused, a breakpoint or a limit; returns at once",
           _opt("--max-steps", type=whole(1), metavar="N", help="stop after N steps"),
           _opt("--until", metavar="REGEX", help="stop after an action matching REGEX")),
        _c("wait", "wait", "an awaitable for the background run: h = %agent wait, then await h"),
        _c("pause", "pause", "pause the background run after the step in flight"),
        _c("stop", "stop", "cancel the background run now and close the agent's MCP servers and kernel"),
        _c("status", "status", "task, model, strategy, memory, status, steps, tokens, cost, budgets"),
        _c("plan", "plan [add|done|rm|move|edit|clear ...]", "show the plan editor"),
        _c("plan add", "plan add TEXT [--at N]", "add a plan item (at position N)",
           _TEXT, _opt("--at", type=whole(1), metavar="N")),
        _c("plan done", "plan done N", "tick plan item N", _POS),
        _c("plan rm", "plan rm N", "delete plan item N", _POS),
        _c("plan move", "plan move N M", "move plan item N to position M",
           _POS, _opt("to", type=whole(1), metavar="M")),
        _c("plan edit", "plan edit N TEXT", "reword plan item N", _POS, _TEXT),
        _c("plan clear", "plan clear", "delete every plan item"),
        _c("memory", "memory [edit|pin|unpin|forget|restore|note|importance|use ...]", "show the memory editor"),
        _c("memory edit", "memory edit ID TEXT", "rewrite a memory entry", _ENTRY, _TEXT),
        _c("memory pin", "memory pin ID", "always show an entry", _ENTRY),
        _c("memory unpin", "memory unpin ID", "undo a pin", _ENTRY),
        _c("memory forget", "memory forget ID", "never show an entry", _ENTRY),
        _c("memory restore", "memory restore ID", "undo an edit or a forget", _ENTRY),
        _c("memory note", "memory note TEXT", "add a note the next prompts show", _TEXT),
        _c("memory importance", "memory importance ID VALUE",
           "layered memory: an item's importance from now on (60 promotes short-term, 80 mid-term)",
           _ENTRY, _opt("value", type=number, metavar="VALUE")),
        _c("memory use", "memory use POLICY [--window N] [--memory-option KEY=VALUE ...]",
           "switch the memory policy (a name or a Memory as $var) from the next step on",
           _opt("policy", metavar="POLICY"), _opt("--window", type=whole(0), metavar="N"),
           _opt("--memory-option", action="append", metavar="KEY=VALUE",
                help="an option of the memory policy, e.g. every=5 (repeat for more)")),
        _c("history", "history [--diff | --full]", "the steps on the current path",
           _opt("--diff", action="store_true", help="observations as diffs against the previous one"),
           _opt("--full", action="store_true", help="whole observations")),
        _c("tree", "tree [--text]", "the live tree view of every branch (a text table with --text)",
           _opt("--text", action="store_true", help="a text table instead of the widget")),
        _c("rewind", "rewind NODE [--stop]", "move the cursor to NODE; the next step grows a new branch",
           _opt("node", type=whole(0), metavar="NODE"),
           _opt("--stop", action="store_true", help="stop a background run first (its step in flight is dropped)")),
        _c("prune", "prune NODE", "a search never expands NODE or anything below it again",
           _opt("node", type=whole(0), metavar="NODE")),
        _c("unprune", "unprune NODE", "undo a prune: NODE and its pruned subtree may be expanded again",
           _opt("node", type=whole(0), metavar="NODE")),
        _c("pin", "pin NODE", "a search expands NODE next", _opt("node", type=whole(0), metavar="NODE")),
        _c("value", "value NODE V", "overrule the value of NODE (a search's priority for it or its children)",
           _opt("node", type=whole(0), metavar="NODE"), _opt("value", type=number, metavar="V")),
        _c("break", "break [action REGEX | tool NAME | cost X | tokens N | list | clear]",
           "list breakpoints (run pauses after a step that hits one)"),
        _c("break action", "break action REGEX", "pause after an action matching REGEX",
           _opt("value", metavar="REGEX")),
        _c("break tool", "break tool NAME", "pause after an action whose verb is NAME",
           _opt("value", metavar="NAME")),
        _c("break cost", "break cost X", "pause once the run has cost $X", _opt("value", type=amount, metavar="X")),
        _c("break tokens", "break tokens N", "pause once the run has used N tokens",
           _opt("value", type=whole(0), metavar="N")),
        _c("break list", "break list", "list breakpoints"),
        _c("break clear", "break clear", "delete every breakpoint"),
        _c("approve", "approve [EDITED]",
           "run the action that waits for approval (EDITED: JSON arguments, or new code / action text)",
           _opt("edited", nargs="*", metavar="EDITED")),
        _c("reject", "reject REASON", "do not run the waiting action; REASON is the agent's next observation",
           _opt("reason", nargs="*", metavar="REASON")),
        _c("gate", "gate [destructive | tool REGEX | action REGEX | code [PATTERN] | cost X | clear]",
           "list or add approval gate rules (actions that wait for a person)",
           _opt("kind", nargs="?", choices=["destructive", "tool", "action", "code", "cost", "clear"],
                metavar="KIND"),
           _opt("value", nargs="?", metavar="VALUE")),
        _c("budget", "budget [--max-steps N] [--max-tokens N] [--max-cost X]", "show or change the budgets",
           *_BUDGETS),
        _c("save", "save [--store PATH]", "write the run to a SQLite store (default: `workbench where` says which)",
           _opt("--store", metavar="PATH")),
        _c("load", "load RUN_ID [--store PATH] [--name NAME]", "resume a stored run as a new agent",
           _opt("run_id", metavar="RUN_ID"), _opt("--store", metavar="PATH"), _opt("--name", metavar="NAME")),
        _c("sweep", "sweep [FILE.toml] [--env ENV] [--tasks 0-4] [--strategies a,b(k=v)] [--memories a,b(k=v)] [--models a,b]"
           " [--seeds 0,1] [--max-calls N] [--max-tokens N] [--concurrency N] [--name NAME] [--store PATH]"
           " [--backend local|ray] | sweep --replay SWEEP_ID",
           "run a sweep (the cross product, each cell a stored run) in the background with a live view;"
           " rerunning it skips finished cells", *SWEEP_OPTIONS),
        _c("models", "models", "models you can pass to --model"),
        _c("envs", "envs", "environments for --env: built-ins and plugins"),
        _c("help", "help [COMMAND]", "this list, or one command's usage", _opt("topic", nargs="*", metavar="COMMAND")),
    ]
}  # fmt: skip

CELL = Command(
    "%%agent",
    "%%agent [NAME] [new options]  (the cell body is the task)",
    "make an agent whose task is the cell body and run it in the background",
    [_opt("name", nargs="?", metavar="NAME"), *[spec for spec in NEW_OPTIONS if spec[0][0] != "--task"]],
)


def _verbs() -> dict[str, list[str]]:
    verbs: dict[str, list[str]] = {}
    for key in COMMANDS:
        group, _, verb = key.partition(" ")
        if verb:
            verbs.setdefault(group, []).append(verb)
    return verbs


TOP = [key for key in COMMANDS if " " not in key]
VERBS = _verbs()


def strip_comment(line: str) -> str:
    """`line` without its comment: a `#` outside quotes at the start or after whitespace begins one,
    as in a shell (`plan add "check the door"  # why`); `issue#4` and `"# 4"` stay text."""
    quote, escaped = "", False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def split(line: str) -> list[str]:
    """Shell-style words of a magic line (see `strip_comment`); an unclosed quote is a usage error."""
    try:
        return shlex.split(strip_comment(line), posix=True)
    except ValueError as exc:
        raise UsageError(
            f'cannot read the arguments ({exc}); close the quote, e.g. --task "reach the goal"'
        ) from None


def parse(line: str) -> tuple[Command, argparse.Namespace]:
    """The command a `%agent` line names and its parsed arguments (no words: `help`)."""
    words = split(line)
    if not words:
        return COMMANDS["help"], COMMANDS["help"].parse([])
    head, rest = words[0], words[1:]
    if head not in COMMANDS:
        raise UsageError(
            f"unknown %agent command {head!r}; valid: {', '.join(TOP)} (%agent help explains them)"
        )
    if head in VERBS and rest:
        verb = rest[0]
        if verb not in VERBS[head]:
            raise UsageError(
                f"unknown %agent {head} command {verb!r}; valid: {head} (show), "
                + ", ".join(f"{head} {v}" for v in VERBS[head])
            )
        command = COMMANDS[f"{head} {verb}"]
        return command, command.parse(rest[1:])
    command = COMMANDS[head]
    return command, command.parse(rest)


def parse_cell(line: str) -> argparse.Namespace:
    """The arguments of a `%%agent` line."""
    return CELL.parse(split(line))


def text_of(words: list[str] | None) -> str | None:
    """Words of a `nargs='+'` text argument joined back into one string."""
    return " ".join(words) if words else None
