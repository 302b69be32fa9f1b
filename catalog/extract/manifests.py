"""Tools declared in JSON documents: a tools/list result, an MCPB manifest, a Docker catalogue tools.json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catalog.models import Tool

# Says what is wrong inside one tool object of a hostile document (safejson.Document.problem_in).
ProblemFn = Callable[[Any], str | None] | None


def tool_from_json(item: Any, origin: str) -> Tool | None:
    """A Tool from one wire-format tool object (name, description, inputSchema, annotations), or None."""
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return None
    schema = item.get("inputSchema", item.get("input_schema"))
    annotations = item.get("annotations")
    description = item.get("description")
    tool = Tool(
        name=item["name"],
        title=item.get("title") if isinstance(item.get("title"), str) else None,
        description=description if isinstance(description, str) else "",
        input_schema=schema if isinstance(schema, dict) else None,
        annotations=annotations if isinstance(annotations, dict) and annotations else None,
        origin=origin,
        raw=item,
    )
    if schema is None and isinstance(item.get("arguments"), list):  # Docker catalogue form
        tool.input_schema = _schema_from_arguments(item["arguments"])
    return tool


def _schema_from_arguments(arguments: list[Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for arg in arguments:
        if isinstance(arg, dict) and isinstance(arg.get("name"), str):
            prop: dict[str, Any] = {}
            if isinstance(arg.get("type"), str):
                prop["type"] = arg["type"]
            if isinstance(arg.get("desc") or arg.get("description"), str):
                prop["description"] = arg.get("desc") or arg.get("description")
            properties[arg["name"]] = prop
    return {"type": "object", "properties": properties}


def tools_list_items(document: Any) -> list[Any] | None:
    """The tool objects of a tools/list result (bare, JSON-RPC wrapped, or a bare array), else None."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("result"), dict):
        document = document["result"]
    tools = document.get("tools")
    return tools if isinstance(tools, list) and not _is_mcpb(document) else None


def _is_mcpb(document: dict[str, Any]) -> bool:
    return "server" in document and ("manifest_version" in document or "dxt_version" in document)


def mcpb_tools(document: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """Tools of an MCPB/DXT manifest: the full static tools/list response when present, else the summary."""
    notes: list[str] = []
    meta = document.get("_meta")
    static = None
    if isinstance(meta, dict):
        windows = meta.get("com.microsoft.windows")
        if isinstance(windows, dict):
            responses = windows.get("static_responses")
            if isinstance(responses, dict) and isinstance(responses.get("tools/list"), dict):
                static = responses["tools/list"].get("tools")
    items = static if isinstance(static, list) else document.get("tools") or []
    if document.get("tools_generated"):
        notes.append(
            "manifest says the server generates more tools at run time (tools_generated); crawl it live"
        )
    if not isinstance(static, list) and items:
        notes.append("manifest lists tool names and descriptions only: no input schemas or annotations")
    return (items if isinstance(items, list) else []), notes


def is_mcpb_manifest(document: Any) -> bool:
    return isinstance(document, dict) and _is_mcpb(document)


def parse_tools(items: list[Any], origin: str, problem_in: ProblemFn = None) -> tuple[list[Tool], list[str]]:
    """Convert tool objects, reporting malformed and duplicate ones by position or name; with
    `problem_in`, a tool with a problem inside (nesting, NUL, lone surrogate, duplicate key) is
    dropped and reported by name, and the others are kept."""
    tools: list[Tool] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        problem = problem_in(item) if problem_in is not None else None
        if problem:
            problems.append(f"{_tool_label(item, index, problem_in)} skipped: {problem}")
            continue
        tool = tool_from_json(item, origin)
        if tool is None:
            problems.append(f"malformed tool at position {index} (no string name)")
        elif tool.name in seen:
            problems.append(f"duplicate tool name {tool.name!r}")
        else:
            seen.add(tool.name)
            tools.append(tool)
    return tools, problems


def _tool_label(item: Any, index: int, problem_in: ProblemFn) -> str:
    """`tool 'name'` when the name itself is clean text, else the tool's position."""
    name = item.get("name") if isinstance(item, dict) else None
    if isinstance(name, str) and name and problem_in is not None and problem_in(name) is None:
        return f"tool {name!r}"
    return f"tool at position {index}"
