"""A tiny installed distribution with workbench entry points, made in a temporary folder.

`make_plugin_dist(folder)` writes a package and a `*.dist-info` folder (METADATA + entry_points.txt)
next to it. With the folder on `sys.path` (or PYTHONPATH for a child process), `importlib.metadata`
finds the distribution as if pip had installed it, so the registry sees:

    workbench.envs        my-env     -> PlugCounter (count to 2 with "inc"; takes no seed)
    workbench.strategies  my-react   -> MyReAct (ReAct under another name)
    workbench.memories    my-window  -> MyWindow (WindowMemory under another name)
    workbench.tools       shout      -> shout (a plain function)
    workbench.envs        broken-env -> a module that does not exist

Each call makes a package with a fresh name, so modules imported by an earlier test never stand in.
`installed(folder, monkeypatch)` is the body of a fixture: the distribution is on sys.path for one
test, and the registry's cache is cleared before and after.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench import registry

_counter = itertools.count()

PLUGIN_MODULE = '''"""Plugins of a test distribution."""

from workbench.memory.window import WindowMemory
from workbench.strategies.react import ReAct


class MyReAct(ReAct):
    """ReAct, registered by a plugin as my-react."""

    name = "my-react"


class MyWindow(WindowMemory):
    """The window memory, registered by a plugin as my-window."""

    name = "my-window"


class PlugCounter:
    """Count to 2 with inc (a plugin env)."""

    name = "my-env"
    task = "count to 2"
    instructions = "Actions: inc"

    def __init__(self):
        self.n = 0

    def reset(self, seed=None):
        self.n = 0
        return "n=0", {}

    def step(self, action):
        if action.strip() != "inc":
            return f"invalid action {action!r}; valid: inc", 0.0, False, False, {}
        self.n += 1
        return f"n={self.n}", float(self.n == 2), self.n == 2, False, {}


def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()
'''


def make_plugin_dist(folder: Path) -> str:
    """Write the distribution into `folder` (to be put on sys.path); returns its package name."""
    package = f"wbplug{os.getpid()}x{next(_counter)}"
    (folder / package).mkdir(parents=True)
    (folder / package / "__init__.py").write_text("")
    (folder / package / "plugins.py").write_text(PLUGIN_MODULE)
    info = folder / f"{package}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[workbench.envs]\n"
        f"my-env = {package}.plugins:PlugCounter\n"
        "broken-env = no_such_module_anywhere:Env\n"
        "\n[workbench.strategies]\n"
        f"my-react = {package}.plugins:MyReAct\n"
        "\n[workbench.memories]\n"
        f"my-window = {package}.plugins:MyWindow\n"
        "\n[workbench.tools]\n"
        f"shout = {package}.plugins:shout\n"
    )
    return package


def installed(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make the distribution in `folder`, put it on sys.path, yield its package name, then clean up."""
    package = make_plugin_dist(folder)
    monkeypatch.syspath_prepend(str(folder))  # also invalidates importlib's finder caches
    registry.clear_cache()
    yield package
    registry.clear_cache()
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
