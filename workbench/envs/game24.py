"""Game of 24: combine four numbers with + - * / into 24, one pair per step.

Observation (the full text every step):

    Numbers left: 6 8 5
    Steps so far:
    Step 1: 4 + 1 = 5
    Message: 4 + 1 = 5.

Before the first step the second line reads `Steps so far: none`. Numbers are exact fractions and
are shown as integers or as `8/3` (negative: `-2`, `-2/3`); the result of a step goes to the end of
the list. Actions:

- `a op b` with op one of `+ - * /` (also `x`, `×`, `÷`, "plus", "times", ...), combining two of the
  numbers left, e.g. `8 / 3` or `8/3 * 9`; a trailing `= result` is ignored.
- `answer: <expression>`: finish in one step with an arithmetic expression (parentheses allowed)
  that uses every number left exactly once, e.g. `answer: (4 + 8) * (6 - 4)`. Only when all the
  numbers left are whole numbers.

The episode ends when one number is left: reward 1.0 if it is 24, else 0. An invalid action (an
unknown number, division by zero, bad syntax) changes nothing and says why.
Puzzles come from a fixed built-in list (`PUZZLES`: 36, easy to hard by how many first moves keep 24
reachable) chosen by `seed` (optionally within a `difficulty`), or your own `numbers=[...]`.
`solve24` finds a solution as a list of "a op b" steps, exactly and fast (memoised).
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from typing import Any

from ..errors import ConfigError

EASY: tuple[tuple[int, ...], ...] = (
    (1, 2, 3, 4), (2, 3, 4, 6), (1, 1, 4, 6), (2, 4, 6, 8), (4, 6, 8, 1), (1, 2, 3, 6),
    (1, 4, 6, 8), (1, 8, 9, 12), (1, 1, 3, 8), (1, 2, 4, 8), (2, 3, 6, 9), (4, 4, 4, 6),
)  # fmt: skip
MEDIUM: tuple[tuple[int, ...], ...] = (
    (1, 3, 4, 8), (2, 2, 4, 8), (4, 7, 8, 8), (5, 6, 7, 8), (2, 3, 3, 8), (3, 3, 5, 9),
    (1, 2, 3, 8), (3, 4, 6, 8), (2, 9, 10, 12), (3, 4, 5, 6), (2, 5, 6, 9), (1, 5, 7, 9),
)  # fmt: skip
HARD: tuple[tuple[int, ...], ...] = (
    (4, 4, 10, 10), (1, 2, 7, 7), (2, 7, 8, 9), (1, 4, 5, 6), (2, 2, 3, 5), (1, 7, 13, 13),
    (3, 3, 8, 8), (1, 5, 5, 5), (1, 3, 4, 6), (3, 3, 7, 7), (2, 5, 5, 10), (1, 6, 6, 8),
)  # fmt: skip
PUZZLES: tuple[tuple[int, ...], ...] = EASY + MEDIUM + HARD
DIFFICULTIES = {"easy": EASY, "medium": MEDIUM, "hard": HARD}

TARGET = Fraction(24)
DEFAULT_TASK = "Use the four numbers and + - * / to make 24. Each number must be used exactly once."
INSTRUCTIONS = """Actions (one per step):
  a op b    combine two of the numbers left with op in + - * /, e.g. "8 / 3" or "4 * 6";
            the two numbers are replaced by the result (exact fractions such as 8/3 are kept)
  answer: <expression>   finish at once with every number left used exactly once,
            e.g. "answer: (4 + 8) * (6 - 4)" (only when all the numbers left are whole)
The game ends when one number is left: you win if it is 24."""

_NUMBER = re.compile(r"^-?\d{1,12}(?:/\d{1,12})?$")
_WORDS = {" plus ": "+", " minus ": "-", " times ": "*", " divided by ": "/", " over ": "/"}
_SYMBOLS = {"×": "*", "x": "*", "·": "*", "÷": "/", "−": "-", "–": "-"}


def fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def fmt_all(numbers: Any) -> str:
    """The numbers as the observation's `Numbers left:` line shows them: "6 8 5"."""
    return " ".join(fmt(n) for n in numbers)


def parse_number(token: str) -> Fraction | None:
    token = token.strip()
    if not _NUMBER.match(token) or token.endswith("/0") or re.search(r"/0+$", token):
        return None
    return Fraction(token)


def combine(a: Fraction, op: str, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def _clean(text: str) -> str:
    s = " " + " ".join(str(text).lower().split()) + " "
    for word, op in _WORDS.items():
        s = s.replace(word, f" {op} ")
    for sym, op in _SYMBOLS.items():
        s = s.replace(sym, op)
    s = s.strip().strip(".!'\"`").strip()
    if s.startswith("action:"):
        s = s[len("action:") :].strip()
    return s


def parse_move(text: str, numbers: list[Fraction]) -> tuple[int, str, int] | None:
    """(index of a, op, index of b) for a move "a op b" on `numbers`, or None."""
    s = _clean(text).split("=")[0].strip()
    while s.startswith("(") and s.endswith(")"):
        s = s[1:-1].strip()
    splits = [
        i for i, ch in enumerate(s) if ch in "+-*/" and s[:i].strip() and s[:i].rstrip()[-1] not in "+-*/"
    ]
    splits.sort(key=lambda i: 0 if s[i - 1 : i] == " " else 1)  # an op between spaces first
    for i in splits:
        a, b = parse_number(s[:i]), parse_number(s[i + 1 :])
        if a is None or b is None or a not in numbers:
            continue
        ia = numbers.index(a)
        ib = next((k for k, n in enumerate(numbers) if n == b and k != ia), None)
        if ib is not None:
            return ia, s[i], ib
    return None


def _tokens(expr: str) -> list[str] | None:
    tokens = re.findall(r"\d+|[-+*/()]|\S", expr)
    return None if any(not (t.isdigit() or t in "+-*/()") for t in tokens) else tokens


def evaluate(expr: str) -> tuple[Fraction, list[Fraction]] | None:
    """(value, numbers used) of a + - * / expression with parentheses, or None if invalid."""
    tokens = _tokens(expr)
    if tokens is None or len(expr) > 200:
        return None
    pos, used = 0, []

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def atom() -> Fraction | None:
        nonlocal pos
        tok = peek()
        pos += 1
        if tok.isdigit():
            used.append(Fraction(int(tok)))
            return Fraction(int(tok))
        if tok == "-":
            inner = atom()
            return None if inner is None else -inner
        if tok == "(":
            value = expression()
            if peek() != ")":
                return None
            pos += 1
            return value
        return None

    def chain(sub: Any, ops: str) -> Fraction | None:
        nonlocal pos
        value = sub()
        while value is not None and peek() and peek() in ops:
            op = peek()
            pos += 1
            right = sub()
            value = None if right is None else combine(value, op, right)
        return value

    def term() -> Fraction | None:
        return chain(atom, "*/")

    def expression() -> Fraction | None:
        return chain(term, "+-")

    value = expression()
    return None if value is None or pos != len(tokens) else (value, used)


@lru_cache(maxsize=100_000)
def _solve(key: tuple[Fraction, ...], target: Fraction) -> tuple[str, ...] | None:
    if len(key) == 1:
        return () if key[0] == target else None
    for i, j in combinations(range(len(key)), 2):
        a, b = key[i], key[j]
        rest = key[:i] + key[i + 1 : j] + key[j + 1 :]
        for x, op, y in ((a, "+", b), (a, "*", b), (a, "-", b), (b, "-", a), (a, "/", b), (b, "/", a)):
            r = combine(x, op, y)
            if r is None:
                continue
            sub = _solve(tuple(sorted((*rest, r))), target)
            if sub is not None:
                return (f"{fmt(x)} {op} {fmt(y)}", *sub)
    return None


def _fractions(numbers: Any) -> tuple[Fraction, ...]:
    out = tuple(Fraction(n) for n in numbers)
    if not 1 <= len(out) <= 6:
        raise ConfigError(f"give 1 to 6 numbers, got {len(out)}")
    return out


def solve24(numbers: Any, target: int | Fraction = 24) -> list[str] | None:
    """A sequence of "a op b" steps turning `numbers` into `target`, or None if impossible."""
    found = _solve(tuple(sorted(_fractions(numbers))), Fraction(target))
    return None if found is None else list(found)


def all_moves(numbers: Any) -> list[str]:
    """Every valid "a op b" move on `numbers` (commutative duplicates and repeats removed)."""
    nums = _fractions(numbers) if numbers else ()
    out: list[str] = []
    for i, j in combinations(range(len(nums)), 2):
        a, b = nums[i], nums[j]
        for x, op, y in ((a, "+", b), (a, "*", b), (a, "-", b), (b, "-", a), (a, "/", b), (b, "/", a)):
            move = f"{fmt(x)} {op} {fmt(y)}"
            if combine(x, op, y) is not None and move not in out:
                out.append(move)
    return out


def apply_move(numbers: list[Fraction], move: str) -> list[Fraction] | None:
    parsed = parse_move(move, numbers)
    if parsed is None:
        return None
    ia, op, ib = parsed
    result = combine(numbers[ia], op, numbers[ib])
    if result is None:
        return None
    return [n for k, n in enumerate(numbers) if k not in (ia, ib)] + [result]


def good_moves(numbers: Any, target: int | Fraction = 24) -> list[str]:
    """The moves after which `target` can still be reached."""
    nums = list(_fractions(numbers))
    out = []
    for move in all_moves(nums):
        after = apply_move(nums, move)
        if after is not None and _solve(tuple(sorted(after)), Fraction(target)) is not None:
            out.append(move)
    return out


def render(numbers: list[Fraction], steps: list[str], message: str) -> str:
    lines = ["Numbers left: " + fmt_all(numbers)]
    lines.append("Steps so far:" if steps else "Steps so far: none")
    lines += [f"Step {k}: {s}" for k, s in enumerate(steps, start=1)]
    lines.append(f"Message: {message}")
    return "\n".join(lines)


def parse_observation(text: str) -> tuple[list[Fraction], list[str]] | None:
    """(numbers left, steps so far) from an observation, or None if it is not a game24 text."""
    lines = [line.strip() for line in str(text).splitlines()]
    line = next((x for x in lines if x.lower().startswith("numbers left:")), None)
    if line is None:
        return None
    parsed = [parse_number(t) for t in line.split(":", 1)[1].split()]
    if not parsed or len(parsed) > 6 or any(p is None for p in parsed):
        return None
    steps = [x.split(":", 1)[1].strip() for x in lines if re.match(r"^step \d+:", x.lower())]
    return [p for p in parsed if p is not None], steps


class Game24:
    """Options: `seed` (picks a built-in puzzle), `numbers` (your own), `difficulty`, `task`."""

    name = "game24"
    instructions = INSTRUCTIONS

    def __init__(
        self,
        seed: int = 0,
        numbers: list[int] | None = None,
        difficulty: str | None = None,
        task: str | None = None,
    ) -> None:
        if difficulty is not None and difficulty not in DIFFICULTIES:
            raise ConfigError(f"unknown difficulty {difficulty!r}; valid: {', '.join(DIFFICULTIES)}")
        if numbers is not None and not 2 <= len(numbers) <= 6:
            raise ConfigError(f"give 2 to 6 numbers, got {list(numbers)!r}")
        self.difficulty = difficulty
        self.fixed = None if numbers is None else [Fraction(n) for n in numbers]
        self.task = task or DEFAULT_TASK
        self.seed = seed
        self._start(seed)

    def _start(self, seed: int) -> None:
        self.seed = seed
        pool = DIFFICULTIES[self.difficulty] if self.difficulty else PUZZLES
        self.start = list(self.fixed) if self.fixed else [Fraction(n) for n in pool[seed % len(pool)]]
        self.numbers = list(self.start)
        self.steps: list[str] = []
        self.message = 'combine two numbers per step, e.g. "4 + 6"; reach 24.'

    @property
    def terminated(self) -> bool:
        return len(self.numbers) == 1

    @property
    def observation(self) -> str:
        return render(self.numbers, self.steps, self.message)

    @property
    def actions(self) -> list[str]:
        return [] if self.terminated else all_moves(self.numbers)

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {"seed": self.seed, "start": [fmt(n) for n in self.start], **extra}

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        """Start again: the same puzzle without a seed, puzzle number `seed` with one."""
        self._start(self.seed if seed is None else seed)
        return self.observation, self._info()

    def _invalid(self, why: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        text = render(self.numbers, self.steps, f"Invalid action: {why}")
        return text, 0.0, self.terminated, False, self._info(valid=False)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.terminated:
            return self._invalid("the game is over; call reset().")
        left = fmt_all(self.numbers)
        cleaned = _clean(action)
        if cleaned.startswith("answer"):
            expr = cleaned[len("answer") :].lstrip(" :=").split("=")[0].strip()
            result = evaluate(expr)
            if result is None:
                return self._invalid(f"cannot read the expression {expr[:60]!r}. Numbers left: {left}.")
            value, used = result
            if sorted(used) != sorted(self.numbers):
                return self._invalid(f"an answer must use each number left exactly once: {left}.")
            self.steps.append(f"answer: {expr} = {fmt(value)}")
            self.numbers = [value]
        else:
            parsed = parse_move(action, self.numbers)
            if parsed is None:
                shown = " ".join(str(action).split())[:40]
                return self._invalid(f"{shown!r} is not 'a op b' with two of the numbers left ({left}).")
            ia, op, ib = parsed
            a, b = self.numbers[ia], self.numbers[ib]
            value_or_none = combine(a, op, b)
            if value_or_none is None:
                return self._invalid("division by zero.")
            value = value_or_none
            self.steps.append(f"{fmt(a)} {op} {fmt(b)} = {fmt(value)}")
            self.numbers = [n for k, n in enumerate(self.numbers) if k not in (ia, ib)] + [value]
        reward = 0.0
        if self.terminated:
            won = self.numbers[0] == TARGET
            reward = 1.0 if won else 0.0
            self.message = f"{self.steps[-1]}. " + (
                "24 reached: solved!" if won else f"{fmt(value)} is not 24: failed."
            )
        else:
            self.message = f"{self.steps[-1]}."
        return self.observation, reward, self.terminated, False, self._info(valid=True)

    def snapshot(self) -> dict[str, Any]:
        return {
            "start": [fmt(n) for n in self.start],
            "numbers": [fmt(n) for n in self.numbers],
            "steps": list(self.steps),
            "message": self.message,
            "seed": self.seed,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.start = [Fraction(n) for n in state["start"]]
        self.numbers = [Fraction(n) for n in state["numbers"]]
        self.steps = list(state["steps"])
        self.message = str(state["message"])
        self.seed = state.get("seed", self.seed)
