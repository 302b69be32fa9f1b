"""A running server at an http(s) URL, crawled live over streamable HTTP with SSE as the fallback.

Every URL is checked before it is contacted (`check_url`): link-local and cloud metadata addresses are
never contacted; private, loopback and other non-public addresses only when allowed
(`CATALOG_ALLOW_PRIVATE_URLS=1`)."""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit

from catalog.models import CatalogError, ServerRef
from catalog.sources import ResolveOptions, Target

ALLOW_PRIVATE_VARIABLE = "CATALOG_ALLOW_PRIVATE_URLS"
# Instance metadata services (credentials live there): AWS/GCP/Azure/OpenStack on 169.254.169.254 (in
# the link-local range, refused as a whole), AWS over IPv6, Alibaba, Oracle.
METADATA = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "fd00:ec2::254/128", "100.100.100.200/32", "192.0.0.192/32")
)


def resolve(address: str, options: ResolveOptions) -> Target:
    check_url(address)
    parts = urlsplit(address)
    server_id = options.name or f"url:{parts.netloc}{parts.path.rstrip('/')}"
    return Target(
        server=ServerRef(id=server_id, source=address, kind="url", name=options.name),
        route=f"url over streamable HTTP (SSE fallback): {address}",
        url=address,
        env=dict(options.env),
    )


def private_allowed() -> bool:
    return os.environ.get(ALLOW_PRIVATE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def check_url(url: str, allow_private: bool | None = None) -> None:
    """Refuse a URL whose host is, or resolves to, an address that must not be contacted: never
    link-local or a metadata service, multicast or unspecified; private, loopback, shared or reserved
    addresses only when `allow_private` (default: CATALOG_ALLOW_PRIVATE_URLS)."""
    allow = private_allowed() if allow_private is None else allow_private
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CatalogError(f"not an http(s) URL with a host: {shown_url(url)}", kind="usage")
    for address in _addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)):
        problem = address_problem(address, allow)
        if problem:
            raise CatalogError(f"refusing {shown_url(url)}: {parts.hostname} is {problem}", kind="unsafe_url")


def address_problem(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool
) -> str | None:
    """Why `address` must not be contacted, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in METADATA if network.version == address.version):
        return f"a link-local or cloud metadata address ({address}); never contacted"
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return f"a link-local, multicast or unspecified address ({address}); never contacted"
    if not address.is_global and not allow_private:
        return (
            f"a private or loopback address ({address}); set {ALLOW_PRIVATE_VARIABLE}=1 to allow private "
            "addresses"
        )
    return None


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise CatalogError(f"cannot resolve {host}: {error}", kind="needs_network") from None
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found))


def shown_url(url: str) -> str:
    """The URL without its query, fragment and credentials (they may hold secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
