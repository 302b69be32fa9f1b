"""Crawl truth on real servers: the default `catalog crawl SPEC` against the tool names each server's own
live listing gave (the hand-labelled rows of data/labelled/, listed live by the labellers, and a mini-survey
of servers nobody here had used).

    python benchmarks/survey_crawl.py [CATALOG_BINARY] [--out results.json] [--only NAME ...]
                                      [--servers FILE] [--work DIR]

--only keeps the servers whose name contains one of the given strings; --servers reads another list; --work
keeps the cache and database in DIR (installed environments are reused by the next run) instead of a fresh
temporary folder.

benchmarks/survey_servers.json holds 64 servers (32 PyPI, 32 npm) with version and live names (each entry's
note says which dummy values, if any, the listing needed); four whose listing depended on settings the
labellers chose (a tools switch, a config file) are skipped. The last 20 (the mini-survey of 2026-12) were
picked from the registries' lists as servers nobody here had used. Verdicts: exact (exit 0, same names),
WRONG (exit 0 with other names: the one outcome that must never happen), names exact but status incomplete,
incomplete (flagged, other names), failed. Downloads from the package registries; each crawl runs the
server in the sandbox without network.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
SKIP = {"npm:bitbucket-mcp", "npm:@paddle/paddle-mcp", "npm:cclsp", "npm:exa-mcp-server"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("catalog", nargs="?", default="catalog")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--work", type=Path)
    parser.add_argument("--servers", type=Path, default=HERE / "survey_servers.json")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="survey-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CATALOG_CACHE": str(work / "cache"), "CATALOG_DB": str(work / "catalog.db")}
    results = []
    for server in json.loads(args.servers.read_text()):
        if server["server"] in SKIP or (args.only and not any(part in server["server"] for part in args.only)):
            continue
        registry, name = server["server"].split(":", 1)
        spec = f"pypi:{name}=={server['version']}" if registry == "pypi" else f"npm:{name}@{server['version']}"
        started = time.monotonic()
        done = subprocess.run([args.catalog, "crawl", spec, "--json"], capture_output=True, text=True, env=env)
        try:
            [result] = json.loads(done.stdout)
        except (ValueError, TypeError):
            result = {}
        names: set[str] = set()
        if result.get("server") and result.get("status") != "failed":
            with sqlite3.connect(work / "catalog.db") as db:
                rows = db.execute(
                    "SELECT name FROM tools WHERE server_id = ? AND removed_at IS NULL", [result["server"]]
                )
                names = {row[0] for row in rows}
        truth = set(server["names"])
        if done.returncode == 0:
            verdict = "exact" if names == truth else "WRONG"
        else:
            verdict = "names exact, incomplete" if names == truth else "incomplete" if names else "failed"
        row = {"server": server["server"], "version": server["version"], "verdict": verdict,
               "status": result.get("status"), "live": len(truth), "got": len(names),
               "seconds": round(time.monotonic() - started, 1), "error": result.get("error")}  # fmt: skip
        results.append(row)
        print(json.dumps(row), flush=True)
    print(dict(Counter(r["verdict"] for r in results)))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
