"""`python -m workbench.teaching build [NOTEBOOK ...]`: execute the teaching notebooks and write their
outputs into the files; `python -m workbench.teaching links`: print each notebook's Binder link;
`python -m workbench.teaching site [OUT]`: build the static site of the notebooks (offline)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.teaching", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="execute notebooks and commit their outputs into the files")
    build.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN-*.ipynb")
    links = sub.add_parser("links", help="print the Binder launch link of every notebook")
    links.add_argument(
        "--readme", action="store_true", help="rewrite the Binder links in README.md from pyproject.toml"
    )
    site = sub.add_parser("site", help="build the static site of the notebooks (offline, no CDN)")
    site.add_argument("out", type=Path, nargs="?", default=Path("site"), help="output folder (default: site)")
    args = parser.parse_args(argv)
    if args.command == "links":
        from .links import notebook_links, placeholder, rewrite_links
        from .notebooks import ROOT

        if args.readme:
            readme = ROOT / "README.md"
            readme.write_text(rewrite_links(readme.read_text(encoding="utf-8")), encoding="utf-8")
            print(f"rewrote the Binder links of {readme}")
        if placeholder():
            print("note: [project.urls] Repository still has the placeholder owner OWNER", file=sys.stderr)

        for name, url in notebook_links():
            print(f"{name}\t{url}")
        return 0
    if args.command == "site":
        from .site import build_site

        started = time.perf_counter()
        index = build_site(args.out)
        print(f"built {index} in {time.perf_counter() - started:.1f} s")
        return 0
    from .notebooks import build as build_one
    from .notebooks import notebook_paths

    paths = args.notebooks or notebook_paths()
    failed = 0
    for path in paths:
        if not path.is_file():
            print(f"no such notebook: {path}", file=sys.stderr)
            return 2
        started = time.perf_counter()
        try:
            build_one(path)  # raises when a cell errs: nothing is written then
        except Exception as exc:  # nbclient's CellExecutionError names the cell
            print(f"FAILED {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"built {path} in {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
