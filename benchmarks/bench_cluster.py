"""Sources per second of a static bulk crawl on Dask (LocalCluster of 1, 2 and 4 worker processes), with
the thread-pool path as the reference in the same run.

Run: .venv/bin/python benchmarks/bench_cluster.py [--sources 60] [--tools 40]
Each source is a local folder with a generated Python MCP server (static reading: the extractor's CPU
work); everything runs on loopback in a temp directory. Cluster start-up is reported apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.bulk import items_from_file, run_bulk  # noqa: E402
from catalog.cluster import open_cluster  # noqa: E402
from catalog.crawl import CrawlOptions, Route  # noqa: E402
from catalog.store import Store  # noqa: E402

VERBS = ["get", "list", "create", "update", "delete", "send", "search", "archive"]


def write_sources(root: Path, sources: int, tools: int) -> Path:
    lines = []
    for i in range(sources):
        folder = root / f"server{i:03d}"
        folder.mkdir()
        body = ["from mcp.server.fastmcp import FastMCP", "", f'mcp = FastMCP("bench{i}")', ""]
        for t in range(tools):
            verb = VERBS[t % len(VERBS)]
            body += [
                "@mcp.tool()",
                f"def {verb}_item_{t}(item_id: str, limit: int = 10, note: str = '') -> str:",
                f'    """{verb.title()} item {t} of server {i}: the record with this id."""',
                "    return item_id",
                "",
            ]
        (folder / "server.py").write_text("\n".join(body), "utf-8")
        lines.append(str(folder))
    listing = root / "sources.txt"
    listing.write_text("\n".join(lines) + "\n", "utf-8")
    return listing


def crawl(listing: Path, root: Path, label: str, jobs: int, executor=None) -> float:
    options = CrawlOptions(route=Route.STATIC, cache_dir=root / f"cache-{label}", classify=False)
    store = Store(root / f"{label}.db")
    clock = time.perf_counter()
    summary = run_bulk(items_from_file(listing, options), options, store, jobs=jobs, executor=executor)
    seconds = time.perf_counter() - clock
    assert len(summary.done) == len(summary.outcomes), [r.error for r in summary.failed][:3]
    return len(summary.outcomes) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=60)
    parser.add_argument("--tools", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        root = Path(tmp)
        listing = write_sources(root, args.sources, args.tools)
        reference = crawl(listing, root, "threads", jobs=4)
        print(f"{args.sources} sources x {args.tools} tools, static")
        print(f"thread pool (4 threads): {reference:7.2f} sources/s  (1.00x)")
        for workers in (1, 2, 4):
            clock = time.perf_counter()
            with open_cluster("local", local_workers=workers) as executor:
                executor.client.wait_for_workers(workers, timeout=300)
                started = time.perf_counter() - clock
                rate = crawl(listing, root, f"dask{workers}", jobs=executor.jobs, executor=executor)
            print(
                f"dask, {workers} worker(s):      {rate:7.2f} sources/s  ({rate / reference:.2f}x)"
                f"  start-up {started:.1f}s"
            )


if __name__ == "__main__":
    main()
