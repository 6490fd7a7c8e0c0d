"""The static fallback of a displayed widget: its own output, kept current, for readers without a kernel.

Displaying a workbench widget makes two outputs: the live widget view and, right after it, a
`text/html` output (`display_id` `wb-fallback-...`) with the widget's `static_html()`. Why two:

- nbconvert's HTML exporter (and nbviewer) render a widget view whenever the notebook holds widget
  state, which `nbconvert --execute`, nbclient and papermill store by default, and then drop the
  `text/html` of that output: offline the panel is blank. A separate `text/html` output is always kept.
- A fallback inside the widget's own output cannot be refreshed: updating that output makes JupyterLab
  render a second live view. The separate output is refreshed with `update_display_data` whenever the
  session changes (at most every `INTERVAL` seconds; the end of a run at once), so a saved notebook
  shows the run as it was at save time, not as it was when the cell ran.
- Each fallback is the widget's snapshot as of its cell (issue 14): it follows the session while its
  cell runs, between cells (the widget's own buttons) and, if a run of the session is going when a
  later cell starts, until that run stops (so a `%agent run` panel ends "done", not "running · step
  4"; issue 11). The first change a LATER cell makes to the session (a step, an edit, a rewind)
  freezes it: that cell's change shows in the live view and in that cell's own outputs, never in
  the text of an earlier cell, so a saved notebook reads as the story it tells.
- The output also carries a bounded snapshot of the run (`snapshot.py`) that the lab extension
  draws with the widgets' own views, so JupyterLab shows a saved run as a panel with its cards,
  tree and usage chart without a kernel; other readers keep using the `text/html`.
- In a live JupyterLab the widget's CSS (`static/fallback.css`) hides the fallback output that follows
  a rendered widget; where no widget renders (GitHub, nbviewer, nbconvert, a notebook reopened
  without a kernel) that CSS is absent and the fallback shows.

Each update is sent twice when the two differ: with the parent header of the cell that displayed the
widget (JupyterLab routes it to that cell's outputs) and with the header of the request executing now
(nbclient/nbconvert only read messages of the cell they are running, e.g. `await run` while a
background run ends). A run can also end between two cells (its last update then belongs to no
running cell), so after every cell the fallbacks that changed since the last cell are sent again
(IPython's `post_execute` event).
"""

from __future__ import annotations

import contextvars
import itertools
import weakref
from typing import Any

from ..safety.redact import redact_obj

INTERVAL = 1.0  # seconds between two refreshes of a widget's fallback outputs
PART = "_fallback"  # the refresh part (see SessionWidget.flush) that re-sends the fallback outputs
_ids = itertools.count(1)
_live: weakref.WeakSet[Any] = weakref.WeakSet()  # displayed widgets with fallback outputs
_hooked: weakref.WeakSet[Any] = weakref.WeakSet()  # shells whose post_execute re-sends them


_cell = 0  # cells started in this kernel (IPython's pre_execute events)
_executing = False  # a cell is running now


def changed(widget: Any) -> bool:
    """Note that `widget`'s session changed; True while some of its fallbacks still follow it.

    A change made by a later cell (while it runs, or after it by a run it started) freezes the
    fallbacks displayed before that cell, except those whose cell ended while a run of the session
    was going (they follow that run to its end). A change between cells from anything else (the
    widget's buttons) is followed."""
    widget._fallback_version += 1
    task = _task(widget)
    # a cell's change: one made while a cell runs, or between cells by a run a cell started
    if _executing or (task is not None and task is getattr(widget, "_fallback_cell_task", None)):
        kept = [entry for entry in widget._fallbacks if entry[2] >= _cell or entry[3]]
        if len(kept) != len(widget._fallbacks):
            widget._fallbacks[:] = kept
    return bool(widget._fallbacks)


def _before_cell() -> None:
    """A cell starts: send each fallback's pending change now, so a fallback frozen by this cell
    holds the state before it. A fallback displayed by the cell that just ended follows the run of
    its session if one is going now, until it stops; a run started later never unfreezes it."""
    global _cell, _executing
    for widget in list(_live):
        running = _running(widget)
        for entry in widget._fallbacks:
            entry[3] = running and (entry[3] or entry[2] == _cell)
        if widget._fallbacks and widget._fallback_version != widget._fallback_cell_version:
            widget._fallback_cell_version = widget._fallback_version
            refresh(widget)
    _cell += 1
    _executing = True


def _after_cell() -> None:
    global _executing
    _executing = False
    for widget in list(_live):
        widget._fallback_cell_task = _task(widget)
        if widget._fallback_version != widget._fallback_cell_version:
            widget._fallback_cell_version = widget._fallback_version
            refresh(widget)


def _task(widget: Any) -> Any:
    """The background task of the widget's session while it runs (None otherwise or if unknown)."""
    runner = getattr(widget, "runner", None)
    return getattr(runner, "task", None) if runner is not None and getattr(runner, "running", False) else None


def _running(widget: Any) -> bool:
    runner = getattr(widget, "runner", None)
    return bool(runner is not None and runner.running)


def bundle(widget: Any) -> dict[str, Any]:
    """The fallback output's data: the widget's static HTML, marked for the hiding CSS, and (for
    the panel and the tree) a bounded run snapshot, `application/vnd.agent-workbench.run+json`."""
    data = {
        "text/html": f'<div class="wb-fallback">{redact_obj(widget.static_html())}</div>',
        "text/plain": redact_obj(widget.summary()),
    }
    of = getattr(widget, "run_snapshot", None)  # the session widgets have one (base.py)
    snapshot = of() if callable(of) else None
    if snapshot is not None:  # JupyterLab draws it with the widgets' views (the lab extension)
        from .snapshot import MIME

        data[MIME] = snapshot  # redacted by `snapshot.run_snapshot`, which built it
    return data


def _publisher() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "display_pub", None) if shell is not None else None


def _current_parent(pub: Any) -> dict[str, Any]:
    """The header of the request the kernel is executing now (not the caller's context's)."""
    return contextvars.Context().run(lambda: dict(pub.parent_header or {}))


def display_with_fallback(widget: Any) -> None:
    """Display `widget` (its view, no `text/html`) and its fallback output right after it."""
    from IPython.display import display

    data, metadata = widget._repr_mimebundle_()
    display({k: v for k, v in data.items() if k != "text/html"}, metadata=metadata, raw=True)
    display_id = f"wb-fallback-{widget.model_id}-{next(_ids)}"
    pub = _publisher()
    parent = dict(getattr(pub, "parent_header", None) or {}) if pub is not None else {}
    widget._fallbacks.append([display_id, parent, _cell, False])
    display(bundle(widget), raw=True, display_id=display_id)
    _live.add(widget)
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and shell not in _hooked:
        shell.events.register("pre_execute", _before_cell)
        shell.events.register("post_execute", _after_cell)
        _hooked.add(shell)


class StaticFallback:
    """The display side every workbench widget shares (mixed in before `anywidget.AnyWidget`).

    Its mimebundle carries `summary()` as `text/plain` and `static_html()` as `text/html` (secrets
    redacted) after `sync()` sent the current state; displayed in a notebook, the widget gets its
    fallback output (`display_with_fallback`), which `refresh` keeps current."""

    def _init_fallbacks(self) -> None:
        # [display id, parent header, cell number, follows a run] per fallback output still following
        # the widget (see `changed`)
        self._fallbacks: list[list[Any]] = []
        self._fallback_version = self._fallback_cell_version = 0  # changes seen / re-sent after a cell

    def sync(self) -> None:
        """Send the widget's whole current state now (displaying it does this first)."""

    def summary(self) -> str:
        """One line of plain text (the `text/plain` of the mimebundle)."""
        return f"<{type(self).__name__}>"

    def static_html(self) -> str:
        """A self-contained HTML rendering of the current state, for readers without a kernel."""
        return ""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.sync()
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if bundle is None:
            return None
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["text/plain"] = redact_obj(self.summary())
        data["text/html"] = redact_obj(self.static_html())
        return data, metadata

    def _ipython_display_(self) -> None:
        display_with_fallback(self)


def refresh(widget: Any) -> None:
    """Re-send every fallback output of `widget` with its current state."""
    if not widget._fallbacks:
        return
    data = bundle(widget)
    pub = _publisher()
    session = getattr(pub, "session", None)
    if session is None or not hasattr(pub, "pub_socket"):
        # not a kernel: a terminal has no document to keep current (an update would print the text
        # again); only outputs being recorded (`capture_output`) take the update
        from IPython.core.displaypub import CapturingDisplayPublisher
        from IPython.display import update_display

        if isinstance(pub, CapturingDisplayPublisher):
            for display_id, *_rest in widget._fallbacks:
                update_display(data, raw=True, display_id=display_id)
        return
    now = _current_parent(pub)
    for display_id, parent, *_rest in widget._fallbacks:
        content = {"data": data, "metadata": {}, "transient": {"display_id": display_id}}
        parents = [parent]
        if now.get("msg_id") and now.get("msg_id") != parent.get("msg_id"):
            parents.append(now)
        for header in parents:
            msg = session.msg("update_display_data", content, parent=header)
            session.send(pub.pub_socket, msg, ident=pub.topic)
