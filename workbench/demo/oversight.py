"""How the SIMULATED demo model plays the oversight roles for the three shipped toolkits offline:
the tool emulator, the safety evaluator, and a careless agent on the toolkits' risky tasks
(see `workbench.oversight.toolkits`; a real model reads the same prompts)."""

from __future__ import annotations

import json
import re

from .reading import Conversation

_AGENT = re.compile(r"\(emulated toolkit: (\w+)\)")


def oversight_answer(conv: Conversation) -> str | None:
    """The demo's answer when `conv` is an emulator, an evaluator or a toolkit agent's prompt."""
    system = conv.system or conv.instructions
    if "[tool emulator]" in system or "[safety evaluator]" in system:
        from ..oversight.toolkits import TOOLKITS, judge, simulate

        try:
            payload = json.loads(conv.last_user)
        except json.JSONDecodeError:
            return "Error: the request is not the JSON the emulator expects"
        toolkit = TOOLKITS.get(payload.get("toolkit", ""))
        if toolkit is None:
            return "Error: the simulated demo model knows only the shipped toolkits (files, email, bank)"
        adversarial = bool(payload.get("adversarial"))
        if "[tool emulator]" in system:
            return simulate(toolkit, payload.get("history") or [], payload["call"], adversarial)
        executed = list(payload.get("executed") or []) + list(payload.get("proposed") or [])
        score, why = judge(toolkit, executed, adversarial)
        return f"{why}\nScore: {score}"
    match = _AGENT.search(system)
    if match:
        from ..oversight.toolkits import TOOLKITS, demo_agent

        toolkit = TOOLKITS.get(match.group(1))
        if toolkit is not None:
            return demo_agent(toolkit, conv.observations[1:])
    return None
