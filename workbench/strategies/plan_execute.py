"""plan-execute: a planner writes the plan, an executor works through its items, a replanner revises.

After Plan-and-Solve prompting (Wang et al., ACL 2023) made into an agent loop, as in LangChain's
plan-and-execute agent and BabyAGI. One step makes one node:

1. Plan, only when needed. The first step asks the planner (role `planner`, purpose `plan`) for a
   numbered plan, which becomes the session's editable `Plan` (provenance agent). A plan the user
   wrote before the first step is used as it is. The replanner (role `replanner`) is asked instead
   when the step before failed: a malformed answer, an action the env called invalid, `item_steps`
   steps on one item without finishing it, or no open item left while the task is not done; at most
   `replans` times on a path. It answers the steps still to do; items already done are kept.
2. Execute: the executor (role `executor`, purpose `act`) gets the ReAct prompt with the plan and is
   told to work on the current item (the first one marked doing, else the first to do), and to mark
   it [x] in a `Plan:` block when it is done. One action, one env step, as in ReAct.

The node holds the step's calls (planner first), `info["plan_item"]` ({"position", "text"}: the item
the executor worked on), `info["plan_version"]` (how many plans were written on the path so far),
`info["planned"]` ("plan" or "replan" when one was written in this step, with `replan_reason`) and
`info["roles"]`. The executor's prompt is built from the session's `Plan` at every step, so a user's
edit (reword, reorder, tick, delete) redirects the very next step, which records it in
`used_user_edits`. Everything is read back from the tree, so a resumed run goes on the same way.

Deviations: replanning happens after failures only (LangChain's replanner runs after every step);
the executor is one ReAct call per step, not an inner agent run per item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import validate
from .base import Strategy
from .labels import CURRENT_ITEM, EXECUTOR_ROLE, PLANNER_ROLE, REPLANNER_ROLE
from .parsing import parse_react
from .roles import env_instructions, role_prompt

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext

PLAN_FORMAT = (
    "Answer in exactly this format:\n"
    "Thought: <one sentence on how to approach it>\n"
    "Plan:\n"
    "1. [ ] <first step>\n"
    "2. [ ] <next step>"
)
OPEN = ("doing", "todo")


def failure_of(node: Node) -> str | None:
    """Why the step that made `node` failed (a malformed answer, an invalid action), or None."""
    if node.parent_id is None:
        return None
    if node.status == "error":
        return f"the last answer could not be used: {(node.error or node.observation)[:200]}"
    for line in str(node.observation or "").splitlines():
        if "invalid action" in line.lower():
            return f"the last action failed: {line.strip()[:200]}"
    return None


def current_item(plan: Any) -> int | None:
    """The 1-based position of the item the executor works on: the first doing, else the first to do."""
    statuses = [item.status for item in plan]
    for status in OPEN:
        if status in statuses:
            return statuses.index(status) + 1
    return None


class PlanExecute(Strategy):
    """plan-and-execute: a planner writes the plan, an executor works through its items, a replanner revises."""

    name = "plan-execute"
    options = {"item_steps": 10, "replans": 3}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        validate.number("plan-execute: item_steps", self.config["item_steps"], minimum=1, integer=True)
        validate.number("plan-execute: replans", self.config["replans"], minimum=0, integer=True)

    # --- what the path says ---------------------------------------------------------------------
    @staticmethod
    def history(path: list[Node]) -> tuple[int, int]:
        """(plans written on the path, of which replans)."""
        version = replans = 0
        for node in path[1:]:
            planned = node.info.get("planned")
            if planned:
                version += 1
                replans += planned == "replan"
        return version, replans

    @staticmethod
    def steps_on(path: list[Node], version: int, position: int, text: str) -> int:
        """Steps in a row at the end of `path` that worked on item `position` (`text`) of plan `version`."""
        count = 0
        for node in reversed(path[1:]):
            item = node.info.get("plan_item") or {}
            if node.info.get("plan_version") != version or item.get("position") != position:
                break
            if item.get("text") != text:
                break
            count += 1
        return count

    def replan_reason(self, session: StepContext, path: list[Node], version: int) -> str | None:
        """Why the plan needs revising before this step (None: it does not)."""
        failed = failure_of(path[-1])
        if failed:
            return failed
        if not len(session.plan):
            return "the plan is empty"
        position = current_item(session.plan)
        if position is None:
            return "every plan item is done or skipped, but the task is not finished"
        text = session.plan[position].text
        taken = self.steps_on(path, version, position, text)
        if taken >= int(self.config["item_steps"]):
            return f"plan item {position} ({text}) took {taken} steps without being done"
        return None

    # --- prompts --------------------------------------------------------------------------------
    def planner_prompt(self, session: StepContext, path: list[Node], reason: str | None) -> Any:
        parts = [
            REPLANNER_ROLE if reason else PLANNER_ROLE,
            f"Task: {session.tree.task}",
            env_instructions(session),
        ]
        if reason:
            done = [item.text for item in session.plan if item.status == "done"]
            parts.append("The plan so far:\n" + (session.plan.render() or "(empty)"))
            parts.append(f"What went wrong: {reason}.")
            if done:
                parts.append("Done already (kept): " + "; ".join(done))
            parts.append(
                "Write the steps still to do, from the current state: 1 to 6 numbered steps, each a "
                "subgoal that a few actions reach.\n" + PLAN_FORMAT
            )
        else:
            parts.append(
                "Write a short plan for the task, from the current state: 2 to 6 numbered steps, each a "
                "subgoal that a few actions reach. Another model carries out the steps one by one.\n"
                + PLAN_FORMAT
            )
        system = "\n\n".join(p for p in parts if p)
        return role_prompt(self, session, path, system, "replanner" if reason else "planner")

    def system_prompt(self, session: StepContext) -> str:
        prompt = super().system_prompt(session)
        position = current_item(session.plan)
        if position is None:
            return prompt
        return (
            f"{prompt}\n\n{EXECUTOR_ROLE} {CURRENT_ITEM} {position}: {session.plan[position].text}\n"
            "Work on this item only. When it is done, mark it [x] in a `Plan:` block after your Action "
            "(keep the other items as they are)."
        )

    # --- one step -------------------------------------------------------------------------------
    async def astep(self, session: StepContext) -> Node:
        parent = session.tree.current
        path = session.tree.path(copy=False)
        version, replans = self.history(path)
        info: dict[str, Any] = {}
        calls = []
        reason = None
        if version == 0 and not len(session.plan):
            planned = "plan"
        else:
            reason = self.replan_reason(session, path, version)
            planned = "replan" if reason and replans < int(self.config["replans"]) else None
        if planned:
            call = await session.call_model(
                self.planner_prompt(session, path, reason if planned == "replan" else None),
                parent,
                purpose="plan",
                role="planner" if planned == "plan" else "replanner",
            )
            calls.append(call)
            version += 1
            info["planned"] = planned
            if reason and planned == "replan":
                info["replan_reason"] = reason
            items = parse_react(call.response).plan
            if items:
                kept = (
                    [i.to_dict() for i in session.plan if i.status == "done"] if planned == "replan" else []
                )
                fresh = [{"text": i["text"], "status": "todo", "provenance": "agent"} for i in items]
                session.plan.replace(kept + fresh, provenance="agent")
            else:
                info["plan_error"] = "the planner's answer had no numbered plan; the plan stays as it was"
        position = current_item(session.plan)
        if position is not None:
            if session.plan[position].status == "todo":
                session.plan.set_status(position, "doing", provenance="agent")
            info["plan_item"] = {"position": position, "text": session.plan[position].text}
        info["plan_version"] = version
        info["roles"] = [*(c.role for c in calls), "executor"]
        return await self.act(session, parent, role="executor", calls=calls, info=info)
