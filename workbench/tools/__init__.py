"""Bring your own tools: `@tool` functions, `ToolEnv`, MCP servers (`ToolEnv.from_mcp`)."""

from .base import Tool, ToolArgumentError, as_tools, tool
from .env import FINAL_ANSWER, ToolCall, ToolEnv

__all__ = ["FINAL_ANSWER", "Tool", "ToolArgumentError", "ToolCall", "ToolEnv", "as_tools", "tool"]
