"""The brain of `workbench/demo`: a SIMULATED model for the built-in environments, not a real one.

`respond(messages, seed=, error_rate=, sample=)` reads only the chat messages, as a real model
would (see `reading`): it rebuilds the current observation (full texts and diffs), recognises
the environment from the observation's format (a gridworld map with its `Legend:` line, or game24's
`Numbers left:` line) and answers in the ReAct format:

    Subgoal: pick up the key              only if the system prompt mentions `Subgoal:`, when the
                                          phase changes, and never in two answers in a row
    Thought: The key is 3 moves from reach; I go east toward it.
    Action: go east
    Plan:                                 only if the system prompt has a plan: a proposal when it
    1. [>] pick up the key                is empty, or a progress update when an item was reached
    2. [ ] open the door

It plays well (gridworld: BFS key -> door -> goal; game24: moves after which 24 is still reachable),
follows the first open plan item that names something it knows (key, door, goal, "the top-left
corner"; a game24 move such as "4 + 8"), and errs at `error_rate`: mostly a valid but wrong move,
sometimes a malformed answer. A system prompt with `Status:` and `On the right track:` gets a
judgement, one with `Score:` and a 1-10 scale a score (A* imagination, MCTS reflection: `search`).
A system prompt with HiAgent's `Summary:` format (`memory.hierarchical.SUMMARY_SYSTEM`) gets a one-line
summary of the subgoal named in the user message, judged on the last observation shown there (met
or not, and where things stand); at `error_rate` the verdict is wrong.
Chain of Summarization's L1 and L2 prompts (`memory.summarized`) are answered by `summaries`.
A system prompt with A*'s `Candidate actions:` list format (`Propose up to k different ...`) gets
a numbered list: its good moves first, then worse valid ones, up to k; at `error_rate` a worse
move leads the list or (a quarter of those times) the model slips into the one-action format.
Everything is deterministic given (seed, sample, conversation); `sample` picks among equally good
moves, so candidates differ.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..envs import game24, gridworld
from ..memory.hierarchical import SUMMARY_LABEL, SUMMARY_TASK
from ..strategies.labels import CANDIDATES_LABEL, EXECUTOR_ROLE
from .codeact import codeact_answer
from .oversight import oversight_answer
from .reading import (
    PHASE_GOALS,
    Conversation,
    moves_text,
    outlook24,
    parse_plan,
    phases_left,
    read_conversation,
    render_plan,
    subgoal_line,
)
from .roles import lesson_move, roles_answer
from .search import search_answer
from .summaries import summary_answer
from .tools import native_answer, text_tool_answer

PlanItems = list[tuple[str, str]]  # [(status, text)]


@dataclass
class Choice:
    action: str
    thought: str


@dataclass
class Decision:
    good: list[Choice]
    bad: list[Choice] = field(default_factory=list)  # valid but worse moves, for simulated errors
    subgoal: str = ""
    plan: Callable[[str], PlanItems | None] = lambda action: None  # the plan block for an action


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def respond(
    messages: list[dict[str, Any]], *, seed: int = 0, error_rate: float = 0.1, sample: int = 0
) -> str:
    """The simulated model's answer to `messages` (OpenAI-style chat dicts).

    When the system prompt asks for the text tool format (`Action Input:`), an action that one of
    the listed built-in action tools performs is written as that tool's call (`workbench.demo.tools`)."""
    conv = read_conversation(messages)
    return text_tool_answer(_respond(conv, seed=seed, error_rate=error_rate, sample=sample), conv)


def respond_tools(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    seed: int = 0,
    error_rate: float = 0.1,
    sample: int = 0,
) -> tuple[str, list[dict[str, Any]] | None]:
    """(text, native tool calls) when the request offers `tools` (see `workbench.demo.tools`)."""
    conv = read_conversation(messages)
    return native_answer(_respond(conv, seed=seed, error_rate=error_rate, sample=sample), tools, conv)


def _respond(conv: Conversation, *, seed: int, error_rate: float, sample: int) -> str:
    rng = _rng("demo", seed, sample, conv.fingerprint)
    if (answer := oversight_answer(conv)) is not None:  # emulated toolkits (oversight)
        return answer
    if (answer := search_answer(conv, rng, error_rate)) is not None:
        return answer
    if (answer := summary_answer(conv, rng, error_rate)) is not None:  # Chain of Summarization
        return answer
    if (answer := codeact_answer(conv, rng, error_rate, sample)) is not None:
        return answer
    if (answer := roles_answer(conv, rng, error_rate)) is not None:  # plan-execute, alpha-UMi roles
        return answer
    text = conv.instructions
    if "Status:" in text and "On the right track:" in text:
        return _judge(conv, rng, error_rate, numeric=False)
    if "Score:" in text and ("1-10" in text or "1 to 10" in text):
        return _judge(conv, rng, error_rate, numeric=True)
    if CANDIDATES_LABEL.lower() in text.lower():
        return _candidates(conv, rng, error_rate, seed)
    if text.startswith(SUMMARY_TASK) and SUMMARY_LABEL in text:
        return _summarise(conv, rng, error_rate)
    decision = _decide(conv)
    good = list(decision.good)
    _rng("order", seed, conv.fingerprint).shuffle(good)  # the same order for every sample
    choice = good[int(sample) % len(good)]
    heeded = lesson_move(conv, [c.action for c in (*decision.good, *decision.bad)])
    if heeded is not None:  # a Reflexion lesson names the move for this step
        choice = Choice(*heeded)
    elif rng.random() < error_rate:
        if decision.bad and rng.random() < 0.75:
            choice = rng.choice(decision.bad)
        else:
            return _malformed(choice, rng)
    lines = []
    if _wants_subgoal(conv, decision.subgoal):
        lines.append(f"Subgoal: {decision.subgoal}")
    lines += [f"Thought: {choice.thought}", f"Action: {choice.action}"]
    plan = decision.plan(choice.action)
    if plan:
        lines += ["Plan:", render_plan(plan)]
    return "\n".join(lines)


def _summarise(conv: Conversation, rng: random.Random, error_rate: float) -> str:
    """One line on a finished subgoal: met or not, judged on the last observation shown."""
    subgoal = subgoal_line(conv.last_user) or "the subgoal"
    kind, parsed = conv.latest_view()
    met: bool | None = None
    if kind == "gridworld":
        state = parsed[0]
        target = _grid_item(subgoal) or ""
        checks = {"key": state.has_key or state.key is None, "door": state.door_open, "goal": state.at_goal}
        if target.startswith("corner:"):
            met = state.agent == _corner_cell(state, target[7:])
        else:
            met = checks.get(target)
        left = gridworld.route(state)
        where = f"the key is {'held' if state.has_key else 'not held'}, the door is " + (
            "open" if state.door_open else "locked"
        )
        where += "" if left is None else f", {moves_text(len(left))} to the goal"
    elif kind == "game24":
        made, met = outlook24(parsed[0])
        where = f"numbers left {game24.fmt_all(parsed[0])}" + ("" if made or met else ", 24 is out of reach")
    else:
        where = "I could not read the last observation"
    if met is not None and rng.random() < error_rate:
        met = not met
    verdict = "unclear" if met is None else ("met" if met else "not met")
    return f"{SUMMARY_LABEL} {subgoal}: {verdict}; {where}."


_UP_TO = re.compile(r"up to (\d+) different", re.I)


def _candidates(conv: Conversation, rng: random.Random, error_rate: float, seed: int) -> str:
    """A numbered list of up to k distinct actions, the good ones first (A*'s proposal format)."""
    found = _UP_TO.search(conv.instructions)
    k = max(1, int(found.group(1))) if found else 5
    decision = _decide(conv)
    good, bad = list(decision.good), list(decision.bad)
    _rng("order", seed, conv.fingerprint).shuffle(good)
    rng.shuffle(bad)
    if rng.random() < error_rate:
        if not bad or rng.random() < 0.25:
            return f"Thought: {good[0].thought}\nAction: {good[0].action}"
        good.insert(0, bad.pop(0))
    items = (good + bad)[:k]
    listing = "\n".join(f"{i}. {c.action}" for i, c in enumerate(items, 1))
    return f"Thought: {items[0].thought}\n{CANDIDATES_LABEL}\n{listing}"


def _malformed(choice: Choice, rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"Thought: {choice.thought}"
    if kind == 1:
        junk = rng.choice(("I am not sure yet", "the best move", "...", "continue as before"))
        return f"Thought: {choice.thought}\nAction: {junk}"
    return f"I think the right thing now is to {choice.action}."


def _wants_subgoal(conv: Conversation, subgoal: str) -> bool:
    if not subgoal or "subgoal:" not in conv.instructions.lower():
        return False
    if conv.answers and subgoal_line(conv.answers[-1]):
        return False
    last = conv.last_subgoal()
    return last is None or last.strip().lower() != subgoal.lower()


def _decide(conv: Conversation) -> Decision:
    views = conv.views()
    kind, parsed = views[-1] if views else ("", None)
    decision = None
    if kind == "gridworld":
        if parsed[0].at_goal:
            return Decision([Choice("done", "I am on the goal, so the task is complete.")])
        decision = _grid_decision(conv, parsed[0], [v[1][0] for v in views if v[0] == kind])
    elif kind == "game24":
        if len(parsed[0]) < 2:
            return Decision([Choice("done", "Only one number is left, so the game is over.")])
        decision = _game24_decision(conv, *parsed)
    if decision is None or not decision.good:
        why = "I cannot read the current state, so I try a harmless action to see it again."
        return Decision([Choice("look", why)])
    return decision


def _plan_update(conv: Conversation, statuses: list[str], proposal: PlanItems) -> PlanItems | None:
    """A proposal for an empty plan (once), or the plan with updated marks when they changed."""
    plan = parse_plan(conv.system)
    if plan is None and "plan:" in conv.system.lower():
        plan = []  # the prompt explains the plan directive but shows no plan yet
    if plan is None:
        return None
    if not plan:
        proposed = any("plan:" in answer.lower() for answer in conv.answers)
        return None if proposed or not proposal else proposal
    new = [(status, text) for status, (_, text) in zip(statuses, plan, strict=True)]
    if new == plan or (conv.answers and render_plan(new) in conv.answers[-1]):
        return None
    return new


def _follow(
    conv: Conversation, known: Callable[[str], Any], achieved: Callable[[Any], bool]
) -> tuple[int | None, Any, list[str]]:
    """(index, target, statuses): the first open plan item whose target is known and not reached."""
    plan = parse_plan(conv.system) or []
    statuses = [status for status, _ in plan]
    for i, (status, text) in enumerate(plan):
        target = known(text) if status not in ("done", "skipped") else None
        if target is None:
            continue
        if achieved(target):
            statuses[i] = "done"
            continue
        statuses[i] = "doing"
        return i, target, statuses
    return None, None, statuses


# --- gridworld ---------------------------------------------------------------------------------
def _grid_item(text: str) -> str | None:
    t = text.lower()
    if "corner" in t:
        v = "top" if any(w in t for w in ("top", "upper", "north")) else ""
        v = v or ("bottom" if any(w in t for w in ("bottom", "lower", "south")) else "")
        h = "left" if any(w in t for w in ("left", "west")) else ""
        h = h or ("right" if any(w in t for w in ("right", "east")) else "")
        return f"corner:{v}-{h}" if v and h else None
    if "door" in t and ("open" in t or "unlock" in t or "key" not in t):
        return "door"
    if "key" in t:
        return "key"
    return "goal" if any(w in t for w in ("goal", "green", "exit", "finish")) else None


def _corner_cell(state: gridworld.GridState, corner: str) -> gridworld.Cell | None:
    reach = gridworld.distances(state, {state.agent})
    row = 0 if corner.startswith("top") else len(state.walls) - 1
    col = 0 if corner.endswith("left") else max(len(r) for r in state.walls) - 1
    return min(reach, key=lambda c: (abs(c[0] - row) + abs(c[1] - col), reach[c], c), default=None)


def _grid_target(state: gridworld.GridState, kind: str) -> tuple[str, set[gridworld.Cell], str | None] | None:
    """(kind, cells to reach, final action) for a target: key, door, goal or corner:top-left etc."""
    locked = state.door is not None and not state.door_open
    if (kind == "door" and not state.has_key) or (kind == "goal" and locked):
        kind = gridworld.phase(state)  # the door needs the key; the goal needs the open door
    if kind in ("key", "door"):
        obj = state.key if kind == "key" else state.door
        if obj is None or (kind == "door" and state.door_open):
            return None
        cells = {n for _, n in gridworld.neighbours(obj) if state.free(n) or n == state.agent}
        return kind, cells, "pick up key" if kind == "key" else "open door"
    if kind == "goal" and state.goal is not None:
        return kind, {state.goal}, None
    if kind.startswith("corner:") and (cell := _corner_cell(state, kind[7:])) is not None:
        return kind, {cell}, None
    return None


def _progress(state: gridworld.GridState) -> tuple[int, int] | None:
    """(phases left, BFS distance to the current phase's target): smaller is better."""
    kind = gridworld.phase(state)
    target = _grid_target(state, kind)
    if kind == "done" or target is None:
        return (0, 0) if kind == "done" else None
    here = gridworld.distances(state, target[1]).get(state.agent)
    return None if here is None else ({"goal": 1, "door": 2, "key": 3}[kind], here)


def _grid_toward(state: gridworld.GridState, wanted: str) -> tuple[list[Choice], str]:
    """The best actions toward a target, and the target's subgoal text."""
    target = _grid_target(state, wanted)
    if target is None:
        return [], ""
    kind, cells, final = target
    subgoal = PHASE_GOALS.get(kind, f"go to the {kind[7:]} corner")
    dist = gridworld.distances(state, cells)
    here = dist.get(state.agent)
    if here is None or (here == 0 and final is None):
        return [], subgoal
    if here == 0:
        thought = {
            "pick up key": "The key is right next to me, so I pick it up.",
            "open door": "I hold the key and the door is next to me, so I open it.",
        }[str(final)]
        return [Choice(str(final), thought)], subgoal
    choices = []
    for d, n in gridworld.neighbours(state.agent):
        if state.free(n) and dist.get(n) == here - 1:
            thought = {
                "key": f"The key is {moves_text(here)} from reach; I go {d} toward it.",
                "door": f"I hold the key and the door is {moves_text(here)} from reach; I go {d} toward it.",
                "goal": f"The way is open and the goal is {moves_text(here)} away; I go {d}.",
            }.get(kind, f"The {kind[7:]} corner is {moves_text(here)} away; I go {d}.")
            if kind == "goal" and here == 1:
                thought = f"The goal is one step {d}, so I step onto it."
            choices.append(Choice(f"go {d}", thought))
    return choices, subgoal


def _advance(conv: Conversation, statuses: list[str], index: int | None, completes: bool) -> list[str]:
    """The plan marks after an action, for plan-and-execute's executor (asked to tick an item off in the
    answer that finishes it): the followed item done, and the next one doing, if the action completes
    it. Other prompts get the marks as they were before the action (the item is ticked a step later)."""
    if index is None or not completes or EXECUTOR_ROLE not in conv.instructions:
        return statuses
    out = list(statuses)
    out[index] = "done"
    following = next((i for i in range(index + 1, len(out)) if out[i] == "todo"), None)
    if following is not None:
        out[following] = "doing"
    return out


def _grid_decision(
    conv: Conversation, state: gridworld.GridState, seen: list[gridworld.GridState]
) -> Decision:
    def reached(kind: str, now: gridworld.GridState, past: list[gridworld.GridState]) -> bool:
        if kind == "key":
            return now.has_key or now.key is None
        if kind == "door":
            return now.door_open
        if kind == "goal":
            return now.at_goal
        cell = _corner_cell(now, kind[7:])
        return any(before.agent == cell for before in past)

    def achieved(kind: str) -> bool:
        return reached(kind, state, seen)

    def completes(action: str) -> bool:  # whether `action` reaches the followed item's target
        after = gridworld.transition(state, action)[0]
        return target is not None and reached(target, after, [after])

    index, target, statuses = _follow(conv, _grid_item, achieved)
    choices, subgoal = _grid_toward(state, target) if target else ([], "")
    if choices and index is not None:
        choices = [Choice(c.action, f"Plan step {index + 1}: {c.thought}") for c in choices]
    else:
        choices, subgoal = _grid_toward(state, gridworld.phase(state))
    good = {c.action for c in choices}
    bad = [
        Choice(a, f"Going {a[3:]} might be a shortcut." if a.startswith("go ") else f"I try to {a}.")
        for a in gridworld.valid_actions(state)
        if a not in good
    ]
    proposal = [("doing" if i == 0 else "todo", s) for i, s in enumerate(phases_left(state))]
    return Decision(
        choices,
        bad,
        subgoal,
        lambda action: _plan_update(conv, _advance(conv, statuses, index, completes(action)), proposal),
    )


# --- game24 ------------------------------------------------------------------------------------
def _compact(move: str) -> str:
    return "".join(move.split("=")[0].split())


def _game24_decision(conv: Conversation, numbers: list[Any], steps: list[str]) -> Decision:
    done = {_compact(s) for s in steps}

    def known(text: str) -> str | None:
        if _compact(text) in done:
            return text
        parsed = game24.parse_move(text, numbers)
        if parsed is None:
            return None
        a, op, b = parsed
        return f"{game24.fmt(numbers[a])} {op} {game24.fmt(numbers[b])}"

    index, target, statuses = _follow(conv, known, lambda move: _compact(move) in done)
    moves = game24.all_moves(numbers)
    keep = set(game24.good_moves(numbers))

    def thought(move: str) -> str:
        after = game24.apply_move(numbers, move) or []
        result, rest = game24.fmt(after[-1]), game24.fmt_all(after)
        if len(after) == 1:
            return f"{move} = {result}, which is 24." if result == "24" else f"{move} = {result} finishes it."
        if move in keep:
            return f"{move} = {result} leaves {rest}, and 24 can still be made from those."
        if not keep:
            return f"24 looks out of reach from here; I try {move} = {result}."
        return f"{move} = {result} leaves {rest}; that may get me to 24."

    if target is not None:
        good = [Choice(target, f"Plan step {index + 1}: {thought(target)}")]
    else:
        good = [Choice(m, thought(m)) for m in moves if m in keep or not keep]
    bad = [Choice(m, thought(m)) for m in moves if m not in keep and m != target]
    subgoal = "find two numbers that make 24" if len(numbers) > 2 else "combine the last two numbers into 24"

    def proposal(action: str) -> PlanItems:
        items, current = [], game24.apply_move(numbers, action)
        if current is None:
            return []
        items.append(("doing", f"{action} = {game24.fmt(current[-1])}"))
        for move in game24.solve24(current) or []:
            current = game24.apply_move(current, move) or current
            items.append(("todo", f"{move} = {game24.fmt(current[-1])}"))
        return items

    def plan(action: str) -> PlanItems | None:
        done_now = target is not None and _compact(action) == _compact(target)
        return _plan_update(conv, _advance(conv, statuses, index, done_now), proposal(action))

    return Decision(good, bad, subgoal, plan)


# --- value judgements --------------------------------------------------------------------------
Verdict = tuple[bool, bool, str, int]  # (success, on the right track, one sentence, score 1-10)


def _assess_grid(previous: gridworld.GridState | None, state: gridworld.GridState, message: str) -> Verdict:
    if state.at_goal:
        return True, True, "I am standing on the goal, so the task is done.", 10
    if "out of steps" in message.lower():
        return False, False, "The step budget ran out before the goal was reached.", 1
    left = gridworld.route(state)
    if left is None:
        return False, False, "I see no way from here to the goal.", 2
    if message.lower().startswith("invalid"):
        return False, False, "The last action was invalid and changed nothing.", 3
    before, now = (_progress(previous) if previous else None), _progress(state)
    if before is not None and now is not None and now >= before:
        return False, False, f"The last move did not bring me closer; {len(left)} actions remain.", 3
    score = max(5, 9 - len(left) // 8)
    return False, True, f"The last move helped; about {len(left)} actions remain.", score


def _assess_game24(numbers: list[Any]) -> Verdict:
    shown = game24.fmt_all(numbers)
    if len(numbers) == 1 and numbers[0] == 24:
        return True, True, "The last number is 24, so the puzzle is solved.", 10
    if len(numbers) == 1:
        return False, False, f"The last number is {shown}, not 24.", 1
    way = game24.solve24(numbers)
    if way is None:
        return False, False, f"{shown} cannot make 24 any more.", 2
    score = 9 if len(numbers) == 2 else 7
    return False, True, f"{shown} can still make 24, starting with {way[0]}.", score


def _judge(conv: Conversation, rng: random.Random, error_rate: float, *, numeric: bool) -> str:
    views = conv.views()
    kind, parsed = views[-1] if views else ("", None)
    if kind == "gridworld":
        before = views[-2][1][0] if len(views) > 1 and views[-2][0] == kind else None
        success, on_track, thought, score = _assess_grid(before, *parsed)
    elif kind == "game24":
        success, on_track, thought, score = _assess_game24(parsed[0])
    else:
        success, on_track, thought, score = False, True, "I cannot read the state well enough to judge it.", 5
    noisy = rng.random() < error_rate
    if numeric:
        if noisy:
            score = max(1, min(10, score + rng.choice((-4, -3, 3, 4))))
        return f"Thoughts: {thought}\nScore: {score}"
    if noisy and not success:
        on_track = not on_track
        thought = "The last step looks promising to me." if on_track else "I doubt the last step helped."
    status = "success" if success else "failure"
    return f"Thoughts: {thought}\nStatus: {status}\nOn the right track: {'yes' if on_track else 'no'}"
