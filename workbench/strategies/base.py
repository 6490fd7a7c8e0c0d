"""Strategies decide what one step is. Linear ones (ReAct) grow one node from the cursor;
search strategies (later) grow and score many. All of them grow the same run tree through the
session's engine methods, so every strategy can be stepped, paused, rewound and stored alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.prompt import Prompt
from ..errors import ConfigError
from ..registry import build
from .parsing import FORMAT_HELP, TOOL_FORMAT_HELP, parse_answer

if TYPE_CHECKING:
    from ..core.tree import LLMCall, Node
    from .context import StepContext

MAX_LISTED_ACTIONS = 30
NATIVE_TOOL_HELP = (
    "Act by calling the tools you are given (several in one answer when they do not depend on each "
    "other). Before the calls, write one line: Thought: <one or two sentences of reasoning>."
)
PLAN_HELP = (
    "You may revise the plan: after your Action, write a line `Plan:` followed by numbered items, "
    "each marked [ ] to do, [>] doing, [x] done or [-] skipped."
)


class Strategy:
    """Base class. Subclasses implement `astep`; `options` lists accepted keyword options."""

    name = "base"
    options: dict[str, Any] = {}
    # values an option takes besides those of its default's type (`rounds`: "terminal"), for the
    # typed `--strategy-option KEY=VALUE` (workbench.options)
    also_takes: dict[str, tuple[Any, ...]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(sorted(self.options)) or "none"
            raise ConfigError(f"{self.name} does not take {', '.join(unknown)}; valid options: {valid}")
        self.config = {**self.options, **options}

    def system_prompt(self, session: StepContext) -> str:
        parts = [
            "You are an agent acting in a text environment, one action per step.",
            f"Task: {session.tree.task}",
        ]
        instructions = getattr(session.env, "instructions", "")
        if instructions:
            parts.append(instructions.strip())
        parts.append(self.format_help(session))
        hint = session.memory.system_hint()
        if hint:
            parts.append(hint)
        parts += self.extra_parts(session)
        parts.append(PLAN_HELP)
        if len(session.plan):
            parts.append("Plan:\n" + session.plan.render())
        return "\n\n".join(parts)

    def extra_parts(self, session: StepContext) -> list[str]:
        """A strategy's own paragraphs of the system prompt (they go before the plan's)."""
        return []

    def extra_edits(self, session: StepContext) -> list[str]:
        """The user edits `extra_parts` shows (memory entry ids), recorded as used by `act`."""
        return []

    def format_help(self, session: StepContext) -> str:
        """How to answer: the ReAct format, plus the tools in the text or native tool format."""
        mode = session.tool_mode()
        if mode is None:
            return FORMAT_HELP
        tools = getattr(session.env, "tools", {}) or {}
        has_env = getattr(session.env, "inner", None) is not None
        if mode == "native":
            other = f"\n\nFor an action in the environment instead, answer:\n{FORMAT_HELP}" if has_env else ""
            return NATIVE_TOOL_HELP + other
        names = _allowed(session)
        offered = [t for n, t in tools.items() if names is None or n in names or n == "final_answer"]
        listing = "\n".join(f"- {t.signature_text()}: {t.description}" for t in offered)
        other = " Any other action goes to the environment as it is." if has_env else ""
        return f"Tools (name one in Action and give its arguments in Action Input):\n{listing}\n{other}\n\n{TOOL_FORMAT_HELP}".replace(
            "\n\n\n", "\n\n"
        )

    def messages(self, session: StepContext, path: list[Node]) -> Prompt:
        """The prompt for a step from `path[-1]`: system prompt, history, and the valid actions now.

        A `Prompt` that shares the history's messages with earlier calls (see `core/prompt.py`); the
        system and valid-actions messages are reused while their text stays the same."""
        system = with_recall(self.system_prompt(session), session, path[-1])
        valid = valid_actions_note(session, path[-1])
        session.memory.set_frame([system, valid])
        history = session.memory.render(session.tree, path)
        return Prompt.of(
            self._message("system", "system", system),
            history,
            self._message("valid", "user", valid) if valid else [],
        )

    def _message(self, slot: str, role: str, content: str) -> list[dict[str, Any]]:
        """[{"role": role, "content": content}], the same list as last time for the same text."""
        cache = self.__dict__.setdefault("_last_messages", {})
        hit = cache.get(slot)
        if hit is None or hit[0]["content"] != content or hit[0]["role"] != role:
            hit = cache[slot] = [{"role": role, "content": content}]
        return hit

    def tools_for(self, session: StepContext) -> list[dict[str, Any]] | None:
        """The `tools=` of a model call (native tool calling), or None. Tools a behaviour spec forbids
        as the next action are not offered (the text format's tool list leaves them out too)."""
        if session.tool_mode() != "native":
            return None
        specs = session.env.tool_specs()
        names = _allowed(session)
        if names is None:
            return specs
        return [s for s in specs if s["function"]["name"] in names or s["function"]["name"] == "final_answer"]

    async def act(
        self,
        session: StepContext,
        parent: Node | None = None,
        *,
        prompt: Any = None,
        role: str = "",
        model: Any = None,
        calls: Sequence[LLMCall] = (),
        used_edits: list[str] | None = None,
        info: dict[str, Any] | None = None,
    ) -> Node:
        """One ReAct step from `parent` (default: the cursor): the prompt, one model call (offering
        the tools when the session calls them natively), the answer parsed and run as a child node.

        The hooks of strategies whose step has several roles: `prompt` replaces `messages` of the
        path to `parent`; `role` and `model` go to `call_model`; `calls` (the step's earlier calls)
        are recorded on the node before this one; `used_edits` are edits taken already (default: the
        ones the prompt just rendered used, and `extra_edits`); `info` is attached to the node."""
        parent = session.tree.current if parent is None else parent
        if prompt is None:
            prompt = self.messages(session, session.tree.path(parent.id, copy=False))
        if used_edits is None:
            used_edits = session.take_used_edits() + self.extra_edits(session)
        tools = self.tools_for(session)
        call = await session.call_model(
            prompt, parent, model=model, role=role, **({"tools": tools} if tools else {})
        )
        parsed = parse_answer(call, getattr(session.env, "tools", None))
        return await session.aexecute(parent, parsed, [*calls, call], used_edits=used_edits, info=info)

    async def astep(self, session: StepContext) -> Node:
        raise NotImplementedError

    def finished(self, session: StepContext) -> bool:
        """Whether another step makes sense (linear strategies: the cursor is not terminal)."""
        return session.tree.current.terminal

    def rewound(self, session: StepContext, node: Node) -> None:
        """Called after the user moved the cursor to `node` (`Session.rewind`); searches start anew."""


def _allowed(session: StepContext) -> list[str] | None:
    """The tool names no behaviour spec forbids as the next action (`allowed_tools`, see
    workbench.core.monitor), or None for no restriction."""
    allowed = getattr(session, "allowed_tools", None)
    return allowed() if callable(allowed) else None


def with_recall(system: str, session: StepContext, node: Node) -> str:
    """The system prompt with the examples the session's recall gives for `node` (trusted only)."""
    note = session.recall_note(node)
    return f"{system}\n\n{note}" if note else system


def valid_actions_note(session: StepContext, node: Node) -> str:
    """`Valid actions now: ...` when the env lists them for `node`'s state (at most 30 shown)."""
    actions = session.valid_actions(node)
    if not actions:
        return ""
    shown = ", ".join(actions[:MAX_LISTED_ACTIONS])
    more = f" ... and {len(actions) - MAX_LISTED_ACTIONS} more" if len(actions) > MAX_LISTED_ACTIONS else ""
    return f"Valid actions now: {shown}{more}"


STRATEGIES: dict[str, str] = {
    "react": "workbench.strategies.react:ReAct",
    "codeact": "workbench.strategies.codeact:CodeAct",
    "bfs": "workbench.strategies.search.tree_search:BFS",
    "dfs": "workbench.strategies.search.tree_search:DFS",
    "best-first": "workbench.strategies.search.tree_search:BestFirst",
    "astar": "workbench.strategies.search.astar:AStar",
    "mcts": "workbench.strategies.search.mcts:MCTS",
    "plan-execute": "workbench.strategies.plan_execute:PlanExecute",
    "umi": "workbench.strategies.umi:UMi",
    "reflexion": "workbench.strategies.reflexion:Reflexion",
}


def strategy_names() -> list[str]:
    return list(STRATEGIES)


def make_strategy(spec: str | Strategy, **options: Any) -> Strategy:
    if isinstance(spec, Strategy):
        return spec
    return build("strategy", STRATEGIES, spec, **options)
