"""`catalog classify` on JSONL of distinct tools against a naive verb-list script on the same file, in one run.

    python benchmarks/bench_classify.py                      # 100,000 tools: time ratio, one tool, RSS 10k vs 300k
    python benchmarks/bench_classify.py --count 20000 --no-memory
    git worktree add /tmp/before <commit>                    # then, before and after in the same run:
    python benchmarks/bench_classify.py --count 20000 --no-memory --compare-with /tmp/before

Every tool is a real labelled row (data/) with its name and description made unique (a running number), so
no cache can help. Each command runs as its own process; CPU is user + system of the process and its workers
(wait4), peak RSS the largest of them. Ratios are what to compare across machines. --compare-with runs the
same `catalog classify` from another checkout (its code, this venv) interleaved with this one.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REAL_ROWS = [REPO / "data" / "seed.jsonl", *sorted((REPO / "data" / "labelled").glob("*.jsonl"))]
PREFIXES = ("", "", "", "jira_", "git_", "acme_", "k8s_", "my")
SUFFIXES = ("", "", "", "_v2", "_item", "_by_id", "s", "_all")
TAILS = ("", "", " Returns JSON.", " Requires an API key.", " Use with care.")
TOOLS_PER_SERVER = 25

# The reference: what a plain verb list does with the same JSONL (parse, split the name, look the verb up, write).
NAIVE_SCRIPT = r"""
import json, re, sys
VERBS = {"read": {"get", "list", "search", "find", "read", "show", "view", "describe", "fetch", "query", "count"},
         "write": {"create", "add", "update", "set", "put", "post", "send", "edit", "write", "upload", "move"},
         "destructive": {"delete", "remove", "drop", "destroy", "purge", "kill", "terminate", "wipe", "reset"}}
LOOKUP = {verb: category for category, verbs in VERBS.items() for verb in verbs}
SPLIT = re.compile(r"[^a-z0-9]+")
out = sys.stdout
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.strip():
        continue
    row = json.loads(line)
    words = SPLIT.split(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", row["name"]).lower())
    category = next((LOOKUP[w] for w in words if w in LOOKUP), "write")
    row.update(category=category, risk="medium", confidence=0.5, reasons=["verb list"])
    out.write(json.dumps(row, ensure_ascii=False) + "\n")
"""


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


def mutated(row: dict, rng: random.Random, server: str, index: int) -> dict:
    """A new tool: the real row with a prefix/suffix and a running number on the name, an edited description."""
    name = f"{rng.choice(PREFIXES)}{row['name']}{rng.choice(SUFFIXES)}_{index}"
    description = str(row.get("description") or "")
    if description and rng.random() < 0.3:
        description = description[: rng.randint(10, len(description))]
    description = f"{description}{rng.choice(TAILS)} (variant {index})"
    return {**row, "server": server, "name": name, "description": description}


def write_tools(path: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    rows = real_rows()
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            server = f"bench:server{index // TOOLS_PER_SERVER}"
            handle.write(json.dumps(mutated(rng.choice(rows), rng, server, index)) + "\n")


def run(command: list[str], stdout_path: Path, cwd: Path = REPO) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + system, workers included) and peak RSS (MiB) of one command."""
    with stdout_path.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if status != 0:
        raise SystemExit(f"{command[:3]} failed: {stderr.strip()}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


def catalog_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "catalog.cli", "classify", "--input", str(path)]


def run_catalog(path: Path, stdout_path: Path, checkout: Path = REPO) -> dict[str, float]:
    """`catalog classify` with the code of `checkout` (python -m puts its directory first on sys.path)."""
    return run(catalog_command(path), stdout_path, cwd=checkout)


def labels_differ(first: Path, second: Path) -> int:
    """Rows whose label keys differ between two outputs of `catalog classify` (the version string aside)."""
    keys = ("category", "risk", "confidence", "reasons", "p_destructive", "possibly_destructive")
    with first.open("rb") as a, second.open("rb") as b:
        return sum(
            [json.loads(x).get(k) for k in keys] != [json.loads(y).get(k) for k in keys]
            for x, y in zip(a, b, strict=True)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command (the median is kept)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10k vs 300k peak RSS comparison")
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="another checkout (e.g. a git worktree of an older commit) run the same way, interleaved",
    )
    args = parser.parse_args()
    other = args.compare_with.resolve() if args.compare_with else None
    if other is not None and not (other / "catalog" / "cli.py").exists():
        raise SystemExit(f"{other} is not a checkout of this project")
    with tempfile.TemporaryDirectory(prefix="bench-classify-") as scratch:
        root = Path(scratch)
        tools, naive = root / "tools.jsonl", root / "naive.py"
        naive.write_text(NAIVE_SCRIPT)
        write_tools(tools, args.count)
        results: dict[str, list[dict[str, float]]] = {"naive": [], "catalog": []}
        if other is not None:
            results["other"] = []
        for _ in range(args.repeat):  # interleaved, so all see the same machine
            results["naive"].append(run([sys.executable, str(naive), str(tools)], root / "naive.out"))
            results["catalog"].append(run_catalog(tools, root / "catalog.out"))
            if other is not None:
                results["other"].append(run_catalog(tools, root / "other.out", other))
        lines = sum(1 for _ in (root / "catalog.out").open("rb"))
        if lines != args.count:
            raise SystemExit(f"catalog classify wrote {lines} lines for {args.count} tools")
        if other is not None:
            changed = labels_differ(root / "catalog.out", root / "other.out")
            print(f"labels differing from {other}: {changed} of {args.count}")
        median = {
            name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            for name, runs in results.items()
        }
        print(f"{args.count:,} distinct tools, JSONL in, JSONL out (median of {args.repeat})")
        for name, m in median.items():
            print(
                f"  {name:<8} wall {m['wall']:7.2f} s  cpu {m['cpu']:7.2f} s  "
                f"{args.count / m['wall']:>9,.0f} tools/s  peak RSS {m['rss_mib']:6.0f} MiB"
            )
        n = median["naive"]
        for name in ("catalog", "other") if other is not None else ("catalog",):
            c = median[name]
            print(
                f"  ratio {name} / naive: wall {c['wall'] / n['wall']:.2f}x  cpu {c['cpu'] / n['cpu']:.2f}x"
            )

        one = root / "one.jsonl"
        one.write_text(
            json.dumps({"server": "s", "name": "delete_run", "description": "Delete a run."}) + "\n"
        )
        for name, checkout in (("catalog", REPO), ("other", other)):
            if checkout is None:
                continue
            single = [run_catalog(one, root / "one.out", checkout) for _ in range(5)]
            print(
                f"  one tool, {name}: catalog classify {statistics.median(r['cpu'] for r in single):.2f} s cpu, "
                f"{statistics.median(r['wall'] for r in single):.2f} s wall (medians of 5)"
            )

        if not args.no_memory:
            peaks = {}
            for count in (10_000, 300_000):
                path = root / f"tools-{count}.jsonl"
                write_tools(path, count, seed=1)
                peaks[count] = run_catalog(path, root / "memory.out")["rss_mib"]
                path.unlink()
            print(
                f"  peak RSS: 10,000 tools {peaks[10_000]:.0f} MiB, 300,000 tools {peaks[300_000]:.0f} MiB "
                f"({peaks[300_000] / peaks[10_000]:.2f}x)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
