"""`npm:NAME[@VER]`: fetch the tarball with `npm pack` (no scripts run), cache it, read it statically."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from catalog.archive import extract_archive
from catalog.models import CatalogError, ServerRef
from catalog.sources import ResolveOptions, Target, package_target

SPEC = re.compile(r"^(@[a-z0-9][\w.-]*/[\w.-]+|[a-z0-9][\w.-]*)(?:@([\w.+-]+))?$", re.IGNORECASE)


@dataclass
class Packed:
    """An npm tarball in the cache and where it is unpacked."""

    name: str
    version: str
    root: Path
    digest: str
    repository: str


def parse_spec(spec: str) -> tuple[str, str | None]:
    match = SPEC.match(spec.strip())
    if not match:
        raise CatalogError(f"bad npm spec {spec!r}: expected NAME or NAME@VERSION", kind="usage")
    return match.group(1), match.group(2)


def resolve(spec: str, options: ResolveOptions, server_id: str | None = None) -> Target:
    name, version = parse_spec(spec)
    got = pack(name, version, options.cache_dir)
    return target_for(got, server_id or f"npm:{name}", f"npm:{spec}")


def target_for(got: Packed, server_id: str, source: str) -> Target:
    kind = "github" if not server_id.startswith("npm:") else "npm"
    server = ServerRef(id=server_id, source=source, kind=kind)
    return package_target("npm", got, server, f"{got.name}@{got.version} (tarball)")


def pack(name: str, version: str | None, cache_dir: Path) -> Packed:
    from catalog.sources.freshness import recent_latest, remember_latest

    base = cache_dir / "npm" / name.replace("/", "__")
    if version and (cached := _cached(base / version)):
        return cached
    if version is None and (latest := recent_latest(base)) and (cached := _cached(base / latest)):
        return cached  # the newest version was learnt recently: no need to ask the registry again
    if not shutil.which("npm"):
        raise CatalogError("npm is not installed; it is needed for npm: sources", kind="needs_tool")
    spec = f"{name}@{version}" if version else name
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pack-", dir=base) as tmp:
        info = _npm_pack(spec, Path(tmp))
        dest = base / info["version"]
        if version is None:
            remember_latest(base, str(info["version"]))
        if cached := _cached(dest):
            return cached
        dest.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / info["filename"]), dest / "package.tgz")
    src = dest / "src"
    shutil.rmtree(src, ignore_errors=True)
    extract_archive(dest / "package.tgz", src)
    (src / ".complete").write_text("")
    return _describe(dest)


def _npm_pack(spec: str, dest: Path) -> dict:
    command = ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(dest)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=300, cwd=dest, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise CatalogError(f"npm pack {spec} timed out", kind="timeout") from None
    if done.returncode != 0:
        if "E404" in done.stderr or "404" in done.stderr or "ETARGET" in done.stderr:
            raise CatalogError(f"no npm package {spec!r}", kind="not_found")
        raise CatalogError(f"npm pack {spec} failed: {_last_line(done.stderr)}", kind="download_failed")
    try:
        return json.loads(done.stdout)[0]
    except (json.JSONDecodeError, IndexError, KeyError):
        raise CatalogError(f"npm pack {spec} gave unreadable output", kind="download_failed") from None


def _cached(dest: Path) -> Packed | None:
    if (dest / "src" / ".complete").exists():
        return _describe(dest)
    return None


def _describe(dest: Path) -> Packed:
    manifest = _package_json(dest / "src")
    repo = manifest.get("repository")
    repo_url = repo.get("url", "") if isinstance(repo, dict) else str(repo or "")
    return Packed(
        name=manifest.get("name") or dest.parent.name.replace("__", "/"),
        version=manifest.get("version") or dest.name,
        root=dest / "src",
        digest=hashlib.sha256((dest / "package.tgz").read_bytes()).hexdigest(),
        repository=repo_url,
    )


def _package_json(src: Path) -> dict:
    for candidate in (src / "package" / "package.json", *sorted(src.glob("*/package.json"))):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text("utf-8"))
                return data if isinstance(data, dict) else {}
            except json.JSONDecodeError:
                return {}
    return {}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
