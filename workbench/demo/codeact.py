"""The SIMULATED demo model's answers to CodeAct prompts (see `workbench.strategies.codeact`).

A CodeAct system prompt is recognised by its `<execute>` and `<solution>` tags. The model reads only
the conversation: the environment's first observation (game24's `Numbers left:`, a gridworld map) and
the outputs of its own cells, and answers a thought plus one block, cut where a real model's
generation stops (`</execute>` is left out, as the stop sequence removes it):

- game24: code that checks an expression built from its own solver, or a brute-force search over the
  numbers, printing `<expression> = 24.0`; once an observation shows `... = 24`, it answers
  `<solution>answer: <expression></solution>` (the env's one-step answer action).
- gridworld: code that walks the next few actions of the key -> door -> goal route with `act(...)`
  and prints each observation; the newest map in the output is the state it continues from.
- self-debugging: at `error_rate`, its first cell has a bug (a misspelt name: NameError, or a missing
  parenthesis: SyntaxError). When an observation holds a traceback, the next answer names the error
  and sends the corrected code.

Deterministic given (seed, sample, conversation): the caller's `rng` is seeded from them.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from ..envs import game24, gridworld
from ..strategies.labels import CODEACT_LABEL
from .reading import Conversation

_FOUND = re.compile(r"(?m)^(?P<expr>[\d\s()+\-*/]+?) = 24(?:\.0+)?\s*$")
_ERROR = re.compile(r"(?m)^(?P<name>[A-Z]\w*(?:Error|Exception))(?::\s*(?P<message>.*))?")
_EXPR_LINE = re.compile(r'(?m)^expr = "(?P<expr>[^"]+)"$')
_BRUTE = """from fractions import Fraction
from itertools import permutations


def search(items):
    # items: (value, expression text) pairs; combine two at a time until one is left
    if len(items) == 1:
        return items[0][1] if items[0][0] == 24 else None
    for i, j in permutations(range(len(items)), 2):
        (a, text_a), (b, text_b) = items[i], items[j]
        rest = [items[k] for k in range(len(items)) if k not in (i, j)]
        for op in "+-*/":
            if op == "/" and b == 0:
                continue
            value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
            found = search(rest + [(value, f"({text_a} {op} {text_b})")])
            if found:
                return found
    return None


found = search([(Fraction(n), str(n)) for n in NUMBERS])
expr = found[1:-1] if found else None
"""


def is_codeact_prompt(conv: Conversation) -> bool:
    return CODEACT_LABEL in conv.instructions and "<solution>" in conv.instructions


def codeact_answer(conv: Conversation, rng: random.Random, error_rate: float, sample: int) -> str | None:
    """The answer to a CodeAct prompt, or None when the prompt is not one."""
    if not is_codeact_prompt(conv):
        return None
    last_code = next((a for a in reversed(conv.answers) if "<execute>" in a), None)
    last = conv.observation if conv.answers else ""
    error = _ERROR.search(last) if conv.answers and "<execute>" in conv.answers[-1] else None
    first_code = last_code is None
    buggy = first_code and rng.random() < error_rate
    if (grid := _grid_state(conv)) is not None:
        return _grid_answer(grid, error, buggy, rng)
    numbers = _numbers(conv)
    if numbers is not None:
        return _game24_answer(numbers, last, last_code, error, buggy, rng, sample)
    return (
        "Thought: I cannot tell what this environment is yet, so I look at it first.\n"
        '<execute>\nprint(act("look"))\n'
    )


# --- reading ------------------------------------------------------------------------------------
def _grid_state(conv: Conversation) -> gridworld.GridState | None:
    """The newest gridworld map in any observation (a cell's output may hold several)."""
    for obs in reversed(conv.observations):
        at = obs.rfind(gridworld.MAP_HEADER)
        if at < 0:
            continue
        parsed = gridworld.parse_observation(obs[at:])
        if parsed is not None:
            return parsed[0]
    return None


def _numbers(conv: Conversation) -> list[Fraction] | None:
    """The numbers left in the newest game24 observation."""
    return next((parsed[0] for kind, parsed in reversed(conv.views()) if kind == "game24"), None)


def _fix_thought(error: re.Match[str]) -> str:
    name, message = error.group("name"), (error.group("message") or "").strip()
    what = f"{name}: {message}" if message else name
    if name == "NameError":
        return f"The traceback says {what}. I misspelt a name; here is the code again, fixed."
    if name == "SyntaxError":
        return f"The traceback says {what}. A parenthesis is missing; here is the corrected code."
    return f"The traceback says {what}. I fix the code and run it again."


def _with_bug(code: str, rng: random.Random) -> str:
    """`code` with a bug in its last line: a misspelt name or a missing closing parenthesis."""
    lines = code.rstrip("\n").split("\n")
    if rng.random() < 0.5 and lines[-1].rstrip().endswith(")"):
        lines[-1] = lines[-1].rstrip()[:-1]  # SyntaxError: '(' was never closed
    else:
        for name, typo in (("expr", "exrp"), ("action", "acton"), ("print", "pritn")):
            if name in lines[-1]:
                lines[-1] = (
                    lines[-1].replace(name, typo, 1) if name != "expr" else _last(lines[-1], name, typo)
                )
                break
    return "\n".join(lines) + "\n"


def _last(line: str, name: str, typo: str) -> str:
    at = line.rfind(name)
    return line[:at] + typo + line[at + len(name) :]


# --- game24 -------------------------------------------------------------------------------------
def expression(numbers: list[Fraction], steps: list[str]) -> str | None:
    """One arithmetic expression for a sequence of "a op b" steps on `numbers` (None if they do not
    apply), e.g. [4, 8, 6, 4] with ["4 + 8", "6 - 4", "12 * 2"] -> "(4 + 8) * (6 - 4)"."""
    items = [(n, game24.fmt(n)) for n in numbers]
    for step in steps:
        parsed = game24.parse_move(step, [v for v, _ in items])
        if parsed is None:
            return None
        i, op, j = parsed
        value = game24.combine(items[i][0], op, items[j][0])
        if value is None:
            return None
        text = f"({items[i][1]} {op} {items[j][1]})"
        items = [item for k, item in enumerate(items) if k not in (i, j)] + [(value, text)]
    if len(items) != 1:
        return None
    text = items[0][1]
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _check_code(expr: str) -> str:
    return f'expr = "{expr}"\nprint(expr, "=", round(eval(expr), 6))\n'


def _brute_code(numbers: list[Fraction]) -> str:
    shown = "[" + ", ".join(game24.fmt(n) for n in numbers) + "]"
    return (
        _BRUTE.replace("NUMBERS", shown)
        + 'print(expr, "=", round(eval(expr), 6)) if expr else print("no solution")\n'
    )


def _game24_answer(
    numbers: list[Fraction],
    last: str,
    last_code: str | None,
    error: re.Match[str] | None,
    buggy: bool,
    rng: random.Random,
    sample: int,
) -> str:
    shown = game24.fmt_all(numbers)
    if error is not None and last_code is not None:
        if "def search" in last_code:
            code = _brute_code(numbers)
        else:
            found = _EXPR_LINE.search(last_code)
            code = _check_code(found.group("expr")) if found else _brute_code(numbers)
        return f"Thought: {_fix_thought(error)}\n<execute>\n{code}"
    if last_code is not None and (found := _FOUND.search(last)) is not None:
        expr = " ".join(found.group("expr").split())
        return (
            f"Thought: The code shows that {expr} makes 24, so I give it as my answer.\n"
            f"<solution>answer: {expr}</solution>"
        )
    if last_code is not None and "no solution" in last:
        return "Thought: The search found no way to make 24.\n<solution>answer: no solution</solution>"
    steps = game24.solve24(numbers)
    expr = expression(numbers, steps) if steps else None
    brute = expr is None or last_code is not None or (sample + rng.randrange(2)) % 2 == 1
    if brute:
        thought = f"I search all ways to combine {shown} with + - * / for one that makes 24."
        code = _brute_code(numbers)
    else:
        assert expr is not None
        thought = f"I think {expr} uses {shown} and makes 24; I check it in code."
        code = _check_code(expr)
    if buggy:
        code = _with_bug(code, rng)
    return f"Thought: {thought}\n<execute>\n{code}"


# --- gridworld ----------------------------------------------------------------------------------
def _grid_answer(
    state: gridworld.GridState, error: re.Match[str] | None, buggy: bool, rng: random.Random
) -> str:
    route = gridworld.route(state)
    if not route:
        return 'Thought: I see no way on from here, so I look again.\n<execute>\nprint(act("look"))\n'
    moves = route[: rng.randint(3, 5)]
    listed = ", ".join(f'"{m}"' for m in moves)
    code = f"for action in [{listed}]:\n    print(act(action))\n"
    target = {"key": "the key", "door": "the door", "goal": "the goal"}.get(
        gridworld.phase(state), "the goal"
    )
    if error is not None:
        thought = _fix_thought(error)
    elif len(moves) == len(route):
        count = "1 action" if len(route) == 1 else f"{len(route)} actions"
        thought = f"The goal is {count} away; I take them all: {', '.join(moves)}."
    else:
        names = ", ".join(moves)
        thought = f"I head for {target} along the shortest route; the next {len(moves)} actions: {names}."
    if buggy and error is None:
        code = _with_bug(code, rng)
    return f"Thought: {thought}\n<execute>\n{code}"


__all__ = ["codeact_answer", "expression", "is_codeact_prompt"]
