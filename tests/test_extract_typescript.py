"""Tests for the TypeScript/JavaScript static extractor, on small TS sources and compiled JS trees."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from catalog.extract import SourceFile, iter_source_files
from catalog.extract.typescript import extract
from catalog.models import Tool

FIXTURES = Path(__file__).parent / "fixtures" / "extract" / "typescript"
SUFFIXES = (".ts", ".js", ".mjs", ".cjs")


def tools_of(tree: str) -> tuple[dict[str, Tool], list[str]]:
    found = extract(list(iter_source_files(FIXTURES / tree, SUFFIXES)))
    return {tool.name: tool for tool in found.tools}, found.warnings


def test_register_tool_resolves_names_and_config_from_other_files():
    tools, _ = tools_of("registered")
    search = tools["search_docs"]
    assert search.title == "Search docs"
    assert search.description == "Search the documentation. Returns page ids."
    assert search.annotations == {"readOnlyHint": True, "openWorldHint": False}
    assert search.origin == "src/tools/search.ts:20"


def test_zod_shapes_become_json_schemas():
    tools, _ = tools_of("registered")
    schema = tools["search_docs"].input_schema
    assert schema["required"] == ["query"]
    assert schema["properties"]["query"] == {
        "type": "string",
        "minLength": 1,
        "description": "Words to search for",
    }
    assert schema["properties"]["limit"] == {"type": "integer", "default": 10}
    assert schema["properties"]["sort"] == {"type": "string", "enum": ["relevance", "date"]}
    assert schema["properties"]["tags"]["items"] == {"type": "string"}
    summarize = tools["summarize"].input_schema
    assert summarize["properties"]["style"] == {"type": "string", "const": "short"}


def test_template_placeholders_are_kept_and_marked():
    tools, _ = tools_of("registered")
    deleting = tools["docs_delete"]
    assert deleting.title == "Delete page"
    assert deleting.description == "Delete a page (server ${version})."
    assert deleting.unresolved == ["description: placeholders filled at run time (${version})"]
    assert tools["summarize"].description == "Summarize a page.\nUses the page cache."


def test_loop_registrations_and_run_time_descriptions_are_reported():
    tools, warnings = tools_of("registered")
    assert warnings == [
        "src/tools/dynamic.ts:6: tool names come from loadPlugins(), a list built at run time; tools skipped"
    ]
    assert tools["plugin_status"].description == ""
    assert tools["plugin_status"].unresolved == ["description: built at run time (call to describe)"]


def test_every_tool_overload_is_read():
    tools, warnings = tools_of("overloads")
    assert warnings == []
    assert list(tools) == ["ping", "now", "add", "clear_cache", "translate", "list_keys", "delete_key"]
    assert tools["now"].description == "Current server time"
    assert tools["add"].parameter_names() == ["a", "b"]
    assert tools["clear_cache"].annotations == {"destructiveHint": True, "idempotentHint": True}
    assert tools["clear_cache"].parameter_names() == []
    assert tools["translate"].input_schema["required"] == ["text"]
    assert tools["list_keys"].annotations == {"readOnlyHint": True}
    assert tools["delete_key"].annotations == {"destructiveHint": True, "title": "Delete key"}


def test_compiled_commonjs_low_level_server_is_read():
    tools, warnings = tools_of("compiled")
    assert warnings == []
    assert tools["tracker_list_issues"].annotations == {"readOnlyHint": True}  # minified !0
    assert tools["close_issue"].annotations == {"destructiveHint": False, "idempotentHint": True}
    assert tools["create_issue"].description == "Create an issue in the tracker project"
    assert tools["create_issue"].input_schema["properties"]["title"] == {
        "type": "string",
        "description": "Issue title",
    }
    assert tools["close_issue"].input_schema["required"] == ["issue_number"]
    comment = tools["comment"].input_schema["properties"]
    assert comment == {"body": {"type": "string", "description": "Comment text"}, "issue": {"type": "number"}}


def test_escapes_in_javascript_strings_are_decoded():
    source = 'server.tool("quote", "Say \\"hi\\"\\n\\u00e9t\\u00e9 \\x41", {}, async () => ({}));'
    tool = extract([SourceFile("index.js", source)]).tools[0]
    assert tool.description == 'Say "hi"\nété A'


def test_dynamic_list_handler_is_warned_about():
    source = (
        "server.setRequestHandler(ListToolsRequestSchema, async () => {\n"
        "  const tools = [];\n  for (const t of spec) tools.push(toTool(t));\n  return { tools };\n});\n"
    )
    found = extract([SourceFile("proxy.ts", source)])
    assert found.tools == []
    assert found.warnings == [
        "proxy.ts:1: tools/list handler builds its tool list at run time; not resolvable statically"
    ]


def test_unrelated_tool_calls_are_ignored():
    source = "const t = ai.tool({ description: 'x' });\nconst u = registry.tool(42, handler);\n"
    assert extract([SourceFile("agent.ts", source)]).tools == []


@pytest.mark.integration
def test_reference_everything_server_tarball_declares_18_tools(tmp_path):
    subprocess.run(
        ["npm", "pack", "@modelcontextprotocol/server-everything@2026.8.31", "--silent"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    with tarfile.open(next(tmp_path.glob("*.tgz"))) as archive:
        archive.extractall(tmp_path / "pkg", filter="data")
    found = extract(list(iter_source_files(tmp_path / "pkg", SUFFIXES)))
    tools = {tool.name: tool for tool in found.tools}
    assert len(tools) == 18
    assert tools["echo"].annotations == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": False,
    }
    assert tools["echo"].input_schema["properties"]["message"]["description"] == "Message to echo"


def test_loops_over_static_tool_arrays_register_each_element():
    tools, warnings = tools_of("loops")
    assert warnings == []
    assert set(tools) == {
        "list_notes",
        "add_note",
        "archive_note",
        "purge_archive",
        "draw_line_chart",
        "draw_pie_chart",
    }
    assert tools["list_notes"].annotations == {"readOnlyHint": True}
    assert tools["add_note"].annotations is None
    assert list(tools["add_note"].input_schema["properties"]) == ["params"]
    assert tools["archive_note"].input_schema["properties"] == {"id": {"type": "string"}}
    assert tools["purge_archive"].input_schema == {"type": "object", "properties": {}}


def test_one_return_helpers_are_applied_to_loop_values():
    tools, _ = tools_of("loops")
    assert tools["add_note"].description == "Add a note to a folder.\n\nNotes are stored locally."
    assert tools["add_note"].unresolved == []


def test_list_handler_maps_tools_out_of_namespace_values_behind_a_cache():
    tools, _ = tools_of("loops")
    line = tools["draw_line_chart"]
    assert line.description == "Draw a line chart."
    assert line.annotations == {"readOnlyHint": True}
    assert line.input_schema["properties"]["points"]["description"] == "Values to draw."
    assert tools["draw_pie_chart"].input_schema["required"] == ["slices"]


def test_helpers_taking_the_tool_name_are_read_once_per_call_site():
    tools, warnings = tools_of("helpers")
    assert {"get_invoice", "list_invoices", "pay_invoice", "refund_invoice"} <= set(tools)
    assert tools["get_invoice"].title == "Get invoice"
    assert tools["get_invoice"].origin == "src/tools.ts:5"
    assert tools["get_invoice"].input_schema["required"] == ["id"]
    assert list(tools["get_invoice"].input_schema["properties"]) == ["id", "caller"]
    assert tools["list_invoices"].title is None and tools["list_invoices"].unresolved == []
    assert tools["pay_invoice"].description == "Pay an invoice now."
    assert list(tools["pay_invoice"].input_schema["properties"]) == ["id", "amount"]
    assert (
        "src/common.ts:14: tool name is a parameter of registerUnusedTool(), which is never called; tool skipped"
        in warnings
    )


def test_helper_methods_called_in_loops_bind_each_element_and_report_injected_lists():
    tools, warnings = tools_of("helpers")
    assert tools["export_ledger"].description == "Export the ledger as CSV."
    assert tools["close_period"].origin == "src/registry.ts:3"
    assert set(tools) == {
        "get_invoice",
        "list_invoices",
        "pay_invoice",
        "refund_invoice",
        "export_ledger",
        "close_period",
    }
    assert sorted(warnings) == [
        "src/common.ts:14: tool name is a parameter of registerUnusedTool(), which is never called; tool skipped",
        "src/registry.ts:14: tool names come from this.injected, a list built at run time; tools skipped",
    ]


def test_compiled_object_spreads_merge_into_the_schema():
    tools, _ = tools_of("helpers")
    refund = tools["refund_invoice"]
    assert refund.description == "Refund an invoice."
    assert refund.input_schema["required"] == ["id"]
    assert refund.input_schema["properties"]["account"]["description"] == "Account to use."


def test_tool_classes_take_name_description_and_schema_from_each_subclass():
    tools, warnings = tools_of("tool_classes")
    assert set(tools) == {"get_weather", "get_forecast"}
    weather = tools["get_weather"]
    assert weather.origin == "src/tools/weather.ts:6"
    assert weather.description == "Current weather for a city."
    assert weather.annotations == {"readOnlyHint": True}
    assert weather.input_schema["properties"] == {"city": {"type": "string", "description": "City name"}}
    forecast = tools["get_forecast"]
    assert forecast.description == "Weather forecast for the next days."
    assert forecast.input_schema == weather.input_schema
    assert warnings == [
        'src/tools/weather.ts:24: tool name built at run time (process.env.PLUGIN_TOOL ?? "plugin"); tool skipped'
    ]


def test_zod_object_methods_and_shapes_held_in_variables_are_followed():
    tools, warnings = tools_of("zod_forms")
    assert warnings == []

    def shape(name: str) -> tuple[list[str], list[str]]:
        schema = tools[name].input_schema
        assert tools[name].unresolved == []
        return list(schema["properties"]), schema.get("required", [])

    assert shape("search_repos") == (["page", "per_page", "q", "sort"], ["q"])
    assert shape("create_label") == (["owner", "repo", "name", "color"], ["owner", "repo", "name"])
    assert shape("update_label") == (["owner", "repo", "name", "color", "id"], ["id"])
    assert shape("label_name") == (["name"], ["name"])
    assert shape("copy_labels") == (["owner", "repo", "name"], ["owner", "repo", "name"])
    assert shape("fetch_page") == (["url", "raw"], ["url"])
    assert tools["fetch_page"].input_schema["properties"]["raw"] == {"type": "boolean", "default": False}
    assert shape("describe_repo") == (["ref"], [])
    assert tools["describe_repo"].input_schema["properties"]["ref"]["required"] == ["owner", "repo"]


def test_map_registries_of_tool_instances_list_each_registered_definition():
    tools, warnings = tools_of("map_registry")
    assert warnings == []
    assert set(tools) == {"read_clock", "set_alarm"}
    clock = tools["read_clock"]
    assert clock.origin == "src/tools/clock.ts:6"
    assert clock.annotations == {"readOnlyHint": True}
    assert clock.input_schema["properties"]["zone"] == {"type": "string", "description": "IANA time zone"}
    assert tools["set_alarm"].input_schema["required"] == ["at"]


def test_tools_passed_in_options_from_factories_and_zod_literals_are_listed():
    tools, warnings = tools_of("factories")
    assert warnings == []
    assert set(tools) == {"open_tab", "close_tab"}
    opening = tools["open_tab"]
    assert opening.description == "Open a browser tab"
    assert opening.input_schema["properties"]["url"] == {"type": "string", "description": "Address to open"}
    assert opening.unresolved == []
    assert opening.origin == "dist/index.js:40"
    assert tools["close_tab"].input_schema == {"type": "object", "properties": {}}
