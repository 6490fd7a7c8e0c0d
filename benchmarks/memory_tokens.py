"""Prompt tokens at step N for every memory policy on gridworld (full, window, diff, hierarchical,
layered, summarized), plus what a policy's own summary calls cost per step.

    python benchmarks/memory_tokens.py [--step 50] [--seeds 0 1 2 3 4] [--error-rate 0.4]

One trajectory per seed is grown with the simulated demo model under hierarchical memory (so it
declares subgoals), on a 15x15 gridworld with a high error rate so that it is still wandering at
step N. Then the very same path is rendered by each policy and the whole prompt (system message
included) is counted with tiktoken's cl100k_base, offline. Same path, so only the policy differs.
Summarized memory (Chain of Summarization) first makes the L1 and L2 summary calls the prompt needs
with the demo model; "summary tokens/step" is one L1 call plus a tenth of an L2 call (k = 10), the
tokens each step pays on top of its prompt. Layered memory (FinMem) makes no extra calls.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.llm.tokens import count_tokens
from workbench.memory.base import make_memory

POLICIES = {
    "full": {},
    "window (4)": {"window": 4},
    "diff (all)": {"window": None},
    "diff (4)": {"window": 4},
    "hierarchical": {},
    "layered": {},
    "summarized": {"every": 10},
}


def grow(seed: int, steps: int, error_rate: float) -> Session:
    s = Session(
        env="gridworld",
        env_options={"size": 15, "max_steps": 500, "seed": seed},
        model=Model("workbench/demo", seed=seed, error_rate=error_rate),
        memory="hierarchical",
        seed=seed,
    )
    while s.tree.steps < steps and not s.done:
        s.step()
    return s


def prompt_tokens(session: Session, label: str) -> tuple[int, float]:
    """(prompt tokens at the cursor, tokens of the policy's own model calls per step)."""
    kind = label.split(" ")[0]
    session.memory = make_memory(kind, **POLICIES[label])
    extra = 0.0
    if kind == "summarized":
        path = session.tree.path()
        asyncio.run(session.memory.aprepare(session, path))
        calls = [c for n in path for c in n.llm_calls if c.purpose in ("l1", "l2")]
        l1 = [c.tokens for c in calls if c.purpose == "l1"]
        l2 = [c.tokens for c in calls if c.purpose == "l2"]
        every = POLICIES[label]["every"]
        extra = statistics.mean(l1) + (statistics.mean(l2) / every if l2 else 0.0)
    return count_tokens(session.strategy.messages(session, session.tree.path())), extra


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=50)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--error-rate", type=float, default=0.4)
    args = ap.parse_args()
    rows: dict[str, list[int]] = {label: [] for label in POLICIES}
    extras: dict[str, list[float]] = {label: [] for label in POLICIES}
    depths = []
    for seed in args.seeds:
        s = grow(seed, args.step, args.error_rate)
        depths.append(s.tree.current.depth)
        for label in POLICIES:
            tokens, extra = prompt_tokens(s, label)
            rows[label].append(tokens)
            extras[label].append(extra)
    print(
        f"gridworld 15x15, demo model error_rate={args.error_rate}, seeds {args.seeds}, "
        f"prompt at step {min(depths)}..{max(depths)}"
    )
    full = statistics.mean(rows["full"])
    print(f"{'memory':<14} {'mean tokens':>11} {'vs full':>8} {'summary tokens/step':>20}")
    for label, values in rows.items():
        mean = statistics.mean(values)
        extra = statistics.mean(extras[label])
        print(f"{label:<14} {mean:>11.0f} {mean / full:>7.2f}x {extra:>20.0f}")


if __name__ == "__main__":
    main()
