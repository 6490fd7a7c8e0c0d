"""A sweep's strategy and memory options are checked when the sweep is read, before any cell runs:
an unknown key or a value of the wrong type is a ConfigError naming what is valid; good options
reach every cell's Session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workbench.errors import ConfigError
from workbench.eval import run_cell
from workbench.eval.build import read_file
from workbench.eval.spec import expand, normalise, sweep_id_for

AXES: dict[str, Any] = {"env": "gridworld", "tasks": [3], "models": ["workbench/demo"], "seeds": [0]}


@pytest.mark.parametrize(
    ("strategies", "memories", "said"),
    [
        (
            [{"name": "plan-execute", "replanz": 1}],
            ["full"],
            "strategies: strategy 'plan-execute' has no option 'replanz'; valid: item_steps, replans",
        ),
        (
            [{"name": "reflexion", "attempts": "2"}],
            ["full"],
            "strategy 'reflexion' option attempts must be a whole number, not '2'",
        ),
        (
            ["react"],
            [{"name": "summarized", "evry": 4}],
            "memories: memory 'summarized' has no option 'evry'",
        ),
        (["react"], [{"name": "diff", "fallback": "no"}], "option fallback must be true or false, not 'no'"),
    ],
)
def test_wrong_options_fail_when_the_sweep_is_read(strategies, memories, said):
    with pytest.raises(ConfigError) as info:
        normalise(**AXES, strategies=strategies, memories=memories, budgets={"max_calls": 5})
    assert said in str(info.value)


def test_options_from_a_sweep_file_reach_the_cell_session(tmp_path: Path):
    file = tmp_path / "sweep.toml"
    file.write_text(
        'env = "gridworld"\ntasks = [3]\nmodels = ["workbench/demo"]\n'
        'strategies = [{name = "plan-execute", replans = 1, item_steps = 4}, '
        '{name = "best-first", rounds = "terminal"}]\n'
        'memories = [{name = "summarized", every = 3, l1 = "observation"}]\n'
        "[budgets]\nmax_steps = 2\n"
    )
    settings = read_file(str(file))
    config = normalise(
        **{k: settings[k] for k in ("env", "tasks", "models", "strategies", "memories", "budgets")},
        seeds=[0],
    )
    cells = expand(config, sweep_id_for(config))
    assert [c["strategy_options"] for c in cells] == [{"replans": 1, "item_steps": 4}, {"rounds": "terminal"}]
    row = run_cell(cells[0])
    assert row["outcome"] != "error" and row["steps"] >= 1, row["error"]
    config = row["run_data"]["run"]["config"]
    assert config["strategy_options"] == {"item_steps": 4, "replans": 1}
    assert config["memory_options"] == {"every": 3, "l1": "observation"}
