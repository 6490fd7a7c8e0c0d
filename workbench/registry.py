"""Name -> class tables for built-ins that are imported only when first used."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import ConfigError


def build(kind: str, table: dict[str, str], name: str, valid: str = "", **options: Any) -> Any:
    """An instance of the class `table[name]` ("module:Class"), or a ConfigError listing the names."""
    if name not in table:
        raise ConfigError(f"unknown {kind} {name!r}; valid: {valid or ', '.join(table)}")
    module, _, cls = table[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
