"""Static extraction of real published servers, fetched the way the product fetches them (pip / npm pack).

Each expected list is the server's live `tools/list` answer, recorded earlier by running the named
package version over stdio (the listings the survey in the closing note compares against).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.extract import extract_tree
from catalog.sources import npm, pypi

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packages")


def static_names(root: Path) -> list[str]:
    return [tool.name for tool in extract_tree(root).tools]


def test_mcp_server_time_low_level_enum_names(cache):
    # live tools/list of pypi mcp-server-time 2026.10.19
    got = pypi.download("mcp-server-time", "2026.10.19", cache)
    assert static_names(got.root) == ["get_current_time", "convert_time"]


def test_mcp_obsidian_tool_classes_named_through_their_base_class(cache):
    # live tools/list of pypi mcp-obsidian 0.2.3 (names set by super().__init__(CONSTANT))
    got = pypi.download("mcp-obsidian", "0.2.3", cache)
    assert sorted(static_names(got.root)) == sorted(
        [
            "obsidian_list_files_in_dir",
            "obsidian_list_files_in_vault",
            "obsidian_get_file_contents",
            "obsidian_simple_search",
            "obsidian_patch_content",
            "obsidian_append_content",
            "obsidian_put_content",
            "obsidian_delete_file",
            "obsidian_complex_search",
            "obsidian_search_by_tag",
            "obsidian_get_frontmatter",
            "obsidian_batch_get_file_contents",
            "obsidian_get_periodic_note",
            "obsidian_get_recent_periodic_notes",
            "obsidian_get_recent_changes",
        ]
    )


def test_brave_search_compiled_low_level_tool_list(cache):
    # live tools/list of npm @modelcontextprotocol/server-brave-search 0.6.2
    got = npm.pack("@modelcontextprotocol/server-brave-search", "0.6.2", cache)
    assert static_names(got.root) == ["brave_web_search", "brave_local_search"]


def test_perplexity_compiled_register_tool_calls(cache):
    # live tools/list of npm @perplexity-ai/mcp-server 1.2.1
    got = npm.pack("@perplexity-ai/mcp-server", "1.2.1", cache)
    assert sorted(static_names(got.root)) == sorted(
        ["perplexity_ask", "perplexity_research", "perplexity_reason", "perplexity_search"]
    )
