"""An MCP registry speaking the official v0 API: page through `GET /v0/servers` and yield server.json entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from catalog.models import CatalogError

OFFICIAL_REGISTRY = "https://registry.modelcontextprotocol.io"
MAX_PAGES = 10_000


@dataclass
class RegistryEntry:
    """One server.json from a registry page, with the catalog id it will be stored under."""

    key: str
    document: dict[str, Any]


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


def iter_entries(base_url: str, page_size: int = 100, timeout: float = 30.0) -> Iterator[RegistryEntry]:
    """Every server of the registry, page by page (`cursor` from `metadata.nextCursor` or `next_cursor`)."""
    import httpx

    url = base_url.rstrip("/") + "/v0/servers"
    cursor: str | None = None
    seen_cursors: set[str] = set()
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": page_size}
            if cursor:
                params["cursor"] = cursor
            page = _get_page(client, url, params)
            for item in page.get("servers") or []:
                document = item.get("server", item) if isinstance(item, dict) else None
                if isinstance(document, dict):
                    yield RegistryEntry(server_json_id(document), document)
            metadata = page.get("metadata") or {}
            cursor = metadata.get("nextCursor") or metadata.get("next_cursor")
            if not cursor or cursor in seen_cursors:
                return
            seen_cursors.add(cursor)


def _get_page(client, url: str, params: dict[str, Any]) -> dict[str, Any]:
    import httpx

    try:
        response = client.get(url, params=params)
        response.raise_for_status()
        page = response.json()
    except httpx.HTTPStatusError as exc:
        raise CatalogError(f"registry {url} answered {exc.response.status_code}", kind="registry") from None
    except httpx.HTTPError as exc:
        raise CatalogError(
            f"registry {url} unreachable ({type(exc).__name__})", kind="needs_network"
        ) from None
    except ValueError:
        raise CatalogError(f"registry {url} returned a page that is not JSON", kind="registry") from None
    if not isinstance(page, dict):
        raise CatalogError(f"registry {url} returned an unexpected page", kind="registry")
    return page
