"""The Python interpreters on this machine (pyenv, uv-managed, the system's and our own), newest first,
and which of them satisfies a package's Requires-Python. Found by their files: nothing is run."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from catalog.models import CatalogError

OLDEST = (3, 10)  # the MCP Python SDK needs 3.10
_BINARY = re.compile(r"^python(\d+)\.(\d+)$")
_STABLE_DIR = re.compile(r"^(cpython-)?\d+\.\d+(\.\d+)?([-+].*)?$")
# uv explains a Requires-Python mismatch as "X==1 requires Python >=3.12" or "depends on Python>=3.12".
_NEEDS = re.compile(r"(?:depends on|requires|satisfy) Python\s*([<>=!~][^\s,]*(?:,\s*[<>=!~][^\s,]*)*)")


@dataclass(frozen=True)
class Interpreter:
    version: tuple[int, int]
    executable: str
    prefix: Path

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@lru_cache(maxsize=1)
def pythons() -> tuple[Interpreter, ...]:
    """Every distinct CPython found, newest first (the one running us first among equal versions)."""
    found: dict[Path, Interpreter] = {}
    for folder in _bin_folders():
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            match = _BINARY.match(name)
            path = folder / name
            if not match or not os.access(path, os.X_OK) or "shims" in path.parts:
                continue
            version = (int(match.group(1)), int(match.group(2)))
            real = Path(os.path.realpath(path))
            prefix = real.parent.parent
            if version < OLDEST or prefix in found or not (prefix / "lib" / f"python{version[0]}.{version[1]}").is_dir():
                continue
            found[prefix] = Interpreter(version, str(real), prefix)
    own = Path(os.path.realpath(sys.base_prefix))
    return tuple(sorted(found.values(), key=lambda i: (i.version, i.prefix == own), reverse=True))


def _bin_folders() -> list[Path]:
    own = Path(os.path.realpath(sys.base_prefix)) / "bin"
    folders = [own]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    uv_managed = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    for root in (pyenv, uv_managed):
        try:
            entries = sorted(os.listdir(root))
        except OSError:
            continue
        folders += [root / entry / "bin" for entry in entries if _STABLE_DIR.match(entry.split("-", 1)[-1])]
    folders += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    folders += [Path("/usr/local/bin"), Path("/usr/bin")]
    return list(dict.fromkeys(folders))


def python_satisfying(requirement: str | None, what: str) -> Interpreter:
    """The newest interpreter satisfying a Requires-Python specifier (any when None); a `needs_runtime`
    CatalogError naming the version needed when none does."""
    available = pythons()
    if not available:
        raise CatalogError("no Python interpreter found on this machine", kind="needs_runtime")
    if not requirement:
        return available[0]
    for interpreter in available:
        if satisfies(interpreter, requirement):
            return interpreter
    have = ", ".join(i.label for i in available)
    raise CatalogError(
        f"{what} needs Python {requirement}; this machine has {have} (install a matching Python, "
        "e.g. with pyenv or uv python install)",
        kind="needs_runtime",
    )


def satisfies(interpreter: Interpreter, requirement: str) -> bool:
    """Whether some release of the interpreter's minor version meets the specifier (an unreadable one: yes)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(requirement)
    except InvalidSpecifier:
        return True
    return any(spec.contains(f"{interpreter.label}.{micro}", prereleases=True) for micro in (0, 99))


def python_requirement_in(message: str) -> str | None:
    """The Requires-Python specifier named in an installer's explanation of a failure, if any."""
    match = _NEEDS.search(message)
    return match.group(1).replace(" ", "") if match else None


NODE_ANSWERS = "node-answers.json"  # in a runtimes cache: node binaries' versions, semver verdicts


@lru_cache(maxsize=4)
def system_node(memo: Path | None = None) -> tuple[str, str] | None:
    """The machine's node and its version ("v20.1.0"), or None. With `memo` (a JSON file), the version
    of this very binary (path, inode, size, mtime) is asked once, not in every process."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        return None

    def ask() -> str | None:
        try:
            done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    try:
        real = os.path.realpath(node)
        stat = os.stat(real)
    except OSError:
        return None
    identity = f"version of {real} {stat.st_ino} {stat.st_size} {stat.st_mtime_ns}"
    version = _remembered(memo, identity, ask)
    return (node, version) if version else None


def node_satisfies(node: str, version: str, wanted: str, memo: Path | None = None) -> bool:
    """npm's own semver (bundled with npm) decides whether `version` meets an engines.node range (with
    `memo`, once per version and range); when it cannot be asked, the range is taken as met."""
    import shutil
    import subprocess

    npm = shutil.which("npm")
    semver = Path(os.path.realpath(npm)).parent.parent / "node_modules" / "semver" if npm else None
    if semver is None or not semver.is_dir():
        return True
    script = "process.stdout.write(String(require(process.argv[1]).satisfies(process.argv[2], process.argv[3])))"

    def ask() -> bool | None:
        try:
            done = subprocess.run(
                [node, "-e", script, str(semver), version, wanted], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return {"true": True, "false": False}.get(done.stdout.strip())

    return _remembered(memo, f"{version} satisfies {wanted}", ask) is not False


def _remembered(memo: Path | None, key: str, ask: Any) -> Any:
    """`ask()`, or its answer recorded under `key` in the JSON file `memo`; a None answer (could not ask)
    is not recorded. For answers fixed by their key: a binary's version, a semver verdict."""
    import json

    known: dict[str, Any] = {}
    if memo is not None:
        try:
            loaded = json.loads(memo.read_text(encoding="utf-8"))
            known = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            pass
        if key in known:
            return known[key]
    answer = ask()
    if memo is not None and answer is not None:
        known[key] = answer
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            partial = memo.with_name(f".{memo.name}.{os.getpid()}.{id(known)}")
            partial.write_text(json.dumps(known), encoding="utf-8")
            partial.replace(memo)
        except OSError:
            pass
    return answer


def node_for(wanted: str | None, cache: Path, what: str, install: Any) -> tuple[str, list[str]]:
    """A node binary meeting the engines.node range `wanted`, and the folders the sandbox must show for it:
    the machine's when it fits, else the npm registry's Node build for this platform, installed once
    into `cache` by `install(spec, target)` (an ordinary npm install, no scripts)."""
    found = system_node(cache / NODE_ANSWERS)
    if found is None and not wanted:
        raise CatalogError("node is not installed; it is needed to run this package live", kind="needs_runtime")
    if found is not None and (not wanted or node_satisfies(found[0], found[1], wanted, cache / NODE_ANSWERS)):
        return found[0], []
    import hashlib

    assert wanted is not None
    arch = {"x86_64": "x64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    package = f"node-{sys.platform}-{arch}"
    target = cache / f"node-{hashlib.sha256(wanted.encode()).hexdigest()[:16]}"
    binary = target / "node_modules" / package / "bin" / "node"
    have = found[1] if found else "no node"
    try:
        install(f"{package}@{wanted}", target)  # once: later calls find the completed install
    except CatalogError as error:
        raise CatalogError(
            f"{what} needs Node {wanted}; this machine has {have}, and installing {package} failed: {error}",
            kind="needs_runtime",
        ) from None
    if not binary.is_file():
        raise CatalogError(f"{what} needs Node {wanted}; this machine has {have}", kind="needs_runtime")
    return str(binary), [str(target)]
