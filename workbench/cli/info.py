"""The `workbench` commands that say what there is and where: `where`, `init`, `envs`, `models`."""

from __future__ import annotations

import argparse
import os

from ..console import out


def cmd_where(args: argparse.Namespace) -> int:
    from ..store.location import describe_default

    path, rule = describe_default()
    why = {"project": "the nearest .workbench/ folder", "user": "the per-user default"}.get(rule, rule)
    out(f"{path}  ({why}{'' if path.is_file() else '; no runs yet'})")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from ..store.location import FILE_NAME, PROJECT_DIR

    folder = os.path.join(os.getcwd(), PROJECT_DIR)
    os.makedirs(folder, exist_ok=True)
    out(
        f"runs of this project now go to {os.path.join(folder, FILE_NAME)} (from here and every folder below)"
    )
    return 0


def cmd_envs(args: argparse.Namespace) -> int:
    from .. import registry
    from ..envs.base import BUILTIN_ENVS, env_names

    rows = registry.describe("env", BUILTIN_ENVS, env_names())
    width = max(len(name) for name, _ in rows)
    for name, about in rows:
        out(f"{name.ljust(width)}  {about}".rstrip())
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from ..llm.model import known_models

    rows = known_models()
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        out(f"{name.ljust(width)}  {description}")
    return 0
