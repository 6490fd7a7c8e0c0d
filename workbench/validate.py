"""Checks for arguments at the public boundary: each wrong value is a `ConfigError` that names the
argument and says what is valid.

    max_steps = validate.number("max_steps", max_steps, minimum=0, integer=True, optional=True)
    text = validate.text("text", text)                   # a str; lone surrogates made valid
    validate.choice("memory", name, ["full", "diff"])
    validate.options("memory_options", options, ["window"])

A number is a real `int` or `float` (not a bool, not a numeric string), never NaN, infinite only when
`infinite=True`; `integer=True` also accepts a float with no fraction (`3.0`) and returns an `int`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConfigError
from .safety.text import valid_text


def _bounds(minimum: float | None, maximum: float | None, above: bool) -> str:
    low = None if minimum is None else f"{'>' if above else '>='} {minimum:g}"
    high = None if maximum is None else f"<= {maximum:g}"
    if low and high:
        return f" {low} and {high}"
    return f" {low or high}" if low or high else ""


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
    integer: bool = False,
    optional: bool = False,
    infinite: bool = False,
) -> Any:
    """`value` as an int (integer=True) or float, or a ConfigError naming `name` and the valid range.

    `above=True` makes `minimum` exclusive (`timeout > 0`); `optional=True` lets None through."""
    if value is None and optional:
        return None
    kind = "an integer" if integer else "a number"
    valid = f"{kind}{_bounds(minimum, maximum, above)}{' or None' if optional else ''}"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        as_float = float(value)
        ok = not math.isnan(as_float) and (infinite or not math.isinf(as_float))
        if ok and integer and not math.isinf(as_float):
            ok = as_float.is_integer()
        if ok and minimum is not None:
            ok = as_float > minimum if above else as_float >= minimum
        if ok and maximum is not None:
            ok = as_float <= maximum
    if not ok:
        raise ConfigError(f"{name} must be {valid}, not {value!r}")
    if integer and not math.isinf(float(value)):
        return int(value)
    return value


def text(name: str, value: Any, *, empty: bool = True, optional: bool = False) -> Any:
    """`value` as valid text (lone surrogates replaced), or a ConfigError if it is not a str."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string{' or None' if optional else ''}, not {value!r}")
    if not empty and not value.strip():
        raise ConfigError(f"{name} must be a non-empty string")
    return valid_text(value)


def flag(name: str, value: Any) -> bool:
    """`value` if it is a bool, or a ConfigError."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, not {value!r}")
    return value


def choice(name: str, value: Any, valid: Iterable[Any]) -> Any:
    """`value` if it is one of `valid`, or a ConfigError listing them."""
    valid = list(valid)
    if value not in valid:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, valid))}; not {value!r}")
    return value


def options(name: str, given: Any, valid: Iterable[str], *, what: str = "") -> dict[str, Any]:
    """`given` as a dict when it is a mapping with only `valid` keys, or a ConfigError."""
    valid = sorted(valid)
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"{name} must be a dict of options, not {given!r}")
    unknown = [k for k in given if k not in valid]
    if unknown:
        listed = ", ".join(valid) if valid else "none"
        raise ConfigError(f"{name}: unknown option {unknown[0]!r}{what}; valid: {listed}")
    return dict(given)
