"""Secret redaction: values of secret-looking environment variables never leave the process.

Every writer (store, cassettes, exports, logs) passes its text through `redact` first. A secret is
the value of an environment variable whose name ends in `_API_KEY`, `_KEY`, `_TOKEN`, `_SECRET` or
`_PASSWORD` (and a few well-known exact names), at least 6 characters long. The environment is read
at each call, so a key set after import is still caught.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

_SECRET_NAME = re.compile(r"(_API_KEY|_KEY|_TOKEN|_SECRET|_PASSWORD|_PASS)$|^(API_KEY|TOKEN|SECRET)$", re.I)
_MIN_LEN = 6
_SECRET_KWARGS = re.compile(r"key|token|secret|password|authorization", re.I)


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map each secret value in the environment to the name of its variable."""
    env = os.environ if environ is None else environ
    found = {}
    for name, value in env.items():
        if _SECRET_NAME.search(name) and value and len(value) >= _MIN_LEN:
            found[value] = name
    return found


def _replace(text: str, secrets: Mapping[str, str]) -> str:
    for value, name in sorted(secrets.items(), key=lambda kv: -len(kv[0])):
        if value in text:
            text = text.replace(value, f"[REDACTED:{name}]")
    return text


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value replaced by `[REDACTED:NAME]`."""
    return _replace(text, secret_values(environ))


def redact_obj(obj: Any, environ: Mapping[str, str] | None = None) -> Any:
    """A copy of a JSON-like object with secrets redacted in every string."""
    secrets = secret_values(environ)
    if not secrets:
        return obj

    def walk(o: Any) -> Any:
        if isinstance(o, str):
            return _replace(o, secrets)
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [walk(v) for v in o]
        return o

    return walk(obj)


def is_secret_kwarg(name: str) -> bool:
    """Whether a model keyword argument (api_key, token, ...) must never be stored or shown."""
    return bool(_SECRET_KWARGS.search(name))


def public_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """`kwargs` without secret-bearing entries, safe to store, show or export."""
    return {k: v for k, v in kwargs.items() if not is_secret_kwarg(k)}
