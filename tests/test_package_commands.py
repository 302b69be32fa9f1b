"""Client-config entries that fetch and run a package (`uvx NAME`, `npx -y NAME`, `pipx run NAME`) are
crawled by the package route. The package is a wheel built in the test, served from a loopback index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog import envs
from tests.fixtures.servers.packages import build_wheel, wheel_bytes


@pytest.mark.parametrize(("command", "expected"), [
    (["uvx", "mcp-server-fetch"], ("pypi", "mcp-server-fetch", None, [])),
    (["uvx", "--python", "3.12", "mcp-server-git==1.2", "--repository", "."], ("pypi", "mcp-server-git", "1.2", ["--repository", "."])),
    (["uv", "tool", "run", "pkg@2.0"], ("pypi", "pkg", "2.0", [])),
    (["pipx", "run", "some-server", "stdio"], ("pypi", "some-server", None, ["stdio"])),
    (["npx", "-y", "@scope/server-x@1.4.0", "/data"], ("npm", "@scope/server-x", "1.4.0", ["/data"])),
    (["/usr/bin/npx", "--yes", "server-y"], ("npm", "server-y", None, [])),
])
def test_the_package_behind_a_runner_command_is_recognised(command, expected):
    behind = envs.package_behind(command)
    assert behind is not None
    assert (behind.registry, behind.name, behind.version, behind.args) == expected


@pytest.mark.parametrize("command", [
    ["python", "server.py"], ["uvx", "--from", "pkg", "other-command"], ["npx", "-p", "pkg", "cmd"], ["npx"],
    ["node", "index.js"], ["uvx", "../evil"],
])
def test_other_commands_are_left_as_commands(command):
    assert envs.package_behind(command) is None


# A server whose tools static reading finds, but which refuses to start.
BROKEN_SERVER = """from mcp.server.fastmcp import FastMCP

mcp = FastMCP("broken")


@mcp.tool()
def ping() -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"


def main():
    raise SystemExit("refusing to start: this fixture never runs")
"""


@pytest.fixture()
def loopback_index(tmp_path):
    """A PEP 503 simple index over HTTP on 127.0.0.1 serving wheels built here (catalog-echo, a working
    stdlib server, and catalog-broken, a server that exits at start)."""
    root = tmp_path / "index"
    links = tmp_path / "links"
    wheels = {
        "catalog-echo": build_wheel(links, "catalog-echo", scripts={"catalog-echo": "catalog_echo:main"}),
        "catalog-broken": links / "catalog_broken-1.0-py3-none-any.whl",
    }
    wheels["catalog-broken"].write_bytes(wheel_bytes(
        "catalog-broken", "1.0", {"catalog_broken/__init__.py": BROKEN_SERVER}, {"catalog-broken": "catalog_broken:main"}
    ))
    for name, wheel in wheels.items():
        project = root / "simple" / name
        project.mkdir(parents=True)
        (project / wheel.name).write_bytes(wheel.read_bytes())
        (project / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>')
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()


def test_a_uvx_entry_in_a_client_config_is_installed_and_listed_by_the_package_route(tmp_path, loopback_index):
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"echo": {"command": "uvx", "args": ["catalog-echo"]}}}))
    env = {
        **os.environ,
        "CATALOG_CACHE": str(tmp_path / "cache"),
        "CATALOG_DB": str(tmp_path / "c.db"),
        "PIP_INDEX_URL": loopback_index,
        "UV_INDEX_URL": loopback_index,
    }
    done = subprocess.run([sys.executable, "-m", "catalog.cli", "crawl", "--from", str(config)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    tools = subprocess.run([sys.executable, "-m", "catalog.cli", "tools", "echo", "--json"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert [tool["name"] for tool in json.loads(tools.stdout)] == ["echo"]
    assert (tmp_path / "cache" / "envs" / "pypi" / "catalog-echo-1.0" / envs.COMPLETE).exists()


def default_crawl(tmp_path, index: str, source: str) -> subprocess.CompletedProcess[str]:
    """`catalog crawl SOURCE --json` by the default route (static reading and, in bwrap, a live listing)."""
    from catalog import sandbox

    if sandbox.bwrap_usable():
        pytest.skip(f"default route lists live only in the sandbox: {sandbox.bwrap_usable()}")
    env = {
        **os.environ,
        "CATALOG_CACHE": str(tmp_path / "cache"),
        "CATALOG_DB": str(tmp_path / "c.db"),
        "PIP_INDEX_URL": index,
        "UV_INDEX_URL": index,
    }
    env.pop("CATALOG_SANDBOX", None)
    return subprocess.run([sys.executable, "-m", "catalog.cli", "crawl", source, "--json"],
                          env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_the_default_route_reads_a_package_statically_and_lists_it_live_then_reconciles(tmp_path, loopback_index):
    """Static reading and the live listing run side by side; the live listing is the inventory, and what
    static reading missed (this server answers JSON-RPC by hand, so it finds nothing) is a difference."""
    done = default_crawl(tmp_path, loopback_index, "pypi:catalog-echo==1.0")
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    assert (result["status"], result["method"], result["tool_names"]) == ("ok", "static+live", ["echo"])
    assert result["differences"] == [{"tool": "echo", "what": "live_only"}]
    assert "run live in a sandbox" in result["route"]


def test_when_the_live_listing_fails_the_default_route_keeps_the_static_tools_as_incomplete(tmp_path, loopback_index):
    done = default_crawl(tmp_path, loopback_index, "pypi:catalog-broken==1.0")
    assert done.returncode == 1, done.stdout + done.stderr
    [result] = json.loads(done.stdout)
    assert (result["status"], result["method"], result["tool_names"]) == ("incomplete", "static", ["ping"])
    assert result["error"].startswith("live listing failed")
