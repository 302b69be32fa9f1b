"""Live listings that are trusted only within their limits: real fixture servers over stdio in the sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog import live, rpc
from catalog.models import CatalogError

SERVERS = Path(__file__).parent / "fixtures" / "servers"


def raw(mode: str) -> live.Launch:
    return live.Launch(command=[sys.executable, str(SERVERS / "raw_modes.py"), mode], env={})


def names(listing: live.LiveListing) -> list[str]:
    return [tool.name for tool in listing.tools]


def test_odd_json_in_a_listing_names_each_bad_tool_and_keeps_the_good_ones():
    listing = live.list_stdio(raw("odd"), timeout=120)
    assert names(listing) == ["good_first", "good_last"]
    assert sorted(listing.malformed) == [
        "deep: nested deeper than 100 levels",
        "dupkey: duplicate key 'description' in one object",
        "nul: a string contains a NUL character",
        "surrogate: a string contains a lone surrogate (not valid Unicode)",
    ]
    assert listing.complete


def test_a_json_rpc_error_on_tools_list_is_shown_with_the_servers_message():
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(raw("tools_error"), timeout=120)
    assert str(failure.value) == (
        "the server answered tools/list with an error: Settings error: ACME_API_TOKEN is required to list tools"
    )
    assert failure.value.kind == "needs_config"


def test_a_failed_second_page_keeps_the_first_and_marks_the_listing_incomplete():
    listing = live.list_stdio(raw("second_page"), timeout=120)
    assert names(listing) == ["page_one_a", "page_one_b"]
    assert not listing.complete
    assert listing.incomplete_reason == (
        "tools/list stopped after 1 page(s): the server answered with an error: backend went away"
    )


def test_a_listing_cut_by_max_tools_is_incomplete_not_refused():
    listing = live.list_stdio(
        live.Launch(command=[sys.executable, str(SERVERS / "paged.py"), "7"], env={}), timeout=120, max_tools=4
    )
    assert names(listing) == [f"page_tool_{i}" for i in range(4)]
    assert not listing.complete
    assert "cut at 4 tools" in listing.incomplete_reason


def test_a_repeated_cursor_marks_the_listing_incomplete():
    listing = live.list_stdio(
        live.Launch(command=[sys.executable, str(SERVERS / "paged.py"), "7", "loop"], env={}), timeout=120
    )
    assert names(listing) == [f"page_tool_{i}" for i in range(6)]
    assert not listing.complete
    assert "repeated the cursor '3'" in listing.incomplete_reason


@pytest.mark.parametrize("mode", ["exit_later", "error_later"])
def test_the_tool_listing_is_kept_when_a_later_optional_request_fails(mode):
    listing = live.list_stdio(raw(mode), timeout=120)
    assert names(listing) == ["listed_a", "listed_b"]
    assert listing.complete
    assert listing.prompts == [] and listing.resources == []
    failed = [w for w in listing.warnings if "/list failed" in w]
    assert failed and failed[0].startswith("prompts/list failed")
    if mode == "exit_later":
        assert failed == [
            "prompts/list failed (the server exited); the tool listing is kept",
            "resources/list failed (the server exited); the tool listing is kept",
        ]
    else:
        assert "prompts/list is broken today" in failed[0]


def test_a_2026_07_28_server_without_initialize_is_listed_with_meta_on_every_request():
    listing = live.list_stdio(raw("modern"), timeout=120)
    assert names(listing) == ["modern_tool", "another_tool"]
    assert listing.protocol_version == "2026-07-28"
    assert listing.server_info == {"name": "fixture-modern", "version": "2.0.0"}
    assert listing.complete


def test_decoding_cuts_deep_nesting_in_linear_passes_and_notes_duplicate_keys():
    deep = '{"a": ' * 50_000 + "1" + "}" * 50_000
    message = rpc.decode('{"jsonrpc": "2.0", "id": 1, "result": {"tools": [' + deep + ', {"k": 1, "k": 2}]}}')
    first, second = message["result"]["tools"]
    assert rpc.item_problem(first) == "nested deeper than 100 levels"
    assert rpc.item_problem(second) == "duplicate key 'k' in one object"
    assert rpc.item_problem({"fine": ["a", {"b": "c"}]}) is None


def test_a_cut_listing_is_stored_partial_and_marks_no_tool_removed(tmp_path):
    from tests.test_cli import fixture_cmd, run, stored_tools

    full = run(tmp_path, "crawl", "--cmd", fixture_cmd("paged.py", "7"), "--name", "paged")
    assert full.returncode == 0, full.stderr
    cut = run(tmp_path, "crawl", "--cmd", fixture_cmd("paged.py", "7"), "--name", "paged", "--max-tools", "4")
    assert cut.returncode == 1
    assert "cut at 4 tools" in cut.stderr
    assert sorted(tool["name"] for tool in stored_tools(tmp_path, "paged")) == [f"page_tool_{i}" for i in range(7)]


@pytest.fixture(scope="module")
def sdk2_python(tmp_path_factory) -> str:
    """A venv holding the newest MCP Python SDK 2.x from the registry (downloads: integration only)."""
    from catalog import envs, runtimes

    root = tmp_path_factory.mktemp("sdk2") / "venv"
    uv = envs._uv()
    interpreter = runtimes.python_satisfying(">=3.10", "the SDK 2 fixture")
    subprocess.run([uv, "venv", "--quiet", "--python", interpreter.executable, str(root)], check=True, timeout=300)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(root / "bin" / "python"), "mcp>=2"],
                   check=True, timeout=600)
    return str(root / "bin" / "python")


@pytest.mark.integration
@pytest.mark.parametrize("era", ["auto", "legacy", "modern"])
def test_a_server_on_the_newest_python_sdk_is_listed_in_both_protocol_eras(sdk2_python, era):
    launch = live.Launch(command=[sdk2_python, str(SERVERS / "sdk2_server.py")], env={})
    listing = live.list_stdio(launch, timeout=60, era=era)
    assert names(listing) == ["add_numbers", "read_note"]
    assert listing.tools[0].description == "Add two integers."
    assert listing.complete
    assert (listing.protocol_version == "2026-07-28") == (era == "modern")


@pytest.fixture(scope="module")
def ts_sdk2_server(tmp_path_factory) -> Path:
    """A project holding the newest MCP TypeScript SDK v2 server package from the registry (integration)."""
    import shutil

    project = tmp_path_factory.mktemp("ts-sdk2")
    (project / "package.json").write_text('{"type": "module", "private": true}')
    shutil.copy(SERVERS.parent / "ts_sdk2" / "server.mjs", project / "server.mjs")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "@modelcontextprotocol/server", "zod"],
        cwd=project, check=True, timeout=600, capture_output=True,
    )
    return project / "server.mjs"


@pytest.mark.integration
@pytest.mark.parametrize(("era", "legacy", "expected"), [
    ("auto", "serve", "2025-11-25"),
    ("modern", "serve", "2026-07-28"),
    ("auto", "modern-only", "2026-07-28"),  # initialize refused: server/discover instead
])
def test_a_server_on_the_newest_typescript_sdk_is_listed_in_both_protocol_eras(ts_sdk2_server, era, legacy, expected):
    launch = live.Launch(command=["node", str(ts_sdk2_server), legacy], env={})
    listing = live.list_stdio(launch, timeout=60, era=era)
    assert names(listing) == ["add_numbers", "delete_note"]
    assert listing.tools[1].annotations == {"destructiveHint": True}
    assert listing.protocol_version == expected
    assert listing.server_info == {"name": "fixture-ts-sdk2", "version": "1.0.0"}


@pytest.mark.parametrize(("mode", "message", "kind"), [
    ("zod", "server exited: ZodError: ACME_API_KEY: Required", "needs_config"),
    ("pydantic", "server exited: pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings:"
                 " acme_api_key: Field required", "needs_config"),
    # a session the user must log in to first is configuration, not a crash
    ("session", "server exited: Error: No acme.cloud session configured. Run `acme-mcp auth login"
                " --from-browser` first.", "needs_config"),
    ("banner", "server exited: Could not open the cache database at /var/lib/weather", "crash"),
    # "FileNotFoundError" once read as Node's ENOTFOUND (a DNS failure): needs_network
    ("missing_tool", "server exited: FileNotFoundError: [Errno 2] No such file or directory: 'sudo'", "crash"),
    ("runtime", "server exited: Error: acme-mcp requires Node.js version >=22.0.0 (running v20.20.2)", "needs_runtime"),
])
def test_the_error_line_is_the_servers_actual_error_with_a_consistent_kind(mode, message, kind):
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(live.Launch(command=[sys.executable, str(SERVERS / "fails_with.py"), mode], env={}), timeout=120)
    assert str(failure.value) == message
    assert failure.value.kind == kind
