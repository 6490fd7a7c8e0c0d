"""`DiffView(session, node_id=None)`: one step's observation as a coloured diff, or in full.

Shows the observation of `node_id` (None: follow the cursor) as a unified diff against the previous
observation on its path (n=0, as diff history shows it to the model), a toggle to the full text,
the step's own saving (its diff vs its full text in tokens; a step whose diff is not shorter is
shown to the model in full, and the view says so), the saving of each of the last `STEPS_SHOWN`
steps as a strip of chips, and the prompt tokens this run's history takes with full observations
vs as diff history (`token_report` of the diff memory: the number that says whether diff history
pays here). For a run under another memory policy the diff figures are what diff history would
take for the same path.

Intents: `on_toggle_clicked()` (diff <-> full; `mode` is also a two-way trait) and
`on_node_selected(node_id)` (None: follow the cursor again).
"""

from __future__ import annotations

import html
from typing import Any, ClassVar

import traitlets

from ..core import events as ev
from ..errors import ConfigError
from ..memory.diff import DiffMemory, observation_diff
from .base import SessionWidget, static_module
from .cards import clip, safe

STEPS_SHOWN = 40  # steps in the per-step saving strip (the newest ones)
STATIC_FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.35"


def diff_lines_html(diff: str) -> str:
    """A unified diff as a <pre> with coloured lines (inline styles: readable without CSS too)."""
    out = []
    for line in diff.splitlines() or [diff]:
        text = html.escape(line)
        if line.startswith("@@"):
            out.append(f'<span style="color:#6f42c1">{text}</span>')
        elif line.startswith("+"):
            out.append(f'<span style="background:rgba(46,160,67,.18)">{text}</span>')
        elif line.startswith("-"):
            out.append(f'<span style="background:rgba(248,81,73,.18)">{text}</span>')
        else:
            out.append(text)
    return '<pre style="margin:2px 0;white-space:pre-wrap;font-size:12px">' + "\n".join(out) + "</pre>"


class DiffView(SessionWidget):
    """A step's observation as a diff against the previous one, with full-text toggle and token report."""

    _esm = static_module("dom.js", "diff_view.js")
    _css = static_module("fallback.css", "diff_view.css")

    node_id = traitlets.Int(None, allow_none=True).tag(sync=True)  # None: follow the cursor
    mode = traitlets.Unicode("diff").tag(sync=True)  # "diff" or "full"; the front end may set it
    data = traitlets.Dict().tag(sync=True)
    report = traitlets.Dict().tag(sync=True)

    min_interval: ClassVar[float] = 0.1
    part_intervals: ClassVar[dict[str, float]] = {"report": 0.5}  # token counting is the slow part
    intents: ClassVar[dict[str, str]] = {"toggle": "on_toggle_clicked", "show": "on_node_selected"}

    def __init__(self, session: Any, node_id: int | None = None, **kwargs: Any) -> None:
        self._scratch: DiffMemory | None = None
        self._follow_id = node_id
        super().__init__(session, node_id=node_id, **kwargs)
        self.observe(self._on_node_id_change, names="node_id")

    def initial_state(self) -> dict[str, Any]:
        return {"data": self._data(self._follow_id), "report": self._report()}

    # --- state -----------------------------------------------------------------------------------
    def _path_to(self, node_id: int | None) -> list[Any]:
        run = self.session.tree
        if node_id is not None and node_id not in run.nodes:
            raise ConfigError(f"no node {node_id} in run {run.id}; valid ids: 0..{len(run.nodes) - 1}")
        return run.path(node_id)

    def _diff_memory(self) -> DiffMemory:
        memory = self.session.memory
        if isinstance(memory, DiffMemory):
            return memory
        if self._scratch is None:
            self._scratch = DiffMemory(window=getattr(memory, "window", None))
        return self._scratch

    def _data(self, node_id: int | None) -> dict[str, Any]:
        path = self._path_to(node_id)
        node = path[-1]
        memory = self.session.memory
        text_of = getattr(memory, "observation_text", lambda n: n.observation)
        prev = path[-2] if len(path) > 1 else None
        if prev is None:
            diff = ""
        elif isinstance(memory, DiffMemory):
            diff = memory.diff_for(path, len(path) - 1)
        else:
            diff = observation_diff(text_of(prev), text_of(node))
        return safe(
            {
                "node_id": node.id,
                "depth": node.depth,
                "prev_id": prev.id if prev is not None else None,
                "prev_depth": prev.depth if prev is not None else None,
                "action": node.action or "",
                "full": clip(text_of(node)),
                "diff": clip(diff),
                "first": prev is None,
                "following": node_id is None,
                "last_depth": self.session.tree.current.depth,
                "path_ids": [n.id for n in path] if node_id is not None else [],
                "tokens": self._diff_memory().step_tokens(path, len(path) - 1) if prev is not None else {},
            }
        )

    def _report(self) -> dict[str, Any]:
        """Prompt tokens of this run's history with full observations vs as diff history."""
        memory, run = self.session.memory, self.session.tree
        path = run.path()
        actual = isinstance(memory, DiffMemory)
        scorer = self._diff_memory()
        report = scorer.token_report(run, path)
        full, diff = int(report["full_tokens"]), int(report["tokens"])
        per_step = []
        for i in range(max(1, len(path) - STEPS_SHOWN), len(path)):
            t = scorer.step_tokens(path, i)
            if "saved" in t:
                per_step.append(
                    {k: t[k] for k in ("node_id", "depth", "shown_as", "saved", "diff_tokens", "full_tokens")}
                )
        return {
            "policy": memory.name,
            "actual": actual,  # False: what diff history WOULD take for this path
            "window": report.get("window"),
            "full_tokens": full,
            "diff_tokens": diff,
            "saved": full - diff,
            "percent": round(100.0 * (full - diff) / full, 1) if full else 0.0,
            "steps": len(path) - 1,
            "per_step": per_step,
        }

    def parts_for(self, event: ev.Event) -> set[str]:
        if isinstance(event, (ev.NodeAdded, ev.CursorMoved)):
            return {"diff", "report"} if self.node_id is None else {"report"}
        if isinstance(event, ev.MemoryEdited):
            return {"diff", "report"}
        return set()

    def refresh(self, part: str) -> None:
        if part == "diff":
            self.data = self._data(self.node_id)
        elif part == "report":
            self.report = self._report()

    def _on_node_id_change(self, change: dict[str, Any]) -> None:
        self.call_soon(self.mark, "diff")

    # --- intents ---------------------------------------------------------------------------------
    def on_toggle_clicked(self) -> str:
        """Switch between the diff and the full text; returns the new mode."""
        self.mode = "full" if self.mode == "diff" else "diff"
        return self.mode

    def on_node_selected(self, node_id: int | None = None) -> None:
        """Show `node_id` (None: follow the cursor)."""
        if node_id is not None:
            self._path_to(int(node_id))  # a clear error for an unknown id
        self.node_id = None if node_id is None else int(node_id)
        self.data = self._data(self.node_id)

    # --- display ---------------------------------------------------------------------------------
    def static_html(self) -> str:
        data, report = self._data(self.node_id), self._report()
        title = f"Step {data['depth']}: observation"
        if data["first"] or self.mode == "full" or not data["diff"]:
            body = f'<pre style="margin:2px 0;white-space:pre-wrap">{html.escape(data["full"])}</pre>'
        else:
            title += f" as a diff against step {data['prev_depth']}"
            body = diff_lines_html(data["diff"])
        step = step_line(data.get("tokens") or {})
        step_html = f'<p style="margin:2px 0">{html.escape(step)}</p>' if step else ""
        return (
            f'<div class="wb-static-diff" style="{STATIC_FONT}"><b>{html.escape(title)}</b>{body}'
            f'{step_html}<p style="margin:2px 0">{html.escape(report_line(report))}</p></div>'
        )

    def summary(self) -> str:
        data = self._data(self.node_id)
        return f"DiffView · step {data['depth']} · {report_line(self._report())}"


def step_line(tokens: dict[str, Any]) -> str:
    """One sentence on the shown step: what its diff saves, or why the model saw the full text."""
    if "saved" not in tokens:
        return ""
    diff, full, saved = tokens["diff_tokens"], tokens["full_tokens"], tokens["saved"]
    if tokens.get("shown_as") == "full":
        return (
            f"This step: the diff ({diff:,} tokens) is not shorter than the full text ({full:,}), "
            "so the model sees the full text."
        )
    if saved >= 0:
        return f"This step: {diff:,} tokens as a diff vs {full:,} in full, saves {saved:,}."
    return f"This step: {diff:,} tokens as a diff vs {full:,} in full, costs {-saved:,} more."


def report_line(report: dict[str, Any]) -> str:
    """One sentence: does diff history pay on this run?"""
    if not report.get("steps"):
        return "No steps yet: nothing to compare."
    full, diff, saved = report["full_tokens"], report["diff_tokens"], report["saved"]
    would = "" if report["actual"] else " would"
    verdict = (
        f"diff history{would} save {saved:,} tokens ({report['percent']}%)"
        if saved > 0
        else f"diff history{would} cost {-saved:,} more tokens"
        if saved < 0
        else "no difference"
    )
    window = "" if report.get("window") is None else f" (last {report['window']} steps)"
    return f"History prompt: {full:,} tokens with full observations vs {diff:,} as diffs{window}: {verdict}."
