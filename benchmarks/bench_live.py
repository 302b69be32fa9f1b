"""Live-crawl overhead: catalog.live.list_stdio against a bare mcp SDK client, on a 1,000-tool stdio server.

Usage: python benchmarks/bench_live.py [--tools 1000] [--repeat 7]
Prints the median wall time of each client and the ratios (target: live without sandbox <= 1.2x bare).

    python benchmarks/bench_live.py --package pypi:mlflow-mcp==0.4.1 --env MLFLOW_TRACKING_URI=file:///tmp/x
The default route on an installed package (issue 10): `catalog crawl SOURCE` (static + live, reconciled)
against `catalog crawl --static SOURCE` and a bare SDK client listing the same installed server, all as
fresh processes, interleaved, in the bwrap sandbox (catalog's own wrapper) and without it. Target: default
minus static <= the server's own start-up (spawn to initialize result, seen by the bare client) + 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
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
            return len(await all_tools(session))


async def all_tools(session) -> list:
    """Every page of the session's tools/list, as a bare SDK client pages it."""
    tools, cursor = [], None
    while True:
        page = await session.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


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


async def bare_package_client(command: list[str], env: dict[str, str], sandboxed: bool) -> dict[str, float]:
    """A bare SDK client on an installed server; the sandbox (if any) is the same bwrap wrapper catalog uses."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from catalog import sandbox

    with sandbox.sandboxed(command, env, enabled=sandboxed) as box:
        params = StdioServerParameters(command=box.command[0], args=box.command[1:], env={**os.environ, **env})
        started = time.perf_counter()
        with open("/dev/null", "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                up = time.perf_counter() - started
                tools = await all_tools(session)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return {"startup": up, "tools": len(tools), "client_cpu": own.ru_utime + own.ru_stime}


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU seconds of the child and its waited-for descendants, wall seconds, stdout) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall, done.stdout


def package_main(source: str, env_pairs: list[str], repeat: int) -> None:
    """Default route vs --static vs a bare SDK client, on a package whose environment is installed once."""
    from bench_crawl import compile_sources

    compile_sources()
    cache = os.environ.get("CATALOG_CACHE") or tempfile.mkdtemp(prefix="bench-live-cache-")
    env = {**os.environ, "CATALOG_CACHE": cache, "CATALOG_DB": tempfile.mktemp(prefix="bench-live-", suffix=".db")}
    server_env = dict(pair.split("=", 1) for pair in env_pairs)
    catalog = [str(Path(sys.executable).parent / "catalog"), "crawl", *(f"--env={p}" for p in env_pairs)]
    run_measured([*catalog, source], env)  # downloads and installs the environment once
    installed = sorted(Path(cache, "envs").rglob("bin/*"))
    server = [str(p) for p in installed if p.name == source.split(":")[-1].split("==")[0]]
    if not server:
        raise SystemExit(f"no installed server command under {cache}/envs")
    bare = [sys.executable, __file__, "--bare-client", json.dumps([server[0], server_env])]
    runs = {
        "catalog crawl --static": [*catalog, "--static", source],
        "catalog crawl (default, bwrap)": [*catalog, source],
        "bare SDK client (bwrap)": [*bare, "--sandboxed"],
        "catalog crawl --no-sandbox": [*catalog, "--no-sandbox", source],
        "bare SDK client (no sandbox)": bare,
    }
    for command in runs.values():
        run_measured(command, env)
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    startup: dict[str, list[float]] = {"bwrap": [], "no sandbox": []}
    server_cpu: dict[str, list[float]] = {"bwrap": [], "no sandbox": []}
    for _ in range(repeat):  # interleaved, so that machine load hits every command alike
        for name, command in runs.items():
            spent, took, out = run_measured(command, env)
            cpu[name].append(spent)
            wall[name].append(took)
            if name.startswith("bare"):
                seen = json.loads(out)
                startup["bwrap" if "bwrap" in name else "no sandbox"].append(seen["startup"])
                # the server's CPU: what the client process tree spent minus the client's own
                server_cpu["bwrap" if "bwrap" in name else "no sandbox"].append(spent - seen["client_cpu"])
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    med_wall = {name: statistics.median(v) for name, v in wall.items()}
    print(f"{source}, environment installed; medians of {repeat} interleaved runs, each a fresh process")
    print(f"  {'command':<32} {'CPU s':>7} {'wall s':>7}")
    for name in runs:
        print(f"  {name:<32} {med_cpu[name]:7.3f} {med_wall[name]:7.3f}")
    for mode, default, client in (
        ("bwrap", "catalog crawl (default, bwrap)", "bare SDK client (bwrap)"),
        ("no sandbox", "catalog crawl --no-sandbox", "bare SDK client (no sandbox)"),
    ):
        up = statistics.median(startup[mode])
        extra_wall = med_wall[default] - med_wall["catalog crawl --static"]
        # Paired within each round (same moment, same load): what the default route adds beyond the
        # static crawl and the server's own start-up; steadier than medians when start-up varies a lot.
        paired = statistics.median(
            d - s - u for d, s, u in zip(wall[default], wall["catalog crawl --static"], startup[mode], strict=True)
        )
        extra_cpu = med_cpu[default] - med_cpu["catalog crawl --static"]
        server = statistics.median(server_cpu[mode])
        wall_verdict = "meets" if extra_wall <= up + 0.5 else "misses"
        cpu_verdict = "meets" if extra_cpu <= server + 0.5 else "misses"
        print(f"{mode}: default - static = {extra_wall:.2f} s wall (server start-up {up:.2f} s + 0.5: "
              f"{wall_verdict}), {extra_cpu:.2f} s CPU (server CPU {server:.2f} s + 0.5: {cpu_verdict}"
              f"{'; a killed bwrap sandbox hides its CPU' if mode == 'bwrap' else ''}); per round, default - static"
              f" - start-up: {paired:+.2f} s wall (target <= +0.5); default / bare client: "
              f"{med_wall[default] / med_wall[client]:.2f}x wall, {med_cpu[default] / med_cpu[client]:.2f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--package", help="a package source whose default route to measure (see above)")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    parser.add_argument("--bare-client", help=argparse.SUPPRESS)
    parser.add_argument("--sandboxed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_client:
        command, server_env = json.loads(args.bare_client)
        print(json.dumps(anyio.run(bare_package_client, [command], server_env, args.sandboxed)))
        return
    if args.package:
        package_main(args.package, args.env, args.repeat)
        return
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
