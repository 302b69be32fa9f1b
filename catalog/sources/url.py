"""A running server at an http(s) URL, crawled live over streamable HTTP with SSE as the fallback."""

from __future__ import annotations

from urllib.parse import urlsplit

from catalog.models import ServerRef
from catalog.sources import ResolveOptions, Target


def resolve(address: str, options: ResolveOptions) -> Target:
    parts = urlsplit(address)
    server_id = options.name or f"url:{parts.netloc}{parts.path.rstrip('/')}"
    return Target(
        server=ServerRef(id=server_id, source=address, kind="url", name=options.name),
        route=f"url over streamable HTTP (SSE fallback): {address}",
        url=address,
        env=dict(options.env),
    )
