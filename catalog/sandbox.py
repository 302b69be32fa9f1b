"""Run an untrusted server's command without network (bubblewrap) and kill its whole process tree afterwards."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from catalog.models import CatalogError

MODE_VARIABLE = "CATALOG_SANDBOX"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass
class Limits:
    """Resource limits: per process with prlimit in front of the command, and for the whole process tree
    by a watchdog (total resident memory, number of processes, total CPU time)."""

    # RLIMIT_DATA, not RLIMIT_AS: V8 reserves many GB of address space for WebAssembly (Node's fetch
    # needs it), which an address-space cap refuses. prlimit 2.38 crashes on "4G": give bytes.
    data_bytes: int = 4 * 1024**3
    cpu_seconds: int = 120
    # The largest file the tree may write, its stderr file included (a flood stops there).
    file_bytes: int = 64 * 1024**2
    tree_memory_bytes: int = 3 * 1024**3  # shared mappings count here; RLIMIT_DATA misses them
    tree_processes: int = 256


RUN_TOKEN = "CATALOG_RUN"  # set for unsandboxed runs only: finds their daemonized children at the end
WATCH_INTERVAL = 0.1


@dataclass(eq=False)
class Sandboxed:
    """A command ready to spawn, and what must be cleaned up once it has run. `breach` says which
    limit of the whole tree it broke, when the watchdog killed it."""

    command: list[str]
    mode: str  # bwrap | session
    home: Path
    pidfile: Path
    cwd: str | None = None  # only for session mode: bwrap changes directory itself
    warnings: list[str] = field(default_factory=list)
    token: str = ""
    breach: str | None = None
    seen: dict[int, float] = field(default_factory=dict)  # pid -> creation time, of the whole tree

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill_process_group(self) -> None:
        """SIGKILL whatever is left of the command's process tree (its process group, its sandbox's PID
        namespace, and unsandboxed, every descendant seen or carrying its token: double-forked daemons
        included), and return once they are gone."""
        pid = self.pid()
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.mode == "bwrap":
            _wait_group_gone(pid, seconds=KILL_WAIT_S)
            _kill_sandbox_init(Path(f"{self.pidfile}.info"))
        else:
            _kill_leftovers(pid, self.seen, self.token)


# SIGKILL is asynchronous: how long to wait for killed processes to be gone. It costs only while some are
# left; a loaded machine can take seconds to tear down a large process.
KILL_WAIT_S = 10.0


def _kill_leftovers(pgid: int, seen: dict[int, float], token: str) -> None:
    import psutil

    for _ in range(20):  # a fork bomb keeps making new ones: repeat until none is left
        found = _members(pgid, seen, token)
        if not found:
            return
        for process in found:
            try:
                process.kill()
            except psutil.Error:
                pass
        _wait_gone(found, seconds=1.0)


def _wait_gone(processes: list, seconds: float) -> None:
    """Wait until the processes are dead or zombies, without reaping any (psutil's wait would take the
    exit status of our own child from subprocess)."""
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = []
        for process in processes:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.Error:
                continue
        if not alive:
            return
        processes = alive
        time.sleep(0.005)


def _members(pgid: int, seen: dict[int, float], token: str) -> list:
    """Live processes of the group, of the seen tree (same creation time), or carrying `token`."""
    import psutil

    found = []
    me = os.getpid()
    for process in psutil.process_iter(["pid", "create_time", "status"]):
        pid = process.info["pid"]
        if pid == me or process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if os.getpgid(pid) == pgid or seen.get(pid) == process.info["create_time"]:
                found.append(process)
            elif token and process.environ().get(RUN_TOKEN) == token:
                found.append(process)
        except (OSError, psutil.Error):
            continue
    return found


class _Watchdog(threading.Thread):
    """Polls the command's whole process tree and kills it when it breaks a limit of the tree. The tree
    is walked through /proc/PID/task/TID/children, touching only its own processes (psutil's recursive
    children() reads every process of the machine: 35 ms a poll here)."""

    def __init__(self, box: Sandboxed, limits: Limits) -> None:
        super().__init__(daemon=True, name="catalog-watchdog")
        self.box, self.limits = box, limits
        self.stopped = threading.Event()
        self.processes: dict[int, Any] = {}

    def run(self) -> None:
        root: int | None = None
        while not self.stopped.wait(WATCH_INTERVAL):
            root = root or self.box.pid()
            if root is None:
                continue
            tree = self.tree(root)
            if not tree:
                return
            reason = self.check(tree)
            if reason:
                self.box.breach = reason
                self.box.kill_process_group()
                return

    def tree(self, root: int) -> list[Any]:
        import psutil

        found: list[Any] = []
        pending = [root]
        while pending and len(found) <= self.limits.tree_processes:
            pid = pending.pop()
            process = self.processes.get(pid)
            try:
                if process is None or not process.is_running():
                    process = self.processes[pid] = psutil.Process(pid)
            except psutil.Error:
                continue
            found.append(process)
            pending += _children(pid, process)
        return found

    def check(self, tree: list[Any]) -> str | None:
        import psutil

        memory = cpu = 0.0
        alive = 0
        for process in tree:
            try:
                memory += process.memory_info().rss
                times = process.cpu_times()
                cpu += times.user + times.system + times.children_user + times.children_system
                self.box.seen.setdefault(process.pid, process.create_time())
                alive += 1
            except psutil.Error:
                continue
        limits = self.limits
        if alive > limits.tree_processes:
            return f"stopped: more than {limits.tree_processes} processes"
        if memory > limits.tree_memory_bytes:
            return (
                f"stopped: its processes used more than {limits.tree_memory_bytes // 1024**2} MiB of memory"
            )
        if cpu > limits.cpu_seconds:
            return f"stopped: its processes used more than {limits.cpu_seconds}s of CPU time"
        return None


def _children(pid: int, process: Any) -> list[int]:
    """The pids of a process's children, from each of its threads' children file (kernel 3.5+), else
    from psutil."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(child) for child in handle.read().split()]
        except FileNotFoundError:
            try:
                return [child.pid for child in process.children()]
            except Exception:
                return []
        except (OSError, ValueError):
            continue
    return found


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
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline and _state(init) not in ("Z", "X", None):
        time.sleep(0.005)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _wait_group_gone(pgid: int, seconds: float) -> None:
    """SIGKILL is asynchronous: wait until no live member of the group is left (zombies do not count)."""
    _wait_gone(_members(pgid, {}, ""), seconds)


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
    originals: list[tuple[str, str]] | None = None,
) -> Iterator[Sandboxed]:
    """Wrap `command` for a sandboxed run (no network unless asked); on exit kill its process group
    and remove the temporary HOME. `binds` are visible read-only, `writable` read-write; each
    `scratch` pair (a throwaway copy, the path it stands for) shows the copy read-write at that path, and
    each `originals` pair (a folder, another path) shows the folder read-only there as well."""
    mode, warnings = choose_mode(enabled)
    home = Path(tempfile.mkdtemp(prefix="catalog-home-"))
    pidfile = home.parent / f"{home.name}.pid"
    try:
        prefix = _limit_prefix(limits, warnings)
        child_env = {"PATH": os.environ.get("PATH", DEFAULT_PATH), **env, "HOME": str(home)}
        token = "" if mode == "bwrap" else uuid.uuid4().hex
        if token:
            child_env[RUN_TOKEN] = token
        if mode == "bwrap":
            all_binds = [*(binds or []), *implied_binds(command), *([cwd] if cwd else [])]
            inner = bwrap_command(prefix + command, child_env, home, all_binds, cwd, writable or [], network)
            separator = len(inner) - len(prefix + command) - 1  # scratch binds go last, before "--"
            inner[separator:separator] = [arg for copy, path in scratch or [] for arg in ("--bind", copy, path)] + [
                arg for original, alias in originals or [] for arg in ("--ro-bind", original, alias)
            ]
        else:
            inner = ["env", "-i", *(f"{key}={value}" for key, value in child_env.items()), *prefix, *command]
        # The wrapper records its pid (the process group), and bwrap's --info-fd 3 its sandbox's init pid.
        script = (
            'echo $$ > "$0" && exec "$@" 3>"$0.info"' if mode == "bwrap" else 'echo $$ > "$0" && exec "$@"'
        )
        wrapped = ["/bin/sh", "-c", script, str(pidfile), *inner]
        sandbox = Sandboxed(wrapped, mode, home, pidfile, cwd if mode == "session" else None, warnings, token)
        watchdog = _Watchdog(sandbox, limits) if limits else None
        with _RUNNING_LOCK:
            _RUNNING.add(sandbox)
        if watchdog:
            watchdog.start()
        try:
            yield sandbox
        finally:
            if watchdog:
                watchdog.stopped.set()
                watchdog.join()
            with _RUNNING_LOCK:
                _RUNNING.discard(sandbox)
            sandbox.kill_process_group()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(home.parent / f"{home.name}.etc", ignore_errors=True)
        pidfile.unlink(missing_ok=True)
        Path(f"{pidfile}.info").unlink(missing_ok=True)


OUTPUT_TAIL = 256 * 1024  # what run() keeps of a command's stdout and of its stderr


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
    on_wait: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion in the sandbox (an install step) under `limits` (by default the
    tree's memory and process caps, and CPU time up to `timeout`); output is kept as a bounded tail, a
    broken limit is named on the last line of stderr; its whole tree is killed afterwards, and a
    CatalogError is raised when it outlives `timeout`. `on_wait` is called about once a second meanwhile."""
    for path in writable or []:
        Path(path).mkdir(parents=True, exist_ok=True)
    if limits is None:
        limits = Limits(cpu_seconds=max(120, int(timeout)), file_bytes=8 * 1024**3)
    with (
        sandboxed(command, env, binds, cwd, enabled, limits, writable, network) as box,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        process = subprocess.Popen(
            box.command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=box.cwd, start_new_session=True
        )
        try:
            code = _wait(process, timeout, on_wait)
        except subprocess.TimeoutExpired:
            box.kill_process_group()
            process.wait()
            raise CatalogError(
                f"{Path(command[0]).name} did not finish within {timeout:g}s", kind="timeout"
            ) from None
        stderr = tail(err, OUTPUT_TAIL)
        if box.breach:
            stderr += f"\ncatalog: {Path(command[0]).name} {box.breach}\n"
        return subprocess.CompletedProcess(box.command, code, tail(out, OUTPUT_TAIL), stderr)


def _wait(process: subprocess.Popen[bytes], timeout: float, on_wait: Callable[[], None] | None) -> int:
    if on_wait is None:
        return process.wait(timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return process.wait(min(1.0, max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                raise
            on_wait()


def tail(handle: IO[bytes] | IO[str], limit: int) -> str:
    """The last `limit` bytes of an open file as text, without reading the rest of it into memory."""
    if isinstance(handle, io.TextIOWrapper):
        handle.flush()
        raw: IO[bytes] = handle.buffer
    else:
        raw = handle  # type: ignore[assignment]
    raw.seek(0, os.SEEK_END)
    raw.seek(max(0, raw.tell() - limit))
    return raw.read(limit).decode("utf-8", "replace")


# What every sandbox sees of the host, read-only: system programs and libraries, and the few /etc files
# a runtime reads (dynamic linker, name service order, time zone, CA certificates). Never /etc/shadow,
# /etc/ssl/private, other users' or projects' folders, or host sockets.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "localtime",
    "timezone",
    "hosts",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "mime.types",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "pki/tls/certs",
    "pki/ca-trust",
    "python3",
    f"python3.{sys.version_info.minor}",
)
ETC_FILES_WITH_NETWORK = ("resolv.conf",)  # only an install's download step resolves names
FRESH_DIRS = ("/tmp", "/var/tmp", "/run")


def bwrap_command(
    command: list[str],
    env: dict[str, str],
    home: Path,
    binds: list[str],
    cwd: str | None,
    writable: list[str] | None = None,
    network: bool = False,
) -> list[str]:
    """bubblewrap arguments for a minimal view: an empty root holding read-only system directories, a few
    /etc files, a made-up passwd, fresh /tmp, /var/tmp, /run, /dev and /dev/shm, then `binds` (read-only)
    and `writable`; no network unless `network` (an install's download step only)."""
    args = [shutil.which("bwrap") or "bwrap"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    etc = [*ETC_FILES, *(ETC_FILES_WITH_NETWORK if network else ())]
    for name in etc:
        path = f"/etc/{name}"
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    identity = _identity_files(home)
    args += ["--ro-bind", str(identity / "passwd"), "/etc/passwd"]
    args += ["--ro-bind", str(identity / "group"), "/etc/group"]
    args += ["--dev", "/dev", "--tmpfs", "/dev/shm", "--proc", "/proc"]
    for path in FRESH_DIRS:
        args += ["--tmpfs", path]
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
    args += ["--chdir", cwd or str(home)]
    return [*args, "--", *command]


def _identity_files(home: Path) -> Path:
    """A passwd and group naming only the sandbox's own user (whose home is the temporary HOME), so
    programs asking who they are get an answer without the host's account list."""
    folder = home.parent / f"{home.name}.etc"
    folder.mkdir(exist_ok=True)
    uid, gid = os.getuid(), os.getgid()
    users = {0: f"root:x:0:0:root:{home if uid == 0 else '/'}:/bin/sh"}
    users.setdefault(uid, f"catalog:x:{uid}:{gid}:catalog:{home}:/bin/sh")
    users.setdefault(65534, "nobody:x:65534:65534:nobody:/:/usr/sbin/nologin")
    groups = {0: "root:x:0:", gid: f"catalog:x:{gid}:", 65534: "nogroup:x:65534:"}
    (folder / "passwd").write_text("".join(line + "\n" for line in users.values()))
    (folder / "group").write_text("".join(line + "\n" for line in groups.values()))
    return folder


def implied_binds(command: list[str]) -> list[str]:
    """Directories the command needs that the minimal view lacks: its install prefix and interpreter, and
    the project of a script it names."""
    found: list[str] = []
    for executable in _executables_behind(command):
        # Both the path as given (a venv's bin/python) and where its symlinks lead (the base Python).
        for path in {Path(os.path.abspath(executable)), Path(os.path.realpath(executable))}:
            prefix = path.parent.parent if path.parent.name == "bin" else _project_root(path)
            found += [str(c) for c in (prefix, *_venv_base(prefix)) if _needs_bind(c) and str(c) not in found]
    for argument in command[1:]:  # a script the user named (python /tmp/x/server.py) must stay readable
        path = Path(os.path.abspath(argument))
        if os.path.isabs(argument) and path.is_file() and _needs_bind(path.parent):
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


def _needs_bind(path: Path) -> bool:
    """Whether the minimal view lacks `path`: everything outside the system directories does."""
    real = Path(os.path.realpath(path))
    roots = [Path(os.path.realpath(d)) for d in SYSTEM_DIRS if os.path.isdir(d)]
    return real != Path("/") and not any(real == root or root in real.parents for root in roots)


def _limit_prefix(limits: Limits | None, warnings: list[str]) -> list[str]:
    if limits is None:
        return []
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        warnings.append("prlimit not found: the server ran without memory and CPU limits")
        return []
    return [
        prlimit,
        f"--data={limits.data_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--fsize={limits.file_bytes}",
        "--",
    ]
