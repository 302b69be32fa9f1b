"""The sandbox against hostile fixtures: servers and packages that try to read secrets, reach the host,
or escape their limits, and must get nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catalog import envs, live, sandbox
from catalog.archive import extract_archive
from catalog.models import CatalogError
from catalog.sources import freshness, npm, pypi
from tests.fixtures.servers.hostile_sdist import build_hostile_sdist
from tests.fixtures.servers.packages import build_wheel, npm_pack, npm_packed

SERVERS = Path(__file__).parent / "fixtures" / "servers"
PY = sys.executable
REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside /tmp and HOME (where a user keeps a catalog database or a project)."""
    folder = Path("/var/tmp") / f"catalog-test-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def listening(family: int, address: object) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind(address)
    sock.listen(8)
    sock.setblocking(False)
    return sock


def was_contacted(sock: socket.socket) -> bool:
    try:
        connection, _ = sock.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


RUNTIMES = {"python": (PY, "snoop.py"), "node": (shutil.which("node") or "node", "snoop.js")}


def snoop(plan: dict, tmp_path: Path, sandboxed: bool = True, runtime: str = "python") -> dict[str, str]:
    """Run the hostile server (copied alone into its own folder, as an installed package would be) and
    return what it published: probe -> result."""
    interpreter, script = RUNTIMES[runtime]
    if runtime == "node" and shutil.which("node") is None:
        pytest.skip("node not installed")
    server = tmp_path / "envs" / "pypi" / "snoop-1.0" / script
    server.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SERVERS / script, server)
    launch = live.Launch([interpreter, str(server), json.dumps(plan)], {}, sandbox=sandboxed)
    listing = live.list_stdio(launch, timeout=120)
    found = [json.loads(tool.description) for tool in listing.tools]
    return {item["probe"]: item["result"] for item in found}


@pytest.fixture
def targets(tmp_path: Path, outside: Path) -> Iterator[dict]:
    """Secrets and host endpoints a hostile server would go for."""
    database = outside / "catalog.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE secrets (value TEXT)")
        db.execute("INSERT INTO secrets VALUES ('catalog-database-secret')")
    other = tmp_path / "envs" / "pypi" / "other-package-2.0"
    other.mkdir(parents=True)
    (other / "token.txt").write_text("other-package-secret")
    unix = listening(socket.AF_UNIX, str(outside / "host.sock"))
    tcp = listening(socket.AF_INET, ("127.0.0.1", 0))
    plan = {
        "files": ["/etc/shadow", str(database), str(other / "token.txt"), str(REPO / "pyproject.toml")],
        "dirs": ["/", "/etc", str(other.parent), str(outside), "/home", str(REPO)],
        "unix": str(outside / "host.sock"),
        "port": tcp.getsockname()[1],
    }
    try:
        yield {"plan": plan, "unix": unix, "tcp": tcp, "database": database, "other": other}
    finally:
        unix.close()
        tcp.close()


@pytest.mark.parametrize("runtime", ["python", "node"])
def test_a_hostile_server_reads_no_secret_and_reaches_no_host_socket_or_port(tmp_path, targets, runtime):
    plan = targets["plan"]
    found = snoop(plan, tmp_path, runtime=runtime)
    published = json.dumps(found)
    for secret in ("catalog-database-secret", "other-package-secret", "root:", "mcp-catalog"):
        assert secret not in published
    for path in plan["files"]:
        assert found[f"read {path}"].startswith("error:"), path
    assert found["unix"].startswith("error:") and found["tcp"].startswith("error:")
    assert not was_contacted(targets["unix"]) and not was_contacted(targets["tcp"])
    root = set(json.loads(found["list /"].removeprefix("listed: ")))
    assert {"usr", "etc", "tmp", "proc", "dev"} <= root
    assert not root & {"home", "opt", "srv", "mnt", "media", "boot"}, root
    etc = set(json.loads(found["list /etc"].removeprefix("listed: ")))
    assert {"passwd", "group"} <= etc and not etc & {"shadow", "gshadow", "sudoers", "ssh", "machine-id"}
    for path in (str(Path(plan["unix"]).parent), "/home"):
        assert found[f"list {path}"].startswith("error:"), path
    # Of the folder holding every package's environment, only the server's own is there.
    assert found[f"list {targets['other'].parent}"] == "listed: " + json.dumps(["snoop-1.0"])
    # Of this repository, at most the interpreter's environment is visible, never its files.
    assert found[f"list {REPO}"] in ("listed: " + json.dumps([".venv"]), "error: ENOENT")


@pytest.mark.parametrize("runtime", ["python", "node"])
def test_the_same_probes_succeed_without_the_sandbox(tmp_path, targets, runtime):
    """The probes work: it is the sandbox that stops them."""
    found = snoop(targets["plan"], tmp_path, sandboxed=False, runtime=runtime)
    assert "catalog-database-secret" in found[f"read {targets['database']}"]
    assert "other-package-secret" in found[f"read {targets['other'] / 'token.txt'}"]
    assert found["unix"] == "connected" and found["tcp"] == "connected"


def test_the_sandbox_has_fresh_writable_temporary_folders_and_a_made_up_identity(tmp_path):
    script = (
        "import os, pwd, json\n"
        "for d in ('/tmp', '/var/tmp', '/run', '/dev/shm'):\n"
        "    open(os.path.join(d, 'x'), 'w').write('x')\n"
        "print(json.dumps([sorted(os.listdir('/tmp')), pwd.getpwuid(os.getuid()).pw_dir]))\n"
    )
    done = sandbox.run([PY, "-c", script], {}, timeout=60)
    assert done.returncode == 0, done.stderr
    tmp_entries, home = json.loads(done.stdout)
    # Besides the file it wrote: the sandbox's own home, and the mount points of what the command needs when
    # that lives under /tmp (a checkout and its venv in /tmp, as in a CI clone).
    needed = {Path(home).name, f"{Path(home).name}.etc"}
    for path in (sys.prefix, os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.getcwd()):
        parts = Path(path).parts
        if len(parts) > 2 and parts[1] == "tmp":
            needed.add(parts[2])
    assert set(tmp_entries) - {"x"} <= needed, tmp_entries
    assert home.startswith("/tmp/catalog-home-")


# Fetch apart from build: hostile sdists, live and static.


def planted(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("planted-by-*")) if folder.exists() else []


def test_a_hostile_sdist_builds_with_no_network_and_cannot_touch_the_shared_cache(tmp_path, outside):
    tcp = listening(socket.AF_INET, ("127.0.0.1", 0))
    envs_dir = tmp_path / "envs"
    cache = envs_dir / "pypi" / ".uv-cache"
    neighbour = envs_dir / "pypi" / "neighbour-1.0"
    neighbour.mkdir(parents=True)
    secret = outside / "catalog.db"
    secret.write_text("catalog-database-secret")
    links = tmp_path / "links"
    build_hostile_sdist(
        links,
        "catalog-hostile",
        tcp.getsockname()[1],
        plant=[str(cache), str(neighbour), str(outside)],
        read=["/etc/shadow", str(secret)],
    )
    with tcp:
        prepared = envs.python_env("catalog-hostile", "1.0", envs_dir, find_links=links)
        assert not was_contacted(tcp)
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    facts = json.loads(listing.tools[0].description)  # what the build step managed
    assert facts["tcp"].startswith("error:")
    for folder in (cache, neighbour, outside):
        assert facts[f"plant {folder}"].startswith("error:")
        assert planted(folder) == []
    assert facts["read /etc/shadow"].startswith("error:") and facts[f"read {secret}"].startswith("error:")
    assert "catalog-database-secret" not in listing.tools[0].description
    assert not list(envs_dir.glob("pypi/.build-*")), "the build folder is removed afterwards"


class SimpleIndex(BaseHTTPRequestHandler):
    """A PEP 503 index on loopback serving the files of one folder: /simple/NAME/ and /files/FILE."""

    folder: Path

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/simple/"):
            name = self.path.split("/")[2]
            anchors = "".join(
                f'<a href="/files/{p.name}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">{p.name}</a>\n'
                for p in sorted(self.folder.iterdir())
                if p.name.replace("_", "-").startswith(name)
            )
            body = f"<html><body>{anchors}</body></html>".encode()
            kind = "text/html"
        elif (self.folder / self.path.removeprefix("/files/")).is_file():
            body = (self.folder / self.path.removeprefix("/files/")).read_bytes()
            kind = "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_index(tmp_path, monkeypatch) -> Iterator[Path]:
    folder = tmp_path / "index-files"
    folder.mkdir()
    handler = type("Handler", (SimpleIndex,), {"folder": folder})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple/")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    try:
        yield folder
    finally:
        server.shutdown()
        server.server_close()


def test_the_static_route_fetches_a_hostile_sdist_without_running_any_of_it(tmp_path, loopback_index):
    tcp = listening(socket.AF_INET, ("127.0.0.1", 0))
    build_hostile_sdist(loopback_index, "catalog-static-hostile", tcp.getsockname()[1], plant=[], read=[])
    with tcp:
        got = pypi.download("catalog-static-hostile", None, tmp_path / "cache")
        assert not was_contacted(tcp)
    assert (got.kind, got.version) == ("sdist", "1.0")
    assert (got.root / "catalog_static_hostile-1.0" / "backend.py").is_file()
    assert not list(got.root.rglob("*.whl")), "nothing was built"


def test_an_sdist_whose_file_differs_from_the_index_digest_is_refused(tmp_path, loopback_index):
    sdist = build_hostile_sdist(loopback_index, "catalog-tampered", 1, plant=[], read=[])
    links = pypi._index_links(os.environ["PIP_INDEX_URL"], "catalog-tampered")
    sdist.write_bytes(sdist.read_bytes() + b"tampered")
    with pytest.raises(CatalogError) as failure:
        pypi._download_file(links[sdist.name], tmp_path / sdist.name)
    assert failure.value.kind == "download_failed" and "sha256" in str(failure.value)


# Limits that hold for the whole process tree.

GREEDY = SERVERS / "greedy.py"


def processes_with(token: str) -> list[int]:
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        if token in (process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.info["pid"])
    return found


@pytest.mark.parametrize("enabled", [True, False], ids=["sandbox", "no-sandbox"])
def test_a_fork_bomb_is_capped_and_every_process_of_it_killed(enabled):
    token = f"bomb-{uuid.uuid4().hex}"
    limits = sandbox.Limits(tree_processes=30)
    done = sandbox.run(
        [PY, str(GREEDY), "forkbomb", "200", token], {}, enabled=enabled, timeout=120, limits=limits
    )
    assert done.returncode != 0 and "more than 30 processes" in done.stderr
    assert processes_with(token) == []


def test_a_shared_memory_mapping_counts_against_the_tree_and_is_killed():
    limits = sandbox.Limits(tree_memory_bytes=200 * 1024**2)
    grab = [PY, str(GREEDY), "shared", str(768 * 1024**2)]
    done = sandbox.run(grab, {}, timeout=120, limits=limits)
    assert done.returncode != 0 and "more than 200 MiB of memory" in done.stderr


def test_without_the_sandbox_a_double_forked_daemon_is_still_killed_at_the_end():
    token = f"daemon-{uuid.uuid4().hex}"
    done = sandbox.run([PY, str(GREEDY), "daemon", token], {}, enabled=False, timeout=60)
    assert done.returncode == 0 and "parent done" in done.stdout
    assert processes_with(token) == []


def test_a_stderr_flood_is_cut_and_catalog_memory_stays_bounded(tmp_path):
    """1 GB written to stderr: the file limit stops the server, and catalog never holds the flood."""
    probe = (
        "import json, resource, sys\n"
        "from catalog import live\n"
        "launch = live.Launch([sys.executable, sys.argv[1], 'stderr', sys.argv[2]], {})\n"
        "try:\n"
        "    live.list_stdio(launch, timeout=60)\n"
        "    outcome = 'listed'\n"
        "except Exception as error:\n"
        "    outcome = getattr(error, 'kind', type(error).__name__)\n"
        "print(json.dumps([outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))\n"
    )

    def peak(size: int) -> tuple[str, int]:
        done = subprocess.run(
            [PY, "-c", probe, str(GREEDY), str(size)], capture_output=True, text=True, timeout=300, cwd=REPO
        )
        outcome, kib = json.loads(done.stdout.strip().splitlines()[-1])
        return outcome, kib * 1024

    quiet, flooded = peak(0), peak(1024**3)
    assert quiet[0] == "listed"
    assert flooded[0] != "timeout"  # the server's death was noticed, not waited out
    assert flooded[1] - quiet[1] < 300 * 1024**2, (quiet, flooded)


# No needless network: an unversioned source reuses the newest version it learnt recently.


def test_an_unversioned_pypi_source_reuses_the_recent_latest_without_asking_the_index(
    tmp_path, loopback_index, monkeypatch
):
    build_wheel(loopback_index, "catalog-fresh", "1.0")
    first = pypi.download("catalog-fresh", None, tmp_path / "cache")
    for file in loopback_index.iterdir():  # the index now has nothing: only the cache can answer
        file.unlink()
    again = pypi.download("catalog-fresh", None, tmp_path / "cache")
    assert (first.kind, first.version) == (again.kind, again.version) == ("wheel", "1.0")
    monkeypatch.setenv("CATALOG_MAX_AGE", "0")
    with pytest.raises(CatalogError) as failure:
        pypi.download("catalog-fresh", None, tmp_path / "cache")
    assert failure.value.kind == "not_found"


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_an_unversioned_npm_source_reuses_the_recent_latest_and_asks_again_once_it_is_old(
    tmp_path, monkeypatch
):
    package = tmp_path / "package"
    package.mkdir()
    (package / "package.json").write_text(json.dumps({"name": "catalog-fresh-npm", "version": "2.0.0"}))
    (package / "index.js").write_text("")
    npm_pack(package, tmp_path)
    base = tmp_path / "cache" / "npm" / "catalog-fresh-npm"
    (base / "2.0.0").mkdir(parents=True)
    shutil.copy(tmp_path / "catalog-fresh-npm-2.0.0.tgz", base / "2.0.0" / "package.tgz")
    extract_archive(base / "2.0.0" / "package.tgz", base / "2.0.0" / "src")
    (base / "2.0.0" / "src" / ".complete").write_text("")
    freshness.remember_latest(base, "2.0.0")
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # nothing listens: asking would fail
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    assert npm.pack("catalog-fresh-npm", None, tmp_path / "cache").version == "2.0.0"
    monkeypatch.setenv("CATALOG_MAX_AGE", "0")
    with pytest.raises(CatalogError):
        npm.pack("catalog-fresh-npm", None, tmp_path / "cache")


def test_a_bad_max_age_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("CATALOG_MAX_AGE", "soon")
    with pytest.raises(CatalogError) as failure:
        freshness.max_age()
    assert failure.value.kind == "usage" and "CATALOG_MAX_AGE" in str(failure.value)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_a_hostile_npm_install_script_runs_offline_and_cannot_touch_the_shared_cache(tmp_path, outside):
    tcp = listening(socket.AF_INET, ("127.0.0.1", 0))
    envs_dir = tmp_path / "envs"
    cache = envs_dir / "npm" / ".npm-cache"
    neighbour = envs_dir / "npm" / "neighbour-1.0.0"
    for folder in (cache, neighbour):
        folder.mkdir(parents=True)
    secret = outside / "catalog.db"
    secret.write_text("catalog-database-secret")
    package = tmp_path / "package"
    shutil.copytree(Path(__file__).parent / "fixtures" / "npm_scripted", package)
    shutil.copy(SERVERS / "hostile_install.js", package / "build.js")
    plan = {
        "port": tcp.getsockname()[1],
        "plant": [str(cache), str(neighbour), str(outside)],
        "read": ["/etc/shadow", str(secret)],
    }
    (package / "plan.json").write_text(json.dumps(plan))
    npm_packed(package, tmp_path)
    with tcp:
        prepared = envs.npm_env(
            "catalog-scripted-server",
            "1.0.0",
            envs_dir,
            tarball=tmp_path / "catalog-scripted-server-1.0.0.tgz",
        )
        assert not was_contacted(tcp)
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    seen = json.loads(listing.tools[0].description)  # what the install script managed
    assert seen["tcp"].startswith("error:")
    for folder in (cache, neighbour, outside):
        assert seen[f"plant {folder}"].startswith("error:") and planted(folder) == []
    assert seen["read /etc/shadow"].startswith("error:") and seen[f"read {secret}"].startswith("error:")


def test_an_unsandboxed_install_shares_no_file_with_the_cache(tmp_path):
    """Run unsandboxed, a server could rewrite its own files: they must not be hard links into the cache
    that later installs share."""
    links = tmp_path / "links"
    build_wheel(links, "catalog-copied", scripts={"catalog-copied": "catalog_copied:main"})
    prepared = envs.python_env(
        "catalog-copied", "1.0", tmp_path / "envs", find_links=links, sandbox_enabled=False
    )
    installed = [p for p in prepared.root.glob("lib/python*/site-packages/catalog_copied/*") if p.is_file()]
    assert installed and all(p.stat().st_nlink == 1 for p in installed)
