"""Connections between modules, end to end through the `catalog` command: remote endpoints from registries
and client configs (contacted only when asked, never unsafe, headers sent and never stored, no redirects
to another host), the registry walk summary, and live failures named by their real cause."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.test_cli import fixture_cmd

PY = sys.executable


def run(tmp_path: Path, *args: str, allow_private: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "catalog.db")}
    env.pop("CATALOG_DEBUG", None)
    env.pop("CATALOG_ALLOW_PRIVATE_URLS", None)
    if allow_private:
        env["CATALOG_ALLOW_PRIVATE_URLS"] = "1"  # fixture servers listen on loopback
    return subprocess.run([PY, "-m", "catalog.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env, stdin=subprocess.DEVNULL)


def by_server(done: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    assert "Traceback" not in done.stderr, done.stderr
    payload = json.loads(done.stdout)
    results = payload["results"] if isinstance(payload, dict) else payload
    return {r["server"]: r for r in results}


def stored_crawls(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "catalog.db") as db:
        return db.execute("SELECT server_id, status, error_kind FROM crawls ORDER BY id").fetchall()


def everything_written(tmp_path: Path, done: subprocess.CompletedProcess[str]) -> str:
    parts = [done.stdout, done.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file() and "config" not in path.name:
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


class _Recorder(BaseHTTPRequestHandler):
    """Records each request's Authorization header, then answers `answer(self)`."""

    seen: list[str]
    answer: object

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.headers.get("Authorization") or "")
        status, headers, body = self.answer(self)  # type: ignore[operator]
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_DELETE = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator:
    """Start loopback HTTP stand-ins: `stand_in(answer)` -> (base URL, list of Authorization headers seen)."""
    servers = []

    def start(answer) -> tuple[str, list[str]]:
        seen: list[str] = []
        handler = type("Handler", (_Recorder,), {"seen": seen, "answer": staticmethod(answer)})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def remote_entry(name: str, url: str) -> dict:
    return {"server": {"name": f"io.github.example/{name}", "version": "1.0", "remotes": [
        {"type": "streamable-http", "url": url}]}}


# -- remote endpoints from client configs and registries -------------------------------------------------


def test_config_remotes_are_listed_only_with_live_and_headers_are_sent_never_stored(tmp_path, http_server,
                                                                                    stand_in):
    guarded, seen = stand_in(lambda _: (401, {"WWW-Authenticate": 'Bearer realm="x"'}, b"{}"))
    config = tmp_path / "config-mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "remote": {"url": http_server},
        "guarded": {"url": f"{guarded}/mcp", "headers": {"Authorization": "Bearer HEADERSECRET42"}},
    }}))
    done = run(tmp_path, "crawl", "--from", str(config), "--json")
    assert done.returncode == 1
    results = by_server(done)
    for server in ("remote", "guarded"):
        assert results[server]["status"] == "failed"
        assert results[server]["error_kind"] == "not_contacted"
        assert "--live" in results[server]["error"]
    assert seen == []  # nothing was contacted
    assert sorted(stored_crawls(tmp_path)) == [("guarded", "failed", "not_contacted"),
                                               ("remote", "failed", "not_contacted")]

    done = run(tmp_path, "crawl", "--from", str(config), "--json", "--live", "--refresh", "--timeout", "120")
    results = by_server(done)
    assert results["remote"]["status"] == "ok" and results["remote"]["tools"] == 4
    assert results["guarded"]["error_kind"] == "auth"
    assert seen and all(header == "Bearer HEADERSECRET42" for header in seen)  # sent as configured
    assert "HEADERSECRET42" not in everything_written(tmp_path, done)  # never stored or printed


def test_registry_remotes_are_checked_before_contact_and_a_failed_walk_exits_non_zero(tmp_path, http_server,
                                                                                     stand_in):
    def registry(handler: BaseHTTPRequestHandler) -> tuple[int, dict, bytes]:
        cursor = parse_qs(urlsplit(handler.path).query).get("cursor", [""])[0]
        if cursor:
            return 404, {}, b"gone"  # the second page fails: the walk stops there
        page = {"servers": [remote_entry("metadata", "http://169.254.169.254/mcp"),
                            remote_entry("fixture", http_server),
                            remote_entry("fixture-again", http_server)],
                "metadata": {"nextCursor": "2"}}
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()

    base, _ = stand_in(registry)
    done = run(tmp_path, "crawl", "--registry", base, "--json")
    assert done.returncode == 1
    payload = json.loads(done.stdout)
    assert payload["registry"]["failed"] is True
    assert "page 2 failed" in payload["registry"]["stopped"]
    assert "stopped early: page 2 failed" in payload["registry"]["summary"]
    assert {r["error_kind"] for r in payload["results"]} == {"not_contacted"}
    assert len(stored_crawls(tmp_path)) == len(payload["results"])  # finished crawls are kept

    done = run(tmp_path, "crawl", "--registry", base, "--live", "--refresh")
    assert done.returncode == 1
    assert "registry:" in done.stderr and "stopped early: page 2 failed" in done.stderr
    assert "the registry walk stopped early" in done.stderr
    crawls = stored_crawls(tmp_path)
    assert ("io.github.example/metadata", "failed", "unsafe_url") in crawls
    assert ("io.github.example/fixture", "ok", None) in crawls


def test_private_addresses_need_the_flag_or_the_setting(tmp_path, http_server):
    done = run(tmp_path, "crawl", http_server, "--name", "loopback", allow_private=False)
    assert done.returncode == 1
    assert "private or loopback" in done.stderr and "Traceback" not in done.stderr
    done = run(tmp_path, "crawl", http_server, "--name", "loopback", "--allow-private-urls", "--json",
               allow_private=False)
    assert done.returncode == 0, done.stderr
    assert by_server(done)["loopback"]["tools"] == 4


def test_a_redirect_to_another_host_is_not_followed(tmp_path, http_server, stand_in):
    elsewhere = http_server.replace("127.0.0.1", "localhost")
    base, seen = stand_in(lambda _: (307, {"Location": elsewhere}, b""))
    done = run(tmp_path, "crawl", f"{base}/mcp", "--name", "moved", "--json")
    assert done.returncode == 1
    result = by_server(done)["moved"]
    assert result["error_kind"] == "unsafe_url"
    assert "redirected to another host" in result["error"] and "not followed" in result["error"]
    assert seen


# -- live listings: the real cause --------------------------------------------------------------------------


def test_a_server_that_floods_and_exits_is_reported_with_its_last_error(tmp_path):
    # The timeout is far longer than the test may take: the crawl ends because the server is gone.
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("floods_then_exits.py"), "--name", "flood",
               "--timeout", "3600", "--json")
    assert done.returncode == 1
    result = by_server(done)["flood"]
    assert result["error_kind"] == "crash"
    assert "the fixture gave up after flooding both streams" in result["error"]


def test_a_tree_the_sandbox_watchdog_kills_is_reported_as_the_limit_it_broke(tmp_path):
    command = fixture_cmd("greedy.py", "forkbomb", "400", f"wiring-{os.getpid()}")
    done = run(tmp_path, "crawl", "--cmd", command, "--name", "forks", "--timeout", "3600", "--json")
    assert done.returncode == 1
    result = by_server(done)["forks"]
    assert result["error_kind"] == "resource_limit"
    assert "processes" in result["error"] and "sandbox" in result["error"]


# -- phases of a single crawl -------------------------------------------------------------------------------


def test_a_live_crawl_reports_its_phases_in_order_and_json_output_stays_clean(tmp_path):
    from catalog.crawl import CrawlOptions, Route, crawl_source
    from catalog.store import Store

    phases: list[str] = []
    options = CrawlOptions(route=Route.LIVE, cache_dir=tmp_path / "cache", name="fixture", progress=phases.append)
    [outcome] = crawl_source(f"stdio:{fixture_cmd('fastmcp_tools.py')}", options, Store(tmp_path / "c.db"))
    assert outcome.ok, outcome.result.error
    assert [phase.split()[0] for phase in phases] == ["starting", "listing"]
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fixture", "--json")
    assert done.returncode == 0, done.stderr
    assert by_server(done)["fixture"]["tools"] == 4  # stdout is the JSON alone


def test_a_source_listed_twice_is_crawled_once(tmp_path, http_server):
    listing = tmp_path / "sources.txt"
    listing.write_text(f"{http_server}\n# again:\n{http_server}\n  {http_server}  # and once more\n")
    done = run(tmp_path, "crawl", "--from", str(listing), "--json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["results"]) == 1
    assert len(stored_crawls(tmp_path)) == 1
