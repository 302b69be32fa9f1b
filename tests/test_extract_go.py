"""Tests for the Go static extractor, on small servers written for mark3labs/mcp-go and the official go-sdk."""

from __future__ import annotations

from pathlib import Path

from catalog.extract import SourceFile, extract_tree, iter_source_files
from catalog.extract.go import extract
from catalog.models import Tool

FIXTURES = Path(__file__).parent / "fixtures" / "extract" / "go"


def tools_of(tree: str) -> tuple[dict[str, Tool], list[str]]:
    found = extract(list(iter_source_files(FIXTURES / tree, (".go",))))
    return {tool.name: tool for tool in found.tools}, found.warnings


def test_mcp_go_new_tool_reads_description_params_and_only_the_hints_called():
    tools, _ = tools_of("mcpgo")
    search = tools["notes_search"]
    assert search.origin == "main.go:17"
    assert search.description == "Search the notes by words. Returns note ids."
    assert search.annotations == {"readOnlyHint": True, "openWorldHint": False, "title": "Search notes"}
    assert search.input_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for"},
            "limit": {"type": "number", "description": "Most results", "default": 20, "minimum": 1},
            "archived": {"type": "boolean", "description": "Include archived notes"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "sort": {"type": "string", "enum": ["date", "title"]},
        },
        "required": ["query"],
    }
    deleting = tools["notes_delete"]
    assert deleting.annotations == {"destructiveHint": True, "idempotentHint": True}
    assert deleting.parameter_names() == ["id", "options"]


def test_run_time_text_is_kept_as_a_marked_placeholder_and_run_time_names_are_skipped():
    tools, warnings = tools_of("mcpgo")
    deleting = tools["notes_delete"]
    assert deleting.description == "Delete a note (server {version})."
    assert deleting.unresolved == ["description: placeholders filled at run time ({version})"]
    assert warnings == ["main.go:38: tool name: built at run time (call to Getenv); tool skipped"]
    assert "Named at run time" not in [tool.description for tool in tools.values()]


def test_a_helper_that_takes_the_tool_name_yields_one_tool_per_call():
    tools, _ = tools_of("mcpgo")
    assert tools["notes_export_markdown"].description == "Export notes as Markdown."
    assert tools["notes_export_html"].description == "Export notes as HTML."
    assert tools["notes_export_html"].origin == "main.go:41"
    assert tools["notes_export_html"].parameter_names() == ["folder"]


def test_mcp_go_typed_input_schema_follows_invopop_tags():
    tools, _ = tools_of("mcpgo")
    assert tools["notes_tag"].input_schema == {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The note to tag, by id"},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags to add"},
            "color": {"type": "string", "enum": ["red", "green"], "default": "red"},
            "count": {"type": "integer", "minimum": 1},
        },
        "required": ["id", "tags"],
    }


def test_go_sdk_tool_literal_resolves_constants_translations_and_annotations():
    tools, warnings = tools_of("gosdk")
    assert warnings == []
    listing = tools["calendar_list_events"]
    assert listing.description == "List the events of a calendar."
    assert listing.annotations == {"readOnlyHint": True, "title": "List events"}
    assert tools["calendar_delete_event"].annotations == {"destructiveHint": True}


def test_go_sdk_input_schema_is_inferred_from_the_handler_struct():
    tools, _ = tools_of("gosdk")
    assert tools["calendar_list_events"].input_schema == {
        "type": "object",
        "properties": {
            "page": {"type": "integer", "description": "page number, from 1"},
            "per_page": {"type": "integer"},
            "calendar": {"type": "string", "description": "the calendar id"},
            "from": {"type": "string"},
            "labels": {
                "type": "array",
                "items": {"type": "string"},
                "description": "only events with all these labels",
            },
            "extra": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "required": ["calendar"],
        "additionalProperties": False,
    }
    assert tools["calendar_delete_event"].input_schema["required"] == ["event_id"]


def test_go_sdk_handler_in_another_package_gives_pointer_and_sized_int_schemas():
    tools, _ = tools_of("gosdk")
    echo = tools["echo"].input_schema
    assert echo["properties"]["times"] == {"type": "integer", "minimum": 0, "maximum": 255}
    assert echo["properties"]["prefix"] == {"type": ["null", "string"], "description": "put before the text"}
    assert echo["required"] == ["text"]


def test_go_sdk_explicit_schema_literal_wins_over_inference():
    tools, _ = tools_of("gosdk")
    assert tools["calendar_stats"].input_schema == {
        "type": "object",
        "properties": {"calendar": {"type": "string", "description": "the calendar id"}},
        "required": ["calendar"],
    }


def test_a_description_from_a_parameter_is_reported_not_invented():
    tools, _ = tools_of("gosdk")
    deleting = tools["calendar_delete_event"]
    assert deleting.description == ""
    assert deleting.unresolved == ["description: 'runtimeDescription' not resolvable statically"]


def test_broken_go_files_do_not_stop_the_others():
    broken = SourceFile("broken.go", 'package x\nfunc ( {\nmcp.NewTool("half", mcp.WithDescription("d")')
    fine = SourceFile("fine.go", 'package x\nvar T = mcp.NewTool("ping", mcp.WithDescription("Ping."))\n')
    found = extract([broken, fine])
    assert [tool.name for tool in found.tools] == ["ping"]


def test_extract_tree_runs_the_go_extractor_and_skips_go_tests(tmp_path):
    (tmp_path / "server.go").write_text(
        'package x\nvar T = mcp.NewTool("ping", mcp.WithDescription("Ping."))\n'
    )
    (tmp_path / "server_test.go").write_text('package x\nvar U = mcp.NewTool("only_in_tests")\n')
    found = extract_tree(tmp_path)
    assert [(tool.name, tool.description) for tool in found.tools] == [("ping", "Ping.")]
