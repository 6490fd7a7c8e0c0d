"""Binder: repo2docker reads `binder/` and its Dockerfile installs the requirements, runs `postBuild`
(which installs this package from the checkout) and uses Python 3.11, with no key anywhere.

`jupyter-repo2docker --no-build --no-run --debug DIR` prints the Dockerfile it would build without
needing Docker; the test runs it on a copy of the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
IGNORE = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".workbench",
    "node_modules",
)


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_match_the_package_dependencies():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert sorted(requirement_lines()) == sorted(deps)


def test_post_build_is_executable_and_installs_this_checkout():
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert text.startswith("#!") and "set -e" in text
    commands = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(re.fullmatch(r"python -m pip install (--no-cache-dir )?\.", c.strip()) for c in commands)
    assert not re.search(r"API_KEY|TOKEN|SECRET", text)  # no key: the demo model is the default


def test_runtime_is_python_3_11_and_the_notebook_is_there():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert (ROOT / "notebooks" / "01-first-agent.ipynb").is_file()


@pytest.mark.slow
def test_repo2docker_dockerfile_installs_requirements_and_runs_post_build(tmp_path: Path):
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is in the [test] extra")
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    done = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug", str(repo)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    dockerfile = done.stdout
    assert dockerfile.lstrip().startswith("FROM ")
    # the requirements file from binder/ (root-level config is ignored when binder/ exists)
    assert "src/binder/requirements.txt ${REPO_DIR}/binder/requirements.txt" in dockerfile
    assert re.search(
        r'RUN \$\{KERNEL_PYTHON_PREFIX\}/bin/pip install .*-r "binder/requirements.txt"', dockerfile
    )
    # postBuild runs after the repository is copied in, with the kernel's python first on PATH
    assert "RUN chmod +x binder/postBuild" in dockerfile and "RUN ./binder/postBuild" in dockerfile
    assert dockerfile.index('-r "binder/requirements.txt"') < dockerfile.index("RUN ./binder/postBuild")
    assert "ENV KERNEL_PYTHON_PREFIX=${NB_PYTHON_PREFIX}" in dockerfile
    assert "python=3.11" in done.stderr  # runtime.txt was read


def test_binder_opens_notebook_01_without_a_urlpath():
    text = (BINDER / "postBuild").read_text()
    [url] = re.findall(r'c\.ServerApp\.default_url = "/(lab/tree/[^"]+)"', text)
    assert (
        url == "lab/tree/notebooks/01-first-agent.ipynb" and (ROOT / url.removeprefix("lab/tree/")).is_file()
    )


def test_launch_links_come_from_pyproject_and_open_existing_notebooks():
    from workbench.teaching.links import binder_url, notebook_links, repository_url, rewrite_links, urlpath
    from workbench.teaching.notebooks import notebook_paths

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rewrite_links(readme) == readme  # every link in the README is the one pyproject.toml makes
    owner_repo = repository_url().removeprefix("https://github.com/")
    paths = notebook_paths()
    assert [name for name, _ in notebook_links()] == [p.name for p in paths]
    for path in paths:
        link = binder_url(path)
        assert link == f"https://mybinder.org/v2/gh/{owner_repo}/HEAD?urlpath=lab/tree/notebooks/{path.name}"
        assert link in readme, f"README has no launch link for {path.name}"
        assert (ROOT / urlpath(path).removeprefix("lab/tree/")).resolve() == path.resolve()
    badge = re.search(r"\[!\[Launch on Binder\]\([^)]+\)\]\(([^)]+)\)", readme)
    assert badge and badge.group(1) == binder_url(paths[0])  # the badge opens notebook 01


def test_links_refuse_an_address_that_is_not_a_github_repository():
    from workbench.teaching.links import binder_url, placeholder

    with pytest.raises(ValueError, match="is not a https://github.com/OWNER/REPO address"):
        binder_url(ROOT / "notebooks" / "01-first-agent.ipynb", "https://example.org/x")
    assert placeholder("https://github.com/OWNER/agent-workbench")
    assert not placeholder("https://github.com/someone/agent-workbench")
