"""Behaviour specs (after Crouse et al.): LTL over the finite trace of an agent's steps.

A run's path is read as a trace of states introduced by signifiers: each step gives `thought` (when
it has one), then `action` and `action_input`, then `observation`; a final answer gives `answer`
(a terminal step: its observation, then `answer`); a malformed answer or a provider failure gives
`error`. A spec is an LTL formula over that trace:

    atoms     thought  action  action_input  observation  answer  error  true  false
              action(go)        an action named go (a text action's verb, or a tool's name)
              tool(delete_file) an action calling that tool
              streak(error, 4)  this step and the 3 before it all had an error
    future    X f (next; strong: false at the end)   F f (eventually)   G f (always)   f U g (until)
    past      previous(f)   f held at some earlier position
    logic     not f   f and g   f or g   f -> g   (parentheses group)

    G(thought -> X action)                              the paper's ReAct rules (`REACT`)
    G(tool(delete_file) -> previous(tool(list_files)))  look before you delete
    G(not streak(error, 4))                             at most 3 consecutive errors

The monitor checks a spec as the trace grows by formula progression: after each position the
formula is rewritten into what the rest of the trace must satisfy; `false` is a violation (no
continuation can repair it), `true` a definite pass, anything else pending. At the end of a run the
residual is judged with finite-trace semantics (`X`/`F`/`U` obligations left open fail, `G` holds).
A `MonitorState` holds everything the rest of the trace needs (the residual, which `previous(...)`
subformulas held before, the last steps for `streak`), so `advance(state, positions)` costs only
the new positions: the session keeps one state per node and spec and progresses a step's positions
from its parent's state (the tests hold it against a direct finite-trace semantics).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from ..errors import ConfigError

KINDS = ("thought", "action", "action_input", "observation", "answer", "error")


# --- formulas ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class F:
    """A formula node: op is an operator name or "atom"/"const"; args are sub-formulas or values."""

    op: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        op, a = self.op, self.args
        if op == "const":
            return "true" if a[0] else "false"
        if op == "atom":
            name, arg = a
            if name == "streak":
                return f"streak({arg[0]}, {arg[1]})"
            return f"{name}({arg})" if arg is not None else name
        if op in ("X", "F", "G"):
            return f"{op}({a[0]})"
        if op == "next":  # a residual obligation: shown as X
            return f"X({a[0]})"
        if op == "not":
            return f"not {_wrap(a[0])}"
        if op == "previous":
            return f"previous({a[0]})"
        sym = {"and": "and", "or": "or", "implies": "->", "U": "U"}[op]
        return f"{_wrap(a[0])} {sym} {_wrap(a[1])}"


def _wrap(f: F) -> str:
    return str(f) if f.op in ("const", "atom", "X", "next", "F", "G", "previous", "not") else f"({f})"


TRUE, FALSE = F("const", (True,)), F("const", (False,))


def Not(f: F) -> F:
    if f.op == "const":
        return FALSE if f.args[0] else TRUE
    if f.op == "not":
        return f.args[0]
    return F("not", (f,))


def And(a: F, b: F) -> F:
    if a == FALSE or b == FALSE:
        return FALSE
    if a == TRUE:
        return b
    if b == TRUE or a == b:
        return a
    return F("and", (a, b))


def Or(a: F, b: F) -> F:
    if a == TRUE or b == TRUE:
        return TRUE
    if a == FALSE:
        return b
    if b == FALSE or a == b:
        return a
    return F("or", (a, b))


# --- parsing -----------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(->|\(|\)|,|[A-Za-z_][\w.-]*|\d+)")
_UNARY = {"X", "F", "G", "not", "previous"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m:
                raise ConfigError(f"spec {text!r}: cannot read {text[pos : pos + 12]!r} (at character {pos})")
            self.tokens.append(m.group(1))
            pos = m.end()
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            want = f"{expected!r}" if expected else "more"
            raise ConfigError(f"spec {self.text!r}: expected {want}, found {tok or 'the end'}")
        self.i += 1
        return tok

    def parse(self) -> F:
        f = self.implies()
        if self.peek() is not None:
            raise ConfigError(f"spec {self.text!r}: unexpected {self.peek()!r}")
        return f

    def implies(self) -> F:
        left = self.disjunction()
        if self.peek() == "->":
            self.take()
            return F("implies", (left, self.implies()))
        return left

    def disjunction(self) -> F:
        f = self.conjunction()
        while self.peek() == "or":
            self.take()
            f = F("or", (f, self.conjunction()))
        return f

    def conjunction(self) -> F:
        f = self.until()
        while self.peek() == "and":
            self.take()
            f = F("and", (f, self.until()))
        return f

    def until(self) -> F:
        f = self.unary()
        if self.peek() == "U":
            self.take()
            return F("U", (f, self.until()))
        return f

    def unary(self) -> F:
        tok = self.peek()
        if tok in _UNARY:
            self.take()
            if tok == "previous":
                self.take("(")
                inner = self.implies()
                self.take(")")
                if not _past_only(inner):
                    raise ConfigError(
                        f"spec {self.text!r}: previous(...) takes a formula without X, F, G or U"
                    )
                return F("previous", (inner,))
            return F(tok, (self.unary(),))
        if tok == "(":
            self.take()
            f = self.implies()
            self.take(")")
            return f
        return self.atom()

    def atom(self) -> F:
        name = self.take()
        if name in ("true", "false"):
            return TRUE if name == "true" else FALSE
        if name not in (*KINDS, "tool", "streak"):
            valid = ", ".join((*KINDS, "action(name)", "tool(name)", "streak(kind, n)", "true", "false"))
            raise ConfigError(f"spec {self.text!r}: unknown step predicate {name!r}; valid: {valid}")
        arg: Any = None
        if self.peek() == "(":
            self.take()
            if name == "streak":
                kind = self.take()
                self.take(",")
                count = self.take()
                if kind not in KINDS or not count.isdigit() or int(count) < 1:
                    raise ConfigError(f"spec {self.text!r}: streak takes a step kind and a count >= 1")
                arg = (kind, int(count))
            else:
                arg = self.take()
            self.take(")")
        elif name in ("tool", "streak"):
            raise ConfigError(f"spec {self.text!r}: {name} needs an argument, e.g. {name}(...)")
        return F("atom", (name, arg))


def _past_only(f: F) -> bool:
    if f.op in ("X", "F", "G", "U"):
        return False
    return all(_past_only(a) for a in f.args if isinstance(a, F))


def parse(text: str) -> F:
    """The formula `text` (see the module docstring); `ConfigError` says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("a spec is a formula such as 'G(thought -> X action)'")
    return _Parser(text).parse()


# --- traces ------------------------------------------------------------------------------------------
@dataclass
class Position:
    """One state of the trace: its kind, the names of its action (action positions), its node."""

    kind: str
    names: tuple[str, ...] = ()
    node: int | None = None
    error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "names": list(self.names), "node": self.node, "error": self.error}


def node_positions(node: Any) -> list[Position]:
    """The trace positions one step (a `Node`) contributes."""
    if node.parent_id is None or node.info.get("kind") == "interrupted":
        return []  # the root; a step cut short to ask for a replay (nothing of it ran)
    out: list[Position] = []
    if node.thought:
        out.append(Position("thought", node=node.id))
    if node.status == "error" or node.info.get("kind") in ("malformed", "provider"):
        return [*out, Position("error", node=node.id, error=True)]
    records = node.info.get("tool_calls") or []
    names = tuple(str(r.get("name")) for r in records) or ((node.tool,) if node.tool else ())
    if (node.info.get("approval") or {}).get("state") in ("rejected", "dropped", "pending"):
        names = ("(not run)",)  # a proposed action that did not run: an action, but of no tool
    answer = node.info.get("answer") is not None or "final_answer" in names or node.tool == "solution"
    if names and not (answer and set(names) <= {"final_answer", "solution"}):
        out.append(Position("action", names=names, node=node.id))
        out.append(Position("action_input", names=names, node=node.id))
        failed = any(r.get("error") and not r.get("rejected") for r in records)
        out.append(Position("observation", node=node.id, error=failed))
    if answer or node.terminal:
        out.append(Position("answer", node=node.id))
    return out


def path_positions(path: list[Any]) -> list[Position]:
    return [p for node in path for p in node_positions(node)]


_SIGNIFIER = re.compile(
    r"^\s*(Thought|Action Input|Action|Observation|Final Answer|Answer)\s*:\s*(.*)$", re.I
)


def text_positions(text: str) -> list[Position]:
    """The trace of a ReAct transcript (a few-shot example): one position per signifier line."""
    out: list[Position] = []
    for line in text.splitlines():
        m = _SIGNIFIER.match(line)
        if not m:
            continue
        sig, rest = m.group(1).lower(), m.group(2).strip()
        if sig == "action":
            name = re.match(r"[A-Za-z_][\w-]*", rest)
            out.append(Position("action", names=(name.group(0).lower(),) if name else ()))
        elif sig == "action input":
            out.append(
                Position("action_input", names=out[-1].names if out and out[-1].kind == "action" else ())
            )
        elif sig in ("final answer", "answer"):
            out.append(Position("answer"))
        else:
            out.append(Position(sig))
    return out


# --- semantics ---------------------------------------------------------------------------------------
def position_holds(name: str, arg: Any, p: Position) -> bool:
    """Whether a step predicate other than `streak` (which spans steps) holds at the position `p`."""
    if name == "error":
        return p.error
    if name == "tool":
        return p.kind == "action" and arg in p.names
    if p.kind != name:
        return False
    return arg is None or arg.lower() in (n.lower() for n in p.names)


# --- the incremental monitor ------------------------------------------------------------------------
@dataclass(frozen=True)
class MonitorState:
    """A spec's monitor after `length` positions: the residual formula, its verdict so far
    (pending / ok / violated, and the position it was decided at), the `previous(...)` subformulas
    that held at some position so far, and per `streak` atom the last steps (node, had the kind)."""

    formula: F
    length: int = 0
    state: str = "pending"
    at: int | None = None
    seen: frozenset[F] = frozenset()
    streaks: tuple[tuple[tuple[str, int], tuple[tuple[Any, bool], ...]], ...] = ()

    @property
    def violated(self) -> bool:
        return self.state == "violated"


def _parts(f: F, out: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The `previous` subformulas (innermost first) and `streak` arguments of `f`."""
    for a in f.args:
        if isinstance(a, F):
            _parts(a, out)
    if f.op == "previous" and f not in out["previous"]:
        out["previous"].append(f)
    if f.op == "atom" and f.args[0] == "streak" and f.args[1] not in out["streak"]:
        out["streak"].append(f.args[1])
    return out


_PARTS: dict[F, dict[str, list[Any]]] = {}


def parts_of(f: F) -> dict[str, list[Any]]:
    found = _PARTS.get(f)
    if found is None:
        found = _PARTS[f] = _parts(f, {"previous": [], "streak": []})
    return found


def start(spec: Spec) -> MonitorState:
    """The monitor of `spec` before any position."""
    streaks = tuple((arg, ()) for arg in parts_of(spec.parsed)["streak"])
    return MonitorState(spec.parsed, streaks=streaks)


def _now(f: F, p: Position, seen: frozenset[F], streak: dict[Any, bool]) -> bool:
    """A formula without future operators at the position `p` (`seen`: the previous(...) that held
    before it; `streak`: each streak atom's value at it)."""
    op, a = f.op, f.args
    if op == "const":
        return bool(a[0])
    if op == "atom":
        return streak[a[1]] if a[0] == "streak" else position_holds(a[0], a[1], p)
    if op == "not":
        return not _now(a[0], p, seen, streak)
    if op == "and":
        return _now(a[0], p, seen, streak) and _now(a[1], p, seen, streak)
    if op == "or":
        return _now(a[0], p, seen, streak) or _now(a[1], p, seen, streak)
    if op == "implies":
        return not _now(a[0], p, seen, streak) or _now(a[1], p, seen, streak)
    if op == "previous":
        return f in seen
    raise ValueError(f"not a past formula: {f}")


def progress(f: F, now: Callable[[F], bool]) -> F:
    """What the rest of the trace must satisfy, given that `f` must hold from a position at which
    `now(g)` tells whether each atom and `previous(...)` subformula `g` holds."""
    op, a = f.op, f.args
    if op == "const":
        return f
    if op in ("atom", "previous"):
        return TRUE if now(f) else FALSE
    if op == "not":
        return Not(progress(a[0], now))
    if op == "and":
        return And(progress(a[0], now), progress(a[1], now))
    if op == "or":
        return Or(progress(a[0], now), progress(a[1], now))
    if op == "implies":
        return Or(Not(progress(a[0], now)), progress(a[1], now))
    if op == "X":
        return F("next", (a[0],))  # an obligation on the next position (none at the end: false)
    if op == "next":
        return progress(a[0], now)
    if op == "G":
        return And(progress(a[0], now), f)
    if op == "F":
        return Or(progress(a[0], now), f)
    if op == "U":
        return Or(progress(a[1], now), And(progress(a[0], now), f))
    raise ValueError(f"unknown operator {op}")


def advance(spec: Spec, state: MonitorState, positions: list[Position]) -> MonitorState:
    """The monitor after `positions` more (a decided verdict stays as it is)."""
    if not positions:
        return state
    if state.state != "pending":  # decided: only the count of positions goes on
        return replace(state, length=state.length + len(positions))
    parts = parts_of(spec.parsed)
    f, seen, i = state.formula, state.seen, state.length
    streaks = {arg: list(last) for arg, last in state.streaks}
    for p in positions:
        values: dict[Any, bool] = {}
        for (kind, count), last in streaks.items():
            had = position_holds(kind, None, p)
            if last and last[-1][0] == p.node:
                last[-1] = (p.node, last[-1][1] or had)
            else:
                last.append((p.node, had))
                del last[:-count]
            values[(kind, count)] = len(last) >= count and all(h for _, h in last)
        f = progress(f, partial(_now, p=p, seen=seen, streak=values))
        now = {g for g in parts["previous"] if _now(g.args[0], p, seen, values)}
        if now - seen:
            seen = seen | now
        if f in (FALSE, TRUE):
            rest = state.length + len(positions)
            return MonitorState(f, rest, "violated" if f == FALSE else "ok", i, seen)
        i += 1
    return MonitorState(f, i, "pending", None, seen, tuple((a, tuple(v)) for a, v in streaks.items()))


def judge(spec: Spec, state: MonitorState, *, finished: bool = False) -> Verdict:
    """The verdict of a monitor state; `finished`: the trace is complete (judge what is left open)."""
    if state.state != "pending":
        return Verdict(spec, state.state, state.at)
    if finished:
        ok = at_end(state.formula)
        return Verdict(spec, "ok" if ok else "violated", None if ok else state.length, str(state.formula))
    return Verdict(spec, "pending", None, str(state.formula))


def at_end(f: F) -> bool:
    """Whether the residual `f` holds on the empty rest of a finished trace."""
    op, a = f.op, f.args
    if op == "const":
        return bool(a[0])
    if op in ("atom", "previous", "X", "next", "F", "U"):
        return False  # nothing is left to satisfy them
    if op == "G":
        return True
    if op == "not":
        return not at_end(a[0])
    if op == "and":
        return at_end(a[0]) and at_end(a[1])
    if op == "or":
        return at_end(a[0]) or at_end(a[1])
    if op == "implies":
        return not at_end(a[0]) or at_end(a[1])
    raise ValueError(f"unknown operator {op}")


# --- specs and the monitor ---------------------------------------------------------------------------
ON_VIOLATION = ("pause", "reject", "ask")


@dataclass
class Spec:
    """A named formula and what a violation does: `pause` the run after the step (a breakpoint),
    `reject` the action before it runs (the agent reads why), or `ask` a person (an approval)."""

    formula: str
    name: str = ""
    on_violation: str = "pause"
    parsed: F = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.on_violation not in ON_VIOLATION:
            raise ConfigError(f"on_violation={self.on_violation!r}; valid: {', '.join(ON_VIOLATION)}")
        self.parsed = parse(self.formula)
        self.name = self.name or self.formula

    @classmethod
    def at_most_consecutive_errors(cls, n: int, **kw: Any) -> Spec:
        if int(n) < 0:
            raise ConfigError("at_most_consecutive_errors takes a count >= 0")
        return cls(
            f"G(not streak(error, {int(n) + 1}))",
            name=kw.pop("name", f"at most {n} consecutive errors"),
            **kw,
        )


REACT = [
    Spec("G(thought -> X(action or answer))", name="ReAct: a thought is followed by an action"),
    Spec("G(action -> X action_input)", name="ReAct: an action has its input"),
    Spec("G(action_input -> X observation)", name="ReAct: an action input gets an observation"),
    Spec("G(observation -> X(thought or answer))", name="ReAct: an observation is followed by a thought"),
    Spec("F answer", name="ReAct: the run ends with an answer"),
]


@dataclass
class Verdict:
    """The monitor's judgement of one spec on a trace: ok (holds whatever follows), pending, violated."""

    spec: Spec
    state: str
    at: int | None = None  # the position where it became false
    residual: str = ""

    @property
    def violated(self) -> bool:
        return self.state == "violated"


def check(spec: Spec, trace: list[Position], *, finished: bool = False) -> Verdict:
    """Progress `spec` through `trace`; `finished`: the trace is complete (judge what is left open)."""
    return judge(spec, advance(spec, start(spec), trace), finished=finished)


def validate_example(specs: list[Spec], text: str) -> list[Verdict]:
    """The specs a few-shot example (a complete ReAct transcript) violates."""
    trace = text_positions(text)
    return [v for v in (check(s, trace, finished=True) for s in specs) if v.violated]


def allowed_actions(
    specs: list[Spec], trace: list[Position], names: list[str], states: list[MonitorState] | None = None
) -> list[str]:
    """The action names among `names` that no spec forbids as the next action (the paper's
    action-name restriction): an action is allowed unless taking it makes a spec false at once.
    `states`: the specs' monitors after `trace` when known (then `trace` is not read again)."""
    if states is None:
        states = [advance(s, start(s), trace) for s in specs]
    allowed = []
    for name in names:
        step = [Position("action", names=(name,))]
        if not any(advance(s, m, step).violated for s, m in zip(specs, states, strict=True)):
            allowed.append(name)
    return allowed


def trace_view(trace: list[Position], at: int | None, width: int = 8) -> list[dict[str, Any]]:
    """The positions around `at` for the violation card (the violating one marked)."""
    end = len(trace) if at is None else min(len(trace), at + 1)
    start = max(0, end - width)
    return [{**trace[i].to_dict(), "index": i, "here": i == at} for i in range(start, end)]
