"""Source kinds: turn a source string into Targets (files to read, tools already listed, or a server to run)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

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


@dataclass(frozen=True)
class ReadTree:
    """A source tree (unpacked package, repository archive, checkout) to read statically."""

    root: Path


@dataclass(frozen=True)
class AlreadyListed:
    """Tools a file already lists (a tools/list result, an MCPB manifest): nothing to read or run."""

    tools: list[Tool]


@dataclass(frozen=True)
class RunCommand:
    """A server to start and list over stdio."""

    command: list[str]


@dataclass(frozen=True)
class ConnectUrl:
    """A running server to list over streamable HTTP (SSE fallback), with the headers it needs."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)


Access = ReadTree | AlreadyListed | RunCommand | ConnectUrl


@dataclass(init=False)
class Target:
    """One server found by resolving a source, and how its tools are reached (`access`).

    A target with a `package` can also be installed and listed live (the default route when the sandbox works).
    The keyword arguments root / tools / command / url build the matching `access` (exactly one is given).
    """

    server: ServerRef
    route: str
    access: Access
    version: str | None
    digest: str | None
    env: dict[str, str]
    package: Package | None
    warnings: list[str]

    def __init__(
        self,
        server: ServerRef,
        route: str,
        access: Access | None = None,
        *,
        version: str | None = None,
        digest: str | None = None,
        root: Path | None = None,
        tools: list[Tool] | None = None,
        command: list[str] | None = None,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        package: Package | None = None,
        warnings: list[str] | None = None,
    ):
        given = [
            a
            for a in (
                access,
                ReadTree(root) if root is not None else None,
                AlreadyListed(tools) if tools is not None else None,
                RunCommand(command) if command is not None else None,
                ConnectUrl(url, dict(headers or {})) if url is not None else None,
            )
            if a is not None
        ]
        if len(given) != 1:
            raise TypeError("a Target needs exactly one of access, root, tools, command or url")
        self.server, self.route, self.access = server, route, given[0]
        self.version, self.digest, self.package = version, digest, package
        self.env = dict(env or {})
        self.warnings = list(warnings or [])

    @property
    def root(self) -> Path | None:
        return self.access.root if isinstance(self.access, ReadTree) else None

    @property
    def tools(self) -> list[Tool] | None:
        return self.access.tools if isinstance(self.access, AlreadyListed) else None

    @property
    def command(self) -> list[str] | None:
        return self.access.command if isinstance(self.access, RunCommand) else None

    @property
    def url(self) -> str | None:
        return self.access.url if isinstance(self.access, ConnectUrl) else None


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

    def file_server(self, path: Path, kind: str, default_id: str) -> ServerRef:
        """The server a file or tree on this machine stands for: its id is --name, else `default_id`."""
        return ServerRef(id=self.name or default_id, source=str(path), kind=kind, name=self.name)


def default_cache_dir() -> Path:
    if env := os.environ.get("CATALOG_CACHE"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcp-catalog"


def resolve(source: str, options: ResolveOptions) -> list[Target]:
    """Find the server(s) a source string names; raise CatalogError when it names none."""
    source = source.strip()  # each source kind's module is imported only when a source of that kind comes
    if source.startswith("pypi:"):
        from catalog.sources import pypi

        return [pypi.resolve(source.removeprefix("pypi:"), options)]
    if source.startswith("npm:"):
        from catalog.sources import npm

        return [npm.resolve(source.removeprefix("npm:"), options)]
    if source.startswith("stdio:"):
        from catalog.sources import command

        return [command.resolve(source.removeprefix("stdio:"), options)]
    if source.startswith(("http://", "https://")) and not GITHUB_REPO.match(source):
        from catalog.sources import url

        return [url.resolve(source, options)]
    path = Path(source).expanduser()
    if path.exists():
        if path.is_file() and path.suffix.lower() == ".json":
            from catalog.sources import manifest

            return manifest.resolve(path, options)
        from catalog.sources import local

        return [local.resolve(path, options)]
    if match := GITHUB_REPO.match(source):
        from catalog.sources import github

        return [github.resolve(match.group(1), match.group(2), options)]
    raise CatalogError(
        f"unknown source {source!r}: expected owner/repo, pypi:NAME, npm:NAME, a path, a .json file, "
        "a URL or --cmd",
        kind="usage",
    )


class Fetched(Protocol):
    """A package downloaded and unpacked into `root` (npm's Packed, PyPI's Downloaded)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def root(self) -> Path: ...
    @property
    def digest(self) -> str: ...


def package_target(ecosystem: str, got: Fetched, server: ServerRef, label: str) -> Target:
    """The target that reads a fetched package's tree statically; `label` names the release in the route."""
    return Target(
        server=server,
        route=f"{ecosystem} package {label}, read statically",
        version=got.version,
        digest=got.digest,
        root=got.root,
        package=Package(ecosystem, got.name, got.version),
    )
