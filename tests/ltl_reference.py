"""Reference semantics the behaviour-spec monitor (`workbench.oversight.specs`) is tested against.

They read the whole trace at every position, as the definitions say, instead of the monitor's memory
(which `previous(...)` held, the last steps for `streak`): `holds` is finite-trace LTL directly, and
`check_by_rewriting` is formula progression with the past re-read from the trace (O(n^2), so only
for tests). Both share only the position predicate and the residual's end rule with the monitor.
"""

from __future__ import annotations

from workbench.oversight.specs import (
    FALSE,
    TRUE,
    F,
    Position,
    Spec,
    Verdict,
    at_end,
    position_holds,
    progress,
)


def past(f: F, trace: list[Position], i: int) -> bool:
    """A formula without future operators at position `i` (previous = at some earlier position)."""
    op, a = f.op, f.args
    if op == "const":
        return bool(a[0])
    if op == "atom":
        return streak(*a[1], trace, i) if a[0] == "streak" else position_holds(a[0], a[1], trace[i])
    if op == "not":
        return not past(a[0], trace, i)
    if op == "and":
        return past(a[0], trace, i) and past(a[1], trace, i)
    if op == "or":
        return past(a[0], trace, i) or past(a[1], trace, i)
    if op == "implies":
        return not past(a[0], trace, i) or past(a[1], trace, i)
    if op == "previous":
        return any(past(a[0], trace, j) for j in range(i))
    raise ValueError(f"not a past formula: {f}")


def streak(kind: str, count: int, trace: list[Position], i: int) -> bool:
    """The step of position `i` and the `count - 1` steps before it each had a position of `kind`."""
    nodes: list[int | None] = []
    for q in reversed(trace[: i + 1]):  # the steps ending here, newest first
        if q.node not in nodes:
            nodes.append(q.node)
    if len(nodes) < count:
        return False
    return all(
        any(q.node == n and position_holds(kind, None, q) for q in trace[: i + 1]) for n in nodes[:count]
    )


def holds(f: F, trace: list[Position], i: int = 0) -> bool:
    """Finite-trace semantics, directly."""
    n = len(trace)
    if i >= n:
        return at_end(f)
    op, a = f.op, f.args
    if op in ("const", "atom", "previous"):
        return past(f, trace, i)
    if op == "not":
        return not holds(a[0], trace, i)
    if op == "and":
        return holds(a[0], trace, i) and holds(a[1], trace, i)
    if op == "or":
        return holds(a[0], trace, i) or holds(a[1], trace, i)
    if op == "implies":
        return not holds(a[0], trace, i) or holds(a[1], trace, i)
    if op == "X":
        return i + 1 < n and holds(a[0], trace, i + 1)
    if op == "G":
        return all(holds(a[0], trace, j) for j in range(i, n))
    if op == "F":
        return any(holds(a[0], trace, j) for j in range(i, n))
    if op == "U":
        return any(
            holds(a[1], trace, k) and all(holds(a[0], trace, j) for j in range(i, k)) for k in range(i, n)
        )
    raise ValueError(f"unknown operator {op}")


def check_by_rewriting(spec: Spec, trace: list[Position], *, finished: bool = False) -> Verdict:
    """The verdict `specs.check` should give, by progressing the formula over the whole trace."""
    f = spec.parsed
    for i in range(len(trace)):
        f = progress(f, lambda g, i=i: past(g, trace, i))
        if f == FALSE:
            return Verdict(spec, "violated", i)
        if f == TRUE:
            return Verdict(spec, "ok", i)
    if finished:
        ok = at_end(f)
        return Verdict(spec, "ok" if ok else "violated", None if ok else len(trace), str(f))
    return Verdict(spec, "pending", None, str(f))
