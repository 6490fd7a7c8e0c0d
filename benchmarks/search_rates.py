"""Solve rates on game24 per strategy at equal model-call budgets, with the simulated demo model.

    python benchmarks/search_rates.py [--seeds 12 ... | --first 12 --count 20] [--budgets 20 40 80 160]
                                      [--mode calls|expansions] [--error-rate 0.3]
                                      [--strategies react plan-execute umi reflexion
                                                    bfs dfs best-first astar mcts
                                                    astar:sampled mcts:count
                                                    best-first:rounds bfs:rounds]

Each seed picks a built-in puzzle (`Game24(seed=s)`; seeds 12-23 are the medium puzzles, 24-35 the
hard ones) and seeds the demo model, which errs at `--error-rate` (mostly a valid but wrong move).

`--mode calls` (default): every strategy gets the same budget of MODEL CALLS (action samples,
value judgements, imaginations, reflections alike). The model refuses every call after the
budget (a recorded error, as a provider would), the run steps until it is finished or the budget
is used, and a puzzle counts as solved when the tree holds a successful terminal (every search
commits that one first). ReAct steps greedily until done or out of calls; so do the strategies with
roles (`plan-execute`: planner + executor calls, `umi`: planner + caller or summarizer calls,
`reflexion`: actor calls and one reflection per failed attempt, up to 4 attempts). `--mode
expansions` gives the searches `max_expansions` = the budget instead (the earlier table; ReAct: up
to 10 steps; the strategies with roles: the budget in steps).

Variants after a colon are the settings the strategies had before issue 10 (for before/after
rows): `astar:sampled` proposes its candidates from k sampled answers (one call each) instead of
one list call; `mcts:count` rolls out with one sample a step, no scoring, and backs up the leaf's
LM value at the depth cap instead of LATS's penalty. `best-first:rounds` and `bfs:rounds` run Koh et
al.'s outer loop (`rounds="terminal"`: search again from a committed state until a terminal one is
committed); the plain rows are one round, the default and the only behaviour before issue 10.
`reflexion:no-lessons` retries the same way but shows no lesson in the prompt (`reflections=0`), to
tell what the lessons add to the retries.

Cells: solved / puzzles, mean model calls per puzzle, mean calls per expansion. Everything is
deterministic: the same command prints the same table.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from workbench.core.session import Session
from workbench.errors import ModelError
from workbench.llm.model import Model

SETTINGS: dict[str, dict[str, Any]] = {
    "bfs": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "dfs": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "best-first": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "astar": {"branching": 5, "n_samples": 10},
    "mcts": {"branching": 5, "n_samples": 5, "value_samples": 1},
}
VARIANTS: dict[str, dict[str, Any]] = {
    "astar:sampled": {"proposals": "sample"},
    "mcts:count": {"rollout_select": "count", "rollout_samples": 1, "depth_penalty": None},
    "best-first:rounds": {"rounds": "terminal"},
    "bfs:rounds": {"rounds": "terminal"},
    "reflexion:no-lessons": {"reflections": 0},  # retries from the root, lessons kept out of the prompt
}
LINEAR: dict[str, dict[str, Any]] = {"plan-execute": {}, "umi": {}, "reflexion": {}}  # besides react
UNLIMITED = 10_000  # max_expansions when the call budget is what stops a search


class CappedModel(Model):
    """The demo model, refusing every call after `cap` calls (None: no cap)."""

    def __init__(self, *args: Any, cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cap, self.used = cap, 0

    async def acomplete(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        if self.cap is not None and self.used >= self.cap:
            raise ModelError(f"call budget of {self.cap} used up")
        self.used += 1
        return await super().acomplete(messages, **kwargs)


def options_for(strategy: str) -> tuple[str, dict[str, Any]]:
    base, _, _ = strategy.partition(":")
    return base, {**SETTINGS.get(base, {}), **LINEAR.get(base, {}), **VARIANTS.get(strategy, {})}


def solve(strategy: str, seed: int, budget: int, error_rate: float, mode: str) -> tuple[bool, int, float]:
    """(solved, model calls, calls per expansion) for one puzzle."""
    cap = budget if mode == "calls" else None
    model = CappedModel("workbench/demo", seed=seed, error_rate=error_rate, cap=cap)
    base, options = options_for(strategy)
    if base == "react":
        session = Session(env="game24", model=model, seed=seed)
        limit = 10 if mode == "expansions" else UNLIMITED
    elif base in LINEAR:
        session = Session(env="game24", model=model, seed=seed, strategy=base, **options)
        limit = budget if mode == "expansions" else UNLIMITED
    else:
        expansions = budget if mode == "expansions" else UNLIMITED
        session = Session(
            env="game24", model=model, seed=seed, strategy=base, max_expansions=expansions, **options
        )
        limit = UNLIMITED
    steps = 0
    while not session.done and steps < limit and (cap is None or model.used < cap):
        before = model.used
        session.step()
        steps += 1
        if model.used == before:  # nothing left to call the model for
            break
    nodes = session.tree.nodes.values()
    calls = model.used  # every call answered (a batch cut short by the cap keeps no node for some)
    solved = any(n.terminal and n.executed and n.reward > 0 for n in nodes)
    expansions = int(session.tree.root.info.get("search", {}).get("total", 0)) or steps
    return solved, calls, calls / max(1, expansions)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seeds", type=int, nargs="*", help="explicit seeds (default: --first .. --first+count-1)"
    )
    parser.add_argument("--first", type=int, default=12)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--mode", choices=("calls", "expansions"), default="calls")
    parser.add_argument("--budgets", type=int, nargs="+", default=None)
    parser.add_argument("--error-rate", type=float, default=0.3)
    parser.add_argument("--strategies", nargs="+", default=["react", *LINEAR, *SETTINGS, *VARIANTS])
    args = parser.parse_args()
    valid = ["react", *LINEAR, *SETTINGS, *VARIANTS]
    for name in args.strategies:
        if name not in valid and options_for(name)[0] not in SETTINGS:
            parser.error(f"unknown strategy {name!r}; valid: {', '.join(valid)}")
    budgets = args.budgets or ([20, 40, 80, 160] if args.mode == "calls" else [8, 16, 32])
    seeds = args.seeds or list(range(args.first, args.first + args.count))
    print(
        f"game24, demo model (simulated), error_rate={args.error_rate}, {len(seeds)} puzzles: seeds {seeds}"
    )
    unit = "calls" if args.mode == "calls" else "expansions"
    print(f"budget: model {unit} per puzzle")
    header = f"{'strategy':<18}" + "".join(f"{f'{b} {unit}':>24}" for b in budgets) + f"{'seconds':>9}"
    print(header)
    print("-" * len(header))
    for strategy in args.strategies:
        started = time.perf_counter()
        cells = []
        for budget in budgets:
            results = [solve(strategy, seed, budget, args.error_rate, args.mode) for seed in seeds]
            solved = sum(ok for ok, _, _ in results)
            calls = sum(n for _, n, _ in results) / len(results)
            per = sum(p for _, _, p in results) / len(results)
            cells.append(f"{solved:>3}/{len(seeds)} {calls:>6.1f} c {per:>5.1f} c/x")
        elapsed = time.perf_counter() - started
        print(f"{strategy:<18}" + "".join(f"{c:>24}" for c in cells) + f"{elapsed:>9.1f}")
    print(
        "\ncells: puzzles solved / puzzles, mean model calls per puzzle (c), mean calls per expansion (c/x)"
    )
    for strategy, options in SETTINGS.items():
        print(f"  {strategy}: {options}")
    for strategy in VARIANTS:
        print(f"  {strategy}: {options_for(strategy)[1]}")


if __name__ == "__main__":
    main()
