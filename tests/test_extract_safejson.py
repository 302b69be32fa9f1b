"""JSON that others wrote is read as hostile input: deep nesting, size, lone surrogates, NUL
characters and duplicate keys each end in one line naming the cause, never a RecursionError; in a
tools/list file the good tools are kept and the bad ones reported by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import safejson
from catalog.models import CatalogError
from catalog.sources import ResolveOptions, resolve


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('{"a": ' + deep(5000) + "}", "nested deeper than 100 levels"),
        ('{"a": "x\\u0000y"}', "NUL character in a string"),
        ('{"a": "\\ud800"}', "lone surrogate"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"\\udfff": 1}', "lone surrogate"),
    ],
)
def test_each_hostile_shape_is_one_error_naming_the_cause(text, cause):
    with pytest.raises(CatalogError, match=cause) as info:
        safejson.loads(text, "m.json")
    assert info.value.kind == "usage"
    assert str(info.value).startswith("m.json: JSON ") and "\n" not in str(info.value)


def test_size_encoding_and_syntax_errors_name_the_cause(tmp_path):
    with pytest.raises(CatalogError, match="larger than 10 bytes"):
        safejson.parse("[" + "1," * 10 + "1]", "big.json", max_bytes=10)
    with pytest.raises(CatalogError, match=r"not UTF-8 text \(byte 0xff at offset 1\)"):
        safejson.parse(b'"\xff"', "latin.json")
    with pytest.raises(CatalogError, match="not valid JSON"):
        safejson.loads("{not json", "bad.json", kind="source")
    unbalanced = "[" * 5000
    with pytest.raises(CatalogError, match="unbalanced.json: ") as info:
        safejson.loads(unbalanced, "unbalanced.json")
    assert "Recursion" not in str(info.value)


def test_nesting_is_cut_in_one_pass_and_strings_with_brackets_are_left_alone():
    document = safejson.parse('{"s": "[[[[{{{{", "a": ' + deep(200_000) + "}", "x.json")
    assert document.value["s"] == "[[[[{{{{"
    assert document.problem_in(document.value["s"]) is None
    assert document.problem_in(document.value["a"]) == "nested deeper than 100 levels"
    assert safejson.loads(deep(100), "ok.json") is not None


def test_a_clean_document_with_a_bom_reads(tmp_path):
    path = tmp_path / "server.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"name": "x"}).encode())
    assert safejson.load(path) == {"name": "x"}


def tools_file(tmp_path: Path) -> Path:
    good = {"name": "good", "description": "fine", "inputSchema": {"type": "object"}}
    text = (
        '{"tools": ['
        + json.dumps(good)
        + ', {"name": "deep", "inputSchema": {"properties": '
        + deep(10_000)
        + "}}"
        + ', {"name": "surrogate", "description": "\\ud800"}'
        + ', {"name": "nul", "description": "a\\u0000b"}'
        + ', {"name": "dupe", "inputSchema": {"type": "object", "type": "string"}}'
        + ', {"name": "bad\\ud800name"}'
        + "]}"
    )
    path = tmp_path / "tools.json"
    path.write_text(text)
    return path


def test_tools_list_keeps_good_tools_and_reports_bad_ones_by_name(tmp_path):
    [target] = resolve(str(tools_file(tmp_path)), ResolveOptions(cache_dir=tmp_path / "cache"))
    assert [tool.name for tool in target.tools] == ["good"]
    assert target.warnings == [
        "tool 'deep' skipped: nested deeper than 100 levels",
        "tool 'surrogate' skipped: lone surrogate (\\ud800-\\udfff) in a string",
        "tool 'nul' skipped: NUL character in a string",
        "tool 'dupe' skipped: duplicate key 'type' in an object",
        "tool at position 5 skipped: lone surrogate (\\ud800-\\udfff) in a string",
    ]


def test_client_config_with_a_duplicate_key_is_refused(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}')
    with pytest.raises(CatalogError, match="duplicate key 'a'") as info:
        resolve(str(path), ResolveOptions(cache_dir=tmp_path / "cache"))
    assert info.value.kind == "usage"


def test_cli_reports_a_deep_client_config_in_one_line_with_exit_2(tmp_path):
    manifest = tmp_path / "mcp.json"
    manifest.write_text('{"mcpServers": {"a": {"command": "x", "args": ' + deep(5000) + "}}}")
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "c.db")}
    done = subprocess.run(
        [sys.executable, "-m", "catalog.cli", "crawl", str(manifest)],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
    )
    assert "RecursionError" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    assert done.returncode == 2
    assert "mcp.json: JSON nested deeper than 100 levels; refusing it" in done.stderr + done.stdout
