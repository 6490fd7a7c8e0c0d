"""The SIMULATED demo model's answers to Chain of Summarization prompts (`memory.summarized`).

- L1 (`L1_SYSTEM`): one line `L1: after `<action>`: <what the observation says now>` read from the
  observation in the user message (gridworld: where the agent is, key, door, moves to the goal;
  game24: the numbers left and whether 24 can still be made). At `error_rate` the outlook is wrong.
- L2 (`L2_SYSTEM`): `Analysis:` (how many of the listed actions failed, where things stand) and
  `Decisions:` with the next actions of a shortest solution from the current observation (gridworld:
  up to 3 actions of the key -> door -> goal route; game24: the moves of a solution). At
  `error_rate` the first decision is a valid but worse action.
"""

from __future__ import annotations

import random
import re

from ..envs import game24, gridworld
from ..memory.summarized import L1_LABEL, L1_TASK, L2_TASK
from .reading import PHASE_GOALS, Conversation, moves_text, outlook24, read_view

_ACTION = re.compile(r"(?m)^Action:[ \t]*(.+?)[ \t]*$")
_FAILED = re.compile(r"(?ms)^Failed actions:\n(.*?)(?:\n\n|\Z)")
_STEPS = re.compile(r"(?m)^- step \d+:")
DECISIONS = 3


def summary_answer(conv: Conversation, rng: random.Random, error_rate: float) -> str | None:
    """The answer to an L1 or L2 prompt, or None for any other prompt."""
    if conv.instructions.startswith(L1_TASK):
        return _l1(conv.last_user, conv.observation, rng, error_rate)
    if conv.instructions.startswith(L2_TASK):
        return _l2(conv.last_user, conv.observation, rng, error_rate)
    return None


def _l1(user: str, observation: str, rng: random.Random, error_rate: float) -> str:
    found = _ACTION.search(user)
    action = found.group(1) if found else "(start of the episode)"
    head = "at the start" if action.startswith("(start") else f"after `{action}`"
    wrong = rng.random() < error_rate
    kind, parsed = read_view(observation) or ("", None)
    if kind == "gridworld":
        state, message = parsed
        left = gridworld.route(state)
        where = f"{message.rstrip('.')}; I am at row {state.agent[0]}, column {state.agent[1]}, "
        where += "holding the key" if state.has_key else "without the key"
        where += ", the door is " + ("open" if state.door_open else "locked")
        if state.at_goal:
            where += ", and I am on the goal"
        elif left is not None:
            where += f", {moves_text(max(1, len(left) + (3 if wrong else 0)))} to the goal"
        return f"{L1_LABEL} {head}: {where}."
    if kind == "game24":
        shown = game24.fmt_all(parsed[0])
        made, reachable = outlook24(parsed[0])
        if wrong:
            reachable = not reachable
        outlook = "24 is made" if made else ("24 can still be made" if reachable else "24 is out of reach")
        return f"{L1_LABEL} {head}: numbers left {shown}; {outlook}."
    first = observation.strip().splitlines()[0] if observation.strip() else "nothing observed"
    return f"{L1_LABEL} {head}: nothing I can read changed ({first})"


def _l2(user: str, observation: str, rng: random.Random, error_rate: float) -> str:
    found = _FAILED.search(user)
    fails = len(_STEPS.findall(found.group(1))) if found else 0
    steps = len(_STEPS.findall(user)) - fails
    failed = (
        f"{fails} of the last {steps} steps failed" if fails else f"none of the last {steps} steps failed"
    )
    decisions: list[str] = []
    worse: list[str] = []
    kind, parsed = read_view(observation) or ("", None)
    if kind == "gridworld":
        state = parsed[0]
        left = gridworld.route(state) or []
        decisions = left[:DECISIONS]
        worse = [a for a in gridworld.valid_actions(state) if a not in decisions[:1]]
        if state.at_goal:
            where = "I am on the goal, so the task is done"
        elif not left:
            where = "I see no way to the goal from here"
        else:
            where = f"next I must {PHASE_GOALS[gridworld.phase(state)]}; {moves_text(len(left))} remain"
    elif kind == "game24":
        nums = parsed[0]
        decisions = game24.solve24(nums) or [] if len(nums) > 1 else []
        worse = [m for m in game24.all_moves(nums) if m not in decisions[:1]]
        shown = game24.fmt_all(nums)
        if len(nums) == 1:
            where = f"the last number is {shown}" + (", which is 24" if nums[0] == game24.TARGET else "")
        elif decisions:
            where = f"24 can still be made from {shown}"
        else:
            where = f"24 cannot be made from {shown} any more"
    else:
        where = "I cannot read the current observation"
    if decisions and worse and rng.random() < error_rate:
        decisions = [rng.choice(worse), *decisions[1:]]
    lines = [f"Analysis: {failed[0].upper() + failed[1:]}; {where}.", "Decisions:"]
    lines += [f"{i}. {d}" for i, d in enumerate(decisions, 1)] or ["1. done"]
    return "\n".join(lines)
