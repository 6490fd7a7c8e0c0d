"""The SIMULATED demo model's answers to the role prompts of `plan-execute` and `umi` (see `policy`).

Recognised by the role lines in `strategies.labels`, never by wording:

- plan-and-execute's planner and replanner (`PLANNER_ROLE`, `REPLANNER_ROLE`): a `Plan:` block for the
  current state. Gridworld: the phases still open (pick up the key, open the door, reach the goal);
  game24: the moves of a solution, each as `a op b = result`. At `error_rate` the plan starts with a
  detour (gridworld: a corner; game24: a move after which 24 may be out of reach).
- alpha-UMi's planner (`UMI_PLANNER_ROLE`): a rationale and a routing line: `Next: conclusion.` when
  the task is done (the goal reached, 24 made), `Next: give up.` when it cannot be done any more (no
  way to the goal, out of steps, 24 out of reach), else `Next: caller.`. The router does not err; the
  simulated errors are the caller's moves (the ordinary ReAct answer, see `policy`).
- alpha-UMi's summarizer (`UMI_SUMMARIZER_ROLE`): `Final answer: ...` saying what was reached.
- Reflexion's lessons (`LESSONS_LABEL` in an actor's prompt): `lesson_move` plays the move a lesson names
  for the current step ("Step 3, ... Next time play 4 * 6 there"), the form of the demo's own reflections.

The executor (plan-and-execute) and the caller (alpha-UMi) get the ordinary ReAct answer.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from ..envs import game24, gridworld
from ..strategies.labels import (
    FINAL_ANSWER_LABEL,
    LESSONS_LABEL,
    PLANNER_ROLE,
    REPLANNER_ROLE,
    ROUTE_LABEL,
    UMI_PLANNER_ROLE,
    UMI_SUMMARIZER_ROLE,
)
from .reading import Conversation, phases_left

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


def roles_answer(conv: Conversation, rng: random.Random, error_rate: float) -> str | None:
    """The answer to a planner, router or summarizer prompt; None for any other prompt."""
    text = conv.instructions
    if PLANNER_ROLE in text or REPLANNER_ROLE in text:
        return _plan(conv, rng, error_rate)
    if UMI_PLANNER_ROLE in text:
        return _route(conv)
    if UMI_SUMMARIZER_ROLE in text:
        return _final(conv)
    return None


# --- plan-and-execute's planner -------------------------------------------------------------------
def _plan(conv: Conversation, rng: random.Random, error_rate: float) -> str:
    kind, parsed = conv.latest_view()
    slip = rng.random() < error_rate
    if kind == "gridworld":
        items = phases_left(parsed[0])
        thought = "I take the phases in order: " + ", then ".join(items) + "."
        if slip:
            items.insert(0, f"go to the {rng.choice(CORNERS)} corner")
            thought = "I first look around from a corner, then " + ", then ".join(items[1:]) + "."
    elif kind == "game24":
        numbers = list(parsed[0])
        items, thought = _plan24(numbers, rng, slip)
    else:
        items, thought = ["look around", "finish the task"], "I cannot read the state yet, so I look first."
    listing = "\n".join(f"{i}. [ ] {text}" for i, text in enumerate(items, 1))
    return f"Thought: {thought}\nPlan:\n{listing}"


def _plan24(numbers: list[Fraction], rng: random.Random, slip: bool) -> tuple[list[str], str]:
    if len(numbers) < 2:
        return ["report the result"], "Only one number is left."
    items: list[str] = []
    current = numbers
    good = game24.good_moves(current)
    if slip or not good:
        bad = [m for m in game24.all_moves(current) if m not in good] or game24.all_moves(current)
        move = rng.choice(bad)
        current = game24.apply_move(current, move) or current
        items.append(f"{move} = {game24.fmt(current[-1])}")
    for move in game24.solve24(current) or []:
        current = game24.apply_move(current, move) or current
        items.append(f"{move} = {game24.fmt(current[-1])}")
    if len(current) > 1:
        items.append(f"combine {game24.fmt_all(current)} into 24")
    return items, f"From {game24.fmt_all(numbers)} I plan the moves one by one."


# --- alpha-UMi's planner (router) and summarizer ------------------------------------------------------
def _verdict(conv: Conversation) -> tuple[str, str]:
    """("done" | "stuck" | "going", one sentence on the state)."""
    kind, parsed = conv.latest_view()
    if kind == "gridworld":
        state, message = parsed
        if state.at_goal:
            return "done", "I am standing on the goal, so the task is done."
        if "out of steps" in message.lower() or "no steps are left" in message.lower():
            return "stuck", "The step budget is used up before the goal."
        left = gridworld.route(state)
        if left is None:
            return "stuck", "I see no way from here to the goal."
        return (
            "going",
            f"The {gridworld.phase(state)} comes next, {len(left)} actions from the goal; the caller acts.",
        )
    if kind == "game24":
        numbers, steps = parsed
        if len(numbers) == 1:
            if numbers[0] == game24.TARGET:
                return "done", f"The last number is 24 ({'; '.join(steps)})."
            return "stuck", f"The last number is {game24.fmt_all(numbers)}, not 24."
        if game24.solve24(numbers) is None:
            return "stuck", f"24 cannot be made from {game24.fmt_all(numbers)} any more."
        return "going", f"{game24.fmt_all(numbers)} can still make 24; the caller plays the next move."
    return "going", "I cannot read the state yet; the caller should look."


def _route(conv: Conversation) -> str:
    verdict, thought = _verdict(conv)
    route = {"done": "conclusion", "stuck": "give up", "going": "caller"}[verdict]
    return f"Thought: {thought}\n{ROUTE_LABEL} {route}."


def _final(conv: Conversation) -> str:
    verdict, thought = _verdict(conv)
    if verdict == "done":
        return f"{FINAL_ANSWER_LABEL} {thought}"
    return f"{FINAL_ANSWER_LABEL} The task is not solved. {thought}"


# --- Reflexion's lessons ---------------------------------------------------------------------------
_LESSON = re.compile(r"Step (\d+), (.+?), (?:was|took).*?Next time play (.+?) there", re.S)


def lesson_move(conv: Conversation, moves: list[str]) -> tuple[str, str] | None:
    """(action, thought) when a lesson in the system prompt names a better move for this step.

    The simulated model heeds the lessons `reflexion` puts under `LESSONS_LABEL` that read like the
    demo's own reflections ("Step 3, 6 - 4 = 2, was the mistake ... Next time play 4 * 6 there"): at
    that step of the attempt it plays the named move instead of sampling (when the move is valid)."""
    system = conv.instructions
    at = system.find(LESSONS_LABEL)
    if at < 0:
        return None
    step = len(conv.answers) + 1
    for found in _LESSON.finditer(system[at:]):
        if int(found.group(1)) != step:
            continue
        move = found.group(3).strip()
        if move in moves:
            return move, f"A lesson from an earlier attempt says to play {move} at step {step}, so I do."
    return None
