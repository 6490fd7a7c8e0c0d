"""Transcripts for the notebooks: record a model's run as a cassette, find one by name, replay it.

    workbench record gridworld-react --model openai/gpt-4o-mini --env gridworld --max-steps 30
    # -> notebooks/cassettes/gridworld-react.real.jsonl   (a demo model writes NAME.simulated.jsonl)

    s = replay("gridworld-react")   # a Session that replays the cassette, offline
    s.run()

`cassette(name)` prefers `NAME.real.jsonl` to the shipped `NAME.simulated.jsonl`, so dropping a real
recording next to the notebooks changes what they show without changing their code. The label is not
chosen by hand: a run of an offline `workbench/...` model is "simulated", any other is "real".
The header (see `workbench.llm.cassette`) keeps the model's name, the date, the label and the
session's settings, which `replay` uses to rebuild the same session. Recording goes through the
cassette Recorder: every line is redacted (values of secret-looking environment variables) and
keyword arguments such as `api_key` and `api_base` are never written.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelError

FOLDERS = ("cassettes", "notebooks/cassettes")  # looked up from the cwd, after $WORKBENCH_CASSETTES
LABELS = ("real", "simulated")


def cassette_dirs() -> list[Path]:
    """Where cassettes are looked for: $WORKBENCH_CASSETTES, then ./cassettes, ./notebooks/cassettes."""
    found = [Path(os.environ["WORKBENCH_CASSETTES"])] if os.environ.get("WORKBENCH_CASSETTES") else []
    return found + [Path.cwd() / folder for folder in FOLDERS]


def cassette(name: str) -> Path:
    """The cassette called `name`: a real recording when there is one, else the simulated one."""
    if not name or "/" in name or name.endswith(".jsonl"):
        raise ConfigError(f"a cassette name is a bare name like 'gridworld-react', not {name!r}")
    for label in LABELS:
        for folder in cassette_dirs():
            path = folder / f"{name}.{label}.jsonl"
            if path.is_file():
                return path
    where = ", ".join(str(d) for d in cassette_dirs())
    raise ConfigError(
        f"no cassette {name!r} ({name}.real.jsonl or {name}.simulated.jsonl) in {where}; "
        f"record one with `workbench record {name} --model MODEL`"
    )


def cassette_info(name: str) -> dict[str, Any]:
    """The header of the cassette `cassette(name)` finds, with its `path`."""
    from ..llm.cassette import cassette_header

    path = cassette(name)
    return {**cassette_header(path), "path": str(path)}


def label_for(model: str) -> str:
    return "simulated" if model.startswith("workbench/") else "real"


def replay(name: str, **overrides: Any) -> Any:
    """A Session that replays the cassette `name` with the settings it was recorded with (offline,
    no store). `overrides` change Session arguments (a change that alters prompts makes the replay
    miss: it then says so)."""
    from ..core.session import Session
    from ..llm.model import Model

    info = cassette_info(name)
    settings = dict(info.get("session") or {})
    if not settings:
        raise ConfigError(
            f"{info['path']} has no session settings in its header; record it with `workbench record`"
        )
    model = Model("workbench/replay", cassette=info["path"])
    kwargs: dict[str, Any] = {"store": None, **settings, **overrides}
    return Session(model=model, **kwargs)


def record_cassette(
    name: str,
    *,
    model: str,
    out_dir: str | Path,
    session: dict[str, Any],
    max_steps: int = 30,
    model_options: dict[str, Any] | None = None,
) -> tuple[Path, Any]:
    """Run a session on the litellm model `model` for up to `max_steps` steps, recording every call
    into `out_dir/NAME.LABEL.jsonl` after a header line. Returns (path, session). Replaces an older
    recording of the same name and label only when the run completes."""
    from ..core.session import Session
    from ..llm.cassette import read_cassette, write_header
    from ..llm.model import Model

    if model == "workbench/replay":
        raise ConfigError("record a real model (or the demo model), not a replay of a cassette")
    if not name or "/" in name or name.endswith(".jsonl"):
        raise ConfigError(f"a cassette name is a bare name like 'gridworld-react', not {name!r}")
    label = label_for(model)
    path = Path(out_dir) / f"{name}.{label}.jsonl"
    tmp = path.with_suffix(".jsonl.partial")
    header = {
        "name": name,
        "model": model,
        "label": label,
        "recorded_at": _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
        "session": {k: v for k, v in session.items() if v is not None},
        "note": "recorded by `workbench record`; redacted; replay with workbench.teaching.replay(name)",
    }
    write_header(tmp, header)
    try:
        llm = Model(model, record=tmp, **(model_options or {}))
        run = Session(model=llm, store=None, max_steps=max_steps, **header["session"])
        run.run()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not read_cassette(tmp):
        tmp.unlink(missing_ok=True)
        last = run.path()[-1]
        why = " ".join(str(last.observation or run.status).split())[:300]
        raise ModelError(f"no call of {model} succeeded, nothing was recorded (last: {why})")
    tmp.replace(path)
    return path, run
