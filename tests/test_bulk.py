"""Bulk crawls for real: list files, a stand-in registry on loopback, resuming, one classification batch."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.bulk import items_from_file, items_from_registry, run_bulk
from catalog.crawl import CrawlOptions
from catalog.store import Store
from tests.factories import cached_wheel, registry_entry

TOOLS = [("list_items", "List items."), ("delete_item", "Delete an item permanently.")]


@pytest.fixture
def options(tmp_path):
    return CrawlOptions(cache_dir=tmp_path / "cache", timeout=5)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "catalog.db")


def test_list_file_crawls_every_source_and_skips_comments(tmp_path, options, store):
    for index in range(3):
        cached_wheel(options.cache_dir, f"bulk-pkg-{index}", "1.0.0", TOOLS)
    listing = tmp_path / "sources.txt"
    listing.write_text(
        "# my servers\npypi:bulk-pkg-0==1.0.0\n\npypi:bulk-pkg-1==1.0.0  # second\n"
        "pypi:bulk-pkg-2==1.0.0\nnot a source\n"
    )
    summary = run_bulk(items_from_file(listing, options), options, store, jobs=2)
    assert sorted(r.server.id for r in summary.done) == [
        "pypi:bulk-pkg-0",
        "pypi:bulk-pkg-1",
        "pypi:bulk-pkg-2",
    ]
    assert [r.server.id for r in summary.failed] == ["not a source"]
    assert summary.classified == 6
    assert {lt.category for lt in store.labelled_tools("pypi:bulk-pkg-0")} == {"read", "destructive"}


def test_second_run_resumes_by_skipping_fresh_sources(tmp_path, options, store):
    cached_wheel(options.cache_dir, "bulk-pkg-a", "1.0.0", TOOLS)
    listing = tmp_path / "sources.txt"
    listing.write_text("pypi:bulk-pkg-a==1.0.0\n")
    run_bulk(items_from_file(listing, options), options, store)
    again = run_bulk(items_from_file(listing, options), options, store)
    assert again.skipped == ["pypi:bulk-pkg-a==1.0.0"] and not again.done
    refreshed = run_bulk(items_from_file(listing, options), options, store, refresh=True)
    assert [r.server.id for r in refreshed.done] == ["pypi:bulk-pkg-a"]


def test_classification_runs_once_for_the_whole_batch(tmp_path, options, store, monkeypatch):
    import classifier

    calls = []
    real = classifier.classify
    monkeypatch.setattr(classifier, "classify", lambda rows: calls.append(len(rows)) or real(rows))
    for index in range(4):
        cached_wheel(options.cache_dir, f"batch-pkg-{index}", "1.0.0", TOOLS)
    listing = tmp_path / "sources.txt"
    listing.write_text("".join(f"pypi:batch-pkg-{i}==1.0.0\n" for i in range(4)))
    run_bulk(items_from_file(listing, options), options, store, jobs=4)
    assert calls == [8]


class Registry(BaseHTTPRequestHandler):
    """A stand-in MCP registry serving real-format v0 pages, two entries per page."""

    entries: list[dict] = []

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        if url.path != "/v0/servers":
            self.send_response(404)
            self.end_headers()
            return
        query = parse_qs(url.query)
        start = int(query.get("cursor", ["0"])[0])
        limit = min(int(query.get("limit", ["2"])[0]), 2)
        page = self.entries[start : start + limit]
        metadata = {"count": len(page)}
        if start + limit < len(self.entries):
            metadata["nextCursor"] = str(start + limit)
        body = json.dumps({"servers": page, "metadata": metadata}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers (a slow entry)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def registry(options, silent_port):
    for index in range(5):
        cached_wheel(options.cache_dir, f"reg-pkg-{index}", "2.0.0", TOOLS)
    broken = {
        "server": {
            "name": "io.github.example/oci-only",
            "version": "1.0.0",
            "packages": [{"registryType": "oci", "identifier": "example/oci-only"}],
        }
    }
    slow = {
        "server": {
            "name": "io.github.example/slow",
            "version": "1.0.0",
            "remotes": [{"type": "streamable-http", "url": f"http://127.0.0.1:{silent_port}/mcp"}],
        }
    }
    Registry.entries = [registry_entry(f"reg-pkg-{i}", "2.0.0") for i in range(5)] + [broken, slow]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_registry_is_paged_end_to_end_and_failures_keep_their_reason(registry, options, store):
    options.timeout = 3
    summary = run_bulk(items_from_registry(registry, options), options, store, jobs=3)
    assert sorted(r.server.id for r in summary.done) == [f"pypi:reg-pkg-{i}" for i in range(5)]
    failures = {r.server.id: r for r in summary.failed}
    assert set(failures) == {"io.github.example/oci-only", "io.github.example/slow"}
    assert "no pypi/npm package or remote" in failures["io.github.example/oci-only"].error
    # a registry's remote endpoint is contacted only with --live (issue 17.5); the reason is stored
    assert failures["io.github.example/slow"].error_kind == "not_contacted"
    stored = {row["server_id"]: row for row in store.crawls(limit=100)}
    assert stored["io.github.example/slow"]["status"] == "failed"
    assert len(store.tools("pypi:reg-pkg-3")) == 2


def test_single_and_bulk_crawls_go_through_one_pipeline_and_store_the_same(tmp_path, options):
    from catalog.crawl import crawl_source

    for index in range(3):
        cached_wheel(options.cache_dir, f"same-pkg-{index}", "1.0.0", TOOLS)
    sources = [f"pypi:same-pkg-{i}==1.0.0" for i in range(3)]
    single, bulk = Store(tmp_path / "single.db"), Store(tmp_path / "bulk.db")
    for source in sources:
        [outcome] = crawl_source(source, options, single)
        assert outcome.ok and outcome.result.status == "ok"
    listing = tmp_path / "sources.txt"
    listing.write_text("\n".join(sources))
    summary = run_bulk(items_from_file(listing, options), options, bulk, jobs=3)
    assert summary.classified == 6 and not summary.failed

    def content(store):
        tools = store.db.execute("SELECT server_id, name, content_hash FROM tools ORDER BY 1, 2").fetchall()
        labels = store.db.execute("SELECT server_id, name, category FROM classifications ORDER BY 1, 2").fetchall()
        crawls = store.db.execute("SELECT server_id, status, route FROM crawls ORDER BY 1").fetchall()
        return tools, labels, crawls

    assert content(single) == content(bulk)


def test_refresh_rerun_after_an_interrupt_resumes_instead_of_starting_over(tmp_path, options, store):
    from catalog.bulk import WorkItem
    from catalog.sources import ResolveOptions, resolve

    for index in range(3):
        cached_wheel(options.cache_dir, f"resume-pkg-{index}", "1.0.0", TOOLS)
    resolve_options = ResolveOptions(cache_dir=options.cache_dir)

    def item(index):
        source = f"pypi:resume-pkg-{index}==1.0.0"
        return WorkItem(source, lambda: resolve(source, resolve_options))

    def interrupt():
        raise KeyboardInterrupt

    first = run_bulk([item(0), item(1), WorkItem("ctrl-c", interrupt), item(2)], options, store, jobs=1,
                     refresh=True, run_key="my-list")
    stored_first = {r.server.id for r in first.done}
    assert first.interrupted and {"pypi:resume-pkg-0", "pypi:resume-pkg-1"} <= stored_first
    again = run_bulk([item(0), item(1), item(2)], options, store, jobs=2, refresh=True, run_key="my-list")
    assert {f"pypi:{key.split(':')[1].split('=')[0]}" for key in again.skipped} == stored_first
    assert {r.server.id for r in again.done} == {f"pypi:resume-pkg-{i}" for i in range(3)} - stored_first
    third = run_bulk([item(0)], options, store, refresh=True, run_key="my-list")  # finished: a new refresh
    assert [r.server.id for r in third.done] == ["pypi:resume-pkg-0"] and not third.skipped


def test_reconcile_names_what_static_and_live_disagree_on():
    from catalog.crawl import describe_differences, reconcile
    from catalog.models import Tool

    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    static = [Tool("search", "Search things.", schema), Tool("helper", "Not a tool.")]
    live = [Tool("search", "Search  things.", {"type": "object", "properties": {"q": {}, "n": {}}}),
            Tool("export", "Export.")]
    differences = reconcile(static, live)
    assert [(d["tool"], d["what"]) for d in differences] == [
        ("helper", "static_only"), ("export", "live_only"), ("search", "schema")
    ]
    assert describe_differences(differences) == "1 listed only live, 1 parameters differ, 1 found only statically"


def test_differences_are_stored_with_the_crawl(tmp_path, store):
    from catalog.crawl import store_result
    from catalog.models import CrawlResult, ServerRef, Tool

    result = CrawlResult(ServerRef("s", "s", "pypi"), "static+live", "r", tools=[Tool("a", "A.")])
    result.differences = [{"tool": "b", "what": "static_only"}]
    crawl_id = store_result(store, result)
    assert store.differences(crawl_id) == [{"tool": "b", "what": "static_only", "static": None, "live": None}]
