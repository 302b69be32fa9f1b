"""What a crawl does for a package's server beyond starting it as installed: a variable that picks the MCP
transport (`X_MCP_TRANSPORT`) is set to stdio, and a wrapper that fetches a package at start (fetchers) is
listed through that package."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from catalog import fetchers, live
from catalog.models import CatalogError

# A variable that picks the MCP transport (`MCP_TRANSPORT`, `REDMINE_MCP_TRANSPORT`, `FASTMCP_TRANSPORT`,
# `TRANSPORT_TYPE`): a server that defaults to HTTP serves stdio when it says so, as its README tells a
# stdio client's user to set it.
TRANSPORT_VARIABLE = re.compile(r"MCP_TRANSPORT(_MODE|_TYPE)?$|^TRANSPORT(_MODE|_TYPE)?$")


def list_stdio(launch: live.Launch, cache_dir: Path, timeout: float, max_tools: int) -> live.LiveListing:
    """`live.list_stdio` with the server's unset transport variables set to `stdio` (started again without
    them when its error names one), and a server found fetching a package at start listed through that
    package. The warnings say which."""
    variables = transport_variables(launch)
    settings = {name: "stdio" for name in variables}
    shown = ", ".join(f"{name}=stdio" for name in variables)
    try:
        listing = live.list_stdio(dataclasses.replace(launch, env={**launch.env, **settings}), timeout, max_tools)
    except fetchers.FetchesAtStart as error:
        return _through_fetched_package(launch, error, cache_dir, timeout, max_tools)
    except CatalogError as error:
        if any(name in str(error) for name in variables):  # it refused the value: as installed, then
            return live.list_stdio(launch, timeout=timeout, max_tools=max_tools)
        if variables:
            raise CatalogError(f"{error} (started with {shown})", error.kind) from None
        raise
    if variables:
        listing.warnings.insert(0, f"started with {shown}: the variable that picks its MCP transport")
    return listing


def transport_variables(launch: live.Launch) -> list[str]:
    """The transport variables the server reads that the user did not set (only for a package's own entry
    point started without arguments)."""
    if not launch.entry_forms:
        return []
    return [name for name in launch.env_names if TRANSPORT_VARIABLE.search(name) and name not in launch.env]


def _through_fetched_package(
    launch: live.Launch, error: fetchers.FetchesAtStart, cache_dir: Path, timeout: float, max_tools: int
) -> live.LiveListing:
    from catalog import envs

    behind = envs.package_behind(error.command)
    assert behind is not None
    if behind.version and not behind.version[:1].isdigit():  # a dist-tag (latest, next): the newest release
        behind.version = None
    inner, notes = envs.package_command_launch(behind, cache_dir, dict(launch.env), launch.sandbox)
    inner.on_phase = launch.on_phase
    try:
        listing = live.list_stdio(inner, timeout=timeout, max_tools=max_tools)
    except CatalogError as inner_error:
        raise CatalogError(f"{error}; listing that package failed too: {inner_error}", inner_error.kind) from None
    shown = " ".join(error.command)
    launch.command = inner.command  # what the route then names: the command that was listed
    listing.warnings[:0] = [*notes, f"the server runs '{shown}' when it starts: that package was listed instead"]
    return listing
