"""Cached re-crawl of mlflow-mcp (issue 12): `catalog crawl --static` as a subprocess against the bare cost
of unpacking its wheel and parsing its files, measured in the same run; plus startup and `classify` of one tool.

Run: .venv/bin/python benchmarks/bench_crawl.py [--repeat 7]
The first crawl downloads the wheel with pip (needs the package registry); every measured run hits the
cache. CPU seconds are user+system of the child processes (resource.getrusage), medians of interleaved
runs; wall times are printed too but depend on machine load. Targets: crawl <= 6x the bare unpack+parse
(both as fresh processes), `catalog classify` of one tool < 0.5 s, no scikit-learn/scipy/skops imported.
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

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CATALOG = str(BIN / "catalog")
HEAVY = ("sklearn", "scipy", "skops")

# The reference: what any tool must do at least, without catalog code: unzip the wheel, parse each .py file.
BARE = """
import ast, sys, tempfile, zipfile
from pathlib import Path
with tempfile.TemporaryDirectory() as tmp:
    zipfile.ZipFile(sys.argv[1]).extractall(tmp)
    files = sorted(Path(tmp).rglob("*.py"))
    for path in files:
        ast.parse(path.read_bytes(), str(path))
print(len(files))
"""

# The catalog's own extractor alone (its unpacking and static extraction), in a fresh process.
EXTRACTOR = """
import sys, tempfile
from pathlib import Path
from catalog.archive import extract_zip
from catalog.extract import extract_tree
with tempfile.TemporaryDirectory() as tmp:
    extract_zip(Path(sys.argv[1]), Path(tmp))
    print(len(extract_tree(Path(tmp)).tools))
"""

# Which heavy modules a crawl imports: run the CLI in-process and look at sys.modules afterwards.
IMPORTS = """
import sys
from catalog.cli import main
heavy_names = sys.argv.pop(1).split(",")
sys.argv = ["catalog", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(heavy_names))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""


def measure(command: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float, str]:
    """(CPU seconds of the child and its waited-for descendants, wall seconds, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.stdout


def compile_sources() -> None:
    """Bytecode for catalog and classifier, as an installed wheel has: an editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module from source in every process."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "catalog"), str(ROOT / "classifier")],
                   check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="pypi:mlflow-mcp==0.4.1")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        env = {**os.environ, "CATALOG_CACHE": f"{tmp}/cache", "CATALOG_DB": f"{tmp}/catalog.db"}
        crawl = [CATALOG, "crawl", "--static", args.source]
        measure(crawl, env)  # downloads into the fresh cache
        [wheel] = list(Path(tmp, "cache").rglob("*.whl"))
        tool = json.dumps({"name": "delete_experiment", "description": "Delete an MLflow experiment by id."})
        runs: dict[str, tuple[list[str], str | None]] = {
            "catalog crawl --static (cached)": (crawl, None),
            "bare unzip + ast.parse": ([sys.executable, "-c", BARE, str(wheel)], None),
            "catalog extractor alone": ([sys.executable, "-c", EXTRACTOR, str(wheel)], None),
            "catalog classify, one tool": ([CATALOG, "classify", "-i", "-"], tool + "\n"),
            "python -c 'import catalog.cli'": ([sys.executable, "-c", "import catalog.cli"], None),
            "catalog --help": ([CATALOG, "--help"], None),
            "python -c pass (interpreter)": ([sys.executable, "-c", "pass"], None),
        }
        for command, stdin in runs.values():  # warm the page cache once each
            measure(command, env, stdin)
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        wall: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):  # interleaved, so that machine load hits every command alike
            for name, (command, stdin) in runs.items():
                spent, took, _ = measure(command, env, stdin)
                cpu[name].append(spent)
                wall[name].append(took)
        imports = subprocess.run(
            [sys.executable, "-c", IMPORTS, ",".join(HEAVY), *crawl[1:]], env=env, capture_output=True, text=True, check=False
        )
        heavy = [line for line in imports.stderr.splitlines() if line.startswith("HEAVY=")]
    cpu_med = {name: statistics.median(v) for name, v in cpu.items()}
    wall_med = {name: statistics.median(v) for name, v in wall.items()}
    bare = cpu_med["bare unzip + ast.parse"]
    print(f"{args.source}, cache warm; medians of {args.repeat} interleaved runs, each a fresh process")
    print(f"  {'command':<34} {'CPU s':>7} {'wall s':>7}  CPU vs bare")
    for name in runs:
        print(f"  {name:<34} {cpu_med[name]:7.3f} {wall_med[name]:7.3f}  {cpu_med[name] / bare:5.1f}x")
    ratio = cpu_med["catalog crawl --static (cached)"] / bare
    print(f"crawl / bare unpack+parse (CPU): {ratio:.1f}x (target <= 6x)")
    classify = cpu_med["catalog classify, one tool"]
    print(f"classify one tool: {classify:.3f} s CPU, {wall_med['catalog classify, one tool']:.3f} s wall "
          "(target < 0.5 s)")
    print(f"heavy modules imported by `catalog crawl --static`: {heavy[0][6:] or 'none' if heavy else '?'}")


if __name__ == "__main__":
    main()
