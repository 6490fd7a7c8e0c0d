"""Checks for notebook 05 (tools, code and oversight): a tool, a behaviour spec, an approval reviewer.

The checks use the learner's objects the way the workbench does (a tool through a `ToolEnv`, a
spec through `validate_example`, a reviewer deciding a gated run), on the simulated demo model or
fixed transcripts, so they are deterministic and offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .checks import Checker, CheckResult


def check_split_bill(split_bill: Any) -> CheckResult:
    """Exercise 1: `split_bill(total: float, people: int) -> str`, a `@tool` that rounds to cents."""
    from ..tools import ToolCall, ToolEnv
    from ..tools.base import Tool

    c = Checker("Exercise 1: a tool of your own")
    if c.unfinished(split_bill, "split_bill"):
        return c.result()
    if not c.point(
        isinstance(split_bill, Tool),
        "split_bill is a tool",
        f"split_bill is {type(split_bill).__name__}: decorate the function with @tool",
    ):
        return c.result()
    props = split_bill.parameters.get("properties", {})
    types = {name: spec.get("type") for name, spec in props.items()}
    c.point(
        types == {"total": "number", "people": "integer"},
        "its arguments are total (a number) and people (an integer)",
        f"its arguments are {types or 'none'}: annotate total: float and people: int",
    )
    c.point(
        sorted(split_bill.parameters.get("required", [])) == ["people", "total"],
        "both arguments are required",
        "total and people must both be required (no defaults)",
    )
    c.point(
        len(split_bill.description.strip()) >= 10,
        "its docstring tells the model what it does",
        "write a docstring: it is the description the model reads",
    )
    env = ToolEnv(tools=[split_bill], task="split the bill")
    env.reset()
    for total, people, want in ((100, 4, "25.00"), (10, 3, "3.33"), (7.5, 2, "3.75")):
        args = json.dumps({"total": total, "people": people})
        observation = c.attempt(
            lambda args=args: env.step(ToolCall(split_bill.name, args))[0], "calling it failed"
        )
        if observation is None:
            break
        c.point(
            want in str(observation) and "Error" not in str(observation),
            f"{total} split {people} ways: the agent reads {str(observation).strip()!r}",
            f"{total} split {people} ways: the agent reads {str(observation).strip()[:120]!r}, "
            f"which does not show {want} (round to cents)",
        )
    return c.result()


def _t(*steps: tuple[str, str], answer: str = "done") -> str:
    """A ReAct transcript of tool calls (name, JSON input), each with an observation, then an answer."""
    lines = []
    for name, args in steps:
        lines += [f"Thought: next {name}", f"Action: {name}", f"Action Input: {args}", "Observation: ok"]
    return "\n".join([*lines, "Thought: finished", f"Final Answer: {answer}"])


PAY = ("transfer", '{"payee_id": "p1", "amount": 1200}')
LIST = ("list_payees", "{}")
BALANCE = ("get_balance", "{}")
TRANSCRIPTS = [
    ("list the payees, then one transfer", _t(LIST, PAY), True),
    ("no transfer at all", _t(BALANCE, LIST), True),
    ("list, transfer, list again", _t(LIST, PAY, LIST), True),
    ("a transfer without listing the payees", _t(BALANCE, PAY), False),
    ("two transfers after listing", _t(LIST, PAY, PAY), False),
    ("transfer first, list afterwards", _t(PAY, LIST), False),
]


def check_payment_spec(formula: Any) -> CheckResult:
    """Exercise 2: a formula that allows a transfer only after list_payees, and at most one."""
    from ..oversight.specs import Spec, validate_example

    c = Checker("Exercise 2: a spec for payments")
    spec = c.inspect(
        None if formula in ("...", "") else formula,
        "payment_spec",
        lambda f: f if isinstance(f, Spec) else Spec(str(f)),
        "the formula does not parse",
    )
    if spec is None:
        return c.result()
    for label, text, keeps in TRANSCRIPTS:
        broken = c.attempt(lambda text=text: validate_example([spec], text), f"{label}: checking failed")
        if broken is None:
            continue
        ok = not broken
        c.point(
            ok == keeps,
            f"{label}: {'allowed' if keeps else 'flagged'}",
            f"{label}: {'flagged, but it keeps the rule' if keeps else 'allowed, but it breaks the rule'}",
        )
    return c.result()


def _bank_run(review: Callable[[Any, Any], Any], adversarial: bool, c: Checker) -> tuple[Any, list[str]]:
    """The careless demo agent on the bank toolkit, its destructive calls decided by `review`."""
    from ..core.session import Session
    from ..oversight.emulator import EmulatedToolEnv

    s = Session(env=EmulatedToolEnv("bank", adversarial=adversarial), tool_calling="text", store=None)
    s.run(max_steps=6)
    decisions: list[str] = []
    while s.pending_approval is not None and len(decisions) < 3:
        pending = s.pending_approval.to_dict()
        verdict = c.attempt(lambda pending=pending: review(pending, s), "your review raised")
        if verdict == "approve":
            s.approve()
            decisions.append("approve")
        elif isinstance(verdict, str) and verdict.strip():
            s.reject(verdict)
            decisions.append(f"reject: {verdict}")
        else:
            decisions.append(f"neither 'approve' nor a reason: {verdict!r}")
            break
        s.run(max_steps=6)
    return s, decisions


def _transfers(s: Any) -> list[str]:
    """The payee ids of the transfers that were executed on the session's path."""
    done = []
    for node in s.path()[1:]:
        for call in node.info.get("tool_calls", []):
            if (
                call.get("name") == "transfer"
                and not call.get("error")
                and "Rejected" not in node.observation
            ):
                done.append(json.loads(call.get("arguments") or "{}").get("payee_id"))
    return done


def check_review(review: Callable[[Any, Any], Any]) -> CheckResult:
    """Exercise 3: `review(pending, session)` approves the transfer to Jane Roe (p1) in the standard
    world and rejects the one to the closed account (p9) in the adversarial world, with a reason."""
    c = Checker("Exercise 3: review approvals in code")
    if not c.function(review, "review"):
        return c.result()
    standard, decisions = _bank_run(review, False, c)
    c.point(
        _transfers(standard) == ["p1"],
        "standard world: the transfer to Jane Roe (p1) was approved and made",
        f"standard world: your decisions were {decisions}; the transfer to Jane Roe (p1) must be approved",
    )
    adversarial, decisions = _bank_run(review, True, c)
    rejected = [d for d in decisions if d.startswith("reject: ")]
    c.point(
        "p9" not in _transfers(adversarial) and bool(rejected),
        f"adversarial world: the transfer to the closed account p9 was rejected ({rejected[0] if rejected else ''})",
        f"adversarial world: your decisions were {decisions}; the transfer to p9 (not Jane Roe) must be "
        "rejected with a reason",
    )
    return c.result()
