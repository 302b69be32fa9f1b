"""An MCP registry speaking the official v0 API: page through `GET /v0/servers` and yield server.json entries.

A registry is remote, untrusted input: transient failures are retried with backoff, pages and total time
are capped, a repeated or empty page ends the walk, redirects stay on the registry's host, only the
latest version of each server is kept (unless asked), and one server listed many times is yielded once.
A page that fails after the first ends the walk without losing what came before; why it ended is kept
in `RegistryWalk.stopped` and logged as one line."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from catalog.models import CatalogError

OFFICIAL_REGISTRY = "https://registry.modelcontextprotocol.io"
MAX_PAGES = 1000
MAX_SECONDS = 600.0
ATTEMPTS = 4  # per page: the first try and three retries of a transient failure
MAX_REDIRECTS = 5
OFFICIAL_META = "io.modelcontextprotocol.registry/official"
log = logging.getLogger("catalog.registry")


@dataclass
class RegistryEntry:
    """One server.json from a registry page, with the catalog id it will be stored under."""

    key: str
    document: dict[str, Any]


@dataclass
class RegistryWalk:
    """How a walk through a registry went: pages read, entries left out, and why it stopped early."""

    pages: int = 0
    entries: int = 0
    older_versions: int = 0
    duplicates: int = 0
    stopped: str | None = None
    failed: bool = False  # stopped because a page could not be read (not a cap or a misbehaving cursor)
    seen: set[str] = field(default_factory=set)

    def summary(self) -> str:
        text = f"{self.entries} servers from {self.pages} pages"
        if self.older_versions:
            text += f", {self.older_versions} older versions left out"
        if self.duplicates:
            text += f", {self.duplicates} repeated entries crawled once"
        return text + (f"; stopped early: {self.stopped}" if self.stopped else "")


class _Transient(Exception):
    """A failure worth retrying: a 5xx or 429 answer, a timeout, a dropped connection."""


def server_json_id(document: dict[str, Any]) -> str:
    """The catalog id of a server.json: its first pypi/npm package, else its registry name."""
    from catalog.sources.pypi import normalize

    for package in document.get("packages") or []:
        if not isinstance(package, dict):
            continue
        registry = package.get("registryType") or package.get("registry_type") or package.get("registry_name")
        identifier = package.get("identifier") or package.get("name")
        if registry == "pypi" and isinstance(identifier, str):
            return f"pypi:{normalize(identifier)}"
        if registry == "npm" and isinstance(identifier, str):
            return f"npm:{identifier}"
    return str(document.get("name") or "unnamed")


def is_latest(item: dict[str, Any]) -> bool:
    """False only when the registry says this entry is not its server's latest version."""
    meta = item.get("_meta") if isinstance(item.get("_meta"), dict) else {}
    official = meta.get(OFFICIAL_META) if isinstance(meta, dict) else None
    if isinstance(official, dict):
        flag = official.get("isLatest", official.get("is_latest"))
        if isinstance(flag, bool):
            return flag
    return True


def iter_entries(
    base_url: str,
    page_size: int = 100,
    timeout: float = 30.0,
    *,
    walk: RegistryWalk | None = None,
    all_versions: bool = False,
    max_pages: int = MAX_PAGES,
    max_seconds: float = MAX_SECONDS,
) -> Iterator[RegistryEntry]:
    """Every server of the registry, page by page (`cursor` from `metadata.nextCursor` or `next_cursor`)."""
    import httpx

    walk = walk if walk is not None else RegistryWalk()
    url = base_url.rstrip("/") + "/v0/servers"
    cursor: str | None = None
    seen_cursors: set[str] = set()
    started = time.monotonic()
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        while True:
            if walk.pages >= max_pages:
                return _stop(walk, f"the registry still had pages after {max_pages}")
            if time.monotonic() - started > max_seconds:
                return _stop(walk, f"reading the registry took more than {max_seconds:g}s")
            params: dict[str, Any] = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
            try:
                page = _get_page(client, url, params)
            except CatalogError as error:
                if walk.pages == 0:
                    raise
                walk.failed = True
                return _stop(walk, f"page {walk.pages + 1} failed: {error}")
            walk.pages += 1
            items = page.get("servers") or []
            yield from _entries(items if isinstance(items, list) else [], walk, all_versions)
            metadata = page.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            cursor = metadata.get("nextCursor") or metadata.get("next_cursor")
            if not cursor:
                return None
            if not isinstance(cursor, str) or cursor in seen_cursors:
                return _stop(walk, f"page {walk.pages} repeated an earlier cursor")
            if not items:
                return _stop(walk, f"page {walk.pages} was empty but named a next page")
            seen_cursors.add(cursor)


def _entries(items: list[Any], walk: RegistryWalk, all_versions: bool) -> Iterator[RegistryEntry]:
    for item in items:
        document = item.get("server", item) if isinstance(item, dict) else None
        if not isinstance(document, dict):
            continue
        if not all_versions and not is_latest(item):
            walk.older_versions += 1
            continue
        key = server_json_id(document)
        if not all_versions and key in walk.seen:
            walk.duplicates += 1
            continue
        walk.seen.add(key)
        walk.entries += 1
        yield RegistryEntry(key, document)


def _stop(walk: RegistryWalk, reason: str) -> None:
    walk.stopped = reason
    log.warning("registry: %s; keeping the %d servers read before", reason, walk.entries)


def _get_page(client: Any, url: str, params: dict[str, Any]) -> dict[str, Any]:
    """One page, retried with exponential backoff while the failure is transient."""
    from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

    fetch = retry(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=0.25, max=4),
        reraise=True,
    )(_get_page_once)
    try:
        return fetch(client, url, params)
    except _Transient as exc:
        raise CatalogError(f"registry {url}: {exc} (after {ATTEMPTS} attempts)", kind="registry") from None


def _get_page_once(client: Any, url: str, params: dict[str, Any]) -> dict[str, Any]:
    import httpx

    try:
        response = _get_on_host(client, url, params)
    except httpx.TimeoutException:
        raise _Transient("timed out") from None
    except httpx.TransportError as exc:
        if isinstance(exc, httpx.ConnectError):
            raise CatalogError(
                f"registry {url} unreachable ({type(exc).__name__})", kind="needs_network"
            ) from None
        raise _Transient(type(exc).__name__) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise _Transient(f"answered {response.status_code}")
    if response.status_code != 200:
        raise CatalogError(f"registry {url} answered {response.status_code}", kind="registry")
    try:
        page = response.json()
    except ValueError:
        raise CatalogError(f"registry {url} returned a page that is not JSON", kind="registry") from None
    if not isinstance(page, dict):
        raise CatalogError(f"registry {url} returned an unexpected page", kind="registry")
    return page


def _get_on_host(client: Any, url: str, params: dict[str, Any]) -> Any:
    """GET, following redirects only while they stay on the registry's own scheme and host."""
    origin = urlsplit(url)[:2]
    response = client.get(url, params=params)
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect:
            return response
        target = urljoin(str(response.url), response.headers.get("location", ""))
        if urlsplit(target)[:2] != origin:
            raise CatalogError(
                f"registry {url} redirected to another host ({urlsplit(target).netloc or target}); not followed",
                kind="registry",
            )
        response = client.get(target)
    raise CatalogError(f"registry {url} redirected more than {MAX_REDIRECTS} times", kind="registry")
