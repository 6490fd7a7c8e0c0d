"""One front end: the lab extension's modules, the HTML export and the notebook widgets are made of
the same files in workbench/widgets/static, concatenated the same way; and the package ships the
built extension (what `pip install`, Binder's `postBuild` included, installs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from workbench.export import page
from workbench.widgets.base import module_source
from workbench.widgets.tree_view import TreeView
from workbench.widgets.workbench_panel import Workbench

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"


def test_the_html_export_inlines_the_widgets_own_modules():
    assert module_source(page.MODULES["panel"]) == Workbench._esm.fget(None)
    assert module_source(page.MODULES["tree"]) == TreeView._esm.fget(None)
    assert page.MODULES["run"] == ("dom.js", "run_view.js")


def test_the_extension_build_makes_its_modules_from_the_widgets_files(tmp_path: Path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (it builds the lab extension)")
    scripts = json.loads((EXTENSION / "package.json").read_text())["scripts"]
    assert scripts["build:prod"].startswith("node scripts/shared.mjs && ")  # what pip install runs
    subprocess.run([node, str(EXTENSION / "scripts" / "shared.mjs")], check=True, timeout=60)
    made = {name: (EXTENSION / "src" / "shared" / f"{name}.ts").read_text() for name in page.MODULES}
    for name, files in page.MODULES.items():
        head, banner, body = made[name].split("\n", 2)
        assert head == "// @ts-nocheck" and "edit those" in banner
        assert body == module_source(files)  # byte for byte what the widget (or the export) runs
    css = (EXTENSION / "style" / "shared.css").read_text()
    for name in page.CSS:
        assert (ROOT / "workbench" / "widgets" / "static" / name).read_text() in css


def test_the_wheel_ships_the_prebuilt_extension_and_enables_the_server_extension():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = config["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["workbench/labextension"] == "share/jupyter/labextensions/agent-workbench"
    assert shared["jupyter-config/jupyter_server_config.d"] == "etc/jupyter/jupyter_server_config.d"
    hook = config["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]
    assert hook["build-kwargs"]["build_cmd"] == "build:prod" and hook["build-kwargs"]["path"] == "extension"
    lab = json.loads((EXTENSION / "package.json").read_text())["jupyterlab"]
    assert lab["outputDir"] == "../workbench/labextension" and lab["mimeExtension"] == "lib/mime.js"
    enabled = json.loads(
        (ROOT / "jupyter-config" / "jupyter_server_config.d" / "agent-workbench.json").read_text()
    )
    assert enabled["ServerApp"]["jpserver_extensions"]["workbench.server"] is True


def test_the_lockfile_records_every_dependency_of_package_json():
    """CI installs with the lockfile frozen (yarn refuses to change it when CI is set), so a
    dependency added to package.json without `jlpm install` fails every install from a clean clone."""
    package = json.loads((EXTENSION / "package.json").read_text())
    wanted = {**package["dependencies"], **package["devDependencies"]}
    lock = (EXTENSION / "yarn.lock").read_text()
    workspace = lock.split(f'"{package["name"]}@workspace:.":', 1)[1].split("\n\n", 1)[0]
    listed = workspace.split("  dependencies:\n", 1)[1].split("\n  languageName", 1)[0]
    recorded = dict(line.strip().rsplit(": ", 1) for line in listed.splitlines())
    assert {name.strip('"'): spec for name, spec in recorded.items()} == wanted
