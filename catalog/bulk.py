"""Bulk crawls: build work items from a list file, a client config or a registry, and run them through the
one pipeline (`catalog.crawl.run_pipeline`) with several workers; resumable, classified in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.crawl import (
    CrawlOptions,
    Event,
    RunSummary,
    WorkItem,
    classify_pending,
    run_pipeline,
)
from catalog.models import CatalogError, FailureKind
from catalog.sources import resolve
from catalog.store import Store, now

if TYPE_CHECKING:
    from catalog.sources.registry import RegistryWalk

BulkSummary = RunSummary  # the summary of a bulk run is the pipeline's
__all__ = ["BulkSummary", "WorkItem", "classify_pending", "items_from_file", "items_from_registry", "run_bulk"]


class Items(Iterable[WorkItem]):
    """Work items with their count when it is known in advance (for a progress bar's total and ETA)."""

    def __init__(self, items: Iterable[WorkItem], total: int | None):
        self._items, self.total = items, total

    def __iter__(self) -> Iterator[WorkItem]:
        return iter(self._items)


# -- where the work comes from ------------------------------------------------------------------------------


def items_from_file(path: Path, options: CrawlOptions) -> Items:
    """A text file of sources (one per line, `#` comments) or a client config with `mcpServers`/`servers`."""
    from catalog.sources.manifest import config_entry_target, load_json

    if not path.is_file():
        raise CatalogError(f"no such file: {path}", FailureKind.USAGE)
    resolve_options = options.resolve_options()
    if path.suffix.lower() == ".json":
        document = load_json(path)
        entries = (
            document.get("mcpServers") or document.get("servers") if isinstance(document, dict) else None
        )
        if not isinstance(entries, dict):
            raise CatalogError(
                f"{path}: a JSON --from file must be a client config with mcpServers", FailureKind.USAGE
            )
        items = [
            WorkItem(key, _bind(config_entry_target, key, entry, str(path), resolve_options))
            for key, entry in entries.items()
            if isinstance(entry, dict)
        ]
        return Items(items, len(items))
    items, listed = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        source = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if source and source not in listed:  # a source listed twice is crawled once
            listed.add(source)
            items.append(WorkItem(source, _bind(resolve, source, resolve_options)))
    return Items(items, len(items))


def items_from_registry(
    base_url: str, options: CrawlOptions, limit: int | None = None, walk: RegistryWalk | None = None
) -> Items:
    """Every entry of an MCP registry (read page by page, lazily), at most `limit`; `walk` records how the
    walk went (pages, why it stopped)."""
    from catalog.sources.manifest import server_json_target
    from catalog.sources.registry import iter_entries

    def generate() -> Iterator[WorkItem]:
        for count, entry in enumerate(iter_entries(base_url, walk=walk)):
            if limit is not None and count >= limit:
                return
            yield WorkItem(
                entry.key,
                _bind(server_json_target, entry.document, f"{base_url}#{entry.key}", options.resolve_options()),
            )

    return Items(generate(), limit)


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
    on_event: Event | None = None,
    run_key: str | None = None,
    executor: Executor | None = None,
) -> RunSummary:
    """Crawl items with at most `jobs` at once, skipping sources crawled OK within `max_age` (so a rerun
    after Ctrl-C resumes), unless `refresh`. With `refresh`, a rerun resumes too: sources crawled since
    the interrupted refresh of the same input (`run_key`) began are skipped."""
    marker = _marker(options.cache_dir, run_key) if refresh and run_key else None
    if marker is not None and marker.is_file():
        fresh = store.recently_crawled(marker.read_text("utf-8").strip())
    elif refresh or max_age is None:
        fresh = set()
    else:
        fresh = store.recently_crawled(_cutoff(max_age))
    if marker is not None and not marker.is_file():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(now() + "\n", "utf-8")
    summary = run_pipeline(
        items, options, store, jobs=jobs, skip=fresh, on_event=on_event, bulk=True, executor=executor
    )
    if marker is not None and not summary.interrupted:
        marker.unlink(missing_ok=True)
    return summary


def _marker(cache_dir: Path, run_key: str) -> Path:
    """Where an unfinished `--refresh` run of one input records when it began (removed when it finishes)."""
    from catalog.redact import redact

    digest = hashlib.sha256(redact(run_key).encode()).hexdigest()[:16]
    return cache_dir / "bulk-refresh" / f"{digest}.started"


def _cutoff(max_age: timedelta) -> str:
    return (datetime.now(UTC) - max_age).isoformat(timespec="milliseconds")
