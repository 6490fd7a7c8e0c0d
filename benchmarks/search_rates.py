"""Solve rates on game24 per strategy and expansion budget, with the simulated demo model.

    python benchmarks/search_rates.py [--seeds 12 ... | --first 12 --count 20] [--budgets 8 16 32]
                                      [--error-rate 0.3] [--strategies react bfs dfs best-first astar mcts]

Each seed picks a built-in puzzle (`Game24(seed=s)`; seeds 12-23 are the medium puzzles, 24-35 the
hard ones) and seeds the demo model, which errs at `--error-rate` (mostly a valid but wrong move).
ReAct runs greedily for up to 10 steps (no budget: the same number in every column). The searches
get `max_expansions` = the budget, with per-strategy settings scaled down from the papers for speed
(printed below the table). Everything is deterministic: the same command prints the same rates.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from workbench.core.session import Session
from workbench.llm.model import Model

SETTINGS: dict[str, dict[str, Any]] = {
    "bfs": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "dfs": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "best-first": {"branching": 5, "n_samples": 10, "value_samples": 10},
    "astar": {"branching": 5, "n_samples": 10},
    "mcts": {"branching": 5, "n_samples": 5, "value_samples": 1},
}


def solve(strategy: str, seed: int, budget: int, error_rate: float) -> tuple[bool, int]:
    """(solved, model calls) for one puzzle."""
    model = Model("workbench/demo", seed=seed, error_rate=error_rate)
    if strategy == "react":
        session = Session(env="game24", model=model, seed=seed)
        session.run(max_steps=10)
    else:
        session = Session(
            env="game24",
            model=model,
            seed=seed,
            strategy=strategy,
            max_expansions=budget,
            **SETTINGS[strategy],
        )
        session.run()
    calls = sum(len(n.llm_calls) for n in session.tree.nodes.values())
    return session.tree.outcome == "success", calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--seeds", type=int, nargs="*", help="explicit seeds (default: --first .. --first+count-1)"
    )
    parser.add_argument("--first", type=int, default=12)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--budgets", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--error-rate", type=float, default=0.3)
    parser.add_argument("--strategies", nargs="+", default=["react", *SETTINGS])
    args = parser.parse_args()
    seeds = args.seeds or list(range(args.first, args.first + args.count))
    print(
        f"game24, demo model (simulated), error_rate={args.error_rate}, {len(seeds)} puzzles: seeds {seeds}"
    )
    header = f"{'strategy':<11}" + "".join(f"{'c=' + str(b):>16}" for b in args.budgets) + f"{'seconds':>9}"
    print(header)
    print("-" * len(header))
    for strategy in args.strategies:
        started = time.perf_counter()
        cells = []
        budgets = args.budgets[:1] if strategy == "react" else args.budgets
        for budget in budgets:
            results = [solve(strategy, seed, budget, args.error_rate) for seed in seeds]
            solved = sum(ok for ok, _ in results)
            calls = sum(n for _, n in results) / len(results)
            cells.append(f"{solved:>3}/{len(seeds)} {calls:>6.0f} calls")
        if strategy == "react":
            cells *= len(args.budgets)
        elapsed = time.perf_counter() - started
        print(f"{strategy:<11}" + "".join(f"{c:>16}" for c in cells) + f"{elapsed:>9.1f}")
    print("\ncells: puzzles solved / puzzles, mean model calls per puzzle; react: greedy, up to 10 steps")
    for strategy, options in SETTINGS.items():
        print(f"  {strategy}: {options}")


if __name__ == "__main__":
    main()
