"""A local source tree (a checkout) or an archive of one, read statically."""

from __future__ import annotations

import hashlib
from pathlib import Path

from catalog.archive import extract_archive, is_archive
from catalog.models import CatalogError
from catalog.sources import ResolveOptions, Target


def resolve(path: Path, options: ResolveOptions) -> Target:
    path = path.resolve()
    if path.is_dir():
        root, digest, what = path, None, "directory"
    elif is_archive(path):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        root = options.cache_dir / "local" / digest[:16]
        if not root.exists():
            extract_archive(path, root.with_suffix(".part"))
            root.with_suffix(".part").rename(root)
        what = "archive"
    else:
        raise CatalogError(f"{path} is neither a directory, an archive nor a .json file", kind="usage")
    return Target(
        server=options.file_server(path, "local", f"local:{_stem(path)}"),
        route=f"local {what} {path}, read statically",
        digest=digest,
        root=root,
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar", ".zip", ".whl"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name
