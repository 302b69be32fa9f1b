"""Classify 100,000 tools from JSONL (sampled and mutated from real rows); print tools per second and peak memory."""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REAL_ROWS = [REPO / "data" / "seed.jsonl", *sorted((REPO / "data" / "labelled").glob("*.jsonl"))]
PREFIXES = ("", "", "", "jira_", "git_", "acme_", "k8s_", "my")
SUFFIXES = ("", "", "", "_v2", "_item", "_by_id", "s", "_all")
TAILS = ("", "", " Returns JSON.", " Requires an API key.", " Use with care.")


def real_rows() -> list[dict]:
    rows = []
    for path in REAL_ROWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append(
                    {k: row.get(k) for k in ("name", "description", "params", "input_schema", "annotations")}
                )
    return rows


def mutated(row: dict, rng: random.Random, server: str) -> dict:
    """A plausible new tool: the real row with a prefix/suffix on the name and an edited description."""
    name = rng.choice(PREFIXES) + str(row["name"]) + rng.choice(SUFFIXES)
    description = str(row.get("description") or "")
    if description and rng.random() < 0.3:
        description = description[: rng.randint(10, len(description))]
    return {**row, "server": server, "name": name, "description": description + rng.choice(TAILS)}


def write_tools(path: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    rows = real_rows()
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            handle.write(json.dumps(mutated(rng.choice(rows), rng, f"bench:server{index // 25}")) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--input", type=Path, help="an existing JSONL of tools (default: generate one)")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (slows the run several-fold)",
    )
    args = parser.parse_args()
    import classifier

    with tempfile.TemporaryDirectory() as scratch:
        path = args.input or Path(scratch) / "tools.jsonl"
        if args.input is None:
            write_tools(path, args.count)
        classifier.classify([{"server": "warm", "name": "get_x", "description": ""}])  # load the model once
        if args.tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        tools = [json.loads(line) for line in path.open(encoding="utf-8")]
        parsed = time.perf_counter()
        parsed_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        labels = classifier.classify(tools)
        done = time.perf_counter()
        elapsed, classify_seconds = done - started, done - parsed
        peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
        tracemalloc.stop()
    counts = {c: sum(label["category"] == c for label in labels) for c in ("read", "write", "destructive")}
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tools: {len(labels)}  version: {labels[0]['version']}")
    print(f"classify: {classify_seconds:.2f} s  {len(labels) / classify_seconds:,.0f} tools/s")
    print(f"parse JSONL + classify: {elapsed:.2f} s  {len(labels) / elapsed:,.0f} tools/s")
    traced = f"  peak traced (tracemalloc): {peak / 2**20:.0f} MB" if args.tracemalloc else ""
    print(f"peak RSS (getrusage, whole process incl. the parsed input): {max_rss_mb:.0f} MB{traced}")
    print(f"peak RSS once the input was parsed, before classifying: {parsed_rss_mb:.0f} MB")
    print(f"categories: {counts}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
