"""`%agent sweep` on a fresh IPython shell: the sweep runs in the background with its live view,
`await h` waits for it, its cells open with `%agent load`, and bad arguments are one-line UsageErrors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workbench.magics.sweeps import SweepRun

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def agents(sh: InteractiveShell):
    # not `workbench.magics.agents`: once the submodule of that name is imported it shadows the function
    return sh.magics_manager.registry["AgentMagics"].agents


def test_agent_sweep_runs_in_the_background_and_its_cells_open_as_runs(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    db = tmp_path / "runs.sqlite"
    line = f"sweep --tasks 0-2 --strategies react,best-first --memories full,diff --max-calls 20 --store {db}"

    async def go() -> tuple[SweepRun, list[dict[str, Any]], bool]:
        with capture_output() as cap:
            handle = shell.run_line_magic("agent", line)
        returned_at_once = not handle.done()
        await handle
        return handle, [o.data for o in cap.outputs], returned_at_once

    handle, shown, at_once = asyncio.run(go())
    assert at_once and isinstance(handle, SweepRun)
    assert any(WIDGET_VIEW in d for d in shown)  # the live SweepView
    assert any("wb-sweep-static" in d.get("text/html", "") for d in shown)  # and its static fallback
    results = handle.results
    assert len(results) == 12 and handle.sweep.status == "done"
    assert "12/12 cells finished" in repr(handle)
    # any cell opens as a normal run
    run_id = results[0]["run_id"]
    with capture_output():
        shell.run_line_magic("agent", f"load {run_id} --store {db} --name cell0")
    session = agents(shell).get("cell0").session
    assert session.run_id == run_id and session.config["tags"]["sweep"] == handle.sweep.id
    assert session.tree.steps == results[0]["steps"]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("sweep --tasks a-b", "expected whole numbers such as 0-4"),
        ("sweep --max-calls 0", "expected a whole number >= 1"),
        ("sweep --strategies react --budget 3", "unrecognized arguments: --budget"),
        ("sweep --strategies no_such_strategy", "no_such_strategy"),
        (
            "sweep --strategies react,plan-execute(replanz=1)",
            "has no option 'replanz'; valid: item_steps, replans",
        ),
        ("sweep --memories window(window=x)", "window: expected a whole number or null, not 'x'"),
        ("sweep --strategies plan-execute(replans=1", "expected name(key=value, ...)"),
        ("sweep --replay x --tasks 1", "takes no file or axes"),
        ("sweep --replay x --backend ray", "takes no file or axes"),
        ("sweep --replay x", "no run store at"),
        ("sweep missing.toml", "no sweep file missing.toml"),
    ],
)
def test_bad_sweep_arguments_are_one_line_usage_errors(
    shell: InteractiveShell, tmp_path: Path, line: str, words: str
) -> None:
    async def go() -> None:
        shell.run_line_magic("agent", f"{line} --store {tmp_path / 'runs.sqlite'}")

    with pytest.raises(UsageError) as info:
        asyncio.run(go())
    message = str(info.value)
    assert words in message and "\n" not in message


def test_sweep_axes_take_options_in_parentheses_as_the_labels_show_them() -> None:
    from workbench.eval.spec import label
    from workbench.magics.args import parse

    _, args = parse(
        "sweep --strategies react,plan-execute(replans=1,item_steps=3) --memories 'window(window=4),full'"
    )
    assert args.strategies == ["react", {"name": "plan-execute", "replans": 1, "item_steps": 3}]
    assert args.memories == [{"name": "window", "window": 4}, "full"]
    assert label({"name": "window", "options": {"window": 4}}) == "window(window=4)"  # the same spelling
    _, args = parse("""sweep --strategies 'umi(models={"caller": "workbench/demo"}),bfs(rounds=terminal)'""")
    assert args.strategies == [
        {"name": "umi", "models": {"caller": "workbench/demo"}},
        {"name": "bfs", "rounds": "terminal"},
    ]
