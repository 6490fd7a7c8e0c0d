"""The static site of the teaching notebooks builds offline (Sphinx + MyST-NB, nothing executed) and
its pages need no network: a page read in Chromium with every non-file request refused shows the
Workbench panel and the run tree as static fallbacks, and a plotly chart drawn by the shipped plotly.js."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("myst_nb")

from workbench.teaching.notebooks import notebook_paths  # noqa: E402
from workbench.teaching.site import build_site  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "html").parent


@pytest.mark.slow
def test_every_notebook_has_a_page_and_nothing_comes_from_the_network(site: Path):
    for path in notebook_paths():
        page = site / f"{path.stem}.html"
        assert page.is_file(), path.name
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', text), path.name
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "01-first-agent.html" in index and "mybinder.org/v2/gh/" in index
    assert (site / "_static" / "plotly.min.js").stat().st_size > 1_000_000  # shipped, not a CDN link
    first = (site / "01-first-agent.html").read_text(encoding="utf-8")
    assert first.count('class="wb-fallback"') >= 6 and "application/vnd.jupyter.widget-view" not in first


@pytest.mark.slow
@pytest.mark.browser
def test_a_page_shows_the_panel_the_tree_and_a_chart_offline(site: Path, chromium: Any):
    from browser_fixtures import ARTIFACTS
    from playwright.sync_api import expect

    refused: list[str] = []

    def only_files(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    page.route("**/*", only_files)
    try:
        page.goto((site / "01-first-agent.html").as_uri())
        panel = page.locator(".wb-fallback", has_text="gridworld").first
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("idle · step 0")  # the panel as it was when `%agent new` ran
        tree = page.locator(".wb-fallback svg.wb-tree-static").first
        expect(tree).to_be_visible()
        assert tree.bounding_box()["height"] > 100
        ARTIFACTS.mkdir(exist_ok=True)
        tree.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "site-tree.png"))
        page.goto((site / "02-plans-and-memory.html").as_uri())
        chart = page.locator(".wb-plotly .main-svg").first
        expect(chart).to_be_visible()
        expect(page.locator(".wb-plotly .scatterlayer .trace")).to_have_count(4)  # one line per policy
        chart.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "site-chart.png"))
        assert refused == []
    finally:
        page.close()
