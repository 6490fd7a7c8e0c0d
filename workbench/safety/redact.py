"""Secret redaction: values of secret-looking environment variables never leave the process.

Every writer (store, cassettes, exports, logs) passes its text through `redact` first. A secret is
the value of an environment variable whose name ends in `_API_KEY`, `_KEY`, `_TOKEN`, `_SECRET` or
`_PASSWORD` (and a few well-known exact names), at least 6 characters long, plus every value given
to `add_secret` (a `Model(api_key=...)` adds its key). A key set after import is still caught: the set
is computed once and computed again only when the environment changed (a snapshot of its items,
compared by identity first, costs a few microseconds instead of a regex over every variable).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from typing import Any

_SECRET_NAME = re.compile(r"(_API_KEY|_KEY|_TOKEN|_SECRET|_PASSWORD|_PASS)$|^(API_KEY|TOKEN|SECRET)$", re.I)
_MIN_LEN = 6
# api_key, aws_session_token, vertex_credentials...; not max_tokens
_SECRET_KWARGS = re.compile(r"(key|token|password|passwd|authorization|credentials?)$|secret", re.I)


_added: dict[str, str] = {}  # value -> name, from add_secret
_added_version = 0
_cache_lock = threading.Lock()
# (environment snapshot, add_secret version, secret values, replacement pairs); see _current
_cache: tuple[Any, int, dict[str, str], list[tuple[str, str]]] | None = None


def add_secret(value: Any, name: str) -> None:
    """Treat `value` as a secret from now on (redacted as `[REDACTED:name]` everywhere).

    For keys that do not come from the environment, e.g. `Model(api_key=...)`. Values shorter than 4
    characters are ignored (they would redact ordinary words)."""
    global _added_version
    text = str(value) if value is not None else ""
    if len(text) < 4 or _added.get(text) is not None:
        return
    with _cache_lock:
        _added[text] = name
        _added_version += 1


def _scan(env: Mapping[str, str]) -> dict[str, str]:
    found = {}
    for name, value in env.items():
        if _SECRET_NAME.search(name) and value and len(value) >= _MIN_LEN:
            found[value] = name
    return found


def _snapshot() -> Any:
    data = getattr(os.environ, "_data", None)  # the process environment as os.environ keeps it
    return tuple(data.items()) if isinstance(data, dict) else tuple(os.environ.items())


def _current() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The secrets of os.environ plus the added ones, recomputed only when either changed."""
    global _cache
    snapshot, version, cached = _snapshot(), _added_version, _cache
    if cached is not None and cached[1] == version and cached[0] == snapshot:
        return cached[2], cached[3]
    found = {**_added, **_scan(os.environ)}  # an environment variable's name wins
    pairs = _pairs(found)
    _cache = (snapshot, version, found, pairs)
    return found, pairs


def _pairs(secrets: Mapping[str, str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for value, name in secrets.items():
        marker = f"[REDACTED:{name}]"
        out[value] = marker
        out.setdefault(json.dumps(value, ensure_ascii=False)[1:-1], marker)  # as it appears inside JSON
    return sorted(out.items(), key=lambda kv: -len(kv[0]))


def secret_pairs(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(text to find, replacement) pairs, longest first, with each value's JSON-escaped form too."""
    if environ is not None:
        return _pairs(_scan(environ))
    return _current()[1]


def _replace(text: str, pairs: list[tuple[str, str]]) -> str:
    for value, marker in pairs:
        if value in text:
            text = text.replace(value, marker)
    return text


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value replaced by `[REDACTED:NAME]`."""
    return _replace(text, secret_pairs(environ))


def redact_obj(obj: Any, environ: Mapping[str, str] | None = None) -> Any:
    """A copy of a JSON-like object with secrets redacted in every string."""
    secrets = secret_pairs(environ)
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


_SECRET_QUERY = re.compile(
    r"key|token|secret|password|passwd|pwd|auth|sig|signature|credential|session", re.I
)
_HEADER_KWARGS = ("extra_headers", "headers", "default_headers")
REDACTED = "[REDACTED]"


def url_secrets(url: str) -> list[str]:
    """The secret parts of a URL: the userinfo's password (or user, alone) and secret-like query values."""
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [v for v in (parts.password or parts.username,) if v]
    found += [
        value
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if value and _SECRET_QUERY.search(name)
    ]
    return found


def public_url(url: str) -> str:
    """`url` without userinfo and with secret-like query values (api-key=, token=, sig=...) redacted."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_QUERY.search(name) for name, _ in pairs):
            query = urlencode([(n, REDACTED if _SECRET_QUERY.search(n) else v) for n, v in pairs], safe="[]")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and "://" in value[:16]


def kwarg_secrets(kwargs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, name) of every secret a model's keyword arguments carry: secret kwargs (api_key=...),
    credentials inside URLs (api_base) and the values of header dicts (extra_headers)."""
    found: list[tuple[str, str]] = []
    for name, value in kwargs.items():
        if is_secret_kwarg(name) and isinstance(value, (str, bytes)) and value:
            found.append((value.decode(errors="replace") if isinstance(value, bytes) else value, name))
        elif _is_url(value):
            found += [(v, name) for v in url_secrets(value)]
        elif name in _HEADER_KWARGS and isinstance(value, Mapping):
            found += [(str(v), f"{name}.{k}") for k, v in value.items() if v]
    return found


def public_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """`kwargs` safe to store, show or export: secret kwargs dropped, URLs without credentials,
    header dicts with their names only (each value `[REDACTED]`)."""
    out: dict[str, Any] = {}
    for name, value in kwargs.items():
        if is_secret_kwarg(name):
            continue
        if _is_url(value):
            value = public_url(value)
        elif name in _HEADER_KWARGS and isinstance(value, Mapping):
            value = {str(k): REDACTED for k in value}
        out[name] = value
    return out


def is_secret_kwarg(name: str) -> bool:
    """Whether a model keyword argument (api_key, token, ...) must never be stored or shown."""
    return bool(_SECRET_KWARGS.search(name))
