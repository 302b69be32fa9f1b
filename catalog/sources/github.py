"""`owner/repo`: the GitHub archive when reachable, else the published package whose metadata names the repo."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

from catalog.archive import extract_archive
from catalog.models import CatalogError
from catalog.sources import ResolveOptions, Target, npm, pypi

MAX_ARCHIVE_BYTES = 200_000_000


def resolve(owner: str, repo: str, options: ResolveOptions) -> Target:
    server_id = f"{owner}/{repo}"
    try:
        target = _from_github(owner, repo, options)
    except CatalogError as unreachable:
        target = _from_package(owner, repo, options, because=str(unreachable))
        return target
    if options.live:
        try:  # a live crawl needs something to install; the repository itself is never built
            target.package = _from_package(owner, repo, options, because="").package
        except CatalogError as exc:
            target.warnings.append(f"no published package to run live: {exc}")
    target.server.id = server_id
    return target


# -- the GitHub route --------------------------------------------------------------------------------


def _from_github(owner: str, repo: str, options: ResolveOptions) -> Target:
    import httpx

    from catalog.models import ServerRef

    url = f"{options.github_url.rstrip('/')}/{owner}/{repo}/archive/HEAD.tar.gz"
    dest = options.cache_dir / "github" / owner / repo
    timeout = httpx.Timeout(options.github_timeout * 10, connect=options.github_timeout)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code == 404:
                raise CatalogError(f"GitHub has no repository {owner}/{repo}", kind="not_found")
            response.raise_for_status()
            blob = _read_capped(response)
    except httpx.HTTPError as exc:
        raise CatalogError(f"GitHub unreachable ({type(exc).__name__})", kind="needs_network") from None
    digest = hashlib.sha256(blob).hexdigest()
    root = dest / digest[:16]
    if not root.exists():
        part = root.with_suffix(".part")
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        (part.parent / f"{digest[:16]}.tar.gz").write_bytes(blob)
        extract_archive(part.parent / f"{digest[:16]}.tar.gz", part)
        part.rename(root)
    tops = [p for p in root.iterdir() if p.is_dir()]
    source_root = tops[0] if len(tops) == 1 else root
    return Target(
        server=ServerRef(id=f"{owner}/{repo}", source=f"{owner}/{repo}", kind="github"),
        route=f"github archive {url}, read statically",
        version=source_root.name.removeprefix(f"{repo}-") if source_root != root else None,
        digest=digest,
        root=source_root,
    )


def _read_capped(response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ARCHIVE_BYTES:
            raise CatalogError("repository archive larger than 200 MB; refusing it", kind="bad_archive")
        chunks.append(chunk)
    return b"".join(chunks)


# -- the package route ---------------------------------------------------------------------------------


def names_repository(url: str, owner: str, repo: str) -> bool:
    """True when a metadata URL points at github.com/owner/repo (any clone or browse form)."""
    match = re.search(r"github\.com[/:]([^/\s]+)/([^/\s#?]+)", url, re.IGNORECASE)
    if not match:
        return False
    found_owner, found_repo = match.group(1), re.sub(r"\.git$", "", match.group(2))
    return found_owner.lower() == owner.lower() and found_repo.lower() == repo.lower()


def _github_urls(urls: list[str]) -> list[str]:
    return [u for u in urls if "github.com" in u.lower()]


def _pypi_candidates(owner: str, repo: str) -> list[str]:
    names = [repo, repo.removesuffix("-mcp-server"), f"{owner}-{repo}"]
    if not repo.lower().startswith("mcp"):
        names.append(f"mcp-server-{repo}")
    seen, unique = set(), []
    for name in names:
        if name and pypi.normalize(name) not in seen:
            seen.add(pypi.normalize(name))
            unique.append(name)
    return unique


def _npm_candidates(owner: str, repo: str) -> list[str]:
    return [f"@{owner.lower()}/{repo.lower()}", repo.lower()]


def _from_package(owner: str, repo: str, options: ResolveOptions, because: str) -> Target:
    server_id, source = f"{owner}/{repo}", f"{owner}/{repo}"
    mismatches: list[str] = []
    for name in _pypi_candidates(owner, repo):
        try:
            got = pypi.download(name, None, options.cache_dir)
        except CatalogError as exc:
            if exc.kind in ("not_found", "needs_sandbox"):
                continue
            raise
        if any(names_repository(u, owner, repo) for u in got.urls):
            return _with_reason(pypi.target_for(got, server_id, source), because, f"pypi {got.name}")
        mismatches.append(
            f"pypi {got.name} names {', '.join(_github_urls(got.urls)) or 'no GitHub repository'}"
        )
    for name in _npm_candidates(owner, repo):
        repository = _npm_repository(name)
        if repository is None:
            continue
        if not names_repository(repository, owner, repo):
            mismatches.append(f"npm {name} names {repository or 'no repository'}")
            continue
        packed = npm.pack(name, None, options.cache_dir)
        return _with_reason(npm.target_for(packed, server_id, source), because, f"npm {packed.name}")
    detail = f"; refused: {'; '.join(mismatches)}" if mismatches else ""
    prefix = f"{because}; " if because else ""
    raise CatalogError(
        f"{prefix}no published package names github.com/{owner}/{repo} in its metadata{detail}",
        kind="not_found",
    )


def _with_reason(target: Target, because: str, found: str) -> Target:
    if because:
        target.route = f"{because}; found {found} whose metadata names this repository; {target.route}"
    target.server.kind = "github"
    return target


def _npm_repository(name: str) -> str | None:
    """The repository URL an npm package declares ('' when none), or None when there is no such package."""
    if not shutil.which("npm"):
        return None
    try:
        done = subprocess.run(
            ["npm", "view", name, "repository", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return None
    try:
        data = json.loads(done.stdout) if done.stdout.strip() else ""
    except json.JSONDecodeError:
        return ""
    if isinstance(data, dict):
        return str(data.get("url", ""))
    return str(data or "")
