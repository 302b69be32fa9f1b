"""A server whose start downloads another package: a thin wrapper whose entry point runs `npx -y NAME`,
`uvx NAME` or `pipx run NAME`, which waits for a network the sandbox does not have. Seen in the server's
process tree when it gives no answer; the crawl then lists that package through the package route
(installed with network, run without), as for a client config entry that runs it (fallbacks.list_stdio)."""

from __future__ import annotations

import os
from collections.abc import Iterable

from catalog.models import CatalogError, FailureKind

_FETCHERS = ("npx", "uvx", "pipx")


class FetchesAtStart(CatalogError):
    """The server did not answer, and its process tree was running a command that fetches a package."""

    def __init__(self, failure: CatalogError, command: list[str]) -> None:
        shown = " ".join(command)
        super().__init__(
            f"{failure}; it was running '{shown}', which downloads a package when it starts"
            " (the sandbox has no network)",
            FailureKind.NEEDS_NETWORK,
        )
        self.command = command


def fetching_command(pids: Iterable[int]) -> list[str] | None:
    """The first package-fetching command line among these running processes (`npm exec X`, as npx shows
    itself, is given back as `npx X`), or None."""
    from catalog import envs

    for pid in pids:
        command = _normalized(_command_line(pid))
        if command and envs.package_behind(command) is not None:
            return command
    return None


def _command_line(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read(64 * 1024)
    except OSError:
        return []
    parts = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    if len(parts) == 1 and " " in parts[0]:  # a process that rewrote its title (npm: "npm exec NAME")
        parts = parts[0].split()
    return parts


def _normalized(parts: list[str]) -> list[str]:
    """`npm exec [--] X` as `npx X`; `node .../npx-cli.js X` or `python .../pipx run X` from the fetcher on."""
    names = [os.path.basename(part) for part in parts]
    if names[:2] == ["npm", "exec"]:
        rest = parts[2:]
        return ["npx", *(rest[1:] if rest[:1] == ["--"] else rest)]
    if names[:3] == ["uv", "tool", "uvx"]:
        return ["uvx", *parts[3:]]
    for number, name in enumerate(names[:3]):
        stem = name.removesuffix("-cli.js").removesuffix(".js")
        if stem in _FETCHERS:
            return [stem, *parts[number + 1 :]]
    return []
