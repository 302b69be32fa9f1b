"""Run an untrusted server's command without network (bubblewrap) and kill its whole process tree afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from catalog.models import CatalogError

MODE_VARIABLE = "CATALOG_SANDBOX"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class Limits:
    """Resource limits applied with prlimit in front of the server's command."""

    # RLIMIT_DATA, not RLIMIT_AS: V8 reserves many GB of address space for WebAssembly (Node's fetch
    # needs it), which an address-space cap refuses. prlimit 2.38 crashes on "4G": give bytes.
    data_bytes: int = 4 * 1024**3
    cpu_seconds: int = 120


@dataclass(eq=False)
class Sandboxed:
    """A command ready to spawn, and what must be cleaned up once it has run."""

    command: list[str]
    mode: str  # bwrap | session
    home: Path
    pidfile: Path
    cwd: str | None = None  # only for session mode: bwrap changes directory itself
    warnings: list[str] = field(default_factory=list)

    def kill_process_group(self) -> None:
        """SIGKILL whatever is left of the command's process group and of its sandbox (grandchildren
        included), and return once they are gone."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _wait_group_gone(pid, seconds=2.0)
        if self.mode == "bwrap":
            _kill_sandbox_init(Path(f"{self.pidfile}.info"))


_RUNNING: set[Sandboxed] = set()
_RUNNING_LOCK = threading.Lock()


def kill_all() -> int:
    """Kill every sandboxed command still running (Ctrl-C during a bulk crawl); returns how many."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for box in running:
        box.kill_process_group()
    return len(running)


def _kill_sandbox_init(info_file: Path) -> None:
    """Kill the first process of bwrap's PID namespace: the kernel then kills every other process in it,
    and the init only finishes dying once they have all gone."""
    try:
        info = json.loads(info_file.read_text())
        init, namespace = int(info["child-pid"]), f"pid:[{int(info['pid-namespace'])}]"
    except (OSError, ValueError, KeyError, TypeError):
        return
    try:
        if os.readlink(f"/proc/{init}/ns/pid") != namespace:
            return  # the sandbox init is gone and its number reused by another process
        os.kill(init, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        return
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and _state(init) not in ("Z", "X", None):
        time.sleep(0.005)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _wait_group_gone(pgid: int, seconds: float) -> None:
    """SIGKILL is asynchronous: wait until no live member of the group is left (zombies do not count)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _live_members(pgid):
        time.sleep(0.005)


def _live_members(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


@lru_cache(maxsize=1)
def bwrap_usable() -> str | None:
    """None when bubblewrap can create its namespaces here, else the reason it cannot."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap failed to start: {error}"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["no message"]
        return f"bwrap cannot create namespaces here: {lines[-1]}"
    return None


def choose_mode(wanted: bool) -> tuple[str, list[str]]:
    """The isolation mode to use (bwrap or session) and the warnings that explain a weaker choice."""
    forced = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if forced not in ("", "off", "bwrap"):
        raise CatalogError(f"{MODE_VARIABLE} must be 'off' or 'bwrap', not {forced!r}", kind="bad_usage")
    if forced == "off" or (not wanted and forced != "bwrap"):
        return "session", ["no sandbox: the server ran with network access and could read your files"]
    problem = bwrap_usable()
    if problem is None:
        return "bwrap", []
    raise CatalogError(
        f"cannot sandbox the server: {problem}; pass --no-sandbox to run it unsandboxed "
        "(it could then read your files and use the network)",
        kind="sandbox",
    )


@contextmanager
def sandboxed(
    command: list[str],
    env: dict[str, str],
    binds: list[str] | None = None,
    cwd: str | None = None,
    enabled: bool = True,
    limits: Limits | None = None,
    writable: list[str] | None = None,
    network: bool = False,
    scratch: list[tuple[str, str]] | None = None,
) -> Iterator[Sandboxed]:
    """Wrap `command` for a sandboxed run (no network unless asked); on exit kill its process group
    and remove the temporary HOME. `binds` are visible read-only, `writable` read-write; each
    `scratch` pair (a throwaway copy, the path it stands for) shows the copy read-write at that path."""
    mode, warnings = choose_mode(enabled)
    home = Path(tempfile.mkdtemp(prefix="catalog-home-"))
    pidfile = home.parent / f"{home.name}.pid"
    try:
        prefix = _limit_prefix(limits, warnings)
        child_env = {"PATH": os.environ.get("PATH", DEFAULT_PATH), **env, "HOME": str(home)}
        if mode == "bwrap":
            all_binds = [*(binds or []), *implied_binds(command), *([cwd] if cwd else [])]
            inner = bwrap_command(prefix + command, child_env, home, all_binds, cwd, writable or [], network)
            separator = len(inner) - len(prefix + command) - 1  # scratch binds go last, before "--"
            inner[separator:separator] = [arg for copy, path in scratch or [] for arg in ("--bind", copy, path)]
        else:
            inner = ["env", "-i", *(f"{key}={value}" for key, value in child_env.items()), *prefix, *command]
        # The wrapper records its pid (the process group), and bwrap's --info-fd 3 its sandbox's init pid.
        script = (
            'echo $$ > "$0" && exec "$@" 3>"$0.info"' if mode == "bwrap" else 'echo $$ > "$0" && exec "$@"'
        )
        wrapped = ["/bin/sh", "-c", script, str(pidfile), *inner]
        sandbox = Sandboxed(wrapped, mode, home, pidfile, cwd if mode == "session" else None, warnings)
        with _RUNNING_LOCK:
            _RUNNING.add(sandbox)
        try:
            yield sandbox
        finally:
            with _RUNNING_LOCK:
                _RUNNING.discard(sandbox)
            sandbox.kill_process_group()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        pidfile.unlink(missing_ok=True)
        Path(f"{pidfile}.info").unlink(missing_ok=True)


def run(
    command: list[str],
    env: dict[str, str],
    *,
    binds: list[str] | None = None,
    writable: list[str] | None = None,
    network: bool = False,
    enabled: bool = True,
    timeout: float = 900,
    cwd: str | None = None,
    limits: Limits | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion in the sandbox (an install step), output captured; its whole tree is
    killed afterwards, and a CatalogError is raised when it outlives `timeout`."""
    for path in writable or []:
        Path(path).mkdir(parents=True, exist_ok=True)
    with sandboxed(command, env, binds, cwd, enabled, limits, writable, network) as box:
        try:
            return subprocess.run(
                box.command,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                cwd=box.cwd,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise CatalogError(
                f"{Path(command[0]).name} did not finish within {timeout:g}s", kind="timeout"
            ) from None


def bwrap_command(
    command: list[str],
    env: dict[str, str],
    home: Path,
    binds: list[str],
    cwd: str | None,
    writable: list[str] | None = None,
    network: bool = False,
) -> list[str]:
    """bubblewrap arguments: read-only root, fresh /tmp and home, binds after the tmpfs mounts, no network
    unless `network` (the install phase only)."""
    args = [shutil.which("bwrap") or "bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--tmpfs", "/tmp"]
    for hidden in _hidden_homes():
        args += ["--tmpfs", hidden]
    for path in dict.fromkeys(binds):
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    for path in dict.fromkeys(writable or []):
        args += ["--bind", path, path]
    args += ["--bind", str(home), str(home)]
    args += ["--unshare-all", *(["--share-net"] if network else [])]
    args += ["--die-with-parent", "--new-session", "--clearenv", "--info-fd", "3"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    if cwd:
        args += ["--chdir", cwd]
    return [*args, "--", *command]


def implied_binds(command: list[str]) -> list[str]:
    """Directories the command needs that the tmpfs mounts would hide: its install prefix and interpreter."""
    found: list[str] = []
    for executable in _executables_behind(command):
        # Both the path as given (a venv's bin/python) and where its symlinks lead (the base Python).
        for path in {Path(os.path.abspath(executable)), Path(os.path.realpath(executable))}:
            prefix = path.parent.parent if path.parent.name == "bin" else _project_root(path)
            found += [str(c) for c in (prefix, *_venv_base(prefix)) if _is_hidden(c) and str(c) not in found]
    for argument in command[1:]:  # a script the user named (python /tmp/x/server.py) must stay readable
        path = Path(os.path.abspath(argument))
        if os.path.isabs(argument) and path.is_file() and _is_hidden(path.parent):
            root = str(_project_root(path))
            if root not in found:
                found.append(root)
    return found


PROJECT_MARKERS = ("node_modules", "package.json", "pyproject.toml", "setup.py", ".git")


def _project_root(script: Path) -> Path:
    """The outermost folder above a script that holds a project or its dependencies (package.json,
    node_modules, pyproject.toml, .git): node and Python resolve imports up there. Never a home or /tmp."""
    stops = {Path("/"), Path("/tmp"), *(Path(h) for h in _hidden_homes())}
    root = script.parent
    for folder in script.parents:
        if folder in stops:
            break
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            root = folder
    return root


def _executables_behind(command: list[str]) -> list[str]:
    """The command's program and, for a script, the interpreter named in its #! line."""
    if not command:
        return []
    program = command[0] if os.sep in command[0] else shutil.which(command[0])
    if program is None:
        return []
    found = [program]
    interpreter = _shebang_interpreter(program)
    if interpreter:
        found.append(interpreter)
    return found


def _shebang_interpreter(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode(errors="replace").split()
    if not parts:
        return None
    if parts[0].endswith("/env") and len(parts) > 1:
        return shutil.which(parts[-1])
    return parts[0]


def _venv_base(prefix: Path) -> list[Path]:
    config = prefix / "pyvenv.cfg"
    if not config.is_file():
        return []
    for line in config.read_text(errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            base = Path(os.path.realpath(value.strip()))
            return [base.parent if base.name == "bin" else base]
    return []


def _hidden_homes() -> list[str]:
    home = os.path.realpath(os.path.expanduser("~"))
    return [home] if home not in ("/", "") and os.path.isdir(home) else []


def _is_hidden(path: Path) -> bool:
    roots = [Path("/tmp"), *(Path(h) for h in _hidden_homes())]
    return any(path == root or root in path.parents for root in roots)


def _limit_prefix(limits: Limits | None, warnings: list[str]) -> list[str]:
    if limits is None:
        return []
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        warnings.append("prlimit not found: the server ran without memory and CPU limits")
        return []
    return [prlimit, f"--data={limits.data_bytes}", f"--cpu={limits.cpu_seconds}", "--"]
