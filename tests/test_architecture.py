"""The imports of `workbench` point one way: a guard that reads the code (it runs none of it).

Every import counts: at the top of a module, inside a function, and under `TYPE_CHECKING`. The
package's own `__init__.py` is left out: it is the lazy front door (`workbench.Session`) and only
hands out names, so modules may take `__version__` from it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import workbench

PACKAGE = Path(workbench.__file__).parent

# The session and its parts (core/state.py); the rest of core is the data every layer shares
# (tree, events, prompt, plan, limits, breakpoints, sync).
ENGINE = {
    "session",
    "state",
    "execute",
    "envstate",
    "steering",
    "approval",
    "monitor",
    "persist",
    "background",
    "store_choice",
    "resume",
}
FRONT_ENDS = {"widgets", "magics", "server", "eval", "export", "teaching", "viz", "demo", "cli", "console"}


def module_imports(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of `package` -> the modules of it that it imports (the package itself left out)."""
    files = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        files[name] = (path, name if is_package else name.rpartition(".")[0])
    graph: dict[str, set[str]] = {}
    for name, (path, here) in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:  # `from . import events` imports the module events
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in files else target)
        graph[name] = {t for t in found if t in files and t not in (name, package.name)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    """A module's subpackage (`workbench.store`), with core split in its engine and its data."""
    parts = module.split(".")
    if parts[1:2] == ["core"] and len(parts) > 2:
        return "workbench.core.engine" if parts[2] in ENGINE else "workbench.core.data"
    return ".".join(parts[:2])


def edges(graph: dict[str, set[str]], source: str, target: str) -> list[str]:
    return [
        f"{a} -> {b}"
        for a, bs in sorted(graph.items())
        for b in sorted(bs)
        if layer(a).startswith(source) and layer(b).startswith(target)
    ]


def test_the_guard_reads_every_kind_of_import() -> None:
    graph = module_imports()
    assert "workbench.memory.base" in graph["workbench.core.state"]  # only under TYPE_CHECKING
    assert "workbench.core.session" in graph["workbench.cli.running"]  # only inside a function
    assert "workbench.core.events" in graph["workbench.core.session"]  # `from . import events`
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_modules_import_one_way() -> None:
    assert cycles(module_imports()) == []


def test_subpackages_import_one_way() -> None:
    graph = module_imports()
    layers: dict[str, set[str]] = {}
    for a, bs in graph.items():
        layers.setdefault(layer(a), set()).update(layer(b) for b in bs if layer(b) != layer(a))
    assert cycles(layers) == []


def test_the_engine_imports_no_front_end() -> None:
    graph = module_imports()
    for front in FRONT_ENDS:
        assert edges(graph, "workbench.core", f"workbench.{front}") == []
    rules = {"workbench.oversight.gates", "workbench.oversight.specs"}
    oversight = [
        e for e in edges(graph, "workbench.core", "workbench.oversight") if e.split(" -> ")[1] not in rules
    ]
    assert oversight == []  # the engine uses oversight's rules, not the other way round


def test_rules_strategies_and_core_data_do_not_import_the_engine() -> None:
    graph = module_imports()
    for below in ("workbench.oversight", "workbench.strategies", "workbench.core.data"):
        assert edges(graph, below, "workbench.core.engine") == []
    for part in ENGINE - {"session"}:  # the parts are put together by session.py; none imports it
        assert "workbench.core.session" not in graph[f"workbench.core.{part}"]


def test_outside_core_the_engine_is_used_through_the_session_and_its_runner() -> None:
    graph = module_imports()
    reached = {
        f"{a} -> {b}"
        for a, bs in graph.items()
        for b in bs
        if layer(b) == "workbench.core.engine"
        and not a.startswith("workbench.core.")
        and b not in ("workbench.core.session", "workbench.core.background")
    }
    assert reached == set()  # e.g. what a stored run needs from the engine belongs to core's data
