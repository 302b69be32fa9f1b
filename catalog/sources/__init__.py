"""Source kinds: turn a source string into Targets (files to read, tools already listed, or a server to run)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from catalog.models import CatalogError, ServerRef, Tool

GITHUB_REPO = re.compile(
    r"^(?:https?://github\.com/|github:)?([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9._-]{1,100}?)(?:\.git)?/?$"
)


@dataclass
class Package:
    """A published package a live crawl can install: pypi or npm, name and exact version."""

    registry: str  # pypi | npm
    name: str
    version: str


@dataclass
class Target:
    """One server found by resolving a source, with whatever is needed to list its tools."""

    server: ServerRef
    route: str
    version: str | None = None
    digest: str | None = None
    root: Path | None = None  # a source tree to read statically
    tools: list[Tool] | None = None  # tools a manifest already lists
    command: list[str] | None = None  # a server to run over stdio
    url: str | None = None  # a server to reach over HTTP
    env: dict[str, str] = field(default_factory=dict)
    package: Package | None = None  # what --live installs
    warnings: list[str] = field(default_factory=list)


@dataclass
class ResolveOptions:
    """Settings shared by all source kinds."""

    cache_dir: Path
    github_url: str = "https://github.com"
    github_timeout: float = 3.0
    name: str | None = None
    live: bool = False
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0


def default_cache_dir() -> Path:
    if env := os.environ.get("CATALOG_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-catalog"


def resolve(source: str, options: ResolveOptions) -> list[Target]:
    """Find the server(s) a source string names; raise CatalogError when it names none."""
    from catalog.sources import command, github, local, manifest, npm, pypi, url

    source = source.strip()
    if source.startswith("pypi:"):
        return [pypi.resolve(source.removeprefix("pypi:"), options)]
    if source.startswith("npm:"):
        return [npm.resolve(source.removeprefix("npm:"), options)]
    if source.startswith("stdio:"):
        return [command.resolve(source.removeprefix("stdio:"), options)]
    if source.startswith(("http://", "https://")) and not GITHUB_REPO.match(source):
        return [url.resolve(source, options)]
    path = Path(source).expanduser()
    if path.exists():
        if path.is_file() and path.suffix.lower() == ".json":
            return manifest.resolve(path, options)
        return [local.resolve(path, options)]
    if match := GITHUB_REPO.match(source):
        return [github.resolve(match.group(1), match.group(2), options)]
    raise CatalogError(
        f"unknown source {source!r}: expected owner/repo, pypi:NAME, npm:NAME, a path, a .json file, "
        "a URL or --cmd",
        kind="usage",
    )
