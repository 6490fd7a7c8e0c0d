"""The answer parser stays linear: the two known quadratic shapes, then a property run over 1 MB inputs.

    python benchmarks/parse_linear.py [--size 1000000] [--examples 40] [--bound 5]

Part 1 times `parse_answer` (the ReAct parser plus the text tool-call parser) on the inputs that were
quadratic before: a plan item with a long run of inner spaces (`1. a      ...b`), an action ending in a
long run of underscores, and the same shapes around markers and inline tool calls. Part 2 is a
hypothesis property: answers of about `--size` characters built from fragments that stress the
patterns (markers, bold, spaces, underscores, stars, digits, brackets, line breaks) each parse in
under `--bound` seconds, and no input takes more than 20x its share of a same-shaped input 10x
smaller (a quadratic parser shows ~100x). A benchmark, not a test: the bound is a wall-clock time.
"""

from __future__ import annotations

import argparse
import statistics
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.strategies.parsing import parse_answer

TOOLS = ["go", "search"]


def repros(n: int) -> dict[str, str]:
    return {
        "plan item, inner spaces": "Thought: t\nAction: go\nPlan:\n1. a" + " " * n + "b",
        "action, trailing underscores": "Action: go " + "_" * n + "x",
        "marker, spaces before the colon": "Action" + " " * n + "x",
        "tool call, inner spaces": "Action: go" + " " * n + "x",
        "tool call, unclosed paren": "Action: go(" + "x)" * (n // 2) + "y",
        "plan item, digits": "Plan:\n1" + "9" * n + "x",
        "bold markers": "**" * (n // 2) + "Action",
    }


def timed(text: str) -> float:
    start = time.perf_counter()
    parse_answer(text, tools=TOOLS)
    return time.perf_counter() - start


INLINE = [
    "Thought:",
    "Action:",
    "Action Input:",
    "Plan:",
    "Subgoal:",
    "Action",
    "**",
    "__",
    "_",
    "*",
    " ",
    "  ",
    "\t",
    "1.",
    "2)",
    "- ",
    "[x]",
    "[ ]",
    "(",
    ")",
    "{",
    "}",
    "go",
    "search",
    "a",
    "9",
    "`",
    ">",
    "#",
]
FRAGMENTS = st.sampled_from([*INLINE, "\n", "```"])
HEADS = st.sampled_from(
    [
        "",
        "Action: ",
        "Action: go",
        "Action: go(",
        "Thought: t\nAction: go\nPlan:\n1. a",
        "Plan:\n- ",
        "**Action",
        "Action Input: ",
        "Thought: ",
    ]
)
RUN = st.sampled_from(INLINE)  # the repeated unit stays on one line: that is where backtracking bites


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=1_000_000, help="characters per input")
    ap.add_argument("--examples", type=int, default=40, help="hypothesis examples")
    ap.add_argument("--bound", type=float, default=5.0, help="seconds allowed per 1 MB input")
    args = ap.parse_args()

    print(f"known shapes at {args.size:,} characters (parse_answer with tools={TOOLS}):")
    for name, text in repros(args.size).items():
        runs = [timed(text) for _ in range(3)]
        print(f"  {name:34s} {statistics.median(runs) * 1000:8.1f} ms")

    worst: list[tuple[float, float]] = []

    @settings(max_examples=args.examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        HEADS,
        st.lists(FRAGMENTS, max_size=3),
        st.lists(RUN, min_size=1, max_size=3),
        st.lists(FRAGMENTS, max_size=3),
    )
    def linear(shape: str, head: list[str], unit: list[str], tail: list[str]) -> None:
        start, block, end = shape + "".join(head), "".join(unit), "".join(tail) + "x"
        big = start + block * max(1, args.size // len(block)) + end
        small = start + block * max(1, args.size // 10 // len(block)) + end
        t_big, t_small = timed(big), timed(small)
        worst.append((t_big, t_big / max(t_small * len(big) / len(small), 1e-3)))
        assert t_big < args.bound, f"{t_big:.1f} s for {len(big):,} characters of {block!r}"
        assert t_big < 20 * max(t_small * len(big) / len(small), 1e-3), f"superlinear on {block!r}"

    linear()
    times = sorted(t for t, _ in worst)
    print(
        f"property: {len(times)} inputs of ~{args.size:,} characters, all under {args.bound} s; "
        f"median {statistics.median(times) * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms, "
        f"worst growth vs linear {max(r for _, r in worst):.1f}x"
    )


if __name__ == "__main__":
    main()
