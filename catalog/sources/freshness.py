"""How long an unversioned `pypi:` / `npm:` source reuses the newest version already cached before asking
its registry again (`CATALOG_MAX_AGE`, seconds; 0 asks every time)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from catalog.models import CatalogError

MAX_AGE_VARIABLE = "CATALOG_MAX_AGE"
DEFAULT_MAX_AGE = 24 * 3600.0
LATEST = "latest.json"


def max_age() -> float:
    raw = os.environ.get(MAX_AGE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_AGE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise CatalogError(f"{MAX_AGE_VARIABLE} must be a number of seconds >= 0, not {raw!r}", kind="usage")
    return value


def recent_latest(base: Path) -> str | None:
    """The newest version recorded under `base` when it was learnt within the max age, else None."""
    age = max_age()
    if age == 0:
        return None
    try:
        record = json.loads((base / LATEST).read_text(encoding="utf-8"))
        version, checked = str(record["version"]), float(record["checked"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not version or "/" in version or version.startswith(".") or not 0 <= time.time() - checked <= age:
        return None
    return version


def remember_latest(base: Path, version: str) -> None:
    base.mkdir(parents=True, exist_ok=True)
    partial = base / f".{LATEST}.{os.getpid()}"
    partial.write_text(json.dumps({"version": version, "checked": time.time()}), encoding="utf-8")
    partial.replace(base / LATEST)
