"""Searches on game24 with the simulated demo model (offline, deterministic given the seeds)."""

from __future__ import annotations

import pytest

from workbench.core.session import Session
from workbench.envs.game24 import Game24
from workbench.llm.model import Model

SEEDS = range(8)


def demo(seed: int) -> Model:
    return Model("workbench/demo", seed=seed, error_rate=0.3)


def replay_reward(seed: int, actions: list[str]) -> float:
    env = Game24(seed=seed)
    env.reset(seed=seed)
    reward = 0.0
    for action in actions:
        _, reward, *_ = env.step(action)
    return reward


def test_best_first_solves_a_puzzle_that_greedy_react_fails():
    rescued = []
    for seed in SEEDS:
        react = Session(env="game24", model=demo(seed), seed=seed)
        react.run(max_steps=10)
        if react.tree.outcome == "success":
            continue
        search = Session(
            env="game24",
            model=demo(seed),
            seed=seed,
            strategy="best-first",
            max_expansions=16,
            n_samples=10,
            value_samples=10,
        )
        search.run()
        if search.tree.outcome == "success":
            actions = [n.action for n in search.path()[1:]]
            assert replay_reward(seed, actions) == 1.0  # the committed path really solves it
            rescued.append(seed)
            break
    assert rescued, "best-first solved none of the puzzles greedy ReAct failed"


@pytest.mark.parametrize("strategy", ["bfs", "dfs", "best-first", "astar", "mcts"])
def test_every_search_runs_on_game24_and_commits(strategy):
    s = Session(
        env="game24",
        model=demo(1),
        seed=1,
        strategy=strategy,
        max_expansions=4,
        n_samples=6,
        **({"value_samples": 3} if strategy != "astar" else {}),
    )
    nodes = s.run()
    state = s.strategy.state(s)
    assert s.done and 1 <= len(nodes) == state["expansions"] <= 4
    assert state["committed"] == s.cursor.id and s.tree.outcome in ("success", "failure")


@pytest.mark.parametrize("strategy", ["best-first", "bfs", "astar", "mcts"])
@pytest.mark.parametrize("budget", [500, 5000])
def test_a_token_budget_is_never_exceeded_by_more_than_one_call(strategy, budget):
    # the repro of issue 10.3: best-first with max_tokens=500 used to spend ~20,000 tokens, as the
    # budget was checked only between expansions (one expansion is up to 40 calls)
    s = Session(env="game24", model=demo(3), seed=3, strategy=strategy, max_tokens=budget)
    s.run()
    calls = [c for n in s.tree.nodes.values() for c in n.llm_calls]
    reason = s.strategy.state(s)["reason"]
    assert s.done and reason in ("max_tokens", "threshold")  # a search may also solve it in budget
    assert s.tree.tokens == sum(c.tokens for c in calls)  # every call made is on the tree
    assert s.tree.tokens <= budget + max(c.tokens for c in calls)
    if reason == "max_tokens":
        assert s.tree.tokens >= budget and s.tree.outcome == "failure"
    assert budget > 500 or reason == "max_tokens"
