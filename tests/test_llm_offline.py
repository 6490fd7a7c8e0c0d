"""No network but loopback: importing litellm through the workbench, demo calls and local calls.

litellm 1.110 downloads its model cost map from GitHub during `import litellm` (and retries in a
background thread) unless LITELLM_LOCAL_MODEL_COST_MAP is "true" when the import runs; "1" does
not count. Each test runs a fresh interpreter whose sockets refuse every non-loopback address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import asyncio, json, socket, sys, threading, types

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
attempts = []

def host_of(address):
    return address[0] if isinstance(address, tuple) else str(address)

real_getaddrinfo = socket.getaddrinfo
def guarded_getaddrinfo(host, *args, **kwargs):
    if str(host) not in LOOPBACK:
        attempts.append(f"getaddrinfo {host}")
        raise socket.gaierror(f"network blocked by the test: {host}")
    return real_getaddrinfo(host, *args, **kwargs)

real_create_connection = socket.create_connection
def guarded_create_connection(address, *args, **kwargs):
    if host_of(address) not in LOOPBACK:
        attempts.append(f"create_connection {address}")
        raise OSError(f"network blocked by the test: {address}")
    return real_create_connection(address, *args, **kwargs)

real_connect = socket.socket.connect
def guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and host_of(address) not in LOOPBACK:
        attempts.append(f"connect {address}")
        raise OSError(f"network blocked by the test: {address}")
    return real_connect(self, address)

socket.getaddrinfo = guarded_getaddrinfo
socket.create_connection = guarded_create_connection
socket.socket.connect = guarded_connect

stub = types.ModuleType("workbench.demo.policy")
stub.respond = lambda messages, *, seed=0, error_rate=0.1, sample=0: "Thought: offline\nAction: look"
sys.modules["workbench.demo.policy"] = stub

from workbench.errors import AuthenticationError
from workbench.llm.model import Model

messages = [{"role": "user", "content": "hello"}]
demo = asyncio.run(Model("workbench/demo").acomplete(messages))
local = asyncio.run(
    Model("openai/gpt-4o-mini", api_base=sys.argv[1], api_key="sk-loopback-test", backoff=0).acomplete(messages)
)
try:
    asyncio.run(Model("anthropic/claude-haiku-4-5", max_retries=0).acomplete(messages))
    auth = None
except AuthenticationError as exc:
    auth = str(exc)

from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map_source_info

print(json.dumps({
    "attempts": attempts,
    "demo": demo.response,
    "local_cost": local.cost,
    "auth": auth,
    "cost_map": get_model_cost_map_source_info(),
    "threads": [t.name for t in threading.enumerate()],
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("setting", [None, "1", ""])
def test_no_network_beyond_loopback(server, setting):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_") and not k.endswith("_API_KEY")}
    if setting is not None:
        env["LITELLM_LOCAL_MODEL_COST_MAP"] = setting
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, server.url], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert "cost map" not in out.stderr
    assert result["cost_map"]["source"] == "local" and result["cost_map"]["is_env_forced"] is True
    assert "litellm-model-cost-map-retry" not in result["threads"]
    assert result["demo"] == "Thought: offline\nAction: look"
    assert result["local_cost"] > 0  # priced from the bundled map
    assert result["auth"].startswith("no API key for anthropic: set ANTHROPIC_API_KEY")
    assert len(server.requests) == 1


@pytest.mark.slow
def test_the_guard_does_catch_litellms_fetch(server):
    """Control: with the switch off, the same script does try to reach GitHub (and is blocked)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_") and not k.endswith("_API_KEY")}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "false"  # an explicit opt-out is respected
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, server.url], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert any("raw.githubusercontent.com" in a for a in result["attempts"])
    assert result["cost_map"]["is_env_forced"] is False
