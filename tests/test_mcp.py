"""MCP tools through the official SDK, against a real server (tests/mcp_server.py) in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from workbench.errors import ConfigError
from workbench.tools import ToolCall, ToolEnv
from workbench.tools.mcp import build_tools, connect, result_to_text, server_environment, valid_name

SERVER = str(Path(__file__).with_name("mcp_server.py"))
REPO = str(Path(__file__).resolve().parent.parent)
slow = pytest.mark.slow


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_for_exit(pid: int, timeout: float = 20.0) -> bool:
    """True once `pid` has exited, False if it still runs after `timeout` seconds (no sleep: a pidfd)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (AttributeError, OSError):  # no pidfd here: wait on an event that never fires, in slices
        tick, waited = threading.Event(), 0.0
        while alive(pid) and waited < timeout:
            tick.wait(0.05)
            waited += 0.05
        return not alive(pid)
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable) or not alive(pid)
    finally:
        os.close(fd)


@pytest.fixture(scope="module")
def env():
    tool_env = ToolEnv.from_mcp(command=[sys.executable, SERVER])
    yield tool_env
    tool_env.close()


def obs(tool_env: ToolEnv, name: str, arguments: str = "{}") -> str:
    return tool_env.step(ToolCall(name, arguments))[0]


# ------------------------------------------------------------------------------------ listing and calls


@slow
def test_lists_the_servers_tools_with_their_schemas(env):
    names = set(env.tools)
    assert {"add", "echo", "fail", "delete_file", "picture", "text_upper", "final_answer"} <= names
    add = env.tools["add"]
    assert add.description == "Add two integers."
    assert add.parameters["required"] == ["a", "b"]
    assert add.parameters["properties"]["a"]["type"] == "integer"
    assert add.validator is None and add.runner is not None
    assert add.signature_text() == "add(a: integer, b: integer)"
    upper = env.tools["text_upper"]  # the MCP name 'text.upper' is not a valid tool name
    assert "'text.upper'" in upper.description
    conn = env.owned[0]
    assert conn.names == {"text_upper": "text.upper"}
    assert obs(env, "text_upper", '{"text": "shout"}') == "SHOUT"


@slow
def test_a_call_through_astep_gives_the_result(env):
    text, reward, terminated, truncated, info = asyncio.run(env.astep(ToolCall("add", '{"a": 2, "b": 3}')))
    assert text == "5" and not terminated and not truncated
    assert info["tool_calls"][0]["args"] == {"a": 2, "b": 3}
    assert info["tool_calls"][0]["error"] is None


@slow
def test_a_bad_argument_is_an_error_observation_and_the_run_goes_on(env):
    text = obs(env, "add", '{"a": "x"}')
    assert text.startswith("Error: bad arguments for add")
    assert "'a' must be a integer" in text and "missing argument 'b'" in text
    assert obs(env, "add", '{"a": 1, "b": 1}') == "2"


@slow
def test_an_exception_in_the_server_is_an_error_observation(env):
    text, _, terminated, _, info = env.step(ToolCall("fail", '{"msg": "the disk is full"}'))
    assert text.startswith("Error: fail raised MCPToolError:") and "the disk is full" in text
    assert not terminated and "MCPToolError" in info["tool_calls"][0]["error"]
    assert obs(env, "echo", '{"text": "still here"}') == "still here"


@slow
def test_destructive_hint_marks_the_tool_destructive_unless_read_only(env):
    assert env.tools["delete_file"].destructive is True
    assert env.tools["peek"].destructive is False  # readOnlyHint wins over destructiveHint
    assert env.tools["add"].destructive is False
    info = env.step(ToolCall("delete_file", '{"path": "/tmp/x"}'))[4]
    assert info["tool_calls"][0]["destructive"] is True


@slow
def test_an_image_is_a_short_note_never_base64(env):
    text = obs(env, "picture")
    assert text == "[image/png, 12 KB: not shown]"


@slow
def test_two_calls_in_one_step_run_in_parallel(env):
    # `rendezvous` answers "met" only when both calls are in flight on the server at once
    calls = [
        ToolCall("rendezvous", '{"key": "step"}', id="a"),
        ToolCall("rendezvous", '{"key": "step"}', id="b"),
    ]
    text, *_, info = env.step(calls)
    assert [r["result"] for r in info["tool_calls"]] == ["met", "met"]
    assert [r["id"] for r in info["tool_calls"]] == ["a", "b"]
    assert "Result of rendezvous (call 2):\nmet" in text


@slow
def test_blocking_step_and_a_fresh_asyncio_run_loop_both_work(env):
    assert obs(env, "add", '{"a": 20, "b": 22}') == "42"  # run_sync on the workbench background loop

    async def twice():  # a new loop each time: the runner does not belong to any caller's loop
        return [(await env.astep(ToolCall("echo", f'{{"text": "{i}"}}')))[0] for i in range(2)]

    assert asyncio.run(twice()) == ["0", "1"]
    assert asyncio.run(twice()) == ["0", "1"]


@slow
def test_a_whole_session_run_in_the_text_format():
    from workbench import Session
    from workbench.llm.scripted import ScriptedModel

    model = ScriptedModel(
        [
            'Thought: add\nAction: add\nAction Input: {"a": 2, "b": 3}',
            'Thought: done\nAction: final_answer\nAction Input: {"answer": "5"}',
        ]
    )
    session = Session(
        task="What is 2 + 3?", env=ToolEnv.from_mcp(command=[sys.executable, SERVER]), model=model
    )
    try:
        nodes = session.run(max_steps=4)
        assert [n.observation for n in nodes][:1] == ["5"]
        assert nodes[-1].terminal
        assert nodes[0].info["tool_calls"][0]["name"] == "add"
        assert len(nodes) == 2
    finally:
        session.close()


# ------------------------------------------------------------------------------------ streamable HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        for _ in range(300):  # up to 30 s: each round waits 0.1 s on the server's exit, not a sleep
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"the HTTP MCP server exited: {proc.stderr.read().decode()[-2000:]}")
        else:
            pytest.fail("the HTTP MCP server did not listen within 30 s")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@slow
def test_streamable_http_lists_and_calls_tools(http_server):
    http_env = ToolEnv.from_mcp(url=http_server, headers={"X-Test": "yes"})
    try:
        assert {"add", "picture", "text_upper"} <= set(http_env.tools)
        assert obs(http_env, "add", '{"a": 2, "b": 3}') == "5"
        assert asyncio.run(http_env.astep(ToolCall("echo", '{"text": "over http"}')))[0] == "over http"
        assert obs(http_env, "fail", '{"msg": "nope"}').startswith("Error: fail raised MCPToolError")
    finally:
        http_env.close()


@slow
def test_an_unreachable_url_is_a_config_error():
    url = f"http://127.0.0.1:{free_port()}/mcp"
    with pytest.raises(ConfigError, match=r"cannot connect to the MCP server at http://127\.0\.0\.1:\d+/mcp"):
        connect(url=url, timeout=10)


# ------------------------------------------------------------------------------------ start-up failures


def test_a_missing_command_is_a_config_error():
    with pytest.raises(ConfigError, match="'no-such-mcp-server-4711' was not found on PATH"):
        ToolEnv.from_mcp(command=["no-such-mcp-server-4711", "--stdio"])
    with pytest.raises(ConfigError, match="was not found. Install it"):
        connect(command=["/nonexistent/bin/server"])


def test_wrong_options_are_config_errors():
    with pytest.raises(ConfigError, match="not both"):
        connect(command=["x"], url="http://127.0.0.1:1/mcp")
    with pytest.raises(ConfigError, match="not both"):
        connect()
    with pytest.raises(ConfigError, match="http"):
        connect(url="ftp://example/mcp")
    with pytest.raises(ConfigError, match="not a directory"):
        connect(command=[sys.executable, SERVER], cwd="/nonexistent-dir")


@slow
def test_a_server_that_crashes_at_start_is_a_config_error_without_the_secret():
    with pytest.raises(ConfigError) as caught:
        connect(
            command=[sys.executable, SERVER, "--crash"],
            env={"CRASH_SECRET": "hunter2-very-secret"},
            timeout=20,
        )
    message = str(caught.value)
    assert "failed during start-up" in message
    assert "fatal: cannot open the database (password ***)" in message  # its stderr, blanked
    assert "hunter2-very-secret" not in message


@slow
def test_a_server_that_never_answers_times_out_with_a_config_error():
    command = [sys.executable, "-c", "import sys; sys.stdin.read()"]  # reads until EOF, never answers
    with pytest.raises(ConfigError, match=r"did not finish starting within 1 s.*timeout="):
        connect(command=command, timeout=1)


# ------------------------------------------------------------------------------------ environment


def test_the_server_environment_is_minimal_plus_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-parent")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-parent")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    made = server_environment({"DB_TOKEN": "explicit", "N": 3, "DROPPED": None})
    assert made["PATH"] == "/usr/bin:/bin"
    assert made["DB_TOKEN"] == "explicit" and made["N"] == "3"
    assert "OPENAI_API_KEY" not in made and "GITHUB_TOKEN" not in made and "DROPPED" not in made


@slow
def test_a_stdio_server_gets_no_parent_secrets(monkeypatch):
    monkeypatch.setenv("WORKBENCH_TEST_API_KEY", "sk-parent-secret")
    monkeypatch.setenv("WORKBENCH_TEST_PLAIN", "plain")
    conn = connect(command=[sys.executable, SERVER], env={"EXPLICIT_TOKEN": "given-on-purpose"})
    with conn:
        tool_env = ToolEnv(conn.tools)
        assert obs(tool_env, "getenv", '{"name": "WORKBENCH_TEST_API_KEY"}') == "(unset)"
        assert obs(tool_env, "getenv", '{"name": "WORKBENCH_TEST_PLAIN"}') == "(unset)"
        assert obs(tool_env, "getenv", '{"name": "EXPLICIT_TOKEN"}') == "given-on-purpose"
        assert obs(tool_env, "getenv", '{"name": "PATH"}') != "(unset)"


# ------------------------------------------------------------------------------------ lifecycle


@slow
def test_close_ends_the_server_process_and_is_idempotent():
    tool_env = ToolEnv.from_mcp(command=[sys.executable, SERVER])
    conn = tool_env.owned[0]
    pid = int(obs(tool_env, "pid"))
    assert pid != os.getpid() and alive(pid)
    tool_env.close()
    assert conn.closed
    assert wait_for_exit(pid), f"MCP server {pid} still runs after close()"
    conn.close()  # twice is fine
    text = obs(ToolEnv(conn.tools), "add", '{"a": 1, "b": 2}')
    assert text.startswith("Error: add raised ConnectionError") and "is closed" in text


@slow
def test_the_server_exits_when_the_python_process_that_started_it_is_killed():
    script = (
        f"import sys; sys.path.insert(0, {REPO!r})\n"
        "from workbench.tools import ToolCall, ToolEnv\n"
        f"env = ToolEnv.from_mcp(command=[sys.executable, {SERVER!r}])\n"
        "print(env.step(ToolCall('pid', '{}'))[0], flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        readable, _, _ = select.select([parent.stdout], [], [], 60)
        assert readable, "the child did not connect within 60 s"
        line = parent.stdout.readline().decode().strip()
        assert line.isdigit(), f"the child printed {line!r}"
        pid = int(line)
        assert alive(pid)
        parent.kill()  # SIGKILL: no atexit, no close(); the server must notice EOF on its stdin
        parent.wait(timeout=20)
        assert wait_for_exit(pid), f"MCP server {pid} outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# ------------------------------------------------------------------------------------ pure parts


def test_results_become_text():
    assert result_to_text({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}) == (
        "a\nb",
        False,
    )
    assert result_to_text({"content": [], "structuredContent": {"x": 1}}) == ('{"x": 1}', False)
    both = {"content": [{"type": "text", "text": "7"}], "structuredContent": {"result": 7}}
    assert result_to_text(both) == ("7", False)
    audio = {"type": "audio", "mimeType": "audio/wav", "data": "AAAA" * 10}
    assert result_to_text({"content": [audio]})[0] == "[audio/wav, 30 bytes: not shown]"
    resource = {
        "type": "resource",
        "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "x" * 2048},
    }
    assert (
        result_to_text({"content": [resource]})[0] == "[resource file:///a.txt, text/plain, 2 KB: not shown]"
    )
    link = {"type": "resource_link", "name": "a.txt", "uri": "file:///a.txt"}
    assert result_to_text({"content": [link]})[0] == "[resource link a.txt file:///a.txt]"
    assert result_to_text({"content": []}) == ("(no output)", False)
    assert result_to_text({"content": [{"type": "text", "text": "bad"}], "isError": True}) == ("bad", True)


def test_invalid_names_are_mapped_to_valid_unique_ones():
    assert valid_name("add") == "add"
    assert valid_name("text.upper") == "text_upper"
    assert valid_name("9lives") == "t_9lives"
    assert valid_name("a b", {"a_b"}) == "a_b_2"
    assert len(valid_name("x" * 100)) == 64
    assert valid_name("") == "tool"
    listed = [{"name": "fs.read", "inputSchema": {"type": "object"}}, {"name": "fs/read"}]
    tools, names = build_tools(listed, lambda mcp_name: None)
    assert [t.name for t in tools] == ["fs_read", "fs_read_2"]
    assert names == {"fs_read": "fs.read", "fs_read_2": "fs/read"}
    assert tools[1].parameters == {"type": "object", "properties": {}}


@slow
def test_the_exit_hook_holds_the_connection_weakly_and_a_dropped_connection_closes():
    import gc
    import weakref

    conn = connect(command=[sys.executable, SERVER])
    pid = int(obs(ToolEnv(conn.tools), "pid"))
    assert conn._finalizer.atexit  # runs at interpreter exit unless closed before
    ref = weakref.ref(conn)
    del conn
    gc.collect()
    assert ref() is None, "something keeps the connection alive"
    assert wait_for_exit(pid), f"MCP server {pid} still runs after its connection was dropped"
