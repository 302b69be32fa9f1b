"""Scale-out on Dask: a real scheduler and two real worker processes on loopback crawl 50 fixture sources;
one worker is killed mid-run. Every source is stored exactly once, failures are recorded, and the catalog
equals the one a single-machine run builds. No timing: the kill waits on stored results, and every wait is
on an observable event with a generous bound."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from catalog.bulk import items_from_file, run_bulk  # noqa: E402
from catalog.cluster import open_cluster  # noqa: E402
from catalog.crawl import CrawlOptions, Route  # noqa: E402
from catalog.store import Store  # noqa: E402

DASK = str(Path(sys.executable).with_name("dask"))
GOOD, MISSING = 46, 4  # 50 sources: 46 tools/list files and 4 paths that do not exist (failures)


def _write_sources(root: Path) -> Path:
    lines = []
    for i in range(GOOD):
        tools = [
            {
                "name": f"delete_record_{i}",
                "description": f"Permanently delete record {i} from the archive.",
                "inputSchema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            },
            {"name": "list_records", "description": "List the records.", "inputSchema": {"type": "object"}},
        ]
        path = root / f"server{i:02d}.json"
        path.write_text(json.dumps({"tools": tools}), "utf-8")
        lines.append(str(path))
    lines += [str(root / f"gone{i}.json") for i in range(MISSING)]
    listing = root / "sources.txt"
    listing.write_text("\n".join(lines) + "\n", "utf-8")
    return listing


def _wait_for(check, what: str, bound: float = 180.0) -> None:
    deadline = time.monotonic() + bound
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {bound:.0f}s")
        time.sleep(0.2)


def _scheduler_address(info: Path) -> str | None:
    """The address in the scheduler file once it parses (dask creates the file, then writes it: not atomic)."""
    try:
        return json.loads(info.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture
def scheduler(tmp_path):
    """A `dask scheduler` and two `dask worker` processes (no nanny: a killed worker stays dead)."""
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "worker-caches")}
    procs = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    ]
    try:
        _wait_for(lambda: _scheduler_address(info) is not None, "the scheduler file")
        address = _scheduler_address(info)
        workers = {}
        for name in ("a", "b"):
            workers[name] = subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                 "--host", "127.0.0.1", "--name", name, "--local-directory", str(tmp_path / f"w-{name}")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            procs.append(workers[name])
        yield address, workers
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=60)


def _catalog(db: Path) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(db) as conn:
        tools = conn.execute(
            "SELECT server_id, name, description, input_schema, annotations, params, removed_at"
            " FROM tools ORDER BY server_id, name"
        ).fetchall()
        crawls = conn.execute(
            "SELECT server_id, status, error_kind, tool_count FROM crawls ORDER BY server_id"
        ).fetchall()
    return tools, crawls


def test_a_killed_worker_loses_nothing_and_stores_nothing_twice(tmp_path, scheduler):
    address, workers = scheduler
    listing = _write_sources(tmp_path)
    options = CrawlOptions(route=Route.STATIC, cache_dir=tmp_path / "driver-cache")
    stored: list[str] = []

    def on_event(status: str, key: str, result) -> None:
        if status in ("ok", "failed", "partial", "incomplete"):
            stored.append(key)
            if len(stored) == 10:  # some results arrived: one worker dies with its tasks
                workers["a"].kill()
                workers["a"].wait(timeout=60)

    cluster_db = tmp_path / "cluster.db"
    with open_cluster(address) as executor:
        executor.client.wait_for_workers(2, timeout=180)
        summary = run_bulk(
            items_from_file(listing, options), options, Store(cluster_db), jobs=2, on_event=on_event,
            executor=executor,
        )
    assert workers["a"].poll() is not None  # the kill happened mid-run
    assert len(summary.outcomes) == GOOD + MISSING and len(stored) == GOOD + MISSING
    assert len(summary.done) == GOOD and len(summary.failed) == MISSING

    single_db = tmp_path / "single.db"
    run_bulk(items_from_file(listing, options), options, Store(single_db), jobs=2)
    cluster_tools, cluster_crawls = _catalog(cluster_db)
    single_tools, single_crawls = _catalog(single_db)
    assert [c[0] for c in cluster_crawls] == sorted({c[0] for c in cluster_crawls})  # one crawl per source
    assert len(cluster_crawls) == GOOD + MISSING
    assert sum(c[1] == "failed" for c in cluster_crawls) == MISSING  # failures recorded
    assert cluster_crawls == single_crawls
    assert cluster_tools == single_tools and len(cluster_tools) == 2 * GOOD

    # each worker used its own cache folder, none the driver's
    assert not (tmp_path / "driver-cache").exists() or not any((tmp_path / "driver-cache").iterdir())


def test_rerun_on_the_cluster_resumes_and_workers_redact(tmp_path, scheduler):
    address, _ = scheduler
    listing = _write_sources(tmp_path)
    secret = "sk-cluster-Secret-7f3a9c2e1d"  # known only to the workers (this process never remembers it)
    leaky = tmp_path / "server00.json"
    leaky.write_text(leaky.read_text().replace("the archive", f"the archive (key {secret})"))
    options = CrawlOptions(route=Route.STATIC, cache_dir=tmp_path / "driver-cache", env={"API_KEY": secret})
    db = tmp_path / "c.db"
    started: dict[str, list[str]] = {"first": [], "again": []}

    def on_event(run: str):
        return lambda status, key, result: started[run].append(key) if status == "started" else None

    keys = listing.read_text().split()
    with open_cluster(address) as executor:
        executor.client.wait_for_workers(2, timeout=180)
        first = run_bulk(
            items_from_file(listing, options), options, Store(db), executor=executor, on_event=on_event("first")
        )
        again = run_bulk(
            items_from_file(listing, options), options, Store(db), executor=executor, on_event=on_event("again")
        )
    assert len(first.outcomes) == GOOD + MISSING
    assert len(again.skipped) == GOOD and len(again.outcomes) == MISSING  # fresh ones skipped, failures retried
    # each task's start on a worker reaches the driver (the progress bar shows it), once per run it was in
    assert sorted(started["first"]) == sorted(keys)
    assert sorted(started["again"]) == sorted(k for k in keys if "gone" in k)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != leaky]
    assert db in written and not [p for p in written if secret.encode() in p.read_bytes()]


def test_cli_crawls_on_a_cluster(tmp_path, scheduler):
    address, _ = scheduler
    listing = tmp_path / "two.txt"
    sources = _write_sources(tmp_path).read_text().splitlines()[:2]
    listing.write_text("\n".join(sources) + "\n")
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "cli.db")}
    catalog = str(Path(sys.executable).with_name("catalog"))
    run = subprocess.run(
        [catalog, "crawl", "--from", str(listing), "--static", "--cluster", address, "--json"],
        capture_output=True, text=True, env=env, timeout=280,
    )
    assert run.returncode == 0, run.stderr
    tools, crawls = _catalog(tmp_path / "cli.db")
    assert [c[1] for c in crawls] == ["ok", "ok"] and len(tools) == 4


def test_bad_cluster_address_is_a_usage_error(tmp_path):
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "c.db")}
    listing = tmp_path / "l.txt"
    listing.write_text("x\n")
    catalog = str(Path(sys.executable).with_name("catalog"))
    run = subprocess.run(
        [catalog, "crawl", "--from", str(listing), "--cluster", "somewhere"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--cluster" in run.stderr


def test_help_does_not_import_dask():
    code = (
        "import sys\nfrom catalog.cli import main\nsys.argv=['catalog','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('dask' in sys.modules or 'distributed' in sys.modules, file=sys.stderr)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stderr.strip().splitlines()[-1] == "False"


def test_cli_local_cluster_shows_the_current_source(tmp_path):
    sources = _write_sources(tmp_path).read_text().splitlines()[:2]
    listing = tmp_path / "two.txt"
    listing.write_text("\n".join(sources) + "\n")
    env = {
        **os.environ,
        "CATALOG_CACHE": str(tmp_path / "cache"),
        "CATALOG_DB": str(tmp_path / "local.db"),
        "TTY_COMPATIBLE": "1",  # stderr is a pipe: let the progress bar draw as on a terminal
        "COLUMNS": "400",
    }
    catalog = str(Path(sys.executable).with_name("catalog"))
    run = subprocess.run(
        [catalog, "crawl", "--from", str(listing), "--static", "--cluster", "local", "--jobs", "1"],
        capture_output=True, text=True, env=env, timeout=280,
    )
    assert run.returncode == 0, run.stderr
    assert [c[1] for c in _catalog(tmp_path / "local.db")[1]] == ["ok", "ok"]
    assert (tmp_path / "cache" / "worker-0").is_dir()  # the worker's own cache folder
    # the progress bar names the source a worker is crawling, as on the thread-pool path
    assert "crawling" in run.stderr and "2/2" in run.stderr
    assert any(source[:60] in run.stderr for source in sources), run.stderr[-2000:]
