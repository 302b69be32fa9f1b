"""A throwaway writable view of a folder the server shares with others (site-packages): a server whose code is a
single top-level module writes next to it, into site-packages itself, which must stay read-only and is too
large to copy. The view holds copies of the distribution's own entries and symlinks to everything else, is
bound at the folder's path, and the original stays visible read-only at ORIGINALS/N for the symlinks."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

ORIGINALS = "/run/catalog-originals"  # inside the sandbox's fresh /run
MAX_COPY_BYTES = 16 * 1024 * 1024


@dataclass
class Views:
    """Read-write binds (view, path it stands for), read-only binds (original, its alias), and the scratch
    folders left to copy as a whole (those not inside a viewed folder)."""

    scratch: list[tuple[str, str]] = field(default_factory=list)
    originals: list[tuple[str, str]] = field(default_factory=list)
    rest: list[str] = field(default_factory=list)


def views(paths: list[str], under: Path) -> Views:
    """For every scratch path that is a file (a top-level module), a view of its folder; the scratch folders
    directly in that folder are copied into the view rather than copied separately."""
    found = Views()
    files = [path for path in dict.fromkeys(paths) if os.path.isfile(path)]
    parents = list(dict.fromkeys(os.path.dirname(path) for path in files))
    for number, parent in enumerate(parents):
        own = [path for path in paths if os.path.dirname(path) == parent and os.path.exists(path)]
        alias = f"{ORIGINALS}/{number}"
        view = under / f"view-{number}"
        _fill(view, parent, {os.path.basename(path) for path in own}, alias)
        found.scratch.append((str(view), parent))
        found.originals.append((parent, alias))
    found.rest = [path for path in paths if os.path.isdir(path) and os.path.dirname(path) not in parents]
    return found


def _fill(view: Path, folder: str, own: set[str], alias: str) -> None:
    """Copies of `own` entries (a folder larger than MAX_COPY_BYTES is linked, so it stays read-only), links
    to the original for the rest."""
    view.mkdir(parents=True)
    for entry in os.scandir(folder):
        target = view / entry.name
        if entry.name in own and entry.is_file(follow_symlinks=False):
            shutil.copy2(entry.path, target)
        elif entry.name in own and entry.is_dir(follow_symlinks=False) and tree_bytes(entry.path) <= MAX_COPY_BYTES:
            shutil.copytree(entry.path, target, symlinks=True)
        else:
            os.symlink(f"{alias}/{entry.name}", target)


MAX_COPY_FILES = 2000


def tree_bytes(folder: str) -> int:
    """Bytes under a folder (node_modules aside), counted until the copy cap; past MAX_COPY_FILES files,
    more than the cap."""
    total, count = 0, 0
    for root, subfolders, files in os.walk(folder):
        subfolders[:] = [d for d in subfolders if d != "node_modules"]
        count += len(files)
        if count > MAX_COPY_FILES:
            return MAX_COPY_BYTES + 1
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
        if total > MAX_COPY_BYTES:
            break
    return total
    return total
