"""A bulk crawl survives hostile inputs (issue 16.4): a list mixing good sources with every hostile shape
finishes, stores every good result and records every failure, each with one line naming its cause."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.factories import fastmcp_source
from tests.test_cli import run, sqlite_rows
from tests.test_extract_budget import deep_nesting, doubling_chain, recursive_helpers
from tests.test_extract_safejson import tools_file

GOOD_TOOLS = [("list_items", "List items."), ("delete_item", "Delete an item permanently.")]


def tree(root: Path, name: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for path, text in files.items():
        (folder / path).write_text(text)
    return folder


def hostile_sources(root: Path) -> dict[str, Path]:
    good_ts = "server.tool('good', 'A good tool', async () => ({ content: [] }));\n"
    bomb = root / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.txt", b"\0" * (300 * 1024 * 1024))  # a few hundred kB on disk
    deep_config = root / "deep.json"
    deep_config.write_text('{"mcpServers": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}")
    (root / "bad-tools").mkdir()
    return {
        "good-a": tree(root, "good-a", {"server.py": fastmcp_source(GOOD_TOOLS)}),
        "good-b": tree(root, "good-b", {"server.py": fastmcp_source(GOOD_TOOLS[:1])}),
        "ts-doubling": tree(root, "ts-doubling", {"hostile.ts": doubling_chain("ts", 40), "good.ts": good_ts}),
        "ts-recursive": tree(root, "ts-recursive", {"hostile.ts": recursive_helpers("ts", 400), "good.ts": good_ts}),
        "ts-deep": tree(root, "ts-deep", {"hostile.ts": deep_nesting("ts", 3000), "good.ts": good_ts}),
        "py-doubling": tree(root, "py-doubling", {"server.py": doubling_chain("py", 40)}),
        "bad-tools": tools_file(root / "bad-tools"),
        "deep-config": deep_config,
        "bomb": bomb,
    }


def test_a_bulk_crawl_of_good_and_hostile_sources_keeps_the_good_and_records_the_rest(tmp_path):
    sources = hostile_sources(tmp_path)
    listing = tmp_path / "sources.txt"
    listing.write_text("".join(f"{path}\n" for path in sources.values()))
    done = run(tmp_path, "crawl", "--from", str(listing), "--static", "--jobs", "2", "--json", timeout=600)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    summary = json.loads(done.stdout)
    by_source = {}
    for result in summary["results"]:
        server = result["server"]
        by_source[next(k for k, p in sources.items() if server in (f"local:{p.name}", f"local:{p.stem}", f"file:{p.stem}", str(p)))] = result
    assert set(by_source) == set(sources), by_source  # every source is recorded, none twice
    assert by_source["good-a"]["status"] == "ok" and by_source["good-a"]["tools"] == 2
    assert by_source["good-b"]["status"] == "ok" and by_source["good-b"]["tools"] == 1
    for name in ("ts-doubling", "ts-recursive", "ts-deep"):  # cut by the budget; the good file's tool kept
        assert by_source[name]["status"] == "incomplete" and by_source[name]["tools"] == 1, by_source[name]
    assert by_source["py-doubling"]["status"] == "failed" and "work budget" in by_source["py-doubling"]["error"]
    assert by_source["bad-tools"]["status"] == "partial" and by_source["bad-tools"]["tools"] == 1
    for name in ("deep-config", "bomb", "py-doubling", "bad-tools", "ts-deep"):
        error = by_source[name]["error"] or ""
        assert error and "\n" not in error, (name, error)  # one line naming the cause
    assert "nested" in by_source["deep-config"]["error"]
    stored = {row[0]: row[1] for row in sqlite_rows(tmp_path, "SELECT server_id, status FROM crawls")}
    assert len(stored) == len(sources)
    tools = sqlite_rows(tmp_path, "SELECT server_id, name FROM tools WHERE removed_at IS NULL")
    assert sorted(name for server, name in tools if "good-a" in server) == ["delete_item", "list_items"]
    assert not list((tmp_path / "cache").rglob("big.txt")) or all(
        p.stat().st_size < 300 * 1024 * 1024 for p in (tmp_path / "cache").rglob("big.txt")
    )
