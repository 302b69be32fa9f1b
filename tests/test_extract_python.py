"""Tests for the Python static extractor, on small real server trees and one real published wheel."""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from catalog.extract import SourceFile, iter_source_files
from catalog.extract.python_ast import extract, fastmcp_parses_docstrings
from catalog.models import Tool

FIXTURES = Path(__file__).parent / "fixtures" / "extract" / "python"


def tools_of(tree: str) -> tuple[dict[str, Tool], list[str]]:
    found = extract(list(iter_source_files(FIXTURES / tree, (".py",))))
    return {tool.name: tool for tool in found.tools}, found.warnings


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_static_fastmcp_tools_match_what_the_real_sdk_lists():
    server = load_module(FIXTURES / "fastmcp1" / "conformance_server.py").notes
    live = {tool.name: tool for tool in asyncio.run(server.list_tools())}
    static, _ = tools_of("fastmcp1")
    assert set(live) <= set(static)
    for name, listed in live.items():
        assert static[name].input_schema == listed.inputSchema, name
        assert static[name].description == listed.description, name
        assert static[name].title == listed.title, name
        assert static[name].annotations == (
            listed.annotations.model_dump(exclude_none=True) if listed.annotations else None
        )


def test_docstring_is_kept_raw_for_mcp_servers():
    static, _ = tools_of("fastmcp1")
    assert static["search_notes"].description == (
        "Search notes by text.\n\n    Args:\n        query: words to look for\n    "
    )


def test_explicit_name_and_description_override_function_name_and_docstring():
    static, _ = tools_of("fastmcp1")
    assert "make_note" not in static
    assert static["create_note"].description == "Create a new note and return its id."
    assert static["create_note"].title == "Create a note"


def test_context_parameters_are_left_out_of_the_schema():
    static, _ = tools_of("fastmcp1")
    assert static["search_notes"].parameter_names() == ["query", "limit", "tags", "order"]
    assert static["delete_note"].parameter_names() == ["note_id"]
    assert static["rename_item"].parameter_names() == ["item_id", "new_name"]


def test_tools_registered_in_a_helper_on_a_differently_named_server_are_found():
    static, _ = tools_of("fastmcp1")
    assert static["purge_items"].annotations == {"destructiveHint": True}
    assert static["purge_warehouse"].description == "Remove every item of the central warehouse."
    assert static["inv_list_items"].origin == "app.py:13"


def test_run_time_values_are_reported_not_invented():
    static, warnings = tools_of("fastmcp1")
    assert static["count_items"].unresolved == ["description: built at run time (call to build_description)"]
    assert "mystery" not in static
    assert any(w.startswith("app.py:25:") and "make_name" in w for w in warnings)
    assert any(w.startswith("app.py:30:") for w in warnings)  # registered in a loop


def test_mcp2_snake_case_annotations_are_stored_in_wire_form():
    static, _ = tools_of("mcp2")
    assert static["get_ticket"].annotations == {"readOnlyHint": True, "openWorldHint": False}
    assert static["close_ticket"].annotations == {"readOnlyHint": False, "destructiveHint": True}
    assert static["close_ticket"].title == "Close ticket"


def test_standalone_fastmcp_cleans_docstrings_and_reads_dict_annotations():
    static, _ = tools_of("fastmcp_standalone")
    assert static["list_events"].description == "List the events of a day.\n\n    Indented example line."
    assert static["add_event"].annotations == {
        "readOnlyHint": False,
        "idempotentHint": False,
        "title": "Add event",
    }
    assert static["add_event"].parameter_names() == ["day", "title"]
    assert "title" not in static["add_event"].input_schema["properties"]["day"]


def test_standalone_fastmcp_call_form_and_excluded_arguments():
    static, _ = tools_of("fastmcp_standalone")
    assert static["delete_event"].annotations == {"destructiveHint": True}
    assert static["delete_event"].input_schema["required"] == ["event_id"]
    assert static["sync"].parameter_names() == []


def test_low_level_tools_resolve_enum_names_constants_and_models():
    static, warnings = tools_of("lowlevel")
    assert set(static) == {"get_forecast", "get_alerts"}
    forecast = static["get_forecast"]
    assert forecast.description == "Forecast for a city. Up to 7 days."
    assert forecast.input_schema["properties"]["city"]["description"] == "City name"
    assert forecast.input_schema["required"] == ["city"]
    alerts = static["get_alerts"]
    assert alerts.description == "Active alerts from the weather service for {region}"
    assert alerts.input_schema["properties"]["units"] == {"type": "string", "enum": ["metric", "imperial"]}
    assert len(warnings) == 2 and all("tool name built at run time" in w for w in warnings)


def test_f_string_placeholders_are_kept_and_marked():
    source = (
        "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x')\n"
        "@mcp.tool(description=f'Query {backend_name()} tables')\ndef query(sql: str) -> str:\n    return sql\n"
    )
    found = extract([SourceFile("s.py", source)])
    assert found.tools[0].description == "Query {backend_name()} tables"
    assert found.tools[0].unresolved == ["description: placeholders filled at run time ({backend_name()})"]


def test_unknown_parameter_types_stay_typeless():
    source = (
        "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x')\n"
        "@mcp.tool()\ndef plan(route: RouteSpec, stops: list[Stop]) -> str:\n    return ''\n"
    )
    tool = extract([SourceFile("s.py", source)]).tools[0]
    assert tool.input_schema["properties"]["route"] == {"title": "Route"}
    assert tool.input_schema["properties"]["stops"] == {"type": "array", "title": "Stops"}
    assert tool.unresolved == ["input_schema.route: type RouteSpec not resolved statically"]


def test_unparseable_files_are_warned_about_and_skipped():
    deep = "x = " + "(" * 300_000 + ")" * 300_000
    files = [
        SourceFile("bad.py", "def broken(:\n"),
        SourceFile("deep.py", deep),
        SourceFile("nul.py", "a\x00b"),
    ]
    found = extract(files)
    assert found.tools == []
    assert [w.split(":")[0] for w in found.warnings] == ["bad.py", "deep.py", "nul.py"]


def test_many_tools_in_one_file_are_all_found():
    body = "".join(
        f"@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))\ndef tool_{i}(a: str, b: int = 1) -> str:\n"
        f"    '''Tool number {i}.'''\n    return a\n\n"
        for i in range(1000)
    )
    source = (
        "from mcp.server.fastmcp import FastMCP\nfrom mcp.types import ToolAnnotations\nmcp = FastMCP('x')\n"
        + body
    )
    found = extract([SourceFile("big.py", source)])  # its speed is measured in benchmarks/, not here
    assert len(found.tools) == 1000


@pytest.mark.integration
def test_mlflow_mcp_wheel_yields_its_40_tools(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(tmp_path),
            "mlflow-mcp==0.4.1",
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("*.whl"))
    files = []
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.endswith(".py") and not member.startswith("/") and ".." not in member:
                files.append(SourceFile(member, archive.read(member).decode("utf-8")))
    found = extract(files)
    tools = {tool.name: tool for tool in found.tools}
    assert len(found.tools) == 40 and len(tools) == 40
    assert {"get_runs", "query_runs", "set_model_alias"} <= set(tools)
    assert {n for n in tools if n.startswith("delete_")} >= {
        "delete_model_alias",
        "delete_model_version",
        "delete_registered_model",
    }
    server = next(f for f in files if f.path == "mlflow_mcp/server.py")
    functions = {n.name: n for n in ast.walk(ast.parse(server.text)) if isinstance(n, ast.FunctionDef)}
    for name, tool in tools.items():
        assert tool.description == ast.get_docstring(functions[name], clean=False), name
    assert tools["get_runs"].annotations == {"readOnlyHint": True}
    assert tools["set_model_alias"].annotations == {"readOnlyHint": False, "idempotentHint": True}
    assert tools["delete_model_version"].annotations == {"readOnlyHint": False, "destructiveHint": True}
    assert tools["set_model_alias"].parameter_names() == ["name", "alias", "version"]


def test_tool_classes_resolve_self_name_through_class_init_and_base_class():
    tools, warnings = tools_of("tool_classes")
    assert list(tools) == ["read_note", "write_note", "rename_note"]
    assert tools["read_note"].parameter_names() == ["path"]
    assert tools["rename_note"].description == "Rename a note ({self.label})."
    assert warnings == ["server.py:51: tool name built at run time (self.name); tool skipped"]


def docstring_tools(requirements: list[str]) -> dict[str, Tool]:
    files = list(iter_source_files(FIXTURES / "fastmcp_docstrings", (".py",)))
    return {tool.name: tool for tool in extract(files, requirements).tools}


def test_newer_fastmcp_sends_the_text_before_docstring_sections():
    tools = docstring_tools(["fastmcp<5,>=3.0.2"])
    assert tools["find_book"].description == "Find books by title."
    assert tools["count_loans"].description == "Count open loans."
    assert tools["renew_loan"].description == "Renew a loan for two weeks."
    assert tools["shelve"].description == "Put a book back.\n\nRules:\n    Fiction goes to the second floor."
    assert tools["close"].description == "Close the library for the day."


def test_newer_fastmcp_describes_parameters_from_args_unless_already_described():
    tools = docstring_tools(["fastmcp==3.4.7"])
    properties = tools["find_book"].input_schema["properties"]
    assert properties["title"]["description"] == "Words from the title."
    assert properties["author"]["description"] == "Author, as printed"
    assert tools["renew_loan"].input_schema["properties"]["loan_id"]["description"] == "The loan to renew."
    assert tools["close"].input_schema["properties"]["reason"]["description"] == "Why it closes early."


def test_older_or_unknown_fastmcp_keeps_the_whole_cleaned_docstring():
    for requirements in (["fastmcp==2.14.1"], ["fastmcp>=2.3,<3"], []):
        book = docstring_tools(requirements)["find_book"]
        assert book.description.startswith("Find books by title.\n\nArgs:\n    title: Words")
        assert "description" not in book.input_schema["properties"]["title"]


def test_fastmcp_version_rule_follows_the_newest_release_a_requirement_allows():
    assert fastmcp_parses_docstrings(["fastmcp>=2.12.4"])
    assert fastmcp_parses_docstrings(["httpx>=0.27", "fastmcp==3.4.7"])
    assert fastmcp_parses_docstrings(["fastmcp-slim~=3.3"])
    assert not fastmcp_parses_docstrings(["fastmcp==3.2.3"])
    assert not fastmcp_parses_docstrings(["fastmcp<3"])
    assert not fastmcp_parses_docstrings(["fastmcp>=3.3; extra == 'dev'", "mcp>=1.17"])
    assert not fastmcp_parses_docstrings(["not a requirement ==="])


def test_tool_from_function_reads_the_function_behind_instances_and_wraps():
    files = list(iter_source_files(FIXTURES / "from_function", (".py",)))
    found = extract(files)
    tools = {tool.name: tool for tool in found.tools}
    assert set(tools) == {"list_jobs", "cancel_job"}
    assert tools["list_jobs"].description == "List the jobs waiting in a queue."
    assert tools["list_jobs"].input_schema["properties"] == {
        "queue": {"type": "string"},
        "limit": {"type": "integer", "default": 20},
    }
    assert tools["list_jobs"].input_schema["required"] == ["queue"]
    assert tools["cancel_job"].description == "Cancel a queued job."
    assert found.warnings == []


def test_registry_decorator_methods_register_with_their_bound_title_and_annotations():
    files = list(iter_source_files(FIXTURES / "registry_decorators", (".py",)))
    found = extract(files)
    tools = {tool.name: tool for tool in found.tools}
    assert set(tools) == {"count_items", "add_item"}
    count = tools["count_items"]
    assert count.title == "Count items"
    assert count.description == "Count the items on a shelf.\n\nShelves are numbered from the door."
    assert count.annotations == {"readOnlyHint": True, "openWorldHint": False}
    assert count.origin == "pantry.py:8"
    adding = tools["add_item"]
    assert adding.annotations == {"readOnlyHint": False, "destructiveHint": False}
    assert list(adding.input_schema["properties"]) == ["shelf", "item", "quantity"]
    assert adding.input_schema["required"] == ["shelf", "item"]
    assert found.warnings == []


def test_pydantic_aliases_name_the_properties_on_the_wire():
    files = list(iter_source_files(FIXTURES / "aliases", (".py",)))
    schema = extract(files).tools[0].input_schema
    assert list(schema["properties"]) == ["from", "to", "context"]
    assert schema["required"] == ["from"]
    assert schema["properties"]["from"] == {"type": "string", "description": "Older ref", "title": "From"}
    assert schema["properties"]["to"] == {"type": "string", "title": "To", "default": "main"}


def test_schema_helpers_returning_literals_are_inlined_and_merged():
    files = list(iter_source_files(FIXTURES / "schema_helpers", (".py",)))
    tools = {tool.name: tool for tool in extract(files).tools}
    reading = tools["read_record"]
    assert reading.input_schema["properties"] == {
        "id": {"type": "string", "description": "Record id"},
        "offset": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 1},
    }
    assert reading.unresolved == []
    tagging = tools["tag_record"]
    assert list(tagging.input_schema["properties"]) == ["id"]
    assert tagging.unresolved == ["input_schema.properties: merged from _run_time_properties() at run time"]
