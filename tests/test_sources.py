"""Source kinds resolved for real: JSON manifests, client configs, local trees, a GitHub stand-in on loopback."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog.models import CatalogError
from catalog.sources import ResolveOptions, resolve
from catalog.sources.github import names_repository

SERVER_PY = '''
from mcp.server.fastmcp import FastMCP

mcp = FastMCP("standin")


@mcp.tool()
def list_widgets(limit: int = 10) -> list[str]:
    """List widgets."""
    return []


@mcp.tool()
def delete_widget(widget_id: str) -> str:
    """Delete a widget permanently."""
    return widget_id
'''


@pytest.fixture
def options(tmp_path):
    return ResolveOptions(cache_dir=tmp_path / "cache")


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def test_tools_list_result_keeps_every_field_and_reports_bad_items(tmp_path, options):
    doc = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [
        {"name": "get_x", "description": "Get x", "inputSchema": {"type": "object"},
         "annotations": {"readOnlyHint": True, "customHint": "kept"}},
        {"name": "get_x", "description": "again"},
        {"description": "no name"},
    ]}}
    [target] = resolve(str(write_json(tmp_path / "tools.json", doc)), options)
    assert [t.name for t in target.tools] == ["get_x"]
    assert target.tools[0].annotations == {"readOnlyHint": True, "customHint": "kept"}
    assert any("duplicate" in w for w in target.warnings) and any("malformed" in w for w in target.warnings)
    assert target.server.id == "file:tools"


def test_mcpb_manifest_prefers_full_static_responses(tmp_path, options):
    doc = {"manifest_version": "0.2", "name": "files-ext", "version": "1.2.0",
           "server": {"type": "node", "entry_point": "server/index.js"},
           "tools": [{"name": "read_file", "description": "Read a file"}], "tools_generated": True,
           "_meta": {"com.microsoft.windows": {"static_responses": {"tools/list": {"tools": [
               {"name": "read_file", "description": "Read a file", "inputSchema": {"type": "object",
                "properties": {"path": {"type": "string"}}}}]}}}}}
    [target] = resolve(str(write_json(tmp_path / "manifest.json", doc)), options)
    assert target.server.id == "files-ext" and target.version == "1.2.0"
    assert target.tools[0].input_schema["properties"] == {"path": {"type": "string"}}
    assert any("tools_generated" in w for w in target.warnings)


def test_client_config_names_each_server_and_passes_its_env(tmp_path, options):
    doc = {"mcpServers": {
        "mlflow": {"command": "uvx", "args": ["mlflow-mcp"], "env": {"MLFLOW_TRACKING_URI": "http://x",
                                                                    "TOKEN": "${input:token}"}},
        "remote": {"url": "http://127.0.0.1:9/mcp", "type": "http"}}}
    targets = resolve(str(write_json(tmp_path / "claude_desktop_config.json", doc)), options)
    assert [t.server.id for t in targets] == ["mlflow", "remote"]
    assert targets[0].command == ["uvx", "mlflow-mcp"]
    assert targets[0].env == {"MLFLOW_TRACKING_URI": "http://x"}
    assert targets[1].url == "http://127.0.0.1:9/mcp"


def test_vscode_servers_key_is_a_client_config(tmp_path, options):
    doc = {"servers": {"time": {"command": "python", "args": ["-m", "mcp_server_time"]}}}
    [target] = resolve(str(write_json(tmp_path / "mcp.json", doc)), options)
    assert target.server.id == "time" and target.command[0] == "python"


def test_server_json_with_only_a_remote_is_crawled_over_http(tmp_path, options):
    doc = {"name": "io.github.acme/weather", "version": "1.0.0",
           "remotes": [{"type": "streamable-http", "url": "https://mcp.example.invalid/mcp"}]}
    [target] = resolve(str(write_json(tmp_path / "server.json", doc)), options)
    assert target.url == "https://mcp.example.invalid/mcp" and target.server.id == "io.github.acme/weather"


def test_unknown_json_shape_and_bad_json_are_clear_errors(tmp_path, options):
    with pytest.raises(CatalogError, match="not a tools/list result"):
        resolve(str(write_json(tmp_path / "other.json", {"hello": 1})), options)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CatalogError, match="not valid JSON"):
        resolve(str(bad), options)


def test_unknown_source_string_is_a_usage_error(options):
    with pytest.raises(CatalogError) as info:
        resolve("not a source at all", options)
    assert info.value.kind == "usage"


def test_local_archive_is_unpacked_into_the_cache(tmp_path, options):
    archive = tmp_path / "srv.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        data = SERVER_PY.encode()
        info = tarfile.TarInfo("srv/server.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    [target] = resolve(str(archive), options)
    assert (target.root / "srv" / "server.py").read_text() == SERVER_PY
    assert target.server.id == "local:srv" and target.digest


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/kkruglik/mlflow-mcp", True),
    ("git+https://github.com/KKruglik/mlflow-mcp.git", True),
    ("git@github.com:kkruglik/mlflow-mcp.git", True),
    ("https://github.com/kkruglik/mlflow-mcp/issues", True),
    ("https://github.com/someone-else/mlflow-mcp", False),
    ("https://github.com/kkruglik/mlflow-mcp-fork", False),
    ("https://gitlab.com/kkruglik/mlflow-mcp", False),
])
def test_repository_urls_must_name_the_exact_repo(url, expected):
    assert names_repository(url, "kkruglik", "mlflow-mcp") is expected


class StandIn(BaseHTTPRequestHandler):
    """A loopback stand-in for GitHub's archive endpoint."""

    archives: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802
        body = self.archives.get(self.path)
        self.send_response(200 if body else 404)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def github_standin():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        data = SERVER_PY.encode()
        info = tarfile.TarInfo("widgets-mcp-0a1b2c3/src/widgets/server.py")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    StandIn.archives = {"/acme/widgets-mcp/archive/HEAD.tar.gz": buffer.getvalue()}
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_github_route_reads_the_repository_archive(github_standin, options):
    options.github_url = github_standin
    [target] = resolve("acme/widgets-mcp", options)
    assert target.server.id == "acme/widgets-mcp" and target.server.kind == "github"
    assert target.route.startswith("github archive")
    assert target.version == "0a1b2c3"
    assert (target.root / "src" / "widgets" / "server.py").is_file()


def test_github_url_form_is_accepted(github_standin, options):
    options.github_url = github_standin
    [target] = resolve("https://github.com/acme/widgets-mcp", options)
    assert target.server.id == "acme/widgets-mcp"


def test_a_target_reaches_its_tools_in_exactly_one_way(tmp_path):
    from catalog.models import ServerRef
    from catalog.sources import ReadTree, RunCommand, Target

    ref = ServerRef("x", "x", "local")
    assert Target(ref, "r", root=tmp_path).access == ReadTree(tmp_path)
    assert Target(ref, "r", RunCommand(["srv"])).command == ["srv"]
    with pytest.raises(TypeError):
        Target(ref, "r", root=tmp_path, command=["srv"])
    with pytest.raises(TypeError):
        Target(ref, "r")


def test_failure_kinds_are_typed_grouped_and_keep_their_stored_strings():
    from catalog.models import FailureKind, Family, ServerError, SourceError, UsageError

    assert CatalogError("x", "usage").exit_code == 2 and UsageError("x").kind is FailureKind.USAGE
    assert CatalogError("x", "timeout").family is Family.SERVER and ServerError("x").exit_code == 1
    assert SourceError("x", FailureKind.INSTALL_FAILED).family is Family.SOURCE
    assert CatalogError("x", "bad_usage").kind is FailureKind.USAGE
    assert str(CatalogError("x", "a_kind_added_later").kind) == "a_kind_added_later"
    assert FailureKind("needs_config") == "needs_config"
