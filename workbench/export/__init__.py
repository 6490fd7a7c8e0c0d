"""Exports of runs: JSON now (`export_run`); notebook, HTML and training data later."""

from __future__ import annotations

from .json import export_run, load_run_json

__all__ = ["export_run", "load_run_json"]
