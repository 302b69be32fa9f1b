"""Catalogue-scale figures: bulk static crawls, a 1,000-entry registry, DB size, and 200,000 tools.

Run: .venv/bin/python benchmarks/bench_bulk.py [--packages 1000] [--tools 200000] [--storage-only]
Everything runs on loopback and in a temp directory; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.bulk import items_from_file, items_from_registry, run_bulk  # noqa: E402
from catalog.crawl import CrawlOptions, classify_rows  # noqa: E402
from catalog.models import CrawlResult, ServerRef, Tool  # noqa: E402
from catalog.store import PendingCrawl, Store  # noqa: E402
from tests.factories import cached_wheel, registry_entry  # noqa: E402
from tests.test_bulk import Registry  # noqa: E402

VERBS = ["get", "list", "search", "describe", "create", "update", "set", "add", "send", "delete", "remove",
         "drop", "run", "execute", "start", "stop", "fetch", "query", "upload", "archive"]
NOUNS = ["run", "model", "issue", "user", "table", "file", "message", "alias", "bucket", "pod", "invoice",
         "page", "record", "job", "secret", "branch", "comment", "dataset", "alert", "token"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_packages(cache: Path, count: int) -> list[str]:
    rng = random.Random(7)
    specs = []
    for index in range(count):
        tools = [(f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}_{n}", f"Tool {n} of package {index}.") for n in range(5)]
        cached_wheel(cache, f"bench-pkg-{index:04d}", "1.0.0", tools)
        specs.append(f"pypi:bench-pkg-{index:04d}==1.0.0")
    return specs


def bench_list_file(work: Path, specs: list[str], jobs: int) -> None:
    options = CrawlOptions(cache_dir=work / "cache")
    listing = work / "sources.txt"
    listing.write_text("\n".join(specs) + "\n")
    store = Store(work / "list.db")
    start = time.perf_counter()
    summary = run_bulk(items_from_file(listing, options), options, store, jobs=jobs)
    seconds = time.perf_counter() - start
    tools = store.db["tools"].count
    size_kb = (work / "list.db").stat().st_size / 1024
    print(f"static crawl of {len(specs)} cached packages (jobs={jobs}): {seconds:.1f} s, "
          f"{len(specs) / seconds:.0f} sources/s, {len(summary.failed)} failed, {tools} tools, "
          f"peak RSS {peak_rss_mb():.0f} MB")
    print(f"database size: {size_kb / tools * 1000 / 1024:.2f} MB per 1,000 tools (with history and FTS)")


def bench_registry(work: Path, count: int, jobs: int) -> None:
    options = CrawlOptions(cache_dir=work / "cache")
    Registry.entries = [registry_entry(f"bench-pkg-{i:04d}", "1.0.0") for i in range(count)]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    store = Store(work / "registry.db")
    start = time.perf_counter()
    summary = run_bulk(items_from_registry(url, options), options, store, jobs=jobs)
    seconds = time.perf_counter() - start
    server.shutdown()
    print(f"stand-in registry of {count} entries (2 per page, jobs={jobs}): {seconds:.1f} s, "
          f"{count / seconds:.0f} sources/s, {len(summary.done)} stored, peak RSS {peak_rss_mb():.0f} MB")


def synthetic_tools(count: int, per_server: int = 50) -> list[tuple[str, Tool]]:
    rng = random.Random(11)
    rows = []
    for index in range(count):
        verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
        name = f"{verb}_{noun}_{index % per_server}"
        schema = {"type": "object", "properties": {f"{noun}_id": {"type": "string"}}}
        rows.append((f"bench:server-{index // per_server:05d}",
                     Tool(name, f"{verb.capitalize()} a {noun} in the system. Returns the {noun}.", schema)))
    return rows


def baseline_store_class() -> type | None:
    """The store as it was before bulk storage (commit 5d2afa3), loaded from git: today's path, to measure
    against in the same run. None when git or the commit is not available."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(["git", "-C", str(root), "show", f"{BASELINE_COMMIT}:catalog/store.py"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None
    path = Path(tempfile.mkdtemp(prefix="bench-store-")) / "baseline_store.py"
    path.write_text(done.stdout)
    spec = importlib.util.spec_from_file_location("baseline_store", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Store


BASELINE_COMMIT = "5d2afa3"
STORED_TABLES = ("servers", "crawls", "tools", "tool_versions", "classifications")


def cpu() -> float:
    return time.process_time()


def bench_storage(work: Path, count: int) -> Path:
    """Store `count` tools from count/50 servers: today's path (one save_crawl per server, per-row sqlite-utils
    inserts, FTS triggers), the new save_crawl per server, and Store.save_crawls in a bulk_load block."""
    from catalog.models import Classification
    from catalog.store import PendingCrawl

    rows = synthetic_tools(count)
    labels_for = {"get": "read", "list": "read", "search": "read", "describe": "read", "fetch": "read",
                  "query": "read", "delete": "destructive", "remove": "destructive", "drop": "destructive"}
    by_server: dict[str, list[Tool]] = {}
    for server_id, tool in rows:
        by_server.setdefault(server_id, []).append(tool)
    crawls = []
    for server_id, tools in by_server.items():
        labels = {}
        for tool in tools:
            category = labels_for.get(tool.name.split("_")[0], "write")
            risk = {"read": "low", "write": "medium", "destructive": "high"}[category]
            labels[tool.name] = Classification(category, risk, 0.9, ["verb in the name"], "bench")
        result = CrawlResult(ServerRef(server_id, server_id, "bench"), "static", "bench", tools)
        crawls.append(PendingCrawl(result, labels))
    servers = len(crawls)
    figures = {}
    baseline = baseline_store_class()
    one_by_one = [("today (5d2afa3, save_crawl per server)", baseline, "store-baseline.db")] if baseline else []
    one_by_one.append(("save_crawl per server", Store, "store-each.db"))
    for label, store_class, name in one_by_one:
        store = store_class(work / name)
        start = cpu()
        for pending in crawls:
            store.save_crawl(pending.result, pending.classifications)
        figures[label] = cpu() - start
        store.close()
    bulk_path = work / "store-bulk.db"
    store = Store(bulk_path)
    start = cpu()
    with store.bulk_load():
        store.save_crawls(crawls)
    figures["save_crawls in bulk_load (FTS rebuilt once)"] = cpu() - start
    counts = {t: store.db[t].count for t in STORED_TABLES}
    store.close()
    print(f"store {count:,} tools from {servers:,} servers (CPU seconds, one run): {counts}")
    reference = next(iter(figures.values()))
    for label, seconds in figures.items():
        print(f"  {label}: {seconds:.1f} s CPU, {count / seconds:,.0f} tools/s, "
              f"{reference / seconds:.1f}x the first line")
    if baseline is not None:
        old = Store(work / "store-baseline.db")
        assert {t: old.db[t].count for t in STORED_TABLES} == counts, "bulk and today's path differ"
    return bulk_path


def bench_large_catalog(work: Path, count: int) -> None:
    db_path = work / "large.db"
    store = Store(db_path)
    rows = synthetic_tools(count)
    start = time.perf_counter()
    labelled = classify_rows(rows)
    classify_seconds = time.perf_counter() - start
    by_server: dict[str, list] = {}
    for server_id, tool, label in labelled:
        by_server.setdefault(server_id, []).append((tool, label))
    start = time.perf_counter()
    with store.bulk_load():
        store.save_crawls(
            PendingCrawl(CrawlResult(ServerRef(s, s, "bench"), "static", "bench", [t for t, _ in items]),
                         {t.name: label for t, label in items})
            for s, items in by_server.items()
        )
    store_seconds = time.perf_counter() - start
    print(f"{count} tools: classified in {classify_seconds:.1f} s ({count / classify_seconds:,.0f} tools/s), "
          f"stored in {store_seconds:.1f} s ({len(by_server)} servers), "
          f"database {db_path.stat().st_size / 2**20:.0f} MB, peak RSS {peak_rss_mb():.0f} MB")
    catalog = [sys.executable, "-m", "catalog.cli"]
    for label, args in (("catalog report (whole catalog, json)", ["report", "--format", "json"]),
                        ("catalog report (one server)", ["report", "bench:server-00042"]),
                        ("catalog search 'delete model'", ["search", "delete model", "--json"]),
                        ("catalog search --category destructive", ["search", "bucket", "--category", "destructive"])):
        start = time.perf_counter()
        done = subprocess.run([*catalog, *args, "--db", str(db_path)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr.strip()[:120]}"
        print(f"  {label}: {seconds:.2f} s ({status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=1000)
    parser.add_argument("--tools", type=int, default=200_000)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--storage-only", action="store_true", help="Only the storage comparison.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as tmp:
        work = Path(tmp)
        bench_storage(work, args.tools)
        if args.storage_only:
            return
        start = time.perf_counter()
        specs = make_packages(work / "cache", args.packages)
        print(f"built {args.packages} cached wheels in {time.perf_counter() - start:.1f} s")
        bench_list_file(work, specs, args.jobs)
        bench_registry(work, args.packages, args.jobs)
        bench_large_catalog(work, args.tools)


if __name__ == "__main__":
    main()
