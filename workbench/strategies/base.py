"""Strategies decide what one step is. Linear ones (ReAct) grow one node from the cursor;
search strategies (later) grow and score many. All of them grow the same run tree through the
session's engine methods, so every strategy can be stepped, paused, rewound and stored alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..registry import build
from .parsing import FORMAT_HELP

if TYPE_CHECKING:
    from ..core.session import Session
    from ..core.tree import Node

PLAN_HELP = (
    "You may revise the plan: after your Action, write a line `Plan:` followed by numbered items, "
    "each marked [ ] to do, [>] doing, [x] done or [-] skipped."
)


class Strategy:
    """Base class. Subclasses implement `astep`; `options` lists accepted keyword options."""

    name = "base"
    options: dict[str, Any] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            valid = ", ".join(sorted(self.options)) or "none"
            raise ConfigError(f"{self.name} does not take {', '.join(unknown)}; valid options: {valid}")
        self.config = {**self.options, **options}

    def system_prompt(self, session: Session) -> str:
        parts = [
            "You are an agent acting in a text environment, one action per step.",
            f"Task: {session.tree.task}",
        ]
        instructions = getattr(session.env, "instructions", "")
        if instructions:
            parts.append(instructions.strip())
        parts.append(FORMAT_HELP)
        hint = session.memory.system_hint()
        if hint:
            parts.append(hint)
        parts.append(PLAN_HELP)
        if len(session.plan):
            parts.append("Plan:\n" + session.plan.render())
        return "\n\n".join(parts)

    def messages(self, session: Session, path: list[Node]) -> list[dict[str, str]]:
        """The prompt for a step from `path[-1]`."""
        history = session.memory.render(session.tree, path)
        return [{"role": "system", "content": self.system_prompt(session)}, *history]

    async def astep(self, session: Session) -> Node:
        raise NotImplementedError

    def finished(self, session: Session) -> bool:
        """Whether another step makes sense (linear strategies: the cursor is not terminal)."""
        return session.tree.current.terminal


STRATEGIES: dict[str, str] = {
    "react": "workbench.strategies.react:ReAct",
    "bfs": "workbench.strategies.search.tree_search:BFS",
    "dfs": "workbench.strategies.search.tree_search:DFS",
    "best-first": "workbench.strategies.search.tree_search:BestFirst",
    "astar": "workbench.strategies.search.astar:AStar",
    "mcts": "workbench.strategies.search.mcts:MCTS",
}


def strategy_names() -> list[str]:
    return list(STRATEGIES)


def make_strategy(spec: str | Strategy, **options: Any) -> Strategy:
    if isinstance(spec, Strategy):
        return spec
    return build("strategy", STRATEGIES, spec, **options)
