"""`catalog merge`: catalogs built apart, merged through the CLI into a new real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from catalog.models import Classification, CrawlResult, ServerRef, Tool
from catalog.store import Store
from tests.test_cli import one_line_error, run

SHARED = ServerRef("pypi:shared", "pypi:shared", "pypi")
ONLY_A = ServerRef("acme/only-a", "acme/only-a", "github")


def rounds() -> list[CrawlResult]:
    """Four crawls of one server over time: a description changes twice, one tool goes, one comes."""
    x = [Tool("get_x", f"Get x, edition {n}.") for n in (0, 1, 1, 3)]
    return [
        CrawlResult(SHARED, "static", "r0", [x[0], Tool("drop_y", "Drop y.")]),
        CrawlResult(SHARED, "static", "r1", [x[1], Tool("drop_y", "Drop y.")]),
        CrawlResult(SHARED, "static", "r2", [x[2]]),
        CrawlResult(SHARED, "static", "r3", [x[3], Tool("add_z", "Add a z.")]),
    ]


def label(result: CrawlResult) -> dict[str, Classification]:
    return {t.name: Classification("write", "medium", 0.7, [t.description], "v") for t in result.tools}


def build(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A and B take turns crawling the shared server; C crawled everything itself, in the same order."""
    a, b, c = (Store(tmp_path / f"{n}.db") for n in "abc")
    for number, result in enumerate(rounds()):
        (a if number % 2 == 0 else b).save_crawl(result, label(result))
        c.save_crawl(result, label(result))
    only = CrawlResult(ONLY_A, "static", "a", [Tool("delete_all", "Delete everything.")])
    for store in (a, c):
        store.save_crawl(only, {"delete_all": Classification("destructive", "critical", 0.9, ["bulk"], "v")})
        store.set_override(ONLY_A.id, "delete_all", "destructive", "confirmed by review")
    failed = CrawlResult(ONLY_A, "live", "b", status="failed", error="boom", error_kind="crash")
    for store in (b, c):
        store.save_crawl(failed)
    for store in (a, b, c):
        store.close()
    return tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"


def state(path: Path) -> dict[str, object]:
    store = Store(path)
    db = store.db
    return {
        "tools": sorted((r["server_id"], r["name"], r["description"], r["content_hash"], r["removed_at"] is None)
                        for r in db["tools"].rows),
        "versions": sorted((r["server_id"], r["name"], r["content_hash"]) for r in db["tool_versions"].rows),
        "crawls": sorted((r["server_id"], r["route"], r["status"]) for r in db["crawls"].rows),
        "labels": sorted((r["server_id"], r["name"], r["content_hash"]) for r in db["classifications"].rows),
        "effective": sorted((r["server_id"], r["name"], r["category"], r["risk"])
                            for r in db.query("SELECT * FROM labelled_tools")),
        "servers": sorted(r["id"] for r in db["servers"].rows),
    }


def test_merging_two_catalogs_equals_crawling_everything_in_one(tmp_path):
    a, b, c = build(tmp_path)
    done = run(tmp_path, "merge", str(a), str(b), "-o", str(tmp_path / "merged.db"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["crawls"] == 6 and summary["duplicate_crawls"] == 0 and summary["servers"] == 2
    assert state(tmp_path / "merged.db") == state(c)
    merged = Store(tmp_path / "merged.db")
    assert [row["id"] for row in merged.crawls(limit=100)] == list(range(6, 0, -1))
    assert [t.description for t in merged.tools(SHARED.id)] == ["Add a z.", "Get x, edition 3."]
    assert [r["name"] for r in merged.search("edition")] == ["get_x"]
    [critical] = merged.labelled_tools(ONLY_A.id)
    assert critical.override and critical.override.note == "confirmed by review"


def test_a_catalog_merged_twice_adds_nothing_twice(tmp_path):
    a, b, _ = build(tmp_path)
    done = run(tmp_path, "merge", str(a), str(b), str(a), "-o", str(tmp_path / "m.db"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["duplicate_crawls"] == 3
    once = run(tmp_path, "merge", str(a), str(b), "-o", str(tmp_path / "once.db"))
    assert once.returncode == 0 and "wrote" in once.stdout
    assert state(tmp_path / "m.db") == state(tmp_path / "once.db")


def test_two_crawls_finished_in_the_same_millisecond_merge_the_same_way_twice(tmp_path):
    """A's round 2 and B's round 3 of the shared server finishing at the same instant (a fast machine does this):
    the newest listing, and so the current tools and labels, must not depend on an input given twice."""
    import sqlite3

    a, b, _ = build(tmp_path)
    with sqlite3.connect(a) as db:
        started, finished = db.execute(
            "SELECT started_at, finished_at FROM crawls WHERE server_id = ? ORDER BY id DESC LIMIT 1", [SHARED.id]
        ).fetchone()
    with sqlite3.connect(b) as db:
        last = db.execute("SELECT max(id) FROM crawls WHERE server_id = ? AND status = 'ok'", [SHARED.id]).fetchone()
        db.execute("UPDATE crawls SET started_at = ?, finished_at = ? WHERE id = ?", [started, finished, last[0]])
    twice = run(tmp_path, "merge", str(a), str(b), str(a), "-o", str(tmp_path / "twice.db"))
    once = run(tmp_path, "merge", str(a), str(b), "-o", str(tmp_path / "once.db"))
    assert twice.returncode == 0 and once.returncode == 0, twice.stderr + once.stderr
    assert state(tmp_path / "twice.db") == state(tmp_path / "once.db")


def test_merge_refuses_to_overwrite_and_names_missing_inputs(tmp_path):
    a, b, _ = build(tmp_path)
    done = run(tmp_path, "merge", str(a), str(b), "-o", str(a))
    assert done.returncode == 2 and "exists" in one_line_error(done)
    done = run(tmp_path, "merge", str(a), str(tmp_path / "nope.db"), "-o", str(tmp_path / "m.db"))
    assert done.returncode == 2 and "no such catalog database" in one_line_error(done)
    assert not (tmp_path / "m.db").exists()
