"""A server started from a command line the user gives (`--cmd "..."` or `stdio:...`), crawled live."""

from __future__ import annotations

import shlex
from pathlib import Path

from catalog.models import CatalogError, ServerRef
from catalog.sources import ResolveOptions, Target


def resolve(command_line: str, options: ResolveOptions) -> Target:
    try:
        argv = shlex.split(command_line)
    except ValueError as exc:
        raise CatalogError(f"cannot parse command {command_line!r}: {exc}", kind="usage") from None
    if not argv:
        raise CatalogError("empty command", kind="usage")
    server_id = options.name or "cmd:" + " ".join([Path(argv[0]).name, *argv[1:]])
    return Target(
        server=ServerRef(id=server_id, source=command_line, kind="command", name=options.name),
        route=f"command over stdio: {command_line}",
        command=argv,
        env=dict(options.env),
    )
