"""Bytes a displayed Workbench panel adds to a saved notebook, by run length.

    python benchmarks/notebook_size.py [--steps 10 100 1000]

For each run length, executes a real notebook with nbclient (a real kernel): one cell makes a
gridworld session on a scripted model (full-size map observations, one model call per step, full
memory), displays `Workbench(s)` and runs it, as a user's cell would. Prints the bytes of that
cell's outputs as the .ipynb stores them: the widget view, the fallback output's `text/html`
(GitHub, nbviewer, nbconvert) and its run snapshot (`application/vnd.agent-workbench.run+json`, what
JupyterLab draws without a kernel), and the widget state nbclient stores in the notebook metadata
by default (JupyterLab does not save it unless asked). Sizes are deterministic: one run each.
"""

from __future__ import annotations

import argparse
import json

import nbformat
from nbclient import NotebookClient

MIME = "application/vnd.agent-workbench.run+json"
CELL = """\
from IPython.display import display
from workbench.core.session import Session
from workbench.envs.gridworld import GridWorld
from workbench.llm.scripted import ScriptedModel
from workbench.widgets import Workbench
moves = ["Thought: try north\\nAction: go north", "Thought: try south\\nAction: go south",
         "Thought: try east\\nAction: go east", "Thought: try west\\nAction: go west"]
s = Session(task="wander", env=GridWorld(max_steps=10**6, seed=1), model=ScriptedModel(moves * {n}), memory="full", seed=1, store=None)
w = Workbench(s)
display(w)
s.run(max_steps={steps})
print(s.tree.steps)"""


def measure(steps: int) -> dict[str, int]:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(CELL.format(n=steps // 4 + 2, steps=steps))]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=1800, store_widget_state=True).execute()
    outputs = nb.cells[0].outputs
    sizes = {"view": 0, "html": 0, "snapshot": 0, "other": 0}
    for out in outputs:
        data = out.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data:
            sizes["view"] += len(json.dumps(out))
        elif MIME in data:
            sizes["snapshot"] += len(json.dumps(data[MIME]))
            sizes["html"] += len(json.dumps(out)) - len(json.dumps(data[MIME]))
        else:
            sizes["other"] += len(json.dumps(out))
    sizes["widget_state"] = len(json.dumps(nb.metadata.get("widgets", {})))
    sizes["steps"] = int(next(o for o in outputs if o.get("output_type") == "stream")["text"].split()[-1])
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(f"{'steps':>6} {'view':>7} {'text/html':>10} {'snapshot':>9} {'outputs':>9} {'widget state':>13}")
    for steps in args.steps:
        s = measure(steps)
        total = s["view"] + s["html"] + s["snapshot"]
        print(
            f"{s['steps']:>6} {s['view']:>7,} {s['html']:>10,} {s['snapshot']:>9,} {total:>9,} {s['widget_state']:>13,}"
        )


if __name__ == "__main__":
    main()
