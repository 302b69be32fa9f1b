"""`pypi:NAME[==VER]`: download the wheel with pip, or the sdist from the index page (never building it),
cache it, read it statically."""

from __future__ import annotations

import email.parser
import hashlib
import os
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
from catalog.sources import ResolveOptions, Target, package_target

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
    server = ServerRef(id=server_id, source=source, kind=kind)
    return package_target("pypi", got, server, f"{got.name}=={got.version} ({got.kind})")


def parse_spec(spec: str) -> tuple[str, str | None]:
    match = SPEC.match(spec.strip())
    if not match:
        raise CatalogError(f"bad PyPI spec {spec!r}: expected NAME or NAME==VERSION", kind="usage")
    return match.group(1), match.group(2)


def download(name: str, version: str | None, cache_dir: Path) -> Downloaded:
    """The cached download of NAME (the newest version when none is given), fetching it if needed."""
    from catalog.sources.freshness import recent_latest, remember_latest

    base = cache_dir / "pypi" / normalize(name)
    if version and (cached := _cached(base / version)):
        return cached
    if version is None and (latest := recent_latest(base)) and (cached := _cached(base / latest)):
        return cached  # the newest version was learnt recently: no need to ask the index again
    with tempfile.TemporaryDirectory(prefix="pypi-", dir=_ensure(cache_dir)) as tmp:
        archive = _pip_download_wheel(name, version, Path(tmp)) or _sandboxed_sdist(name, version, Path(tmp))
        got_version = _version_from_filename(archive.name) or version or "unknown"
        dest = base / got_version
        if version is None:
            remember_latest(base, got_version)
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
    """The sdist file itself, fetched from the configured index without building it: nothing of the
    package runs (pip would run its build backend to read its metadata)."""
    return fetch_sdist(name, version, dest)


SDIST_SUFFIXES = (".tar.gz", ".zip")
MAX_SDIST_BYTES = 200 * 1024**2


def fetch_sdist(name: str, version: str | None, dest: Path, find_links: list[Path] | None = None) -> Path:
    """Download the sdist of NAME (VERSION, else the newest release) into `dest` from the find-links
    folders, else the package indexes pip is configured with (PEP 503 pages), checking its sha256.
    A plain download: no package code runs."""
    spec = name + (version if version and version[0] in RANGE_START else f"=={version}" if version else "")
    for folder in [*(find_links or []), *_config_find_links()]:
        files = {p.name: p.as_uri() for p in Path(folder).glob("*") if p.is_file()} if folder.is_dir() else {}
        if chosen := _choose_sdist(files, name, version):
            return _download_file(chosen[1], dest / chosen[0])
    for index in _index_urls():
        links = _index_links(index, name)
        if chosen := _choose_sdist(links, name, version):
            return _download_file(chosen[1], dest / chosen[0])
    raise CatalogError(f"no sdist or wheel of {spec!r} in the package index", kind="not_found")


RANGE_START = "<>=!~"  # a version that starts so is a specifier (">=2.12,<=2.14.2"): the newest release in it


def _choose_sdist(links: dict[str, str], name: str, version: str | None) -> tuple[str, str] | None:
    """The sdist among `links` (file name -> URL) for NAME and VERSION (an exact version, or a specifier
    whose newest final release is taken), else the newest final release."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    allowed: SpecifierSet | None = None
    if version and version[0] in RANGE_START:
        try:
            allowed = SpecifierSet(version)
        except InvalidSpecifier:
            return None
        version = None
    found: list[tuple[Version, str]] = []
    for filename in links:
        if not filename.endswith(SDIST_SUFFIXES) or "/" in filename or filename.startswith("."):
            continue
        stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
        dist, _, got = stem.rpartition("-")
        if normalize(dist) != normalize(name):
            continue
        try:
            parsed = Version(got)
        except InvalidVersion:
            continue
        if version is not None:
            try:
                if parsed == Version(version):
                    return filename, links[filename]
            except InvalidVersion:
                if got == version:
                    return filename, links[filename]
            continue
        if not parsed.is_prerelease and (allowed is None or parsed in allowed):
            found.append((parsed, filename))
    if not found:
        return None
    newest = max(found)[1]
    return newest, links[newest]


def _index_urls() -> list[str]:
    """The index and extra indexes pip uses here (its environment variables, else its configuration,
    else its own default)."""
    primary = os.environ.get("PIP_INDEX_URL") or _pip_config().get("index-url")
    if not primary:
        from pip._internal.models.index import PyPI

        primary = PyPI.simple_url
    extra = os.environ.get("PIP_EXTRA_INDEX_URL") or _pip_config().get("extra-index-url") or ""
    return [primary, *extra.split()]


def _config_find_links() -> list[Path]:
    value = os.environ.get("PIP_FIND_LINKS") or _pip_config().get("find-links") or ""
    return [
        Path(v.removeprefix("file://")) for v in value.split() if "://" not in v or v.startswith("file://")
    ]


_PIP_CONFIG: dict[str, str] | None = None


def _pip_config() -> dict[str, str]:
    """pip's configured `global.*` settings (from pip itself, so every config file counts)."""
    global _PIP_CONFIG
    if _PIP_CONFIG is None:
        command = [sys.executable, "-m", "pip", "config", "list", "--disable-pip-version-check"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
            )
            lines = done.stdout.splitlines()
        except (OSError, subprocess.TimeoutExpired):
            lines = []
        found: dict[str, str] = {}
        for line in lines:
            key, _, value = line.partition("=")
            scope, _, option = key.partition(".")
            if scope in ("global", "download", "install") and option:
                found.setdefault(option, value.strip().strip("'\""))
        _PIP_CONFIG = found
    return _PIP_CONFIG


def _index_links(index: str, name: str) -> dict[str, str]:
    """File name -> URL (with its #sha256= fragment) from an index's PEP 503 page for NAME."""
    from html.parser import HTMLParser
    from urllib.parse import unquote, urljoin, urlsplit

    page_url = index.rstrip("/") + f"/{normalize(name)}/"
    if page_url.startswith("file://"):
        folder = Path(unquote(urlsplit(page_url).path))
        page = folder / "index.html"
        if page.is_file():
            text = page.read_text("utf-8", "replace")
        elif folder.is_dir():
            return {p.name: p.as_uri() for p in folder.iterdir() if p.is_file()}
        else:
            return {}
    else:
        import httpx

        try:
            response = httpx.get(page_url, headers={"Accept": "text/html"}, timeout=30, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise CatalogError(
                f"package index unreachable ({type(exc).__name__})", kind="needs_network"
            ) from None
        if response.status_code == 404:
            return {}
        if response.status_code != 200:
            raise CatalogError(f"package index answered {response.status_code}", kind="download_failed")
        text, page_url = response.text, str(response.url)

    links: dict[str, str] = {}

    class Anchors(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            href = dict(attrs).get("href") if tag == "a" else None
            if href:
                url = urljoin(page_url, href)
                links.setdefault(unquote(urlsplit(url).path.rsplit("/", 1)[-1]), url)

    Anchors().feed(text)
    return links


def _download_file(url: str, target: Path) -> Path:
    """Stream `url` into `target` (size capped), checking the sha256 its index page gave."""
    import httpx

    digest = url.partition("#sha256=")[2].lower()
    url = url.split("#", 1)[0]
    hasher = hashlib.sha256()
    size = 0
    if url.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        shutil.copyfile(unquote(urlsplit(url).path), target)
        hasher.update(target.read_bytes())
    else:
        try:
            with httpx.stream("GET", url, timeout=60, follow_redirects=True) as response:
                response.raise_for_status()
                with open(target, "wb") as handle:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > MAX_SDIST_BYTES:
                            raise CatalogError(f"{target.name} is larger than 200 MB", kind="download_failed")
                        hasher.update(chunk)
                        handle.write(chunk)
        except httpx.HTTPError as exc:
            raise CatalogError(
                f"downloading {target.name} failed ({type(exc).__name__})", kind="download_failed"
            ) from None
    if digest and hasher.hexdigest() != digest:
        target.unlink(missing_ok=True)
        raise CatalogError(f"{target.name}: sha256 differs from the index's", kind="download_failed")
    return target


def _version_from_filename(filename: str) -> str | None:
    if filename.endswith(".whl"):
        return filename.split("-")[1]
    stem = re.sub(r"\.(tar\.gz|zip)$", "", filename)
    return stem.rsplit("-", 1)[-1] if "-" in stem else None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
