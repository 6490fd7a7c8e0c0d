"""Every teaching notebook (`notebooks/NN-*.ipynb`) runs offline in a real kernel (nbclient) with no
error output, gives the same outputs twice, is committed with the outputs a fresh run gives, and its
exercises work: each shipped stub's check says "not yet", each hidden solution's check passes.
The exercise convention is in `workbench/teaching/__init__.py`."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("nbclient")

from workbench.teaching import notebooks as tn  # noqa: E402

PATHS = tn.notebook_paths()
_runs: dict[tuple[str, str], Any] = {}


def run(path: Any, kind: str) -> Any:
    """The notebook executed once per kind: 'first' and 'second' as shipped, 'solved' with solutions."""
    key = (path.name, kind)
    if key not in _runs:
        nb = tn.read(path)
        _runs[key] = tn.execute(tn.with_solutions(nb) if kind == "solved" else nb, path.parent)
    return _runs[key]


def ids(paths: list[Any]) -> list[str]:
    return [p.stem for p in paths]


def test_notebooks_are_found_and_follow_the_exercise_convention():
    assert [p.name for p in PATHS][:1] == ["01-first-agent.ipynb"]
    for path in PATHS:
        nb = tn.read(path)
        found = tn.exercises(nb)  # raises on a broken exercise/check/solution triple
        for index, check, code in found:
            assert "exercise" in nb.cells[index].metadata["tags"] and code.strip(), path.name
            assert "check_" in nb.cells[check].source
        first = nb.cells[0]
        assert first.cell_type == "markdown" and "learning goal" in first.source.lower(), path.name


def test_exercise_convention_errors_name_the_cell():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("answer = ...", metadata={"tags": ["exercise"]}),
        nbformat.v4.new_code_cell("print(answer)"),
    ]
    with pytest.raises(ValueError, match="exercise cell 0 must be followed by a code cell calling a check_"):
        tn.exercises(nb)
    nb.cells[1].source = "check_answer(answer)"
    nb.cells.append(
        nbformat.v4.new_markdown_cell("```python\nanswer = 1\n```", metadata={"tags": ["solution"]})
    )
    with pytest.raises(ValueError, match="must hide its code in <details>"):
        tn.exercises(nb)
    nb.cells[2].source = "<details><summary>Solution</summary>\n\n```python\nanswer = 1\n```\n</details>"
    assert tn.exercises(nb) == [(0, 1, "answer = 1\n")]
    assert tn.with_solutions(nb).cells[0].source == "answer = 1\n"


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_notebook_runs_without_errors(path):
    assert tn.errors(run(path, "first")) == []


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_notebook_is_deterministic(path):
    first, second = tn.normalised(run(path, "first")), tn.normalised(run(path, "second"))
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a == b, (
            f"code cell {index} differs between two runs:\n{json.dumps(a)[:1500]}\n{json.dumps(b)[:1500]}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_committed_outputs_are_a_fresh_run(path):
    """The file holds what `python -m workbench.teaching build` writes today (rebuild after a change)."""
    committed = tn.normalised(tn.read(path))
    fresh = tn.normalised(tn.for_commit(run(path, "first")))
    for index, (a, b) in enumerate(zip(committed, fresh, strict=False)):
        assert a == b, (
            f"{path.name}: code cell {index} is stale; run `python -m workbench.teaching build {path}`"
        )
    assert len(committed) == len(fresh)
    assert "widgets" not in tn.read(path).metadata  # no live state a reader would see instead


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_shipped_stubs_do_not_pass_their_checks(path):
    nb = tn.read(path)
    verdicts = tn.check_verdicts(run(path, "first"))
    for _exercise, check, _code in tn.exercises(nb):
        assert [v["passed"] for v in verdicts.get(check, [])] == [False], (
            path.name,
            check,
            verdicts.get(check),
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_solutions_pass_their_checks(path):
    nb = tn.read(path)
    solved = run(path, "solved")
    assert tn.errors(solved) == []
    verdicts = tn.check_verdicts(solved)
    for _exercise, check, _code in tn.exercises(nb):
        assert [v["passed"] for v in verdicts.get(check, [])] == [True], (
            path.name,
            check,
            verdicts.get(check),
        )
