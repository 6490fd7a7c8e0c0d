"""Find, execute, compare and build the teaching notebooks (nbformat + nbclient, imported lazily).

- `notebook_paths()`: every `notebooks/NN-*.ipynb` of the checkout, in order.
- `exercises(nb)`: the (exercise cell, check cell, solution code) triples of a notebook
  (the convention is in the package docstring).
- `with_solutions(nb)`: a copy whose exercise cells hold their solutions' code.
- `execute(nb)`: run it in a real kernel of this Python, in a scratch project (its own
  `.workbench/` store, a copy of `notebooks/cassettes/`), offline: model keys are removed.
- `normalised(nb)`: the outputs with ids, timings and addresses replaced, for comparing two runs.
- `check_verdicts(nb)`: the {"name", "passed"} of every check output, per cell index.
- `build(path)`: execute the notebook and write its outputs into the file (not when a cell fails or
  writes to stderr), ready to commit: widget
  state is not saved and each widget view is marked removed (`model_id` ""), so JupyterLab without a
  kernel, GitHub, nbviewer and the static site show each widget's static fallback: its state when
  its cell ran.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .checks import META_KEY

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAME = re.compile(r"^\d\d-[\w-]+\.ipynb$")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SECRET_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY", "WORKBENCH_MODEL")
KERNEL = "workbench-teaching"
TIMEOUT = 300  # seconds per cell
_FENCE = re.compile(r"```python\n(.*?)```", re.S)


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The teaching notebooks of `folder` (`NN-name.ipynb`), in order."""
    return sorted(p for p in folder.glob("*.ipynb") if NAME.match(p.name))


def read(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _source(cell: Any) -> str:
    src = cell.source
    return src if isinstance(src, str) else "".join(src)


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def solution_code(cell: Any) -> str:
    """The python code of a `solution` markdown cell (its one fenced python block)."""
    found = _FENCE.findall(_source(cell))
    if len(found) != 1:
        raise ValueError(f"a solution cell needs exactly one ```python block, found {len(found)}")
    return found[0]


def exercises(nb: Any) -> list[tuple[int, int, str]]:
    """(exercise cell index, check cell index, solution code) for each exercise, in order.

    Raises ValueError naming the cell when the three cells do not follow the convention."""
    found = []
    cells = nb.cells
    for i, cell in enumerate(cells):
        if "exercise" not in _tags(cell):
            continue
        if cell.cell_type != "code":
            raise ValueError(f"cell {i} is tagged exercise but is not a code cell")
        check = cells[i + 1] if i + 1 < len(cells) else None
        solution = cells[i + 2] if i + 2 < len(cells) else None
        if check is None or check.cell_type != "code" or "check_" not in _source(check):
            raise ValueError(f"exercise cell {i} must be followed by a code cell calling a check_* function")
        if solution is None or solution.cell_type != "markdown" or "solution" not in _tags(solution):
            raise ValueError(
                f"exercise cell {i}: the cell after its check must be a markdown cell tagged solution"
            )
        if "<details>" not in _source(solution):
            raise ValueError(f"solution cell {i + 2} must hide its code in <details>")
        found.append((i, i + 1, solution_code(solution)))
    return found


def with_solutions(nb: Any) -> Any:
    """A copy of `nb` whose exercise cells hold their solutions' code."""
    solved = copy.deepcopy(nb)
    for index, _check, code in exercises(nb):
        solved.cells[index].source = code
    return solved


def check_verdicts(nb: Any) -> dict[int, list[dict[str, Any]]]:
    """Cell index -> the verdicts ({"name", "passed"}) of the check results it displayed."""
    verdicts: dict[int, list[dict[str, Any]]] = {}
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get(META_KEY)
            if meta is not None:
                verdicts.setdefault(i, []).append(dict(meta))
    return verdicts


def errors(nb: Any) -> list[str]:
    """Every error output and every stderr text that reports an error, as 'cell N: ...'."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                found.append(f"cell {i} wrote to stderr: {out.text[:500]}")
    return found


@contextmanager
def _scratch(folder: Path) -> Iterator[Path]:
    """A scratch project: `.workbench/` at its root, the notebooks' cassettes in `notebooks/`, a
    kernelspec of this Python on JUPYTER_PATH, model keys removed. Yields the notebooks folder."""
    saved = {k: os.environ.get(k) for k in (*SECRET_ENV, "JUPYTER_PATH", "LITELLM_LOCAL_MODEL_COST_MAP")}
    with tempfile.TemporaryDirectory(prefix="wb-teach-") as tmp:
        project = Path(tmp)
        (project / ".workbench").mkdir()
        here = project / "notebooks"
        here.mkdir()
        if (folder / "cassettes").is_dir():
            shutil.copytree(folder / "cassettes", here / "cassettes")
        spec = project / "jupyter" / "kernels" / KERNEL
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "workbench", "language": "python"})
        )
        for name in SECRET_ENV:
            os.environ.pop(name, None)
        os.environ["JUPYTER_PATH"] = str(project / "jupyter")
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
        try:
            yield here
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def execute(nb: Any, folder: Path = NOTEBOOKS, *, allow_errors: bool = True) -> Any:
    """A copy of `nb` executed top to bottom in a fresh kernel of this Python (see `_scratch`)."""
    from nbclient import NotebookClient

    run = copy.deepcopy(nb)
    with _scratch(folder) as here:
        client = NotebookClient(
            run,
            kernel_name=KERNEL,
            timeout=TIMEOUT,
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(here)}},
        )
        client.execute()
    return run


_NORMALISE = [
    (re.compile(r"\b[0-9a-f]{32}\b"), "<model-id>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"0x[0-9a-f]{6,}"), "0x<addr>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s)\b"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?"), "<date>"),
    (re.compile(r"/tmp/[\w./-]+"), "<tmp>"),
]


def normalise_text(text: str) -> str:
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    return text


TIMING_KEYS = ("duration", "latency", "seconds")  # measured times in structured outputs (run snapshots)


def _normalise_value(value: Any) -> Any:
    if isinstance(value, str):
        return normalise_text(value)
    if isinstance(value, list):
        return [_normalise_value(v) for v in value]
    if isinstance(value, dict):
        return {
            k: "<time>" if k in TIMING_KEYS and isinstance(v, (int, float)) else _normalise_value(v)
            for k, v in value.items()
        }
    return value


def normalised(nb: Any) -> list[list[Any]]:
    """Per code cell, its outputs with run ids, widget ids, timings, addresses and temp paths replaced.
    Consecutive stream outputs of one stream are joined: the kernel flushes stdout on a timer, so the
    same prints arrive in one message or in several from run to run."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs: list[Any] = []
        for out in cell.get("outputs", []):
            item = {k: v for k, v in out.items() if k not in ("execution_count", "transient")}
            item = json.loads(json.dumps(item))
            last = outs[-1] if outs else None
            if (
                item.get("output_type") == "stream"
                and last
                and last.get("output_type") == "stream"
                and last.get("name") == item.get("name")
            ):
                last["text"] = _text(last["text"]) + _text(item.get("text", ""))
                continue
            outs.append(item)
        cells.append([_normalise_value(_without_timings(out)) for out in outs])
    return cells


_RUN_SNAPSHOT = "application/vnd.agent-workbench.run+json"
_TIMINGS = frozenset(
    {"t", "latency", "started_at", "seconds"}
)  # numbers in a run snapshot that vary run to run


def _without_timings(out: dict[str, Any]) -> dict[str, Any]:
    """A run snapshot's timing numbers dropped (its strings are normalised like every output's)."""
    snapshot = out.get("data", {}).get(_RUN_SNAPSHOT)
    if snapshot is None:
        return out

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return {**out, "data": {**out["data"], _RUN_SNAPSHOT: strip(snapshot)}}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "".join(value)


def _joined_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive outputs of one stream as one (how often the kernel flushed prints varies)."""
    joined: list[Any] = []
    for out in outputs:
        last = joined[-1] if joined else None
        if (
            out.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == out.name
        ):
            last.text = "".join(last.text) + "".join(out.text)
        else:
            joined.append(out)
    return joined


def for_commit(nb: Any) -> Any:
    """`nb` as committed: no widget state, widget views marked removed, no timing metadata, prints
    of one stream in one output."""
    done = copy.deepcopy(nb)
    done.metadata.pop("widgets", None)
    for cell in done.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                view["model_id"] = ""  # JupyterLab hides a removed view; the fallback after it shows
    return done


def build(path: Path) -> Any:
    """Execute the notebook at `path` and write it back with its outputs (see `for_commit`)."""
    import nbformat

    nb = read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    done = for_commit(execute(nb, path.parent, allow_errors=False))
    bad = errors(done)
    if bad:
        raise RuntimeError(f"{path.name} was not written: " + "; ".join(bad))
    nbformat.write(done, path)
    return done
