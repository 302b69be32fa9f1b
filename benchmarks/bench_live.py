"""Live-crawl overhead: catalog.live.list_stdio against a bare mcp SDK client, on a 1,000-tool stdio server.

Usage: python benchmarks/bench_live.py [--tools 1000] [--repeat 7]
Prints the median wall time of each client and the ratios (target: live without sandbox <= 1.2x bare).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog import live  # noqa: E402

SERVER = ROOT / "tests" / "fixtures" / "servers" / "many_tools.py"


async def bare_listing(count: int) -> int:
    """What a minimal client does: spawn, initialize, page through tools/list with the SDK's own models."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=sys.executable, args=[str(SERVER), str(count)])
    with open("/dev/null", "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools, cursor = [], None
            while True:
                page = await session.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.nextCursor
                if not cursor:
                    return len(tools)


def catalog_listing(count: int, sandboxed: bool) -> int:
    launch = live.Launch(command=[sys.executable, str(SERVER), str(count)], env={}, sandbox=sandboxed)
    return len(live.list_stdio(launch, timeout=120).tools)


def timed(run, repeat: int, expected: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        listed = run()
        times.append(time.perf_counter() - started)
        assert listed == expected, f"listed {listed} tools, expected {expected}"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    count, repeat = args.tools, args.repeat
    runs = {
        "bare mcp SDK client": lambda: anyio.run(bare_listing, count),
        "catalog live, no sandbox": lambda: catalog_listing(count, sandboxed=False),
        "catalog live, bwrap sandbox": lambda: catalog_listing(count, sandboxed=True),
    }
    for run in runs.values():  # warm the page cache and imports once each
        run()
    # Interleave the clients so that machine load affects them alike.
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            samples[name] += timed(run, 1, count)
    medians = {name: statistics.median(times) for name, times in samples.items()}
    bare = medians["bare mcp SDK client"]
    print(f"{count} tools over stdio, median of {repeat} runs each")
    for name, median in medians.items():
        spread = f"min {min(samples[name]):.3f}s max {max(samples[name]):.3f}s"
        print(f"  {name:<30} {median:.3f}s  ({spread})  ratio {median / bare:.2f}x")


if __name__ == "__main__":
    main()
