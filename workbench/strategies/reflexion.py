"""reflexion: retry a failed attempt from the start with a lesson learned (Shinn et al., "Reflexion:
Language Agents with Verbal Reinforcement Learning", NeurIPS 2023).

An attempt is a ReAct episode from the root; attempts are sibling branches of the root. When an
attempt fails (a terminal node with reward <= 0, or `attempt_steps` steps without a terminal), the
next step is one reflection call (role `reflector`, purpose `reflect`, recorded on the attempt's last
node) that writes a lesson: what went wrong and what to do instead. The lesson becomes a memory entry
(`lesson:<n>`, provenance agent, in the memory editor), so a person can read, edit, forget or restore
it before the next attempt. The step after that starts the next attempt from the root; its prompt
holds the last `reflections` lessons (Reflexion's memory of Omega = 3 reflections) as they stand
then, edits included (the node records an edited lesson in `used_user_edits`).

The run is finished at a successful terminal, or when an attempt fails and `attempts` attempts were
made. Every node records `info["attempt"]`; a failed attempt's last node records its `reflection`,
the `lesson` entry id and why it ended. All of it is read back from the tree, so resume goes on.

Deviations: the evaluator is the env's reward (Reflexion's binary success signal for decision-making
tasks), not an LLM or heuristic evaluator; the reflection prompt is the one MCTS uses here (the
trajectory, then the final observation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import validate
from .base import Strategy
from .labels import FINAL_OBSERVATION, LESSONS_LABEL, REFLECTION_LABEL
from .roles import strip_label
from .search.common import trajectory_text
from .search.mcts import REFLECT_SYSTEM

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext


class Reflexion(Strategy):
    """Reflexion: after a failed attempt, a reflection writes a lesson and the next attempt starts over."""

    name = "reflexion"
    options = {"attempts": 4, "attempt_steps": 30, "reflections": 3}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        validate.number("reflexion: attempts", self.config["attempts"], minimum=1, integer=True)
        validate.number("reflexion: attempt_steps", self.config["attempt_steps"], minimum=1, integer=True)
        validate.number("reflexion: reflections", self.config["reflections"], minimum=0, integer=True)

    # --- attempts -------------------------------------------------------------------------------
    @staticmethod
    def attempt_of(node: Node) -> int:
        """The attempt `node` belongs to (0 for the root)."""
        return int(node.info.get("attempt") or (0 if node.parent_id is None else 1))

    def attempts_made(self, session: StepContext) -> int:
        return max((self.attempt_of(n) for n in session.tree.children(session.tree.root.id)), default=0)

    def ended(self, node: Node) -> str | None:
        """Why the attempt that reached `node` is over and failed (None: it goes on, or succeeded)."""
        if node.parent_id is None:
            return None
        if node.terminal:
            return None if node.reward > 0 else "failed"
        if node.depth >= int(self.config["attempt_steps"]):
            return f"no success in {node.depth} steps"
        return None

    def finished(self, session: StepContext) -> bool:
        node = session.tree.current
        if node.terminal and node.reward > 0:
            return True
        return self.ended(node) is not None and self.attempts_made(session) >= int(self.config["attempts"])

    # --- prompts --------------------------------------------------------------------------------
    def lessons(self, session: StepContext) -> list[tuple[str, str]]:
        keep = int(self.config["reflections"])
        items = session.memory.lesson_items() if keep else []
        return items[-keep:] if keep else []

    def extra_parts(self, session: StepContext) -> list[str]:
        lessons = self.lessons(session)
        if not lessons:
            return []
        return [f"{LESSONS_LABEL}\n" + "\n".join(f"- {text}" for _, text in lessons)]

    def extra_edits(self, session: StepContext) -> list[str]:
        return [entry for entry, _ in self.lessons(session) if entry in session.memory.edits]

    def reflect_prompt(self, session: StepContext, node: Node) -> list[dict[str, str]]:
        path = session.tree.path(node.id)
        user = f"{trajectory_text(session, path)}\n\n{FINAL_OBSERVATION}\n{node.observation}"
        return [{"role": "system", "content": REFLECT_SYSTEM}, {"role": "user", "content": user}]

    # --- one step -------------------------------------------------------------------------------
    async def astep(self, session: StepContext) -> Node:
        node = session.tree.current
        why = self.ended(node)
        if why is not None and "reflection" not in node.info:
            return await self._reflect(session, node, why)
        if why is not None or node.parent_id is None:
            root = session.tree.root
            if session.plan.to_list() != root.plan:  # a new attempt starts with the plan it started with
                session.plan.replace(root.plan, provenance="agent")
            return await self._attempt_step(session, root, self.attempts_made(session) + 1)
        return await self._attempt_step(session, node, self.attempt_of(node))

    async def _reflect(self, session: StepContext, node: Node, why: str) -> Node:
        call = await session.call_model(
            self.reflect_prompt(session, node), node, purpose="reflect", role="reflector"
        )
        text = strip_label(call.response, REFLECTION_LABEL) or call.response.strip() or "(no lesson)"
        session.tree.record_call(node, call)
        lesson = session.memory.add_lesson(text, node_id=node.id)
        info = {**node.info, "reflection": text, "lesson": lesson, "attempt_end": why}
        return session.update_node(node, info=info, llm_calls=node.llm_calls, memory=session.memory.state())

    async def _attempt_step(self, session: StepContext, parent: Node, attempt: int) -> Node:
        info: dict[str, Any] = {"attempt": attempt}
        lessons = self.lessons(session)
        if lessons and parent.parent_id is None:
            info["lessons"] = [entry for entry, _ in lessons]
        return await self.act(session, parent, role="actor", info=info)
