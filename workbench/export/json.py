"""Export a run as one JSON document: the run's `to_dict()` plus metadata, secrets redacted.

    data = export_run(session.tree, "run.json", plan=session.plan.to_list(), memory=session.memory.state())
    run = load_run_json("run.json")      # a Run again (Run.from_dict ignores the extra keys)

The document is the run's own dict (id, task, config, cursor, created_at, outcome, nodes) with
these keys added: `format` and `format_version` (what this file is), `workbench_version`,
`exported_at`, `totals` (steps, tokens, cost) and, when given, `plan` and `memory` (the live state,
which can differ from the cursor node's copy after user edits).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.tree import Run
from ..errors import ConfigError
from ..safety.redact import public_kwargs, redact_obj

FORMAT = "agent-workbench.run"
FORMAT_VERSION = 1


def export_run(
    run: Run,
    path: str | Path | None = None,
    *,
    plan: list[dict[str, Any]] | None = None,
    memory: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run as a JSON-ready dict (redacted); also written to `path` when given."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "workbench_version": __version__,
        "exported_at": time.time(),
        **run.to_dict(),
        "totals": {
            "steps": run.steps,
            "prompt_tokens": run.prompt_tokens,
            "completion_tokens": run.completion_tokens,
            "tokens": run.tokens,
            "cost": run.cost,
        },
    }
    if plan is not None:
        data["plan"] = plan
    if memory is not None:
        data["memory"] = memory
    # a JSON round trip first: tuples become lists and odd objects their repr, so what is returned
    # is exactly what the file holds
    data = redact_obj(json.loads(json.dumps(data, default=repr)))
    model = data.get("config", {}).get("model")
    if isinstance(model, dict):  # a run stored by an older version may hold a URL with credentials
        data["config"]["model"] = public_kwargs(model)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(target)  # readers never see a half-written export
    return data


def load_run_json(path: str | Path) -> Run:
    """A run from a file written by `export_run`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read run export {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f'{path} is not a workbench run export (no "format": {FORMAT!r})')
    return Run.from_dict(data)
