"""What a crawl tries when a package's server does not answer as it was started: the package it fetches at
start (fetchers), or its transport chosen by a variable (`MCP_TRANSPORT=stdio`) instead of an argument."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from catalog import fetchers, live
from catalog.models import CatalogError

# A variable that picks the transport (`MCP_TRANSPORT`, `X_MCP_TRANSPORT`, `X_TRANSPORT_TYPE`): servers that
# default to HTTP serve stdio when it says so.
TRANSPORT_VARIABLE = re.compile(r"(^|_)TRANSPORT(_MODE|_TYPE)?$")
_RETRIED_KINDS = ("timeout", "crash", "bad_protocol")


def list_stdio(launch: live.Launch, cache_dir: Path, timeout: float, max_tools: int) -> live.LiveListing:
    """`live.list_stdio`, then: a server found fetching a package at start is listed through that package;
    one that did not answer (it served HTTP, say) and reads a transport variable is started again with the
    variable set to `stdio`. The warnings say which."""
    try:
        return live.list_stdio(launch, timeout=timeout, max_tools=max_tools)
    except fetchers.FetchesAtStart as error:
        return _through_fetched_package(launch, error, cache_dir, timeout, max_tools)
    except CatalogError as error:
        variables = transport_variables(launch)
        if not variables or error.kind not in _RETRIED_KINDS:
            raise
        first = error
    settings = {name: "stdio" for name in variables}
    shown = ", ".join(f"{name}=stdio" for name in variables)
    try:
        listing = live.list_stdio(
            dataclasses.replace(launch, env={**launch.env, **settings}), timeout=timeout, max_tools=max_tools
        )
    except CatalogError as error:
        raise CatalogError(f"with {shown}: {error} (without it: {first})", error.kind) from None
    listing.warnings.insert(0, f"started with {shown}: without it the server did not answer on stdio ({first})")
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
