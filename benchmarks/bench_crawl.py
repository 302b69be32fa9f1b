"""Static crawl time of a cached package (the real mlflow-mcp wheel), first download vs cache hits.

Run: .venv/bin/python benchmarks/bench_crawl.py [--repeat 10]
The first crawl downloads the wheel with pip (needs the package registry); the rest hit the cache.
For live-crawl overhead against a bare SDK client see benchmarks/bench_live.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.crawl import CrawlOptions, crawl_source  # noqa: E402
from catalog.store import Store  # noqa: E402


def timed_crawl(source: str, options: CrawlOptions, store: Store) -> tuple[float, int]:
    start = time.perf_counter()
    [outcome] = crawl_source(source, options, store)
    return time.perf_counter() - start, len(outcome.result.tools)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="pypi:mlflow-mcp==0.4.1")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        options = CrawlOptions(cache_dir=Path(tmp) / "cache")
        store = Store(Path(tmp) / "catalog.db")
        first, tools = timed_crawl(args.source, options, store)
        cached = [timed_crawl(args.source, options, store)[0] for _ in range(args.repeat)]
        median = statistics.median(cached)
        print(f"{args.source}: {tools} tools")
        print(f"first crawl (download + extract + classify + store): {first:.2f} s")
        print(f"cached static crawl, median of {args.repeat}: {median * 1000:.0f} ms "
              f"({first / median:.1f}x faster than the first)")


if __name__ == "__main__":
    main()
