"""Binder launch links for the teaching notebooks, made from the ONE place that holds the repository's
public address: `Repository` under `[project.urls]` in pyproject.toml.

    https://mybinder.org/v2/gh/OWNER/REPO/BRANCH?urlpath=lab/tree/notebooks/01-first-agent.ipynb

`urlpath` opens JupyterLab on that notebook (Binder starts the server in the repository root).
While the address still holds the placeholder owner `OWNER`, `placeholder()` is True and the links
say so: they must be regenerated once the address is filled in.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from .notebooks import NOTEBOOKS, ROOT, notebook_paths

BINDER = "https://mybinder.org/v2/gh"
BRANCH = "HEAD"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")


def repository_url(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """`[project.urls] Repository` of pyproject.toml."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10
        match = re.search(r'^Repository\s*=\s*"([^"]+)"', text, re.M)
        if match is None:
            raise ValueError(f"{pyproject}: [project.urls] has no Repository") from None
        return match.group(1)
    urls = tomllib.loads(text).get("project", {}).get("urls", {})
    if "Repository" not in urls:
        raise ValueError(f"{pyproject}: [project.urls] has no Repository")
    return urls["Repository"]


def placeholder(url: str | None = None) -> bool:
    """True while the repository address is still the placeholder (owner `OWNER`)."""
    match = _GITHUB.match(url or repository_url())
    return match is None or match.group("owner") == "OWNER"


def urlpath(notebook: Path) -> str:
    """The Binder `urlpath` that opens `notebook` in JupyterLab: `lab/tree/notebooks/NAME.ipynb`."""
    relative = notebook.resolve().relative_to(ROOT).as_posix()
    return f"lab/tree/{relative}"


def binder_url(notebook: Path, url: str | None = None) -> str:
    """The launch link of `notebook` on mybinder.org, for the GitHub repository at `url`."""
    url = url or repository_url()
    match = _GITHUB.match(url)
    if match is None:
        raise ValueError(f"the Repository url {url!r} is not a https://github.com/OWNER/REPO address")
    return f"{BINDER}/{match['owner']}/{match['repo']}/{BRANCH}?urlpath={quote(urlpath(notebook), safe='/')}"


def badge(notebook: Path, url: str | None = None) -> str:
    """A Markdown Binder badge that launches `notebook`."""
    return f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)]({binder_url(notebook, url)})"


def notebook_links(folder: Path = NOTEBOOKS) -> list[tuple[str, str]]:
    """(notebook file name, launch link) for every teaching notebook."""
    return [(p.name, binder_url(p)) for p in notebook_paths(folder)]


_LINK = re.compile(
    r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?urlpath=lab/tree/(notebooks/[\w.-]+\.ipynb)"
)


def rewrite_links(text: str, url: str | None = None) -> str:
    """`text` with every Binder link to a notebook made anew from the repository address."""
    return _LINK.sub(lambda m: binder_url(ROOT / m.group(1), url), text)
