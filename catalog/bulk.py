"""Crawl many sources at once: a list file, a client config or a registry; bounded, resumable, classified once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalog.crawl import CrawlOptions, failed_result, list_target, store_result
from catalog.models import CatalogError, CrawlResult
from catalog.redact import redact
from catalog.sources import Target, resolve
from catalog.store import Store, now


@dataclass
class WorkItem:
    """One thing to crawl: its key (for resuming and for failures) and how to resolve it into targets."""

    key: str
    resolve: Callable[[], list[Target]]


@dataclass
class BulkSummary:
    """Counts and per-source outcomes of one bulk run."""

    done: list[CrawlResult] = field(default_factory=list)
    failed: list[CrawlResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    classified: int = 0


# -- where the work comes from ------------------------------------------------------------------------------


def items_from_file(path: Path, options: CrawlOptions) -> list[WorkItem]:
    """A text file of sources (one per line, `#` comments) or a client config with `mcpServers`/`servers`."""
    from catalog.sources.manifest import config_entry_target, load_json

    if not path.is_file():
        raise CatalogError(f"no such file: {path}", kind="usage")
    if path.suffix.lower() == ".json":
        document = load_json(path)
        entries = (
            document.get("mcpServers") or document.get("servers") if isinstance(document, dict) else None
        )
        if not isinstance(entries, dict):
            raise CatalogError(
                f"{path}: a JSON --from file must be a client config with mcpServers", kind="usage"
            )
        resolve_options = options.resolve_options()
        return [
            WorkItem(key, _bind(config_entry_target, key, entry, str(path), resolve_options))
            for key, entry in entries.items()
            if isinstance(entry, dict)
        ]
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        source = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if source:
            items.append(WorkItem(source, _bind(resolve, source, options.resolve_options())))
    return items


def items_from_registry(base_url: str, options: CrawlOptions, limit: int | None = None) -> Iterable[WorkItem]:
    from catalog.sources.manifest import server_json_target
    from catalog.sources.registry import iter_entries

    for count, entry in enumerate(iter_entries(base_url)):
        if limit is not None and count >= limit:
            return
        yield WorkItem(
            entry.key,
            _bind(server_json_target, entry.document, f"{base_url}#{entry.key}", options.resolve_options()),
        )


def _bind(fn, *args):
    def call():
        result = fn(*args)
        return result if isinstance(result, list) else [result]

    return call


# -- running ------------------------------------------------------------------------------------------------


def run_bulk(
    items: Iterable[WorkItem],
    options: CrawlOptions,
    store: Store,
    jobs: int = 4,
    max_age: timedelta | None = timedelta(hours=24),
    refresh: bool = False,
    on_event: Callable[[str, str, CrawlResult | None], None] | None = None,
) -> BulkSummary:
    """Crawl items with at most `jobs` at once; store each as it finishes; classify all new tools at the end."""
    summary = BulkSummary()
    notify = on_event or (lambda *_: None)
    fresh = set() if refresh or max_age is None else store.recently_crawled(_cutoff(max_age))
    crawled_servers: set[str] = set()
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="crawl")
    pending: dict[Future, WorkItem] = {}

    def collect_next() -> None:
        """Store whatever has finished, once at least one crawl has."""
        done = wait(pending, return_when=FIRST_COMPLETED).done
        _collect(done, pending, store, summary, crawled_servers, notify)

    try:
        for item in items:
            if redact(item.key) in fresh:
                summary.skipped.append(item.key)
                notify("skipped", item.key, None)
                continue
            while len(pending) >= jobs * 4:  # keep the queue short so a registry is read lazily
                collect_next()
            pending[pool.submit(_crawl_item, item, options)] = item
        while pending:
            collect_next()
    except KeyboardInterrupt:
        summary.interrupted = True
        for future in pending:
            future.cancel()
        from catalog import sandbox

        sandbox.kill_all()  # servers still running would hold their threads until their timeout
    finally:
        pool.shutdown(wait=not summary.interrupted, cancel_futures=True)
        summary.classified = classify_pending(store, sorted(crawled_servers)) if options.classify else 0
    return summary


def _collect(done, pending, store: Store, summary: BulkSummary, crawled: set[str], notify) -> None:
    for future in done:
        item = pending.pop(future)
        for result, started in future.result():
            store_result(store, result, started_at=started)
            if result.status == "failed":
                summary.failed.append(result)
            else:
                summary.done.append(result)
                crawled.add(result.server.id)
            notify(result.status, item.key, result)


def _crawl_item(item: WorkItem, options: CrawlOptions) -> list[tuple[CrawlResult, str]]:
    started = now()
    try:
        targets = item.resolve()
    except CatalogError as exc:
        return [(failed_result(item.key, options, exc), started)]
    except Exception as exc:  # one broken source never stops the others
        return [
            (
                failed_result(item.key, options, CatalogError(f"internal error: {exc}", kind="internal")),
                started,
            )
        ]
    results = []
    for target in targets:
        target_started = now()
        try:
            results.append((list_target(target, options), target_started))
        except Exception as exc:
            results.append(
                (
                    failed_result(
                        target.server.id, options, CatalogError(f"internal error: {exc}", kind="internal")
                    ),
                    target_started,
                )
            )
    return results


def _cutoff(max_age: timedelta) -> str:
    return (datetime.now(UTC) - max_age).isoformat(timespec="milliseconds")


def classify_pending(store: Store, server_ids: list[str]) -> int:
    """Classify, in one batch, every current tool of these servers whose label is missing or stale."""
    from catalog.crawl import classify_rows

    todo = store.unclassified_tools(server_ids)
    if not todo:
        return 0
    labels = classify_rows(todo)
    store.save_labels(labels)
    return len(labels)
