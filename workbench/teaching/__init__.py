"""Teaching notebooks: self-checking exercises, the notebook build, and shipped cassettes.

The course lives in `notebooks/NN-topic.ipynb` (01, 02, ...). Each notebook states its learning goal
at the top, runs offline on the simulated demo model (or a shipped cassette) in well under a minute,
and gives the same outputs every time.

Convention for exercises (every notebook follows it; `tests/test_notebooks.py` relies on it):

- The checks of notebook NN live in `workbench/teaching/nbNN.py`, one public `check_*` function per
  exercise. A check takes the learner's objects as arguments (never reads globals), never raises for
  a wrong or unfinished answer, and returns a `CheckResult` (see `checks.py`): a list of points, each
  right or wrong with a sentence saying why, that renders as HTML in the notebook and as text in a
  terminal. Its output carries `{"workbench.check": {"name", "passed"}}` in the output metadata, which
  is how the tests read the verdict.
- An exercise is three cells in a row:
  1. a code cell tagged `exercise`: the learner's stub. It must run without error as shipped
     (use `...` placeholders the check recognises as "not done yet");
  2. a code cell that calls the check, e.g. `nb02.check_window(agent)`;
  3. a markdown cell tagged `solution` holding `<details><summary>Solution</summary>` and ONE fenced
     ```python block: hidden in JupyterLab and on GitHub until opened, readable without a kernel.
- `tests/test_notebooks.py` executes every notebook twice with nbclient and compares the normalised
  outputs (deterministic), fails on any error output, checks that every shipped stub's check does not
  pass, then executes the notebook with each `exercise` cell replaced by its solution's code and
  asserts that every check passes. It also compares the committed outputs with a fresh run.
- `python -m workbench.teaching build` executes the notebooks and writes their outputs into the
  files (static fallbacks show each widget as it was when its cell ran; widget state is not saved, so
  no reader sees a later state than the text describes). `python -m workbench.teaching links` prints
  the Binder launch links made from `[project.urls]` in pyproject.toml.

Shipped transcripts: `cassette("name")` finds `notebooks/cassettes/name.real.jsonl` when someone
recorded one with a real model (`workbench record`), else the shipped `name.simulated.jsonl`; a
notebook that replays `cassette("name")` picks up a real recording without a code change.

Nothing here is imported by `import workbench`; importing this package imports no notebook tooling.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CheckResult", "Checker", "cassette", "cassette_info", "replay"]


def __getattr__(name: str) -> Any:
    if name in ("CheckResult", "Checker"):
        from . import checks

        return getattr(checks, name)
    if name in ("cassette", "cassette_info", "replay"):
        from . import transcripts

        return getattr(transcripts, name)
    raise AttributeError(f"module 'workbench.teaching' has no attribute {name!r}")
