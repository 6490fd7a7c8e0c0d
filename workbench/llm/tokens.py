"""Offline token counting.

`count_tokens` uses tiktoken's `cl100k_base` encoding read from the copy litellm ships in
`litellm/litellm_core_utils/tokenizers`, so it never downloads anything (tiktoken's default is to
fetch the encoding from the internet on first use). The package is located with `find_spec`, which
does not import litellm. The encoding is loaded once per process and cached, and so is the count of
each text seen (up to 100,000 texts), so a prompt that repeats earlier messages costs lookups.

Counts are the same for every model: they are a realistic estimate for the simulated and replayed
models and for usage displays, not a billing figure (real calls report the provider's own usage).
When tiktoken is not installed, or the bundled file cannot be found, a text counts as
`len(text) // 4` tokens (at least 1 for a non-empty text).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ENCODING = "cl100k_base"
_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
# tiktoken names each cached file by the sha1 of the URL it came from.
_CACHE_FILE = hashlib.sha1(_ENCODING_URL.encode(), usedforsecurity=False).hexdigest()

# What a chat message costs beyond its content (role, separators), and the reply's priming.
PER_MESSAGE = 4
PER_REPLY = 3

_lock = threading.Lock()
_encoding: Any = None
_loaded = False
# text -> tokens: a prompt repeats the texts of earlier prompts (its history), so each text is encoded
# once; the texts of a run are shared objects, whose hash Python keeps, so a hit costs a lookup.
_counted: dict[str, int] = {}
_COUNTED_MAX = 100_000
_counted_for: list[Any] = [None]  # the encoding the counts were made with


def bundled_tokenizer_dir() -> Path | None:
    """litellm's directory of bundled tiktoken files, found without importing litellm."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for base in spec.submodule_search_locations:
        folder = Path(base) / "litellm_core_utils" / "tokenizers"
        if (folder / _CACHE_FILE).is_file():
            return folder
    return None


def _load() -> Any:
    """The cl100k encoding, or None when it cannot be had without the network."""
    try:
        import tiktoken
    except ImportError:
        return None
    bundled = bundled_tokenizer_dir()
    if bundled is not None:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(bundled))
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR", "")
    if cache_dir and (Path(cache_dir) / _CACHE_FILE).is_file():
        return tiktoken.get_encoding(ENCODING)
    if bundled is None:
        return None
    # The user's TIKTOKEN_CACHE_DIR lacks the file: point tiktoken at the bundled copy for this one
    # load (tiktoken reads the variable only while loading), then put the user's value back.
    previous = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    try:
        return tiktoken.get_encoding(ENCODING)
    finally:
        if previous is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = previous


def get_encoding() -> Any:
    """The cached tiktoken encoding, or None (then counts are estimated from characters)."""
    global _encoding, _loaded
    if _loaded:
        return _encoding
    with _lock:
        if not _loaded:
            _encoding = _load()
            _loaded = True
    return _encoding


def _count_text(text: str) -> int:
    if not text:
        return 0
    encoding = get_encoding()
    if encoding is not _counted_for[0]:  # counts made with another encoding (or none) are stale
        _counted.clear()
        _counted_for[0] = encoding
    count = _counted.get(text)
    if count is not None:
        return count
    count = max(1, len(text) // 4) if encoding is None else len(encoding.encode(text, disallowed_special=()))
    if len(_counted) >= _COUNTED_MAX:
        _counted.clear()
    _counted[text] = count
    return count


def _content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable) and not isinstance(content, (bytes, Mapping)):
        parts = []
        for part in content:
            if isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def count_tokens(text_or_messages: str | Iterable[Mapping[str, Any]] | None, model: str | None = None) -> int:
    """Tokens in a text, or in a list of chat messages (content plus a small per-message overhead).

    `model` is accepted for symmetry with provider counters; every model is counted with cl100k.
    """
    del model  # one encoding for all models, see the module docstring
    if text_or_messages is None:
        return 0
    if isinstance(text_or_messages, str):
        return _count_text(text_or_messages)
    total = 0
    count = 0
    for message in text_or_messages:
        count += 1
        total += PER_MESSAGE + _count_text(_content_text(message.get("content")))
        name = message.get("name")
        if isinstance(name, str):
            total += _count_text(name) + 1
    return total + PER_REPLY if count else 0
