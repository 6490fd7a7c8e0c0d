"""A small MCP server for tests/test_mcp.py, built with the official SDK.

    python tests/mcp_server.py                       # stdio
    python tests/mcp_server.py --http PORT           # streamable HTTP on 127.0.0.1:PORT/mcp
    python tests/mcp_server.py --crash               # fails at start (writes to stderr, exit code 3)

Works with the SDK's `FastMCP` (mcp 1.x) and its successor `MCPServer` (mcp 2.x).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.types import ToolAnnotations

try:  # mcp 2.x renamed FastMCP to MCPServer
    from mcp.server.mcpserver import Image
    from mcp.server.mcpserver import MCPServer as FastMCP
    from mcp.server.mcpserver.exceptions import ToolError

    SDK_MAJOR = 2
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP, Image  # type: ignore[no-redef]
    from mcp.server.fastmcp.exceptions import ToolError  # type: ignore[no-redef]

    SDK_MAJOR = 1

# A 1x1 PNG padded to a known size, so the client's note can say how big it is.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105fe02fea70000000049454e44ae426082"
)
IMAGE_BYTES = PNG + b"\0" * (12 * 1024 - len(PNG))

server = FastMCP("workbench-test")
_waiting: dict[str, asyncio.Event] = {}
_arrivals: dict[str, int] = {}


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def fail(msg: str) -> str:
    """Always raise, with the given message (a ToolError: the SDK hides other exceptions' text)."""
    raise ToolError(msg)


@server.tool(annotations=ToolAnnotations(destructiveHint=True, readOnlyHint=False))
def delete_file(path: str) -> str:
    """Pretend to delete a file (nothing is deleted)."""
    return f"deleted {path}"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=True))
def peek(path: str) -> str:
    """Read-only, although it also claims to be destructive (read-only wins)."""
    return f"peeked at {path}"


@server.tool()
def picture() -> Image:
    """A 12 KB PNG image."""
    return Image(data=IMAGE_BYTES, format="png")


@server.tool(name="text.upper")
def upper(text: str) -> str:
    """Upper-case the text (its MCP name is not a valid workbench tool name)."""
    return text.upper()


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def getenv(name: str) -> str:
    """An environment variable of the server process, or '(unset)'."""
    return os.environ.get(name, "(unset)")


@server.tool()
async def rendezvous(key: str, parties: int = 2) -> str:
    """Wait until `parties` calls with this key are in flight at once; 'met' then, 'alone' after 20 s."""
    event = _waiting.setdefault(key, asyncio.Event())
    count = _arrivals[key] = _arrivals.get(key, 0) + 1
    if count >= parties:
        event.set()
    try:
        await asyncio.wait_for(event.wait(), 20)
    except asyncio.TimeoutError:
        return "alone"
    return "met"


def main(argv: list[str]) -> None:
    if "--crash" in argv:
        secret = os.environ.get("CRASH_SECRET", "")
        print(f"fatal: cannot open the database (password {secret})", file=sys.stderr, flush=True)
        sys.exit(3)
    if "--http" in argv:
        port = int(argv[argv.index("--http") + 1])
        if SDK_MAJOR >= 2:
            server.run("streamable-http", host="127.0.0.1", port=port)  # type: ignore[call-overload]
        else:
            server.settings.host, server.settings.port = "127.0.0.1", port  # type: ignore[attr-defined]
            server.run("streamable-http")
        return
    server.run()


if __name__ == "__main__":
    main(sys.argv[1:])
