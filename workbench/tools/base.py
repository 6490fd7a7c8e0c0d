"""Python tools: a typed function becomes a tool with a JSON schema, and calls to it are checked.

    from workbench import tool

    @tool
    def get_weather(city: str, unit: str = "C") -> str:
        '''The current weather in a city.

        Args:
            city: the city's name, e.g. "Paris"
            unit: "C" or "F"
        '''
        return f"18 {unit} and cloudy in {city}"

`get_weather` is now a `Tool`: `get_weather.spec()` is its OpenAI-style function spec (the schema comes
from the signature through pydantic, the descriptions from the docstring's first paragraph and its
`Args:` section) and `await get_weather.acall({"city": "Paris"})` runs it with checked arguments. It
stays callable as the plain function. Sync and async functions both work; a sync function runs in
a worker thread so it never blocks the event loop. `@tool(destructive=True)` marks a tool whose
effect cannot be undone: the engine never re-executes it on rewind or replay.

Argument problems (unknown tool, missing/extra/wrong-typed argument, arguments that are not a JSON
object) raise `ToolArgumentError` with a message the agent can act on; an exception inside the
tool is caught by the caller (`ToolEnv`) and shown to the agent as the observation.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


class ToolArgumentError(ValueError):
    """A call the tool cannot run: the message says what was wrong and what is expected."""


@dataclass
class Tool:
    """A named callable with a JSON-schema for its arguments (see the module docstring)."""

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any] | None = None
    destructive: bool = False
    validator: Any = field(default=None, repr=False)  # a pydantic model class, when built from a function
    runner: Callable[[dict[str, Any]], Any] | None = field(default=None, repr=False)  # async (args) -> result

    def __post_init__(self) -> None:
        if not _NAME.match(self.name or ""):
            raise ConfigError(
                f"tool name {self.name!r} must be 1-64 letters, digits, '_' or '-', starting with a letter"
            )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise TypeError(f"tool {self.name} has no local function; call it through its ToolEnv")
        return self.fn(*args, **kwargs)

    def spec(self) -> dict[str, Any]:
        """The OpenAI-style tool spec (`tools=[...]` in a chat completion request)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def signature_text(self) -> str:
        """`name(a: string, b?: integer)`: a one-line form for text prompts."""
        props = self.parameters.get("properties") or {}
        required = set(self.parameters.get("required") or ())
        args = [f"{k}{'' if k in required else '?'}: {_type_name(v)}" for k, v in props.items()]
        return f"{self.name}({', '.join(args)})"

    def check(self, arguments: Any) -> dict[str, Any]:
        """`arguments` as the tool will get them, or `ToolArgumentError` saying what is wrong."""
        if isinstance(arguments, str):
            arguments = parse_arguments(arguments, self.name)
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise ToolArgumentError(
                f"{self.name} takes a JSON object of arguments, got {type(arguments).__name__}; "
                f"expected {self.signature_text()}"
            )
        if self.validator is not None:
            from pydantic import ValidationError

            try:
                checked = self.validator.model_validate(arguments)
            except ValidationError as exc:
                raise ToolArgumentError(_describe_validation(self, exc)) from None
            return {k: getattr(checked, k) for k in checked.model_fields_set | _defaults(self.validator)}
        return _check_against_schema(self, arguments)

    async def acall(self, arguments: Any) -> Any:
        """Run the tool with checked arguments (sync functions in a worker thread)."""
        args = self.check(arguments)
        if self.runner is not None:
            return await self.runner(args)
        if self.fn is None:
            raise ConfigError(f"tool {self.name} has nothing to run")
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**args)
        result = await asyncio.to_thread(self.fn, **args)
        if inspect.isawaitable(result):
            result = await result
        return result


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    destructive: bool = False,
) -> Any:
    """Make a typed function a `Tool` (usable bare, `@tool`, or with options, `@tool(destructive=True)`)."""

    def wrap(func: Callable[..., Any]) -> Tool:
        return from_function(func, name=name, description=description, destructive=destructive)

    return wrap(fn) if fn is not None else wrap


def from_function(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    destructive: bool = False,
) -> Tool:
    """A `Tool` from a function's signature, type hints and docstring."""
    from pydantic import ConfigDict, create_model

    if isinstance(func, Tool):
        return func
    if not callable(func):
        raise ConfigError(f"a tool must be a function, got {type(func).__name__}")
    summary, arg_docs = parse_docstring(inspect.getdoc(func) or "")
    try:
        hints = _type_hints(func)
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"cannot read the signature of {func!r}: {exc}") from None
    fields: dict[str, Any] = {}
    for pname, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(pname, Any)
        default = ... if param.default is param.empty else param.default
        fields[pname] = (annotation, _field(default, arg_docs.get(pname)))
    tool_name = name or getattr(func, "__name__", "tool")
    model = create_model(  # type: ignore[call-overload]
        f"{tool_name}_arguments",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    schema = _clean_schema(model.model_json_schema())
    return Tool(
        name=tool_name,
        description=description or summary or f"the Python function {tool_name}",
        parameters=schema,
        fn=func,
        destructive=destructive,
        validator=model,
    )


def as_tools(items: Any) -> list[Tool]:
    """A list of `Tool`s from tools, plain functions, or a mix (a single one is a list of one)."""
    if items is None:
        return []
    if isinstance(items, Tool) or callable(items) and not isinstance(items, (list, tuple)):
        items = [items]
    try:
        listed = list(items)
    except TypeError:
        raise ConfigError(f"tools must be a list of functions or Tools, got {type(items).__name__}") from None
    tools = [item if isinstance(item, Tool) else from_function(item) for item in listed]
    seen: set[str] = set()
    for t in tools:
        if t.name in seen:
            raise ConfigError(f"two tools are named {t.name!r}; tool names must be unique")
        seen.add(t.name)
    return tools


def result_text(value: Any) -> str:
    """A tool's return value as the text the agent reads."""
    if isinstance(value, str):
        return value
    if value is None:
        return "(no output)"
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def parse_arguments(text: str, tool_name: str = "the tool") -> Any:
    """JSON arguments text -> object; empty text is `{}`; bad JSON is a `ToolArgumentError`."""
    text = (text or "").strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ToolArgumentError(
            f"the arguments for {tool_name} are not valid JSON ({exc.msg} at character {exc.pos}): {text[:120]!r}"
        ) from None


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(summary paragraph, {arg: description}) from a Google- or reST-style docstring."""
    lines = doc.splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip():
            break
        summary.append(line.strip())
    args: dict[str, str] = {}
    in_args = False
    current = None
    for line in lines:
        stripped = line.strip()
        rest = re.match(r":param\s+(?:\w+\s+)?(\w+):\s*(.*)", stripped)
        if rest:
            args[rest.group(1)] = rest.group(2).strip()
            continue
        if stripped.lower() in ("args:", "arguments:", "parameters:"):
            in_args = True
            continue
        if in_args:
            if not stripped:
                current = None
                continue
            if re.match(r"^[A-Z][\w ]*:$", stripped):  # the next section (Returns:, Raises:)
                in_args = False
                continue
            item = re.match(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$", stripped)
            if item:
                current = item.group(1).lstrip("*")
                args[current] = item.group(2).strip()
            elif current:
                args[current] = f"{args[current]} {stripped}".strip()
    return " ".join(summary), args


# ------------------------------------------------------------------------------------ helpers


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: fall back to the raw annotations
        return dict(getattr(func, "__annotations__", {}))


def _field(default: Any, description: str | None) -> Any:
    from pydantic import Field

    return Field(default, description=description) if description else Field(default)


def _defaults(model: Any) -> set[str]:
    return {k for k, f in model.model_fields.items() if not f.is_required()}


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """pydantic's schema without its titles (noise in a prompt), always an object schema."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title" or not isinstance(v, str)}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    out = strip(schema)
    out.setdefault("type", "object")
    out.setdefault("properties", {})
    out["additionalProperties"] = False
    return out


def _type_name(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(json.dumps(v) for v in prop["enum"])
    if "anyOf" in prop:
        return " or ".join(_type_name(p) for p in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array" and isinstance(prop.get("items"), dict):
        return f"list[{_type_name(prop['items'])}]"
    return str(kind)


def _describe_validation(t: Tool, exc: Any) -> str:
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        kind = err.get("type", "")
        if kind == "missing":
            problems.append(f"missing argument {where!r}")
        elif kind == "extra_forbidden":
            problems.append(f"unknown argument {where!r}")
        else:
            problems.append(f"{where!r}: {err.get('msg', 'invalid')} (got {err.get('input')!r})")
    return f"bad arguments for {t.name}: {'; '.join(problems)}. Expected {t.signature_text()}"


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _check_against_schema(t: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """A light check for tools with a schema but no pydantic model (MCP tools): names and basic types."""
    props: dict[str, Any] = t.parameters.get("properties") or {}
    problems = [f"missing argument {k!r}" for k in t.parameters.get("required") or () if k not in arguments]
    if props and t.parameters.get("additionalProperties") is False:
        problems += [f"unknown argument {k!r}" for k in arguments if k not in props]
    for key, value in arguments.items():
        kind = (props.get(key) or {}).get("type")
        wanted = _JSON_TYPES.get(kind) if isinstance(kind, str) else None
        if wanted and (not isinstance(value, wanted) or (kind != "boolean" and isinstance(value, bool))):
            problems.append(f"{key!r} must be a {kind} (got {value!r})")
    if problems:
        raise ToolArgumentError(
            f"bad arguments for {t.name}: {'; '.join(problems)}. Expected {t.signature_text()}"
        )
    return arguments
