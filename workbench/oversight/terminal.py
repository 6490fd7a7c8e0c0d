"""Approvals in a terminal: the CLI's interactive prompt and its `--approve` modes.

    workbench run ... --approve ask          (default) ask at the terminal; without one, stop and say so
    workbench run ... --approve always       approve every gated action (recorded as by "--approve always")
    workbench run ... --approve never        reject every gated action; the agent reads why
    workbench run ... --approve rules.toml   these gate rules decide (approve / reject / ask per rule)

A run that waits for a person and has no terminal to ask stops with exit code 3 and says how to go on;
nothing is approved by default and nothing times out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ..core.sync import run_sync
from ..errors import ConfigError
from .gates import Gates, make_gates

MODES = ("ask", "always", "never")
WAITING = 3  # the CLI's exit code for a run stopped at an approval it could not ask for
NEVER_REASON = "gated actions are not run in this unattended run (--approve never)"


def gates_for(mode: str) -> Gates:
    """The session's gates for an `--approve` value: the default rules, or a rules file."""
    if mode in MODES:
        return make_gates("default")
    if not str(mode).endswith(".toml"):
        raise ConfigError(f"--approve takes ask, always, never or a rules file ending in .toml, not {mode!r}")
    return Gates.from_toml(mode)


def describe(session: Any) -> list[str]:
    """The waiting proposal as terminal lines."""
    d = session.pending_approval.to_dict()
    lines = [f"  approval needed ({d['rule']}: {d['why']})"]
    if d["kind"] == "code":
        lines += ["  code:"] + [f"    {line}" for line in (d["code"] or "").splitlines()]
    else:
        lines.append(f"  action:  {d['action']}")
    if d["risk"] is not None:
        lines.append(f"  risk:    {d['risk']:g}/3 {d['risk_reasoning']}".rstrip())
    return lines


def decide(
    session: Any,
    mode: str,
    *,
    ask: Callable[[str], str] | None = None,
    say: Callable[[str], None] = print,
    interactive: bool | None = None,
) -> bool:
    """Decide the session's waiting approval per `mode`; False when no one can be asked (stop).

    `ask` reads an answer (default `input`), `say` prints a line."""
    ask = ask or input
    for line in describe(session):
        say(line)
    if mode == "always":
        session.approve(by="--approve always")
        say("  approved (--approve always)")
        return True
    if mode == "never":
        session.reject(NEVER_REASON, by="--approve never")
        say("  rejected (--approve never)")
        return True
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        say(
            "  no terminal to ask: stopped without running it. Run again at a terminal, or unattended with "
            "--approve always|never|rules.toml"
        )
        return False
    kind = session.pending_approval.proposal.kind
    while True:
        try:
            answer = ask("  [a]pprove, [e]dit and approve, [r]eject, [s]top? ").strip().lower()
        except EOFError:
            say("  no answer: stopped without running it")
            return False
        if answer in ("a", "approve", "y", "yes"):
            session.approve()
            return True
        if answer in ("r", "reject", "n", "no"):
            reason = ask("  reason (the agent reads it): ").strip() or "rejected at the terminal"
            session.reject(reason)
            return True
        if answer in ("s", "stop", "q"):
            say("  stopped; the action did not run")
            return False
        if answer in ("e", "edit"):
            prompt = "  new arguments (JSON): " if kind == "tool" else "  new action: "
            text = ask(prompt)
            if not text.strip():
                say("  not used: nothing was entered")
                continue
            try:  # the raw text: the session parses and checks it
                run_sync(session.adecide("approve", text, go_on=False))
                return True
            except ConfigError as exc:
                say(f"  not used: {exc}")
                continue
        say("  answer a, e, r or s")
