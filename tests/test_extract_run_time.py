"""Static extraction says when it cannot be the whole truth: tools generated at run time (from an
OpenAPI document, from data in a loop, from lists built at run time) make the result
`may_be_incomplete`, with a reason naming the place, so the crawl knows it must list them live."""

from __future__ import annotations

from catalog.extract import SourceFile, go, python, typescript

STATIC = """from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")


@mcp.tool()
def ping() -> str:
    return "pong"
"""


def test_a_fully_static_server_is_complete():
    found = python.extract([SourceFile("server.py", STATIC)])
    assert [tool.name for tool in found.tools] == ["ping"]
    assert not found.may_be_incomplete and found.incomplete_reasons == []


def test_openapi_generated_tools_are_flagged():
    source = (
        STATIC
        + """

api = FastMCP.from_openapi(openapi_spec=load_spec(), client=client)
"""
    )
    found = python.extract([SourceFile("server.py", source)])
    assert [tool.name for tool in found.tools] == ["ping"]
    assert found.may_be_incomplete
    assert found.incomplete_reasons == [
        "server.py:11: tools generated at run time from an OpenAPI document (FastMCP.from_openapi); "
        "not listable statically"
    ]


def test_tools_registered_in_a_loop_over_imported_data_are_flagged():
    source = (
        STATIC
        + """

from .catalog import OPERATIONS

for operation in OPERATIONS:
    mcp.add_tool(operation.handler, name=operation.name)
"""
    )
    found = python.extract([SourceFile("server.py", source)])
    assert [tool.name for tool in found.tools] == ["ping"]
    assert found.may_be_incomplete
    assert found.incomplete_reasons == [
        "server.py:14: tool name built at run time (operation.name); tool skipped"
    ]


def test_typescript_tools_named_from_a_list_built_at_run_time_are_flagged():
    source = """import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { loadTools } from "./registry.js";

const server = new McpServer({ name: "demo", version: "1.0.0" });
for (const spec of loadTools()) {
  server.tool(spec.name, spec.description, async () => ({ content: [] }));
}
"""
    found = typescript.extract([SourceFile("src/index.ts", source)])
    assert found.tools == [] and found.may_be_incomplete
    assert found.incomplete_reasons[0].startswith("src/index.ts:")


def test_go_tool_named_at_run_time_is_flagged():
    source = """package main

import "github.com/mark3labs/mcp-go/mcp"

func register(name string) {
\t_ = mcp.NewTool(name+os.Getenv("SUFFIX"), mcp.WithDescription("d"))
}
"""
    found = go.extract([SourceFile("main.go", source)])
    assert found.tools == [] and found.may_be_incomplete


def test_a_decorators_inner_wrapper_is_never_a_tool():
    source = """from functools import wraps

from mcp.server.fastmcp import FastMCP

mcp = FastMCP("demo")


def with_errors(fn):
    @wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)

    return mcp.tool()(inner)
"""
    found = python.extract([SourceFile("server.py", source)])
    assert found.tools == [] and not found.may_be_incomplete
