"""The `catalog` command end to end, as a user runs it: real processes, real servers, real database files."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.servers.tool_data import TOOLS

SERVERS = Path(__file__).parent / "fixtures" / "servers"
PY = sys.executable


def run(tmp_path: Path, *args: str, timeout: float = 300, extra_env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "catalog.db"),
           **(extra_env or {})}
    env.pop("CATALOG_DEBUG", None)
    env["CATALOG_ALLOW_PRIVATE_URLS"] = "1"  # fixture servers listen on loopback
    return subprocess.run([PY, "-m", "catalog.cli", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def fixture_cmd(name: str, *args: str) -> str:
    return " ".join([PY, str(SERVERS / name), *args])


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    return lines[0]


def stored_tools(tmp_path: Path, server: str) -> list[dict]:
    done = run(tmp_path, "tools", server, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_exact(tools: list[dict]) -> None:
    by_name = {t["name"]: t for t in tools}
    assert set(by_name) == {spec["name"] for spec in TOOLS}
    for spec in TOOLS:
        got = by_name[spec["name"]]
        assert got["description"] == spec["description"]
        assert got["annotations"] == (spec["annotations"] or None)
        assert got["title"] == spec["title"]
        assert got["category"] in ("read", "write", "destructive") and got["reasons"]


def free_port() -> int:
    """A port nothing listened on a moment ago. Only for a process that must pick its own port (`catalog
    browse --port`); a fixture server gets a socket that is already its own from `serve_on_loopback`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    """Until `process` listens on `port`; at once if it exits (say the port was taken in the meantime)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server meant for port {port} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def serve_on_loopback(script: str, *args: str) -> tuple[subprocess.Popen, int]:
    """Start the fixture server `script` on a loopback socket bound here and handed down (`fd=N` as its last
    argument): no other process can take the port between choosing and serving it. Returns once it answers
    HTTP, with the process and the port."""
    with socket.socket() as sock, tempfile.TemporaryFile() as errlog:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        process = subprocess.Popen([PY, str(SERVERS / script), *args, f"fd={sock.fileno()}"],
                                   pass_fds=[sock.fileno()], stdout=subprocess.DEVNULL, stderr=errlog)
        sock.close()  # the server's copy only: a request waits until it serves, or fails at once if it died
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=120)
        except httpx.HTTPError as error:
            process.kill()
            process.wait()
            errlog.seek(0)
            tail = errlog.read().decode(errors="replace")[-2000:]
            raise AssertionError(f"{script} did not answer on port {port} ({error!r}): {tail}") from None
    return process, port


def test_cmd_crawl_of_run_time_registered_tools_comes_back_exact(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fixture")
    assert done.returncode == 0, done.stderr
    assert "fixture: 4 tools (live" in done.stdout
    assert_exact(stored_tools(tmp_path, "fixture"))


def test_http_crawl_comes_back_exact(tmp_path, http_server):
    done = run(tmp_path, "crawl", http_server, "--name", "remote", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["tools"] == 4
    assert_exact(stored_tools(tmp_path, "remote"))


def test_server_that_exits_at_start_fails_cleanly_and_keeps_the_previous_result(tmp_path):
    assert run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "srv").returncode == 0
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("needs_key.py"), "--name", "srv")
    assert done.returncode == 1
    assert "FOO_API_KEY" in one_line_error(done) or "API" in one_line_error(done)
    assert_exact(stored_tools(tmp_path, "srv"))
    db = sqlite_rows(tmp_path, "SELECT status, error_kind FROM crawls WHERE server_id = 'srv' ORDER BY id")
    assert [row[0] for row in db] == ["ok", "failed"]


def test_hanging_server_times_out_with_one_line(tmp_path):
    start = time.monotonic()
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("hangs.py"), "--name", "hang", "--timeout", "3")
    assert done.returncode == 1
    assert "tim" in one_line_error(done).lower()
    assert time.monotonic() - start < 120  # the server never answers: only the timeout ends the crawl


def test_garbage_on_stdout_fails_with_one_line(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("garbage.py"), "--name", "garbage", "--timeout", "5")
    assert done.returncode == 1
    one_line_error(done)


def test_ten_thousand_tools_are_refused_over_the_cap(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("many_tools.py", "10000"), "--name", "huge", "--timeout", "300")
    assert done.returncode == 1
    assert "5000" in one_line_error(done)


def test_malformed_and_duplicate_tools_are_named_and_good_ones_stored(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("raw_jsonrpc.py"), "--name", "raw")
    assert done.returncode == 1
    assert "duplicate" in done.stderr and "malformed" in done.stderr
    assert stored_tools(tmp_path, "raw")


def test_client_config_secrets_never_reach_the_database_or_output(tmp_path):
    secret = "s3cr3t-value-do-not-store"
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(json.dumps({"mcpServers": {
        "docs": {"command": PY, "args": [str(SERVERS / "fastmcp_tools.py")], "env": {"DOCS_API_TOKEN": secret}},
        "broken": {"command": PY, "args": [str(SERVERS / "needs_key.py")]},
    }}))
    done = run(tmp_path, "crawl", "--from", str(config), "--jobs", "2")
    assert done.returncode == 1
    assert "docs" in done.stdout and "broken" in done.stdout
    assert secret not in done.stdout + done.stderr
    assert secret.encode() not in (tmp_path / "catalog.db").read_bytes()
    rows = sqlite_rows(tmp_path, "SELECT env_names FROM crawls WHERE server_id = 'docs'")
    assert json.loads(rows[0][0]) == ["DOCS_API_TOKEN"]
    assert_exact(stored_tools(tmp_path, "docs"))


def test_corrupt_database_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "catalog.db").write_bytes(b"garbage" * 1000)
    done = run(tmp_path, "tools", "anything")
    assert done.returncode == 1
    assert "cannot open catalog database" in one_line_error(done)


def test_unknown_source_is_a_usage_error(tmp_path):
    done = run(tmp_path, "crawl", "definitely not a source")
    assert done.returncode == 2
    assert "unknown source" in one_line_error(done)


def test_server_arguments_without_live_are_a_usage_error(tmp_path):
    done = run(tmp_path, "crawl", "npm:some-server", "--arg", "stdio")
    assert done.returncode == 2
    assert "--arg goes with --live" in one_line_error(done)


def test_label_override_survives_a_recrawl(tmp_path):
    assert run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx").returncode == 0
    done = run(tmp_path, "label", "fx", "search_docs", "write", "--note", "logs every query to billing")
    assert done.returncode == 0, done.stderr
    assert run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx").returncode == 0
    tool = next(t for t in stored_tools(tmp_path, "fx") if t["name"] == "search_docs")
    assert tool["category"] == "write" and tool["override"]["note"] == "logs every query to billing"


def test_search_finds_stored_tools(tmp_path):
    assert run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx").returncode == 0
    done = run(tmp_path, "search", "records", "--json")
    assert done.returncode == 0, done.stderr
    assert [row["name"] for row in json.loads(done.stdout)] == ["delete_records"]


def sqlite_rows(tmp_path: Path, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(tmp_path / "catalog.db") as conn:
        return conn.execute(sql).fetchall()


def test_client_config_crawl_is_concurrent_and_resumes_after_ctrl_c(tmp_path):
    servers = {f"docs{i}": {"command": PY, "args": [str(SERVERS / "fastmcp_tools.py")]} for i in range(3)}
    servers["stuck"] = {"command": PY, "args": [str(SERVERS / "hangs.py")]}
    config = tmp_path / ".mcp.json"
    config.write_text(json.dumps({"mcpServers": servers}))
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "catalog.db")}
    # The stuck server would hold its worker for 240 s; Ctrl-C must end the run long before that. The bounds
    # are generous so that a loaded machine (slow server start-up) cannot fail the test.
    process = subprocess.Popen([PY, "-m", "catalog.cli", "crawl", "--from", str(config), "--jobs", "4",
                                "--timeout", "240"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline and len(ok_crawls(tmp_path)) < 3 and process.poll() is None:
        time.sleep(0.2)
    assert sorted(ok_crawls(tmp_path)) == ["docs0", "docs1", "docs2"]
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and time.monotonic() - started < 120, stderr
    assert "Traceback" not in stderr
    assert sorted(ok_crawls(tmp_path)) == ["docs0", "docs1", "docs2"]
    again = run(tmp_path, "crawl", "--from", str(config), "--timeout", "2", "--json")
    assert again.returncode == 1
    summary = json.loads(again.stdout)
    assert summary["skipped"] == 3 and summary["failed"] == 1
    [stuck] = summary["results"]
    assert stuck["server"] == "stuck" and stuck["error_kind"] == "timeout"


def ok_crawls(tmp_path: Path) -> list[str]:
    try:
        return [row[0] for row in sqlite_rows(tmp_path, "SELECT server_id FROM crawls WHERE status = 'ok'")]
    except sqlite3.Error:
        return []


def assert_nowhere(tmp_path: Path, done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    """None of the secrets in the output, the database files (WAL included) or the cache (names and bytes)."""
    for secret in secrets:
        assert secret not in done.stdout + done.stderr, (secret, done.stdout, done.stderr)
        for path in tmp_path.rglob("*"):
            relative = str(path.relative_to(tmp_path))
            if relative.startswith(("cache", "catalog.db")):
                assert secret not in relative
                if path.is_file():
                    assert secret.encode() not in path.read_bytes(), (secret, path)


def test_cmd_secrets_never_reach_the_database_cache_or_output(tmp_path):
    command = fixture_cmd("fastmcp_tools.py", "stdio", "--api-key=SECRETVALUE1", "--token", "SECRETVALUE2")
    done = run(tmp_path, "crawl", "--cmd", command, "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["server"].endswith("--api-key=*** --token ***")
    again = run(tmp_path, "crawl", "--cmd", command, "--name", "x")
    assert again.returncode == 0, again.stderr
    listed = run(tmp_path, "tools", result["server"], "--json")
    assert listed.returncode == 0, listed.stderr
    assert_nowhere(tmp_path, done, "SECRETVALUE1", "SECRETVALUE2")
    assert_nowhere(tmp_path, again, "SECRETVALUE1", "SECRETVALUE2")
    rows = sqlite_rows(tmp_path, "SELECT s.id, s.source, c.route FROM servers s JOIN crawls c ON c.server_id = s.id")
    assert rows and all("***" in row[1] and "***" in row[2] for row in rows)


def test_secrets_a_crashing_server_prints_are_masked_in_errors_and_storage(tmp_path):
    command = fixture_cmd("leaks_secret.py", "--token", "ARGSECRET77")
    done = run(tmp_path, "crawl", "--cmd", command, "--name", "leaky", "--env", "LEAK_API_KEY=ENVSECRET88")
    assert done.returncode == 1
    line = one_line_error(done)
    assert "login refused" in line and "***" in line
    assert_nowhere(tmp_path, done, "ARGSECRET77", "ENVSECRET88")
    [(error,)] = sqlite_rows(tmp_path, "SELECT error FROM crawls WHERE server_id = 'leaky'")
    assert "login refused" in error


def test_client_config_args_env_headers_and_url_secrets_are_masked_everywhere(tmp_path):
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "ok": {"command": PY, "args": [str(SERVERS / "fastmcp_tools.py"), "stdio", "--api-key=CFGSECRET1"],
               "env": {"SOME_SETTING": "CFGSECRET2"}},
        "leaky": {"command": PY, "args": [str(SERVERS / "leaks_secret.py"), "--token", "CFGSECRET3"],
                  "env": {"LEAK_API_KEY": "CFGSECRET4"}},
        "remote": {"url": f"http://user:CFGSECRET5@127.0.0.1:{free_port()}/mcp?api_key=CFGSECRET6",
                   "headers": {"Authorization": "Bearer CFGSECRET7"}},
    }}))
    for args in (["--from", str(config)], [str(config)]):
        done = run(tmp_path, "crawl", *args, "--timeout", "120")
        assert done.returncode == 1, done.stderr
        assert "ok" in done.stdout + done.stderr and "leaky" in done.stdout + done.stderr
        assert_nowhere(tmp_path, done, *(f"CFGSECRET{i}" for i in range(1, 8)))
        json_done = run(tmp_path, "crawl", *args, "--timeout", "120", "--json", "--refresh")
        assert_nowhere(tmp_path, json_done, *(f"CFGSECRET{i}" for i in range(1, 8)))


RUN_TIME_SERVER = '''
import os
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("rt")
PREFIX = os.environ.get("PREFIX", "x")


@mcp.tool()
def list_items() -> list[str]:
    """List items."""
    return []


@mcp.tool(name=f"{PREFIX}_delete")
def delete_item(item_id: str) -> str:
    """Delete an item."""
    return item_id
'''


def test_static_inventory_with_a_run_time_name_is_incomplete_with_tools_kept(tmp_path):
    tree = tmp_path / "srv"
    tree.mkdir()
    (tree / "server.py").write_text(RUN_TIME_SERVER)
    done = run(tmp_path, "crawl", str(tree), "--static", "--name", "rt")
    assert done.returncode == 1
    assert "built at run time" in one_line_error(done) and "✓" not in done.stdout
    as_json = run(tmp_path, "crawl", str(tree), "--static", "--name", "rt", "--json")
    [result] = json.loads(as_json.stdout)
    assert result["status"] == "incomplete" and result["tool_names"] == ["list_items"]
    [stored] = stored_tools(tmp_path, "rt")
    assert stored["name"] == "list_items"
    inventory = stored["inventory"]  # which crawl the inventory comes from, and how far to trust it
    assert inventory["status"] == "incomplete" and inventory["method"] == "static"
    assert inventory["crawl_id"] == result["crawl_id"] and "built at run time" in inventory["error"]


def test_crawl_json_lists_the_stored_tool_names_and_status(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx", "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["status"] == "ok" and result["method"] == "live"
    assert sorted(result["tool_names"]) == sorted(spec["name"] for spec in TOOLS)


@pytest.mark.parametrize("args", [
    ["--timeout", "-5"], ["--timeout", "0"], ["--jobs", "0"], ["--max-tools", "0"], ["--live", "--static"],
])
def test_bad_flag_values_are_usage_errors_and_nothing_is_stored(tmp_path, args):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx", *args)
    assert done.returncode == 2
    assert args[0] in one_line_error(done)
    assert not (tmp_path / "catalog.db").exists() or not sqlite_rows(tmp_path, "SELECT * FROM crawls")


def test_a_bad_sandbox_setting_is_a_usage_error_not_a_stored_failure(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("fastmcp_tools.py"), "--name", "fx",
               extra_env={"CATALOG_SANDBOX": "sometimes"})
    assert done.returncode == 2
    assert "CATALOG_SANDBOX" in one_line_error(done)
    assert not (tmp_path / "catalog.db").exists() or not sqlite_rows(tmp_path, "SELECT * FROM crawls")


def test_a_missing_python_module_is_a_crash_not_missing_configuration(tmp_path):
    # "No module named 'tokenizers...'" once read as needs_config (the word "token") or needs_network.
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("missing_module.py"), "--name", "broken", "--json")
    assert done.returncode == 1
    [result] = json.loads(done.stdout)
    assert result["error_kind"] == "crash" and "No module named" in result["error"]


def test_a_server_that_requires_options_starts_with_placeholders_for_them(tmp_path):
    done = run(tmp_path, "crawl", "--cmd", fixture_cmd("needs_options.py"), "--name", "opts", "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert result["tool_names"] == ["list_accounts"]
    assert any("placeholder values for the options --client-id, --api-url" in w for w in result["warnings"])
