"""Cost of the behaviour-spec monitor per step on a long path.

    python benchmarks/spec_monitor.py [--steps 1000] [--samples 15]

A tool-calling ReAct run (instant scripted model, no store) is grown to `--steps` steps without
specs; then four specs are added — the paper's ReAct spec (5 formulas), a `previous` rule, an
"at most 3 consecutive errors" rule (`streak`) and a `reject` rule checked before each action — and
steps are timed with the specs and without them, alternating. The monitor's cost per step is the
median of the paired differences: the check after the step, the check of the proposed action and
the tool restriction (two tools offered). Run it on two commits to compare them.
"""

from __future__ import annotations

import argparse
import statistics
import time

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.oversight.specs import Spec
from workbench.tools import tool


@tool
def list_files() -> str:
    """The files."""
    return "a.txt b.txt"


@tool
def read_file(path: str) -> str:
    """A file's text."""
    return f"text of {path}"


ANSWERS = [
    "Thought: look\nAction: list_files\nAction Input: {}",
    'Thought: read\nAction: read_file\nAction Input: {"path": "a.txt"}',
]


def grow(steps: int) -> Session:
    s = Session(
        tools=[list_files, read_file], model=ScriptedModel(ANSWERS * (steps // 2 + 200)),
        tool_calling="text", gates=None, store=None, memory="window", memory_options={"window": 3},
    )  # fmt: skip
    s.run(max_steps=steps)
    return s


def specs() -> list[Spec]:
    from workbench.core.monitor import make_specs

    return make_specs(
        [
            "react",
            "G(tool(read_file) -> previous(tool(list_files)))",
            Spec.at_most_consecutive_errors(3),
            Spec("G(not tool(delete_file))", on_violation="reject"),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    s = grow(args.steps)
    watched = specs()
    for spec in watched:
        s.spec(spec)
    s.step()  # the first checks may walk the whole path once
    diffs, with_specs = [], []
    for _ in range(args.samples):
        t0 = time.perf_counter()
        s.step()
        on = time.perf_counter() - t0
        s.specs.clear()
        t0 = time.perf_counter()
        s.step()
        off = time.perf_counter() - t0
        s.specs.extend(watched)
        diffs.append(on - off)
        with_specs.append(on)
    print(
        f"{args.steps} steps, {len(watched)} specs (ReAct's 5, a previous rule, a streak rule, a reject rule): "
        f"monitor {statistics.median(diffs) * 1000:.2f} ms per step "
        f"(a step with specs {statistics.median(with_specs) * 1000:.2f} ms)"
    )


if __name__ == "__main__":
    main()
