"""Per-package environments for live crawls: a uv venv or an npm prefix per name and version, installed
in the sandbox (network on, HOME hidden), cached behind a completion marker and a lock."""

from __future__ import annotations

import configparser
import email.parser
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from catalog import envvars, sandbox
from catalog.models import CatalogError

Progress = Callable[[str], None]  # told how an install is getting on, about once a second

COMPLETE = ".catalog-complete"
INSTALL_NOTES = ".catalog-install-notes"
PYPI_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
NPM_NAME = re.compile(r"^(?:@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$", re.IGNORECASE)
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
# Settings an install needs to reach the registry from a cleared environment (TECH.md §2: CA files).
PASSED_TO_INSTALLS = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_CERT",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX_STRATEGY",
    "UV_NATIVE_TLS",
    "npm_config_registry",
    "NPM_CONFIG_REGISTRY",
)

INSTALL_TIMEOUT_S = 900  # how long one package's install (and its native build) may take


@dataclass
class Prepared:
    """An installed server: the command that starts it and the paths the sandbox must show read-only."""

    command: list[str]
    binds: list[str]
    root: Path
    notes: list[str] = field(default_factory=list)
    env_names: list[str] = field(default_factory=list)  # variables its own files read (see envvars)
    env_values: dict[str, str] = field(default_factory=dict)  # values a schema or an SDK fixes for some
    scratch: list[str] = field(default_factory=list)  # its own code's folders: writable throwaway copies


def python_env(
    name: str, version: str, env_dir: Path, *, find_links: Path | None = None, sandbox_enabled: bool = True,
    progress: Progress | None = None,
) -> Prepared:
    """A venv holding NAME==VERSION (installed once, then reused) and its console script.

    With `find_links`, packages come from that directory only (no index is asked). `progress` is told
    how an install is getting on (packages downloaded and installed so far), about once a second."""
    _check_name(name, version, PYPI_NAME, "PyPI")
    root = Path(env_dir).absolute() / "pypi" / f"{_normalize(name)}-{version}"

    def install(target: Path) -> None:
        watch = _install_watch(target, target.parent / ".uv-cache" / "archive-v0", progress)
        _install_with_fitting_python(name, version, target, find_links, sandbox_enabled, INSTALL_TIMEOUT_S, watch)

    _ensure_installed(root, install)
    base = _venv_base_prefix(root)
    dist_info = _dist_info(root, name)
    command = python_entry_point(root, name, dist_info)
    reads = _python_env_reads(dist_info)
    return Prepared(
        command,
        [str(root), str(base)],
        root,
        env_names=reads.names,
        env_values=reads.values,
        scratch=_python_code_folders(dist_info),
    )


def _python_code_folders(dist_info: Path) -> list[str]:
    """The top-level folders the distribution installed into site-packages (where its code lives), and its
    top-level module files."""
    site = dist_info.parent
    record = dist_info / "RECORD"
    lines = record.read_text("utf-8", "replace").splitlines() if record.is_file() else []
    tops = {line.split(",", 1)[0].split("/", 1)[0] for line in lines if "/" in line.split(",", 1)[0]}
    folders = [site / top for top in sorted(tops) if top not in ("..", dist_info.name) and not top.endswith(".data")]
    found = [str(folder) for folder in folders if folder.is_dir() and not folder.is_symlink()]
    return found + _top_level_modules(site, lines)


def _top_level_modules(site: Path, record_lines: list[str]) -> list[str]:
    """The distribution's single-file modules right in site-packages: a server that writes next to one gets a
    throwaway view of site-packages (siteview), not a copy of it."""
    names = sorted({line.split(",", 1)[0] for line in record_lines if line.split(",", 1)[0].endswith(".py")})
    return [str(site / name) for name in names if "/" not in name and (site / name).is_file()]


def _python_env_reads(dist_info: Path) -> envvars.Reads:
    """Variables read by the files the distribution installed (its RECORD), and those of the cloud SDKs
    installed with it."""
    site = dist_info.parent.resolve()
    record = dist_info / "RECORD"
    lines = record.read_text("utf-8", "replace").splitlines() if record.is_file() else []
    files = []
    for line in lines:
        relative = line.split(",", 1)[0]
        path = (site / relative).resolve()
        if site in path.parents and relative.endswith(envvars.SOURCE_SUFFIXES + ("server.json", "manifest.json")):
            files.append(path)
    return _with_sdk_variables(envvars.read_files(files[: envvars.MAX_FILES]), site)


def _with_sdk_variables(reads: envvars.Reads, installed: Path) -> envvars.Reads:
    sdk = envvars.sdk_variables(installed)
    reads.names += [name for name in sdk if name not in reads.names]
    reads.values = {**sdk, **reads.values}
    return reads


def _install_with_fitting_python(
    name: str,
    version: str,
    root: Path,
    find_links: Path | None,
    sandbox_enabled: bool,
    timeout: float,
    watch: Callable[[], None] | None = None,
) -> None:
    """Install with the newest Python on the machine; when the release's Requires-Python rules it out,
    with the newest one that fits, or fail saying which version is needed (never an older release)."""
    from catalog import runtimes

    what = f"{name}=={version}"
    interpreter = runtimes.python_satisfying(None, what)
    tried: list[runtimes.Interpreter] = []
    while True:
        try:
            _install_python(name, version, root, interpreter.prefix, find_links, sandbox_enabled, timeout, watch)
        except CatalogError as error:
            needed = runtimes.python_requirement_in(str(error))
            if needed is None or error.kind != "install_failed":
                raise
        else:  # installers skip the check for local wheels: read the installed metadata too
            needed = _requires_python(root, name)
            if needed is None or runtimes.satisfies(interpreter, needed):
                return
        tried.append(interpreter)
        interpreter = runtimes.python_satisfying(needed, what)
        if interpreter in tried:
            raise CatalogError(
                f"{what} needs Python {needed}; tried {', '.join(i.label for i in tried)}",
                kind="needs_runtime",
            )
        for entry in list(root.iterdir()):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _requires_python(root: Path, name: str) -> str | None:
    meta = _dist_info(root, name) / "METADATA"
    headers = email.parser.Parser().parsestr(meta.read_text("utf-8", "replace"), headersonly=True)
    return (headers.get("Requires-Python") or "").strip() or None


def _venv_base_prefix(root: Path) -> Path:
    """The prefix of the interpreter a venv was made from (its pyvenv.cfg `home`), which the sandbox shows."""
    config = root / "pyvenv.cfg"
    try:
        for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                home = Path(os.path.realpath(value.strip()))
                return home.parent if home.name == "bin" else home
    except OSError:
        pass
    return _base_prefix()


def npm_env(
    name: str, version: str, env_dir: Path, *, tarball: Path | None = None, sandbox_enabled: bool = True,
    progress: Progress | None = None,
) -> Prepared:
    """An npm prefix holding NAME@VERSION and the command of its `bin`. Packages install without their
    scripts; the scripts (native builds) then run by themselves in the sandbox, never outside it.

    With `tarball`, the package comes from that local file instead of the registry. `progress` as for
    python_env."""
    _check_name(name, version, NPM_NAME, "npm")
    root = Path(env_dir).absolute() / "npm" / f"{name.replace('/', '+')}-{version}"

    def install(target: Path) -> None:
        spec = str(Path(tarball).absolute()) if tarball else f"{name}@{version}"
        watch = _install_watch(target, None, progress)
        _install_npm(spec, f"{name}@{version}", target, sandbox_enabled, INSTALL_TIMEOUT_S, watch)

    _ensure_installed(root, install)
    notes_file = root / INSTALL_NOTES
    notes = notes_file.read_text(encoding="utf-8").splitlines() if notes_file.is_file() else []
    binds = [str(root)] + ([str(Path(tarball).absolute().parent)] if tarball else [])
    entry = npm_entry_point(root, name)
    reads = envvars.read_files(envvars.package_files(root / "node_modules" / name))
    reads = _with_sdk_variables(reads, root / "node_modules")
    scratch = [str(root / "node_modules" / name)]
    if _is_native_binary(entry):
        return Prepared([str(entry)], binds, root, notes, reads.names, reads.values, scratch)
    node, node_binds = _node_for(
        root, name, version, Path(env_dir).absolute(), sandbox_enabled, INSTALL_TIMEOUT_S
    )
    return Prepared([node, str(entry)], binds + node_binds, root, notes, reads.names, reads.values, scratch)


def _node_for(
    root: Path, name: str, version: str, env_dir: Path, sandbox_enabled: bool, timeout: float
) -> tuple[str, list[str]]:
    """The machine's node when it meets the package's engines.node, else a Node build from the npm
    registry installed once under env_dir/runtimes (needs_runtime when that fails)."""
    from catalog import runtimes

    def install(spec: str, target: Path) -> None:
        _ensure_installed(target, lambda t: _install_npm(spec, spec, t, sandbox_enabled, timeout))

    wanted = engines_node(root / "node_modules" / name)
    return runtimes.node_for(wanted, env_dir / "runtimes", f"{name}@{version}", install)


def engines_node(package_dir: Path) -> str | None:
    """The package's `engines.node` range, if it declares one."""
    try:
        manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    engines = manifest.get("engines") if isinstance(manifest, dict) else None
    wanted = engines.get("node") if isinstance(engines, dict) else None
    return wanted.strip() if isinstance(wanted, str) and wanted.strip() not in ("", "*") else None


def _is_native_binary(path: Path) -> bool:
    """A bin that is a compiled program (a Go or Rust server shipped through npm), not JavaScript."""
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"


def python_entry_point(root: Path, name: str, dist_info: Path | None = None) -> list[str]:
    """The command of the installed distribution: its console script (the one named after the package
    when it has several), else `python -m PACKAGE` when the package has a __main__."""
    dist_info = dist_info or _dist_info(root, name)
    scripts = _console_scripts(dist_info)
    chosen = _pick_command(name, sorted(scripts), "console script")
    if chosen:
        return [str(root / "bin" / chosen)]
    module = _runnable_module(dist_info)
    if module:
        return [str(root / "bin" / "python"), "-m", module]
    raise CatalogError(
        f"{name} declares no console script and no runnable module; run it with --cmd instead",
        kind="no_entry_point",
    )


def npm_entry_point(root: Path, name: str) -> Path:
    """The file named by the package's package.json `bin` (the entry named after the package when several)."""
    package_dir = root / "node_modules" / name
    try:
        manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CatalogError(
            f"{name}: unreadable package.json after install ({error})", kind="bad_package"
        ) from None
    bins = manifest.get("bin")
    if isinstance(bins, str):
        bins = {name.rsplit("/", 1)[-1]: bins}
    if not isinstance(bins, dict):
        bins = {}
    main = manifest.get("main")
    runs_main = frozenset(
        command for command, target in bins.items()
        if isinstance(main, str) and isinstance(target, str) and os.path.normpath(target) == os.path.normpath(main)
    )
    chosen = _pick_command(name.rsplit("/", 1)[-1], sorted(bins), "bin entry", runs_main)
    if chosen is None:
        return _npm_module_entry(package_dir, manifest, name)
    path = (package_dir / str(bins[chosen])).resolve()
    if package_dir.resolve() not in path.parents or not path.is_file():
        raise CatalogError(
            f"{name}: bin {chosen!r} points outside the package or to nothing", kind="bad_package"
        )
    return path


def _npm_module_entry(package_dir: Path, manifest: dict, name: str) -> Path:
    """For a package without a bin: its `main`, its `exports` root, else its one dist/**/server.js."""
    inside = package_dir.resolve()
    for declared in (manifest.get("main"), _export_root(manifest.get("exports"))):
        if isinstance(declared, str) and declared:
            path = (package_dir / declared).resolve()
            if inside in path.parents and path.is_file():
                return path
    servers = sorted(
        p for p in package_dir.glob("dist/**/server.*js") if "node_modules" not in p.relative_to(package_dir).parts
    )
    if len(servers) == 1:
        return servers[0].resolve()
    raise CatalogError(
        f"{name} declares no bin, main or exports in package.json"
        + (f" and has {len(servers)} dist/**/server.js files" if servers else "")
        + "; run it with --cmd instead",
        kind="no_entry_point",
    )


def _export_root(exports: object) -> str | None:
    """The file `exports` maps the package root to (a string, or the node/import/require/default condition)."""
    if isinstance(exports, dict) and "." in exports:
        exports = exports["."]
    for _ in range(4):
        if isinstance(exports, str):
            return exports
        if not isinstance(exports, dict):
            return None
        exports = next((exports[k] for k in ("node", "import", "require", "default") if k in exports), None)
    return None


def _pick_command(name: str, candidates: list[str], what: str, runs_main: frozenset[str] = frozenset()) -> str | None:
    """The one command that starts the server: the only one; else the one named after the package; else the
    one whose name ends with it (`acme-jira-mcp` for `jira-mcp`, not `jira-mcp-check`); else the one bin that
    runs the package's own `main`."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    wanted = _normalize(name)
    for matches in (
        [c for c in candidates if _normalize(c) == wanted],
        [c for c in candidates if _normalize(c).endswith("-" + wanted)],
        [c for c in candidates if c in runs_main],
    ):
        if len(matches) == 1:
            return matches[0]
    raise CatalogError(
        f"{name} installs several commands ({', '.join(candidates)}) and no {what} is named after the "
        "package; run the right one with --cmd",
        kind="no_entry_point",
    )


def _install_watch(
    root: Path, downloads: Path | None, progress: Progress | None
) -> Callable[[], None] | None:
    """What `progress` is told while an install runs: the packages downloaded (new entries in uv's cache)
    and installed (in site-packages or node_modules) so far, and the seconds it has taken."""
    if progress is None:
        return None
    import time

    started = time.monotonic()
    before = _entries(downloads) if downloads is not None else 0

    def watch() -> None:
        installed = len(list(root.glob("lib/python*/site-packages/*.dist-info"))) or _npm_packages(root / "node_modules")
        parts = [f"{_entries(downloads) - before} downloaded"] if downloads is not None else []
        parts += [f"{installed} installed"] if installed else []
        counts = f": packages {', '.join(parts)}" if parts else ""
        progress(f"installing, {time.monotonic() - started:.0f}s{counts}")  # short: the source is on the line

    return watch


def _entries(*folders: Path) -> int:
    total = 0
    for folder in folders:
        try:
            total += sum(1 for _ in os.scandir(folder))
        except OSError:
            continue
    return total


def _npm_packages(folder: Path) -> int:
    """Top-level packages in a node_modules folder (a scope's folder counts its packages)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    scoped = [entry for entry in entries if entry.name.startswith("@")]
    named = [entry for entry in entries if not entry.name.startswith((".", "@"))]
    return len(named) + sum(_entries(Path(entry.path)) for entry in scoped)


def _ensure_installed(root: Path, install: Callable[[Path], None]) -> None:
    """Install into `root` unless a completed install is there; one installer at a time per root, and
    an interrupted install is wiped and redone rather than reused."""
    if (root / COMPLETE).exists():
        return
    with _locked(root.parent / f"{root.name}.lock"):
        if (root / COMPLETE).exists():
            return
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        try:
            install(root)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        (root / COMPLETE).write_text("")


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    from filelock import FileLock

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path)):
        yield


MAX_SOURCE_BUILDS = 5
NEEDS_BUILD = re.compile(r"Wheels are required for `([^`]+)` because building from source is disabled")


def _install_python(
    name: str,
    version: str,
    root: Path,
    base: Path,
    find_links: Path | None,
    sandbox_enabled: bool,
    timeout: float,
    watch: Callable[[], None] | None = None,
) -> None:
    """Fetch apart from build: wheels are downloaded and installed with network (no package code runs
    then); a package that has only an sdist is downloaded as a file, then built into a wheel with no
    network at all, seeing neither the shared cache nor this environment."""
    uv = _uv()
    cache = root.parent / ".uv-cache"
    cache.mkdir(parents=True, exist_ok=True)
    env = {**install_env(), "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    if not sandbox_enabled:  # hard links into the shared cache are safe only where the env is read-only
        env["UV_LINK_MODE"] = "copy"
    binds = [str(base), *([str(find_links)] if find_links else [])]
    python = _base_python(base)
    fetch = partial(
        sandbox.run,
        binds=binds,
        writable=[str(root), str(cache)],
        network=True,
        enabled=sandbox_enabled,
        timeout=timeout,
        on_wait=watch,
    )
    venv = fetch([uv, "venv", "--quiet", "--python", python, str(root)], env)
    if venv.returncode != 0:
        raise CatalogError(
            f"installing {name}=={version} failed: {_uv_failure(venv.stderr)}", kind="install_failed"
        )
    # Most servers are written for mcp 1.x and many leave it unpinned; 2.x removed mcp.server.fastmcp.
    # Prefer 1.x, and take 2.x only for a server that requires it.
    constraints = cache / "prefer-mcp-1.txt"
    constraints.write_text("mcp<2\n")
    with tempfile.TemporaryDirectory(prefix=f".build-{root.name}-", dir=root.parent) as scratch:
        built = Path(scratch) / "wheels"
        built.mkdir()
        install = [uv, "pip", "install", "--quiet", "--no-progress", "--no-build"]
        install += ["--python", str(root / "bin" / "python"), "--find-links", str(built)]
        install += ["--no-index", "--find-links", str(find_links)] if find_links else []
        fetch = partial(fetch, binds=[*binds, str(built)])
        tried: set[str] = set()
        for _ in range(MAX_SOURCE_BUILDS + 1):
            done = fetch([*install, "--constraint", str(constraints), f"{name}=={version}"], env)
            if done.returncode != 0 and not NEEDS_BUILD.search(done.stderr):
                done = fetch([*install, f"{name}=={version}"], env)
            if done.returncode == 0:
                return
            wanted = NEEDS_BUILD.search(done.stderr)
            if wanted is None:
                break
            package = _normalize(wanted.group(1))
            pinned = version if package == _normalize(name) else _resolved_version(done.stderr, wanted.group(1))
            if f"{package} {pinned}" in tried:  # the same sdist again: building it did not help
                break
            tried.add(f"{package} {pinned}")
            _build_from_source(
                package, pinned, Path(scratch), built, find_links, base, sandbox_enabled, timeout
            )
    raise CatalogError(
        f"installing {name}=={version} failed: {_uv_failure(done.stderr)}", kind="install_failed"
    )


def _resolved_version(stderr: str, package: str) -> str | None:
    """What uv's resolver wanted of a package it found no wheel for, so that a fitting sdist is built:
    the version ("Because pyperclip==1.9.0 has no usable wheels") or the range ("Because
    ibm-cos-sdk>=2.12.0,<=2.14.2 has no usable wheels"); None when uv names neither."""
    wanted = re.search(
        rf"Because {re.escape(package)}((?:[<>=!~]=?[^\s,]+,?)+) has no usable wheels", stderr, re.IGNORECASE
    )
    if wanted is None:
        return None
    spec = wanted.group(1).rstrip(",")
    return spec[2:] if spec.startswith("==") and "," not in spec and "*" not in spec else spec


def _build_from_source(
    package: str,
    version: str | None,
    scratch: Path,
    wheels: Path,
    find_links: Path | None,
    base: Path,
    sandbox_enabled: bool,
    timeout: float,
) -> None:
    """Download the sdist of `package` (a plain file download), install its declared build requirements
    as wheels (network, nothing of the package runs), then build its wheel into `wheels` with no
    network, a private cache, and only `wheels` writable."""
    from catalog.sources.pypi import fetch_sdist

    uv, python = _uv(), _base_python(base)
    work = Path(tempfile.mkdtemp(prefix=f"{package}-", dir=scratch))  # one per build: a range may be built twice
    (work / "sdist").mkdir(parents=True)
    sdist = fetch_sdist(package, version, work / "sdist", [find_links] if find_links else None)
    requires = _build_requires(sdist)
    builder = work / "builder"
    env = {**install_env(), "UV_CACHE_DIR": str(builder.parent / ".uv-cache"), "UV_PYTHON_DOWNLOADS": "never"}
    fetch = partial(
        sandbox.run,
        binds=[str(base), *([str(find_links)] if find_links else [])],
        writable=[str(work)],
        network=True,
        enabled=sandbox_enabled,
        timeout=timeout,
    )
    made = fetch([uv, "venv", "--quiet", "--python", python, str(builder)], env)
    if made.returncode == 0 and requires:
        links = ["--no-index", "--find-links", str(find_links)] if find_links else []
        made = fetch(
            [
                uv,
                "pip",
                "install",
                "--quiet",
                "--no-build",
                "--python",
                str(builder / "bin" / "python"),
                *links,
                *requires,
            ],
            env,
        )
    if made.returncode != 0:
        raise CatalogError(
            f"preparing to build {package} from source failed: {_uv_failure(made.stderr)}",
            kind="install_failed",
        )
    build = [uv, "build", "--quiet", "--wheel", "--no-build-isolation", "--offline"]
    build += ["--python", str(builder / "bin" / "python"), "--out-dir", str(wheels), str(sdist)]
    private = {**env, "UV_CACHE_DIR": str(work / "build-cache"), "UV_OFFLINE": "1"}
    done = sandbox.run(
        build,
        private,
        binds=[str(base), str(builder), str(sdist.parent)],
        writable=[str(wheels), str(work / "build-cache")],
        network=False,
        enabled=sandbox_enabled,
        timeout=timeout,
    )
    if done.returncode != 0 or not any(wheels.glob("*.whl")):
        raise CatalogError(
            f"building {package} from source failed: {_uv_failure(done.stderr)}", kind="install_failed"
        )


def _build_requires(sdist: Path) -> list[str]:
    """The sdist's [build-system] requires, read from its pyproject.toml (no code runs); setuptools when
    it has none, as pip assumes."""
    import tarfile
    import tomllib
    import zipfile

    text = None
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
                if names and archive.getinfo(names[0]).file_size < 1_000_000:
                    text = archive.read(names[0]).decode("utf-8", "replace")
        else:
            with tarfile.open(sdist) as archive:
                for member in archive:
                    if (
                        member.isfile()
                        and member.name.count("/") == 1
                        and member.name.endswith("/pyproject.toml")
                    ):
                        handle = archive.extractfile(member) if member.size < 1_000_000 else None
                        text = handle.read().decode("utf-8", "replace") if handle else None
                        break
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise CatalogError(f"{sdist.name}: unreadable sdist ({error})", kind="bad_package") from None
    legacy = ["setuptools>=40.8.0", "wheel"]
    if text is None:
        return legacy
    try:
        system = tomllib.loads(text).get("build-system")
    except tomllib.TOMLDecodeError:
        return legacy
    if not isinstance(system, dict) or "requires" not in system:
        return legacy
    requires = system["requires"]
    return [r for r in requires if isinstance(r, str)] if isinstance(requires, list) else legacy


def _install_npm(
    spec: str, label: str, root: Path, sandbox_enabled: bool, timeout: float, watch: Callable[[], None] | None = None
) -> None:
    """Fetch apart from build: `npm install --ignore-scripts` downloads with network and runs nothing;
    `npm rebuild` then runs the install scripts with no network, writing only this prefix (its cache is
    the sandbox's temporary HOME, never the shared one)."""
    cache = root.parent / ".npm-cache"
    options = ["--prefix", str(root), "--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error"]
    binds = [str(Path(spec).parent)] if spec.startswith("/") else []
    run = partial(sandbox.run, binds=binds, enabled=sandbox_enabled, timeout=timeout, cwd=str(root), on_wait=watch)
    done = run(
        [_tool("npm"), "install", "--ignore-scripts", "--cache", str(cache), *options, spec],
        install_env(),
        writable=[str(root), str(cache)],
        network=True,
    )
    if done.returncode != 0:
        raise CatalogError(f"installing {label} failed: {_npm_failure(done.stderr)}", kind="install_failed")
    if not sandbox_enabled:
        (root / INSTALL_NOTES).write_text("install scripts not run: they run only in the sandbox\n")
        return
    built = run(
        [_tool("npm"), "rebuild", "--offline", *options],
        {**install_env(), **_node_headers()},
        writable=[str(root)],
        network=False,
    )
    if built.returncode != 0:
        (root / INSTALL_NOTES).write_text(f"install scripts failed: {_npm_failure(built.stderr)}\n")


def _npm_failure(stderr: str) -> str:
    """Why npm failed: the package whose script failed (npm names its path), a 404, else the last line
    that is not npm's pointer to a log file (which it prunes)."""
    lines = stderr.splitlines()
    for line in lines:
        if line.startswith("npm error path "):
            return f"the script of {Path(line.removeprefix('npm error path ').strip()).name} failed"
    missing = next((line for line in lines if line.startswith("npm error 404") and "'" in line), None)
    if missing:
        return " ".join(missing.removeprefix("npm error ").split())[:300]
    return _last_line("\n".join(line for line in lines if "complete log" not in line and "_logs" not in line))


def _node_headers() -> dict[str, str]:
    """Point native builds at the headers installed with node, so compiling needs no header download."""
    prefix = Path(_tool("node")).resolve().parent.parent
    if (prefix / "include" / "node" / "node_api.h").is_file():
        return {"npm_config_nodedir": str(prefix)}
    return {}


def install_env() -> dict[str, str]:
    """The only variables an install step sees: CA files, proxies and index settings."""
    return {key: os.environ[key] for key in PASSED_TO_INSTALLS if os.environ.get(key)}


def _dist_info(root: Path, name: str) -> Path:
    wanted = _normalize(name)
    found = [  # sorted, as a glob of lib/python*/site-packages/*.dist-info, with one listing per folder
        site / entry
        for site in sorted(folder / "site-packages" for folder in root.glob("lib/python*"))
        if site.is_dir()
        for entry in sorted(os.listdir(site))
        if entry.endswith(".dist-info")
    ]
    # Folders named after the distribution (NAME-VERSION.dist-info) first: a large environment holds
    # hundreds, and each other one costs a METADATA read.
    named = [d for d in found if _normalize(d.name.rsplit("-", 1)[0]) == wanted]
    for dist_info in named + [d for d in found if d not in named]:
        meta = dist_info / "METADATA"
        if not meta.is_file():
            continue
        headers = email.parser.Parser().parsestr(meta.read_text("utf-8", "replace"), headersonly=True)
        if _normalize(headers.get("Name") or "") == wanted:
            return dist_info
    raise CatalogError(f"{name} is not installed in {root} (no matching .dist-info)", kind="bad_package")


def _console_scripts(dist_info: Path) -> dict[str, str]:
    path = dist_info / "entry_points.txt"
    if not path.is_file():
        return {}
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # script names are case-sensitive
    try:
        parser.read_string(path.read_text("utf-8", "replace"))
    except configparser.Error:
        return {}
    return dict(parser["console_scripts"]) if parser.has_section("console_scripts") else {}


def _runnable_module(dist_info: Path) -> str | None:
    record = dist_info / "RECORD"
    files = record.read_text("utf-8", "replace").splitlines() if record.is_file() else []
    mains = sorted(
        {line.split(",", 1)[0] for line in files if line.split(",", 1)[0].endswith("/__main__.py")}
    )
    top_level = [m.removesuffix("/__main__.py") for m in mains if m.count("/") == 1]
    return top_level[0] if len(top_level) == 1 else None


def _check_name(name: str, version: str, pattern: re.Pattern[str], registry: str) -> None:
    if not pattern.match(name or "") or ".." in name:
        raise CatalogError(f"not a valid {registry} package name: {name!r}", kind="usage")
    if not version or not VERSION.match(version):
        raise CatalogError(f"{name}: not an exact version: {version!r}", kind="usage")


def _base_prefix() -> Path:
    return Path(os.path.realpath(sys.base_prefix))


def _base_python(base: Path) -> str:
    versioned = sorted(p.name for p in (base / "bin").glob("python3.*") if re.fullmatch(r"python3\.\d+", p.name))
    own = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (own, *versioned, "python3"):
        if (base / "bin" / candidate).exists():
            return str(base / "bin" / candidate)
    raise CatalogError(f"no Python interpreter under {base}/bin to build environments with", kind="not_found")


def _uv() -> str:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return _tool("uv")


def _tool(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise CatalogError(
            f"{program} is not installed; it is needed to run this package live", kind="not_found"
        )
    return found


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _uv_failure(stderr: str) -> str:
    """uv's reason, not just its verdict: the 'Because ...' line when it explains an unsatisfiable set."""
    because = re.search(r"\bBecause\b[^\n]*", stderr)
    return because.group(0)[:300] if because else _last_line(stderr)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


@dataclass
class PackageCommand:
    """A configured command that only fetches and runs a published package (`uvx NAME`, `npx -y NAME`,
    `pipx run NAME`): crawled by the package route, installed with network and run without."""

    registry: str  # pypi | npm
    name: str
    version: str | None
    args: list[str]


_VALUE_FLAGS = {"--python", "-p", "--index-url", "--index", "--default-index", "--extra-index-url", "--registry"}
_SHAPE_FLAGS = {"--from", "--with", "--spec", "--package", "--with-editable", "-c", "--call"}


def package_behind(command: list[str]) -> PackageCommand | None:
    """The package a `uvx`, `uv tool run`, `pipx run` or `npx` command line runs, or None for any other
    command (or one whose flags choose a different executable than the package's own)."""
    if not command:
        return None
    program, rest = Path(command[0]).name, list(command[1:])
    if program == "uv" and rest[:2] == ["tool", "run"]:
        program, rest = "uvx", rest[2:]
    elif program == "pipx" and rest[:1] == ["run"]:
        rest = rest[1:]
    elif program not in ("uvx", "npx"):
        return None
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0).split("=", 1)[0]
        if flag in _SHAPE_FLAGS or (program == "npx" and flag == "-p"):  # npx -p is --package
            return None
        if flag in _VALUE_FLAGS and "=" not in flag and rest:
            rest.pop(0)
    if not rest:
        return None
    spec, args = rest[0], rest[1:]
    if program == "npx":
        name, _, version = spec.rpartition("@") if spec.rfind("@") > 0 else (spec, "", "")
        return PackageCommand("npm", name, version or None, args) if NPM_NAME.match(name) else None
    name, _, version = spec.partition("==") if "==" in spec else spec.partition("@")
    return PackageCommand("pypi", name, version or None, args) if PYPI_NAME.match(name) else None


def package_command_launch(
    behind: PackageCommand, cache_dir: Path, env: dict[str, str], sandbox_enabled: bool = True
) -> tuple[Any, list[str]]:
    """The launch of a configured `uvx`/`npx`/`pipx run` command through the package route: its newest (or
    pinned) release installed into a cached environment, then run in the sandbox with the configured args."""
    from catalog import live
    from catalog.sources import npm, pypi

    if behind.registry == "pypi":
        version = behind.version or pypi.download(behind.name, None, cache_dir).version
        prepared = python_env(behind.name, version, cache_dir / "envs", sandbox_enabled=sandbox_enabled)
    else:
        version = behind.version or npm.pack(behind.name, None, cache_dir).version
        prepared = npm_env(behind.name, version, cache_dir / "envs", sandbox_enabled=sandbox_enabled)
    launch = live.Launch(
        command=[*prepared.command, *behind.args],
        env=dict(env),
        binds=list(prepared.binds),
        sandbox=sandbox_enabled,
        entry_forms=not behind.args,
        env_names=list(prepared.env_names),
        env_values=dict(prepared.env_values),
        scratch=list(prepared.scratch),
    )
    tool = "npx" if behind.registry == "npm" else "uvx"
    note = f"configured as {tool} {behind.name}: installed from {behind.registry} as {behind.name} {version}"
    return launch, [*prepared.notes, note]
