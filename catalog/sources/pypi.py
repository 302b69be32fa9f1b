"""`pypi:NAME[==VER]`: download the wheel with pip (never running setup.py), cache it, read it statically."""

from __future__ import annotations

import email.parser
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from catalog.archive import extract_archive
from catalog.models import CatalogError, ServerRef
from catalog.sources import Package, ResolveOptions, Target

SPEC = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:==([A-Za-z0-9.+!_-]+))?$")


@dataclass
class Downloaded:
    """A package file in the cache, its metadata, and where its sources are unpacked."""

    name: str
    version: str
    archive: Path
    root: Path
    digest: str
    urls: list[str]
    kind: str  # wheel | sdist


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(spec: str, options: ResolveOptions, server_id: str | None = None) -> Target:
    name, version = parse_spec(spec)
    got = download(name, version, options.cache_dir)
    return target_for(got, server_id or f"pypi:{normalize(name)}", f"pypi:{spec}")


def target_for(got: Downloaded, server_id: str, source: str) -> Target:
    kind = "github" if "/" in server_id and ":" not in server_id else "pypi"
    return Target(
        server=ServerRef(id=server_id, source=source, kind=kind),
        route=f"pypi package {got.name}=={got.version} ({got.kind}), read statically",
        version=got.version,
        digest=got.digest,
        root=got.root,
        package=Package("pypi", got.name, got.version),
    )


def parse_spec(spec: str) -> tuple[str, str | None]:
    match = SPEC.match(spec.strip())
    if not match:
        raise CatalogError(f"bad PyPI spec {spec!r}: expected NAME or NAME==VERSION", kind="usage")
    return match.group(1), match.group(2)


def download(name: str, version: str | None, cache_dir: Path) -> Downloaded:
    """The cached download of NAME (the newest version when none is given), fetching it if needed."""
    base = cache_dir / "pypi" / normalize(name)
    if version and (cached := _cached(base / version)):
        return cached
    with tempfile.TemporaryDirectory(prefix="pypi-", dir=_ensure(cache_dir)) as tmp:
        archive = _pip_download_wheel(name, version, Path(tmp)) or _sandboxed_sdist(name, version, Path(tmp))
        got_version = _version_from_filename(archive.name) or version or "unknown"
        dest = base / got_version
        if cached := _cached(dest):
            return cached
        dest.mkdir(parents=True, exist_ok=True)
        shutil.move(str(archive), dest / archive.name)
    return _unpack(dest)


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cached(dest: Path) -> Downloaded | None:
    if (dest / "src" / ".complete").exists():
        return _describe(dest)
    return None


def _unpack(dest: Path) -> Downloaded:
    archive = _archive_in(dest)
    src = dest / "src"
    shutil.rmtree(src, ignore_errors=True)
    extract_archive(archive, src)
    (src / ".complete").write_text("")
    return _describe(dest)


def _archive_in(dest: Path) -> Path:
    files = [p for p in dest.iterdir() if p.is_file()]
    if not files:
        raise CatalogError(f"cache entry {dest} holds no package file", kind="bad_cache")
    return files[0]


def _describe(dest: Path) -> Downloaded:
    archive = _archive_in(dest)
    meta = read_metadata(archive, dest / "src")
    return Downloaded(
        name=meta.get("Name") or dest.parent.name,
        version=meta.get("Version") or dest.name,
        archive=archive,
        root=dest / "src",
        digest=hashlib.sha256(archive.read_bytes()).hexdigest(),
        urls=project_urls(meta),
        kind="wheel" if archive.suffix == ".whl" else "sdist",
    )


def read_metadata(archive: Path, unpacked: Path) -> email.message.Message:
    """The core metadata (METADATA of a wheel, PKG-INFO of an sdist), parsed without running anything."""
    text = ""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
            text = zf.read(names[0]).decode("utf-8", "replace") if names else ""
    else:
        infos = sorted(unpacked.glob("*/PKG-INFO")) + sorted(unpacked.glob("PKG-INFO"))
        text = infos[0].read_text("utf-8", "replace") if infos else ""
    return email.parser.Parser().parsestr(text, headersonly=True)


def project_urls(meta: email.message.Message) -> list[str]:
    urls = [value.split(",", 1)[-1].strip() for value in meta.get_all("Project-URL") or []]
    urls += [meta.get("Home-page") or "", meta.get("Download-URL") or ""]
    return [u for u in urls if u]


def _pip(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-input",
        "--timeout",
        "20",
        "-q",
        "-d",
        str(cwd),
        *args,
    ]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise CatalogError("pip download timed out", kind="timeout") from None


def _pip_download_wheel(name: str, version: str | None, dest: Path) -> Path | None:
    """Wheels only: pip would run an sdist's setup.py to read its metadata (TECH.md §3)."""
    spec = f"{name}=={version}" if version else name
    done = _pip(["--only-binary=:all:", "--ignore-requires-python", spec], dest)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode == 0 and wheels:
        return wheels[0]
    if "No matching distribution" in done.stderr or "Could not find a version" in done.stderr:
        return None
    raise CatalogError(f"pip download {spec} failed: {_last_line(done.stderr)}", kind="download_failed")


def _sandboxed_sdist(name: str, version: str | None, dest: Path) -> Path:
    """Fetch an sdist inside bubblewrap: pip runs its setup.py, which must not touch this machine."""
    spec = f"{name}=={version}" if version else name
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise CatalogError(
            f"{spec} has no wheel, and fetching an sdist runs its setup.py; install bubblewrap to allow it "
            "in a sandbox",
            kind="needs_sandbox",
        )
    from catalog.envs import install_env
    from catalog.sandbox import run

    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary=:all:",
        "--ignore-requires-python",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        "-d",
        str(dest),
        spec,
    ]
    # A temporary HOME, a cleared environment and only `dest` writable; network for the download only.
    done = run(command, install_env(), writable=[str(dest)], network=True, timeout=300)
    archives = sorted(p for p in dest.iterdir() if p.is_file() and p.name.endswith((".tar.gz", ".zip")))
    if archives:
        return archives[0]
    if "No matching distribution" in done.stderr or "Could not find a version" in done.stderr:
        raise CatalogError(f"no package {spec!r} in the package index", kind="not_found")
    raise CatalogError(
        f"sandboxed download of {spec} failed: {_last_line(done.stderr)}", kind="download_failed"
    )


def _version_from_filename(filename: str) -> str | None:
    if filename.endswith(".whl"):
        return filename.split("-")[1]
    stem = re.sub(r"\.(tar\.gz|zip)$", "", filename)
    return stem.rsplit("-", 1)[-1] if "-" in stem else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
