"""Scale-out on Dask distributed: the resolve-and-list step of the pipeline (`catalog.crawl.work`) runs on
Dask workers, each with its own cache and sandbox; results stream back to the driver, which stays the
single writer (it redacts, stores and classifies them in `catalog.crawl.run_pipeline`).

`dask[distributed]` is the optional extra `cluster`; it is imported only when a cluster is used.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog.models import CatalogError, FailureKind

TASK_RETRIES = 2  # a task that raised is run again elsewhere; a lost worker's tasks are rescheduled anyway
STARTED_TOPIC = "mcp-catalog-started"  # the Dask event topic that tells the driver a worker began an item
_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9._\-\[\]:]+:\d{1,5}$")


def check_address(address: str) -> None:
    """`local` or a scheduler address such as tcp://HOST:8786; anything else is a usage error."""
    if address != "local" and not _ADDRESS.match(address):
        raise CatalogError(
            f"--cluster: expected 'local' or a scheduler address like tcp://HOST:8786, got {address!r}",
            FailureKind.USAGE,
        )


@contextmanager
def open_cluster(address: str, local_workers: int = 2) -> Iterator[DaskExecutor]:
    """An executor on the Dask scheduler at `address`, or on a LocalCluster of `local_workers` processes
    (loopback only) when `address` is `local`."""
    check_address(address)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CatalogError(
            "--cluster needs Dask: pip install 'mcp-catalog[cluster]'", FailureKind.MISSING_EXTRA
        ) from None
    import dask

    # results wait in a worker's memory until the driver takes them: never spill them to disk
    with dask.config.set({"distributed.worker.memory.spill": False, "distributed.worker.memory.target": False}):
        if address == "local":
            cluster = LocalCluster(
                n_workers=max(1, local_workers),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        else:
            cluster = None
            try:
                client = Client(address, timeout="30s")
            except (OSError, TimeoutError) as exc:
                raise CatalogError(
                    f"--cluster: no Dask scheduler answers at {address} ({type(exc).__name__})",
                    FailureKind.USAGE,
                ) from None
    executor = DaskExecutor(client)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        client.close()
        if cluster is not None:
            cluster.close()


class DaskExecutor(concurrent.futures.Executor):
    """Runs `catalog.crawl.work` on Dask workers, as a concurrent.futures executor for `run_pipeline`.

    Each task gets the worker's own cache directory, redacts its results before they leave the worker
    (the worker is the process that learned the target's secrets), and never raises: a task lost with its
    worker more often than the scheduler allows becomes a failed result of its item. The driver receives
    one result per submitted item, so a task run twice (after a worker died) is still stored once.

    A worker's `started` event (which the progress bar shows as the current source) comes back through the
    scheduler's event log and is handed to the event callback the driver gave with the item; the callback
    itself never leaves the driver."""

    def __init__(self, client: Any, retries: int = TASK_RETRIES):
        self.client = client
        self.retries = retries
        self._running: dict[concurrent.futures.Future, Any] = {}
        self._callbacks: dict[str, Callable[..., None]] = {}  # item key -> the driver's event callback
        client.subscribe_topic(STARTED_TOPIC, self._relay)

    @property
    def jobs(self) -> int:
        """How many tasks the cluster runs at once now (at least one, so a run waits for workers)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        from catalog.crawl import Finished, failed_result
        from catalog.store import now

        key, options, notify = args[1], args[2], args[4]  # work(item, key, options, bulk, notify)
        self._callbacks[key] = notify
        remote = self.client.submit(
            on_worker, fn, *args[:4], report_started, pure=False, retries=self.retries, **kwargs
        )
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self._running[future] = remote

        def done(finished_remote: Any) -> None:
            self._running.pop(future, None)
            self._callbacks.pop(key, None)
            if future.done():
                return
            try:
                future.set_result(finished_remote.result())
            except BaseException as exc:  # a lost worker, a cancelled task: the item's failure, recorded
                error = CatalogError(f"cluster task failed: {type(exc).__name__}", FailureKind.INTERNAL)
                future.set_result([Finished(failed_result(key, options, error), now(), 0.0)])

        remote.add_done_callback(done)
        return future

    def _relay(self, event: tuple[float, dict[str, str]]) -> None:
        """A worker's event, on the driver (in the Dask client's thread): to the item's callback while the
        item runs."""
        message = event[1]
        callback = self._callbacks.get(message["key"])
        if callback is not None:
            callback(message["status"], message["key"], None)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for future, remote in list(self._running.items()):
                remote.cancel()
                future.cancel()
            self._running.clear()
            self._callbacks.clear()


def report_started(status: str, key: str, result: Any = None) -> None:
    """The event callback a worker runs `catalog.crawl.work` with: the event goes to the driver through the
    scheduler's event log (only the status and the item's key, which the driver already redacted)."""
    from distributed import get_worker

    get_worker().log_event(STARTED_TOPIC, {"status": status, "key": key})


def on_worker(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` (catalog.crawl.work(item, key, options, bulk, notify)) on a worker with the worker's own
    cache, and redact what it returns. It never raises: Dask would log a failed task with its arguments,
    and those carry the user's environment for live servers."""
    from catalog import redact
    from catalog.crawl import CrawlOptions, Finished, failed_result
    from catalog.store import now

    key = args[1]
    options = next(a for a in args if isinstance(a, CrawlOptions))
    redact.remember(options.env.values())  # what the driver remembered from --env and --arg, here too
    redact.remember_command(options.server_args)
    try:
        options = dataclasses.replace(options, cache_dir=worker_cache_dir())
        found = fn(*(options if isinstance(a, CrawlOptions) else a for a in args))
    except Exception as exc:
        error = CatalogError(f"internal error on a worker: {type(exc).__name__}: {exc}", FailureKind.INTERNAL)
        found = [Finished(failed_result(key, options, error), now(), 0.0)]
    for finished in found if isinstance(found, list) else []:
        if isinstance(finished, Finished):
            redact.redact_result(finished.result)
    return found


def worker_cache_dir() -> Path:
    """This worker's own cache: CATALOG_CACHE of the worker's machine (or the worker's local directory),
    in a folder named after the worker, so two workers on one machine never share one."""
    from distributed import get_worker

    worker = get_worker()
    base = Path(os.environ["CATALOG_CACHE"]) if os.environ.get("CATALOG_CACHE") else Path(worker.local_directory)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(worker.name))
    path = base / f"worker-{name}"
    path.mkdir(parents=True, exist_ok=True)
    return path
