"""Rich, non-widget outputs of the magics: small HTML tables and cards with a text/plain fallback.

Every output is a `Rich` object (`text/html` + `text/plain`), so it reads in JupyterLab, in a
terminal IPython, and in a saved notebook without a kernel. Colours come from JupyterLab's `--jp-*`
variables (with light fallbacks), so dark themes work. Both renderings pass through secret
redaction: a key that sneaks into an observation never reaches the notebook.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.tree import Node, Run
from ..safety.redact import redact

_BOX = "font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px);"
_MUTED = "color: var(--jp-ui-font-color2, #616161);"
_CELL = "padding: 2px 8px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--jp-border-color2, #e0e0e0);"
_PRE = (
    "margin: 0; font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 12px);"
    " line-height: 1.25; white-space: pre; background: var(--jp-layout-color2, #f5f5f5); padding: 2px 4px;"
)
_LINE = {
    "+": "color: var(--jp-success-color1, #2e7d32); background: var(--jp-success-color3, #e8f5e9);",
    "-": "color: var(--jp-error-color1, #c62828); background: var(--jp-error-color3, #ffebee);",
    "@": "color: var(--jp-info-color1, #0277bd);",
}
TEXT_WIDTH = 60


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


class Rich:
    """An output with `text/html` and a `text/plain` fallback, both redacted."""

    def __init__(self, html_text: str, plain: str) -> None:
        self.html = redact(html_text)
        self.text = redact(plain)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.html, "text/plain": self.text}

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


@dataclass
class Raw:
    """A table cell given as HTML plus its plain-text form (a <pre> block, a coloured diff)."""

    html: str
    text: str


def brief(text: str | None, width: int = TEXT_WIDTH) -> str:
    """One line for a table: the last non-empty line of `text`, shortened."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def pre(text: str) -> Raw:
    return Raw(f'<pre style="{_PRE}">{esc(text)}</pre>', text)


def diff_block(diff: str) -> Raw:
    """A unified diff with added lines green, removed lines red and hunk headers blue."""
    rows = []
    for line in diff.splitlines() or [""]:
        style = _LINE.get(line[:1], "")
        rows.append(f'<span style="{style}">{esc(line)}</span>' if style else esc(line))
    return Raw(f'<pre style="{_PRE}">' + "\n".join(rows) + "</pre>", diff)


def small(text: str) -> Rich:
    """A one-line note."""
    return Rich(f'<div style="{_BOX} {_MUTED}">{esc(text)}</div>', text)


def _cell_html(value: Any) -> str:
    return value.html if isinstance(value, Raw) else esc(value)


def _cell_text(value: Any) -> str:
    return value.text if isinstance(value, Raw) else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "") -> Rich:
    """An HTML table (header row, one row per item) and its column-aligned text form."""
    rows = [list(r) for r in rows]
    head = "".join(f'<th style="{_CELL}">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{_cell_html(v)}</td>' for v in row) + "</tr>" for row in rows
    )
    cap = f'<caption style="text-align: left; {_MUTED}">{esc(caption)}</caption>' if caption else ""
    html_text = (
        f'<div style="{_BOX}"><table style="border-collapse: collapse;">{cap}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )
    return Rich(html_text, _plain_table(headers, rows, caption))


def _plain_table(headers: Sequence[str], rows: list[list[Any]], caption: str) -> str:
    cells = [[_cell_text(v) for v in row] for row in rows]
    multiline = any("\n" in c for row in cells for c in row)
    out = [caption] if caption else []
    if multiline:  # records, one block per row
        for row in cells:
            out.append(" · ".join(f"{h}: {c}" for h, c in zip(headers, row, strict=False) if "\n" not in c))
            out.extend(c for c in row if "\n" in c)
        return "\n".join(out)
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    out.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells)
    return "\n".join(out)


def fields(pairs: Sequence[tuple[str, Any]], caption: str = "") -> Rich:
    """A two-column table of labelled values."""
    body = "".join(
        f'<tr><th style="{_CELL} {_MUTED} font-weight: normal;">{esc(k)}</th><td style="{_CELL}">{_cell_html(v)}</td></tr>'
        for k, v in pairs
    )
    cap = f'<caption style="text-align: left; font-weight: bold;">{esc(caption)}</caption>' if caption else ""
    width = max((len(k) for k, _ in pairs), default=0)
    plain = ([caption] if caption else []) + [f"{k.ljust(width)}  {_cell_text(v)}" for k, v in pairs]
    return Rich(
        f'<div style="{_BOX}"><table style="border-collapse: collapse;">{cap}{body}</table></div>',
        "\n".join(plain),
    )


# --- views of the run ---------------------------------------------------------------------------
def step_cards(name: str, nodes: Sequence[Node]) -> Rich:
    """One card per new step: thought, action, reward and the observation (folded away on all but the
    last card); the text form is one line per step."""
    cards, lines = [], []
    for i, node in enumerate(nodes):
        last = i == len(nodes) - 1
        action = node.action if node.action is not None else "(no action)"
        flag = " · done" if node.terminal else (" · error" if node.status == "error" else "")
        head = f"{name} · step {node.depth} · node {node.id}{flag}"
        cards.append(
            f'<div style="{_BOX} border: 1px solid var(--jp-border-color2, #e0e0e0); border-radius: 4px;'
            f' padding: 4px 8px; margin: 2px 0;"><div style="{_MUTED}">{esc(head)}</div>'
            f"<div><b>Thought:</b> {esc(node.thought or '')}</div><div><b>Action:</b> <code>{esc(action)}</code>"
            f"{f' · reward {node.reward:g}' if node.reward else ''}</div>"
            f'<details{" open" if last else ""}><summary style="{_MUTED}">Observation: {esc(brief(node.observation))}'
            f"</summary>{pre(node.observation).html}</details></div>"
        )
        lines.append(f"{head}: {action} | {node.thought or ''} | {brief(node.observation)}")
    return Rich("".join(cards), "\n".join(lines))


def history(run: Run, path: Sequence[Node], mode: str, diffs: Sequence[str] = (), note: str = "") -> Rich:
    """The path's steps; `mode` is brief (one line per observation), full or diff."""
    rows = []
    for i, node in enumerate(path):
        if mode == "full":
            obs: Any = pre(node.observation)
        elif mode == "diff":
            obs = pre(node.observation) if i == 0 else diff_block(diffs[i])
        else:
            obs = brief(node.observation)
        rows.append(
            [node.id, node.depth, node.action or ("(start)" if i == 0 else "(none)"), f"{node.reward:g}", obs]
        )
    caption = f"run {run.id} · {len(path) - 1} steps on this path · {len(run.nodes)} nodes in the tree"
    caption += f" · {note}" if note else ""
    return table(["node", "step", "action", "reward", "observation"], rows, caption)


def tree(run: Run) -> Rich:
    """Every branch, indented; the current path is marked with `*` and the cursor with `<`."""
    on_path = {n.id for n in run.path()}
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        mark = "*" if node.id in on_path else " "
        cursor = "  <- cursor" if node.id == run.cursor else ""
        label = node.action or ("start" if node.parent_id is None else f"({node.status})")
        lines.append(f"{'  ' * depth}{mark} {node.id}: {label}{' (done)' if node.terminal else ''}{cursor}")
        for child in run.children(node.id):
            walk(child, depth + 1)

    walk(run.root, 0)
    branches = sum(1 for n in run.nodes.values() if not run.children(n.id))
    text = f"run {run.id}: {len(run.nodes)} nodes, {branches} branches\n" + "\n".join(lines)
    return Rich(f'<div style="{_BOX}">{pre(text).html}</div>', text)


def help_table(commands: Sequence[tuple[str, str]], caption: str) -> Rich:
    return table(["command", "what it does"], [(f"%agent {u}", s) for u, s in commands], caption)
