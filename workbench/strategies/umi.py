"""umi: alpha-UMi's planner, caller and summarizer (Shen et al., "Small LLMs Are Weak Tool Learners:
A Multi-LLM Agent", EMNLP 2024), each role with its own model.

    Session(strategy="umi", models={"planner": "openai/gpt-4o", "caller": "ollama/qwen2.5",
                                    "summarizer": "openai/gpt-4o-mini"})

A role left out of `models` (or `models=None`) uses the session's model. A model is a litellm model
string, a `workbench.Model`, or a stored `Model.config()` dict; the run keeps the strings and configs
(no keys), so a resumed run calls the same models.

One step makes one node. The planner (role `planner`, purpose `plan`) reads the history and writes a
rationale ending in a routing line, which `split_route` reads as the official code does: `Next: give
up.` anywhere wins, then `Next: conclusion.` (summarizer), else the caller (with or without `Next:
caller.`); the rationale is cut after the routing line. Then:

- caller: the caller (role `caller`, purpose `act`) gets the rationale and answers one action in the
  ReAct (or tool) format, which runs in the env as a ReAct step would;
- summarizer: the summarizer (role `summarizer`, purpose `summary`) writes the final answer; the node
  is terminal, with the reward of the state it concludes (0 when the episode had not ended);
- give up: a terminal node with reward 0 and the rationale, no further call.

The node holds the calls (planner first), `info["route"]`, `info["role"]` (who made the node) and the
rationale; each call carries its `role`, so the usage tab splits tokens by role. The run is finished
at a summarizer or give-up node.

Deviations: the paper fine-tunes three small models on ToolBench; here they are whatever models you
give. When the episode is over and the planner still routes to the caller, the step goes to the
summarizer instead (`info["rerouted"]`): the env takes no more actions. The routing markers are read
case-insensitively, and `Next: summarizer.` counts as `Next: conclusion.`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .base import Strategy
from .labels import FINAL_ANSWER_LABEL, ROUTE_LABEL, UMI_CALLER_ROLE, UMI_PLANNER_ROLE, UMI_SUMMARIZER_ROLE
from .parsing import Parsed
from .roles import ending, env_instructions, role_prompt, strip_label

if TYPE_CHECKING:
    from ..core.tree import Node
    from .context import StepContext

ROLES = ("planner", "caller", "summarizer")
ROUTES = ("caller", "summarizer", "give up")
_MARKS = (
    ("give up", re.compile(r"next\s*:\s*give\s*up\.?", re.I)),
    ("summarizer", re.compile(r"next\s*:\s*(?:conclusion|summari[sz]er)\.?", re.I)),
    ("caller", re.compile(r"next\s*:\s*caller\.?", re.I)),
)
ROUTE_HELP = f"""Each turn, think about where things stand and decide who acts next. Write your reasoning in one or
two sentences, then exactly one routing line:
- `{ROUTE_LABEL} caller.` to have the caller take the next action in the environment;
- `{ROUTE_LABEL} conclusion.` when the task is done: the summarizer then writes the final answer;
- `{ROUTE_LABEL} give up.` when the task cannot be done any more.
Answer in exactly this format:
Thought: <your reasoning>
{ROUTE_LABEL} <caller | conclusion | give up>."""


def split_route(text: str) -> tuple[str, str]:
    """(rationale, route) of a planner answer, by alpha-UMi's rule: give up, then conclusion
    (the summarizer), else the caller. The rationale ends with the routing line it found."""
    text = str(text or "")
    for route, pattern in _MARKS:
        found = pattern.search(text)
        if found:
            return text[: found.end()].strip(), route
    return text.strip(), "caller"


class UMi(Strategy):
    """alpha-UMi: a planner routes each step to a caller (acts), a summarizer (answers) or gives up."""

    name = "umi"
    options = {"models": None}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        given = self.config["models"]
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise ConfigError(
                f"umi: models must be a dict of role -> model ({', '.join(ROLES)}), not {given!r}"
            )
        unknown = sorted(str(k) for k in given if k not in ROLES)
        if unknown:
            raise ConfigError(
                f"umi: models has no role {', '.join(unknown)}; valid roles: {', '.join(ROLES)}"
            )
        self.models: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        for role, model in given.items():
            if model is None:
                continue
            if isinstance(model, str) and model.strip():
                stored[role] = self.models[role] = model
            elif isinstance(model, dict) and isinstance(model.get("name"), str):
                stored[role] = self.models[role] = dict(model)
            elif callable(getattr(model, "acomplete", None)):
                self.models[role] = model
                config = model.config() if callable(getattr(model, "config", None)) else None
                stored[role] = config if isinstance(config, dict) else str(getattr(model, "name", role))
            else:
                raise ConfigError(
                    f"umi: the {role} model must be a litellm model string or a workbench.Model, not {model!r}"
                )
        self.config["models"] = stored or None

    # --- prompts --------------------------------------------------------------------------------
    def _system(self, session: StepContext, role_line: str, *rest: str) -> str:
        parts = [role_line, f"Task: {session.tree.task}", env_instructions(session), *rest]
        hint = session.memory.system_hint()
        if hint:
            parts.append(hint)
        return "\n\n".join(p for p in parts if p)

    def planner_prompt(self, session: StepContext, path: list[Node]) -> Any:
        system = self._system(session, UMI_PLANNER_ROLE, ROUTE_HELP)
        return role_prompt(self, session, path, system, "planner")

    def caller_prompt(self, session: StepContext, path: list[Node], rationale: str) -> Any:
        system = self._system(
            session,
            UMI_CALLER_ROLE,
            "Take the next action the planner asks for, one action per step.",
            self.format_help(session),
        )
        return role_prompt(self, session, path, system, "caller", f"The planner's rationale:\n{rationale}")

    def summarizer_prompt(self, session: StepContext, path: list[Node], rationale: str) -> Any:
        system = self._system(
            session,
            UMI_SUMMARIZER_ROLE,
            "The planner decided that the task is finished. Write the final answer for the user in one or "
            f"two sentences: what was reached, and how. Start your answer with `{FINAL_ANSWER_LABEL}`.",
        )
        return role_prompt(
            self, session, path, system, "summarizer", f"The planner's rationale:\n{rationale}"
        )

    # --- one step -------------------------------------------------------------------------------
    def finished(self, session: StepContext) -> bool:
        node = session.tree.current
        return node.terminal and node.info.get("route") in ("summarizer", "give up")

    async def astep(self, session: StepContext) -> Node:
        parent = session.tree.current
        path = session.tree.path(copy=False)
        plan_call = await session.call_model(
            self.planner_prompt(session, path),
            parent,
            purpose="plan",
            model=self.models.get("planner"),
            role="planner",
        )
        used_edits = session.take_used_edits()
        rationale, route = split_route(plan_call.response)
        info: dict[str, Any] = {"route": route, "rationale": rationale}
        if route == "caller" and parent.terminal:
            route = info["route"] = "summarizer"
            info["rerouted"] = "the episode is over, so the summarizer answers instead of the caller"
        if route == "caller":
            info["role"] = "caller"
            return await self.act(
                session,
                parent,
                prompt=self.caller_prompt(session, path, rationale),
                role="caller",
                model=self.models.get("caller"),
                calls=[plan_call],
                used_edits=used_edits,
                info=info,
            )
        if route == "summarizer":
            call = await session.call_model(
                self.summarizer_prompt(session, path, rationale),
                parent,
                purpose="summary",
                model=self.models.get("summarizer"),
                role="summarizer",
            )
            answer = strip_label(call.response, FINAL_ANSWER_LABEL)
            info.update(role="summarizer", final_answer=answer)
            reward = parent.reward if parent.terminal else 0.0
            step = ending(f"{FINAL_ANSWER_LABEL} {answer}", reward, "answer")
            parsed = Parsed(thought=rationale, action="final answer")
            return await session.aexecute(
                parent, parsed, [plan_call, call], used_edits=used_edits, info=info, step=step
            )
        info["role"] = "planner"
        step = ending(f"The planner gave up. {rationale}", 0.0, "give-up")
        parsed = Parsed(thought=rationale, action="give up")
        return await session.aexecute(
            parent, parsed, [plan_call], used_edits=used_edits, info=info, step=step
        )
