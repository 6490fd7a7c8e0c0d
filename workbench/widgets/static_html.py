"""Static HTML renderings: what a saved notebook shows without a kernel (GitHub, nbviewer, nbconvert).

Self-contained: inline styles only, no scripts, every text escaped. Colours are mid-tones with
transparency so they read on light and dark pages. The Workbench rendering shows the header, the
plan and the step cards of the current path (the last `CARD_LIMIT` of them), observations as
coloured diffs under diff memory and in full otherwise.
"""

from __future__ import annotations

import html
from typing import Any

from .diff_view import diff_lines_html
from .plan_editor import plan_html

CARD_LIMIT = 200
FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.35"
MONO = "font-family:var(--jp-code-font-family,monospace);font-size:12px"
BORDER = "1px solid rgba(128,128,128,.35)"
_STATUS_COLOR = {
    "running": "#2f7fd8",
    "paused": "#c98a00",
    "done": "#2e9f4f",
    "error": "#d03b3b",
    "idle": "#888",
}


def _e(text: Any) -> str:
    return html.escape(str(text))


def header_html(h: dict[str, Any]) -> str:
    model = _e(h["model"]) + (
        ' <span style="border:1px solid currentColor;border-radius:3px;padding:0 3px;font-size:85%">simulated</span>'
        if h["simulated"] and "simulated" not in h["model"]
        else ""
    )
    memory = _e(h["memory"]) + (f" (window {h['window']})" if h.get("window") is not None else "")
    if h.get("sandbox"):
        memory += f" · sandbox: {_e(h['sandbox'])}"
    dot = _STATUS_COLOR.get(h["status"], "#888")
    outcome = f" · {_e(h['outcome'])}" if h.get("outcome") else ""
    budget = f" / {h['max_steps']}" if h.get("max_steps") else ""
    return (
        f'<div style="display:flex;flex-wrap:wrap;justify-content:space-between;gap:4px 16px;'
        f'padding:4px 8px;border-bottom:{BORDER}">'
        f"<span><b>{_e(h['env'])}</b> · “{_e(h['task'])}”</span>"
        f"<span>{model} · {_e(h['strategy'])} · {memory}</span></div>"
        f'<div style="padding:3px 8px;border-bottom:{BORDER}">'
        f'<span style="color:{dot}">●</span> {_e(h["status"])}{outcome} · step {h["depth"]}{budget} · '
        f"{h['steps']} nodes · {h['tokens']:,} tokens · ${h['cost']:.4f}</div>"
    )


def _row(label: str, body: str) -> str:
    return (
        f'<div style="display:flex;gap:8px;margin:1px 0"><span style="flex:0 0 4.5em;opacity:.65">{label}</span>'
        f'<div style="flex:1;min-width:0">{body}</div></div>'
    )


def card_html(card: dict[str, Any], *, diff_memory: bool) -> str:
    error = card["status"] == "error"
    edge = "#d03b3b" if error else "rgba(128,128,128,.45)"
    head = f"#{card['depth']}" if card["kind"] != "start" else "Start"
    marks = []
    if card["used"]:
        marks.append("✎ used your edit")
    if card["subgoal"]:
        marks.append(f"subgoal: {_e(card['subgoal'])}")
    if card.get("roles"):
        marks.append(_e(" → ".join(card["roles"])))
    if card.get("plan_item"):
        marks.append(f"plan item {_e(card['plan_item'])}")
    if card.get("attempt"):
        marks.append(f"attempt {card['attempt']}")
    if card.get("lesson"):
        marks.append(f"lesson: {_e(card['lesson'][:300])}")
    if card["terminal"]:
        marks.append(f"terminal · reward {card['reward']:g}")
    if card.get("tools"):
        failed = sum(1 for t in card["tools"] if t["error"] and not t.get("rejected"))
        marks.append(f"{len(card['tools'])} tool call(s)" + (f" · {failed} failed" if failed else ""))
    if card.get("diverged"):
        marks.append("diverged on replay")
    meta = ""
    if card["calls"]:
        tokens = card["prompt_tokens"] + card["completion_tokens"]
        meta = f"{tokens:,} tokens · ${card['cost']:.4f} · {card['latency']:.2f}s"
    parts = [
        f'<div style="display:flex;justify-content:space-between;gap:8px"><b>{head}</b>'
        f'<span style="opacity:.7">{" · ".join(marks)}</span><span style="opacity:.6">{meta}</span></div>'
    ]
    if error:
        parts.append(_row("Error", f'<span style="color:#d03b3b">{_e(card["error"])}</span>'))
    if card["thought"]:
        parts.append(_row("Thought", _e(card["thought"])))
    if card["action"]:
        parts.append(_row("Action", f'<code style="{MONO}">{_e(card["action"])}</code>'))
    if not error:
        if diff_memory and card["diff"]:
            parts.append(_row("Obs diff", f'<div style="{MONO}">{diff_lines_html(card["diff"])}</div>'))
        else:
            parts.append(
                _row("Obs", f'<pre style="{MONO};margin:2px 0;white-space:pre-wrap">{_e(card["obs"])}</pre>')
            )
    return (
        f'<li class="wb-static-card{" wb-static-error" if error else ""}" style="list-style:none;margin:4px 0;padding:4px 8px;border-left:3px solid {edge};'
        f'border-bottom:{BORDER}">' + "".join(parts) + "</li>"
    )


def workbench_html(
    header: dict[str, Any], cards: list[dict[str, Any]], plan: list[dict[str, Any]], *, diff_memory: bool
) -> str:
    """The Workbench panel as static HTML: header, plan, step cards."""
    shown = cards[-CARD_LIMIT:]
    omitted = len(cards) - len(shown)
    items = "".join(card_html(c, diff_memory=diff_memory) for c in shown)
    more = f'<p style="opacity:.7;margin:4px 8px">{omitted} earlier steps not shown</p>' if omitted else ""
    return (
        f'<div class="wb-static" style="{FONT};border:{BORDER};border-radius:4px;max-width:1100px">'
        + header_html(header)
        + f'<div style="padding:4px 8px;border-bottom:{BORDER}"><b>Plan</b>{plan_html(plan)}</div>'
        + f'<div style="padding:2px 0"><b style="padding:0 8px">Trajectory</b>{more}'
        + f'<ol style="margin:0;padding:0">{items}</ol></div></div>'
    )
