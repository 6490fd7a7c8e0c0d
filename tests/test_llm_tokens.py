"""Offline token counting with litellm's bundled cl100k file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.llm import tokens


def test_counts_match_cl100k():
    assert tokens.count_tokens("hello world") == 2
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens(None) == 0
    assert tokens.get_encoding().name == "cl100k_base"


def test_messages_count_content_plus_overhead():
    messages = [{"role": "system", "content": "hello world"}, {"role": "user", "content": ""}]
    expected = 2 + 2 * tokens.PER_MESSAGE + tokens.PER_REPLY
    assert tokens.count_tokens(messages) == expected
    assert tokens.count_tokens([]) == 0
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}, {"type": "image_url"}]}]
    assert tokens.count_tokens(parts) == 2 + tokens.PER_MESSAGE + tokens.PER_REPLY


@given(st.text(max_size=300), st.text(max_size=300))
def test_message_count_is_at_least_the_text_counts(a, b):
    messages = [{"role": "user", "content": a}, {"role": "assistant", "content": b}]
    total = tokens.count_tokens(messages)
    assert total >= tokens.count_tokens(a) + tokens.count_tokens(b)
    assert (
        total == tokens.count_tokens(a) + tokens.count_tokens(b) + 2 * tokens.PER_MESSAGE + tokens.PER_REPLY
    )


def test_falls_back_to_characters_without_tiktoken(monkeypatch):
    monkeypatch.setattr(tokens, "_encoding", None)
    monkeypatch.setattr(tokens, "_loaded", True)
    assert tokens.count_tokens("x" * 40) == 10
    assert tokens.count_tokens("abc") == 1


@pytest.mark.parametrize("cache_dir", [None, "empty"])
def test_loading_needs_no_network(tmp_path, cache_dir):
    """In a fresh process with sockets blocked, even with a TIKTOKEN_CACHE_DIR that lacks the file."""
    code = """
import json, os, socket
def blocked(*args, **kwargs):
    raise OSError("network blocked by the test")
socket.getaddrinfo = blocked
socket.create_connection = blocked
import sys
from workbench.llm.tokens import count_tokens, get_encoding
n = count_tokens("hello world")
print(json.dumps({"n": n, "name": get_encoding().name, "litellm": "litellm" in sys.modules,
                  "cache": os.environ.get("TIKTOKEN_CACHE_DIR")}))
"""
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    if cache_dir:
        env["TIKTOKEN_CACHE_DIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    result = json.loads(out.stdout)
    assert result["n"] == 2 and result["name"] == "cl100k_base"
    assert result["litellm"] is False
    if cache_dir:
        assert result["cache"] == str(tmp_path)  # the user's setting is left as it was
        assert list(tmp_path.iterdir()) == []
    else:
        assert result["cache"] == str(tokens.bundled_tokenizer_dir())
