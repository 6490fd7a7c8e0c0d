"""The SIMULATED demo model's answers to two prompts of the search strategies (see `policy`).

Both are recognised by the labels the strategies define and parse, never by their wording:

- A*'s imagination (`astar.IMAGINE_SYSTEM`): the system prompt asks for `Remaining steps:` and the user
  message shows the trajectory, then the state under `astar.IMAGINE_STATE`. The model takes the last
  listed action on that state, plans the rest with its own solver and answers a few `Action:` lines
  and `Remaining steps: N`: gridworld, the BFS key -> door -> goal route; game24, the numbers left
  minus 1 while 24 is reachable, else a guess (a fresh attempt). At `error_rate` N is off by 1 or 2.
- MCTS's reflection (`mcts.REFLECT_SYSTEM`): the system prompt asks for `Reflection:` and the user
  message shows the trajectory and the failed terminal under `mcts.FINAL_OBSERVATION`. The model
  rebuilds the attempt (game24: the numbers before every step, undone from `Steps so far`; gridworld:
  the maps before every action, undone backwards from the final one) and names the first step that
  went wrong: the move after which 24 was out of reach, or the move that went away from the key,
  door or goal. At `error_rate` the reflection stays vague.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from fractions import Fraction

from ..envs import game24, gridworld
from ..strategies.labels import FINAL_OBSERVATION, IMAGINE_STATE, REFLECTION_LABEL, REMAINING_LABEL
from .reading import Conversation, read_view

_ITEM = re.compile(r"^\s*\d+[.)]\s*(.+?)\s*$")
_STEP = re.compile(r"^\s*(-?\d+(?:/\d+)?)\s*([-+*/])\s*(-?\d+(?:/\d+)?)\s*$")
_SHOWN = 8  # imagined actions listed before the rest is summarised
_MAX_UNDO = 200  # longer trajectories are not rebuilt


def search_answer(conv: Conversation, rng: random.Random, error_rate: float) -> str | None:
    """The answer to an imagination or a reflection prompt; None for any other prompt."""
    system = conv.instructions.lower()
    user = conv.last_user
    if REMAINING_LABEL.lower() in system and (found := _after(user, IMAGINE_STATE)) is not None:
        return _imagine(*found, rng, error_rate)
    if REFLECTION_LABEL.lower() in system and (found := _after(user, FINAL_OBSERVATION)) is not None:
        return _reflect(*found, rng, error_rate)
    return None


def _after(user: str, anchor: str) -> tuple[list[str], str] | None:
    """(the numbered actions before `anchor`, the text after it), or None without the anchor."""
    at = user.lower().rfind(anchor.lower())
    if at < 0:
        return None
    head = user[:at].splitlines()
    start = max((i + 1 for i, line in enumerate(head) if "actions so far" in line.lower()), default=0)
    actions = [m.group(1) for line in head[start:] if (m := _ITEM.match(line))]
    return actions, user[at + len(anchor) :].strip()


# --- imagination ---------------------------------------------------------------------------------
def _imagine(actions: list[str], state: str, rng: random.Random, error_rate: float) -> str:
    kind, parsed = read_view(state) or ("", None)
    last = actions[-1] if actions else ""
    if kind == "gridworld":
        note, plan, remaining = _imagine_grid(parsed[0], last)
    elif kind == "game24":
        note, plan, remaining = _imagine_game24(*parsed, last, rng)
    else:
        note, plan, remaining = (
            "I cannot read the state well enough to plan far ahead.",
            [],
            2 + rng.randrange(4),
        )
    if rng.random() < error_rate:
        remaining = max(0, remaining + rng.choice((-2, -1, 1, 2)))
        plan = plan[:remaining]
    lines = [note, *(f"Action: {a}" for a in plan[:_SHOWN])]
    if len(plan) > _SHOWN:
        lines.append(f"... and {len(plan) - _SHOWN} more actions like these.")
    return "\n".join([*lines, f"{REMAINING_LABEL} {remaining}"])


def _imagine_grid(state: gridworld.GridState, last: str) -> tuple[str, list[str], int]:
    after, _, valid = gridworld.transition(state, last)
    if after.at_goal:
        return f"After {last} I stand on the goal, so nothing is left to do.", [], 0
    route = gridworld.route(after)
    if route is None:
        return "I see no way to the goal from there, so the agent would have to search.", [], 20
    what = f"After {last}," if valid else f"{last!r} would change nothing; from here"
    return f"{what} the shortest way goes to the {gridworld.phase(after)} first.", route, len(route)


def _imagine_game24(
    numbers: list[Fraction], steps: list[str], last: str, rng: random.Random
) -> tuple[str, list[str], int]:
    after = _apply24(numbers, last)
    what = f"After {last}," if after is not None else f"{last!r} is not a valid move; with"
    after = after if after is not None else numbers
    fresh = len(numbers) + len(steps) - 1 + rng.randrange(2)  # the steps of a new attempt
    if len(after) == 1:
        if after[0] == game24.TARGET:
            return f"{last} makes 24, which finishes the task.", [], 0
        return (
            f"{last} ends the game with {game24.fmt_all(after)}, not 24: the task needs a new attempt.",
            [],
            fresh,
        )
    way = game24.solve24(after)
    if way is None:
        note = f"{what} {game24.fmt_all(after)} are left and 24 cannot be made any more: the task needs a new attempt."
        return note, [], fresh
    plan, current = [], after
    for move in way:
        current = game24.apply_move(current, move) or current
        plan.append(f"{move} = {game24.fmt(current[-1])}")
    return f"{what} {game24.fmt_all(after)} are left and 24 is still reachable.", plan, len(after) - 1


def _apply24(numbers: list[Fraction], action: str) -> list[Fraction] | None:
    """The numbers after a move or an `answer:` that uses every number; None if it is not valid."""
    cleaned = action.strip().lower()
    if not cleaned.startswith("answer"):
        return game24.apply_move(numbers, action)
    found = game24.evaluate(cleaned[len("answer") :].lstrip(" :=").split("=")[0].strip())
    return [found[0]] if found is not None and sorted(found[1]) == sorted(numbers) else None


# --- reflection ----------------------------------------------------------------------------------
def _reflect(actions: list[str], state: str, rng: random.Random, error_rate: float) -> str:
    kind, parsed = read_view(state) or ("", None)
    text = None
    if rng.random() >= error_rate:
        if kind == "gridworld":
            text = _reflect_grid(parsed[0], actions)
        elif kind == "game24":
            text = _reflect_game24(*parsed, actions)
    if text is None:
        text = rng.choice(
            (
                "The attempt went wrong somewhere along the way. Next time I should check after every step "
                "that it brings me closer to finishing the task.",
                "I moved too quickly without checking where each action led. Next time I will think "
                "one step further ahead before acting.",
            )
        )
    return f"{REFLECTION_LABEL} {text}"


def _undo_game24(final: list[Fraction], steps: list[str]) -> list[list[Fraction]] | None:
    """The numbers before each step and after the last one, undone from the final numbers."""
    history = [sorted(final)]
    for step in reversed(steps):
        lhs, _, rhs = step.rpartition("=")
        result, current = game24.parse_number(rhs), list(history[0])
        if result is None or result not in current:
            return None
        current.remove(result)
        if lhs.strip().lower().startswith("answer"):
            found = game24.evaluate(lhs.strip()[len("answer") :].lstrip(" :"))
            if found is None or found[0] != result:
                return None
            used = found[1]
        else:
            m = _STEP.match(lhs)
            if m is None:
                return None
            a, b = game24.parse_number(m.group(1)), game24.parse_number(m.group(3))
            if a is None or b is None or game24.combine(a, m.group(2), b) != result:
                return None
            used = [a, b]
        history.insert(0, sorted(current + used))
    return history


def _action_number(actions: list[str], steps: list[str], k: int) -> int:
    """The number of the action that made game step k (invalid actions make no step), from 1."""
    compact = ["".join(text.split("=")[0].split()).lower() for text in (*actions, *steps)]
    done, moves = 0, compact[: len(actions)]
    for j, action in enumerate(moves):
        if done < len(steps) and action == compact[len(actions) + done]:
            if done == k:
                return j + 1
            done += 1
    return k + 1


def _reflect_game24(numbers: list[Fraction], steps: list[str], actions: list[str]) -> str | None:
    history = _undo_game24(numbers, steps)
    if history is None or len(history[0]) > 6:
        return None
    if len(numbers) == 1 and numbers[0] == game24.TARGET:
        return "The attempt did reach 24; the same steps solve the puzzle again."
    reachable = [game24.solve24(n) is not None for n in history]
    if not reachable[0]:
        return (
            f"24 cannot be made from {game24.fmt_all(history[0])} at all, so no sequence of steps could win."
        )
    k = next((i for i in range(len(steps)) if reachable[i] and not reachable[i + 1]), None)
    if k is None:
        way = game24.solve24(numbers) or []
        hint = f" with {way[0]}" if way else ""
        return f"Every step kept 24 reachable, but the attempt stopped early; continue{hint}."
    before, after, move, number = history[k], history[k + 1], steps[k], _action_number(actions, steps, k)
    fixes = game24.good_moves(before)
    fix = f" Next time play {fixes[0]} there instead (24 stays reachable after it)." if fixes else ""
    return (
        f"Step {number}, {move}, was the mistake: it left {game24.fmt_all(after)}, from which 24 cannot be made, "
        f"while {game24.fmt_all(before)} could still reach 24.{fix}"
    )


def _before_grid(state: gridworld.GridState, action: str) -> list[tuple[gridworld.GridState, bool]]:
    """The states that `action` could have come from (a made move first), each with its validity."""
    verb = gridworld.parse_action(action) or ""
    options: list[gridworld.GridState] = []
    if verb.startswith("go "):
        dr, dc = gridworld.MOVES[verb[3:]]
        options.append(replace(state, agent=(state.agent[0] - dr, state.agent[1] - dc)))
    elif verb == "pick up key" and state.has_key and state.key is None:
        for _, (r, c) in gridworld.neighbours(state.agent):
            if 0 <= r < len(state.walls) and state.walls[r][c : c + 1] == "." and (r, c) != state.goal:
                options.append(replace(state, key=(r, c), has_key=False))
    elif verb == "open door" and state.door_open and state.door is not None and state.has_key:
        options.append(replace(state, door_open=False))
    made = [
        (s, True)
        for s in options
        if s.free(s.agent) and not s.at_goal and gridworld.transition(s, action)[0] == state
    ]
    return made + ([(state, False)] if not gridworld.transition(state, action)[2] else [])


GridHistory = list[tuple[gridworld.GridState, bool]]  # (state before, valid) for every action


def _undo_grid(final: gridworld.GridState, actions: list[str]) -> GridHistory | None:
    """The history of `actions` undone backwards from the final map; None if none fits.

    A move counts as made when it could have been; where the key lay is guessed from the cells
    next to the agent when it was picked up, preferring the guess under which fewer actions were wasted.
    """
    failed: set[tuple[int, gridworld.GridState]] = set()

    def back(k: int, state: gridworld.GridState) -> GridHistory | None:
        if k == 0:
            return []
        found: list[GridHistory] = []
        if (k, state) not in failed:
            for before, valid in _before_grid(state, actions[k - 1]):
                if (rest := back(k - 1, before)) is not None:
                    found.append([*rest, (before, valid)])
                    if gridworld.parse_action(actions[k - 1]) != "pick up key":
                        break
        if not found:
            failed.add((k, state))
            return None
        return min(found, key=lambda history: len(_wasted(history, state)[0]))

    return back(len(actions), final) if len(actions) <= _MAX_UNDO else None


def _wasted(history: GridHistory, final: gridworld.GridState) -> tuple[list[int], list[int | None]]:
    """(indexes of the actions that did not shorten the route, route lengths before each and at the end)."""
    states = [s for s, _ in history] + [final]
    left = [len(r) if (r := gridworld.route(s)) is not None else None for s in states]

    def closer(k: int) -> bool:  # unknown before the action: assume it helped
        before, after = left[k], left[k + 1]
        return before is None or (after is not None and after < before)

    return [k for k, (_, valid) in enumerate(history) if not valid or not closer(k)], left


def _reflect_grid(final: gridworld.GridState, actions: list[str]) -> str | None:
    if final.at_goal:
        return "The attempt reached the goal; the same actions solve the maze again."
    history = _undo_grid(final, actions)
    if not history:
        return None
    wasted, left = _wasted(history, final)
    states = [s for s, _ in history]
    end = f" It ended with {left[-1]} actions still needed." if left[-1] is not None else ""
    if not wasted:
        return f"Every action brought me closer, but the attempt stopped too early.{end}"
    k = wasted[0]
    target, step = gridworld.phase(states[k]), f"Step {k + 1}, {actions[k]},"
    if not history[k][1]:
        first = f"{step} was invalid and changed nothing while I was heading for the {target}."
    else:
        first = f"{step} took me away from the {target} ({left[k]} actions were left before it, {left[k + 1]} after)."
    more = f" {len(wasted)} of my {len(actions)} actions made no progress." if len(wasted) > 1 else ""
    plan = gridworld.route(states[k]) or []
    advice = f" Next time play {plan[0]} there and follow the shortest way: key, door, goal." if plan else ""
    return first + more + end + advice
