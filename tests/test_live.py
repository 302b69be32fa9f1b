"""The live client, sandbox and per-package environments against real fixture servers and real installs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from catalog import envs, live, sandbox
from catalog.models import CatalogError
from tests.fixtures.servers.packages import build_sdist, build_wheel, npm_pack, npm_packed, wheel_bytes
from tests.fixtures.servers.tool_data import TOOLS
from tests.test_cli import serve_on_loopback

SERVERS = Path(__file__).parent / "fixtures" / "servers"
NPM_SCRIPTED = Path(__file__).parent / "fixtures" / "npm_scripted"
PY = sys.executable
ALWAYS_SET = {"HOME", "PATH", "PWD", "LC_CTYPE"}  # PWD from bwrap, LC_CTYPE from Python's locale coercion


def mount_points_in_home() -> set[str]:
    """Entries of the real HOME the sandbox must show: the way down to the interpreter it binds."""
    home, base = Path(os.path.realpath(os.path.expanduser("~"))), Path(os.path.realpath(sys.base_prefix))
    return {base.relative_to(home).parts[0]} if home in base.parents else set()


def launch(script: str, *args: str, env: dict[str, str] | None = None, sandboxed: bool = True) -> live.Launch:
    return live.Launch(command=[PY, str(SERVERS / script), *args], env=env or {}, sandbox=sandboxed)


def processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def assert_fixture_tools(listing: live.LiveListing) -> None:
    by_name = {tool.name: tool for tool in listing.tools}
    assert list(by_name) == [spec["name"] for spec in TOOLS]
    for spec in TOOLS:
        tool = by_name[spec["name"]]
        assert tool.description == spec["description"]
        assert tool.title == spec["title"]
        assert tool.annotations == (spec["annotations"] or None)
        assert tool.raw is not None and tool.raw["name"] == spec["name"]


@pytest.fixture(scope="module")
def web_servers():
    """The FastMCP fixture over streamable HTTP and over SSE, for the whole module."""
    processes, ports = [], {}
    try:
        for mode in ("http", "sse"):
            process, ports[mode] = serve_on_loopback("fastmcp_tools.py", mode)
            processes.append(process)
        yield {"http": f"http://127.0.0.1:{ports['http']}/mcp", "sse": f"http://127.0.0.1:{ports['sse']}/sse"}
    finally:
        for process in processes:
            process.kill()
            process.wait()


def test_stdio_listing_in_the_sandbox_keeps_tools_prompts_and_resources():
    listing = live.list_stdio(launch("fastmcp_tools.py"), timeout=120)
    assert_fixture_tools(listing)
    assert [prompt.name for prompt in listing.prompts] == ["summarise"]
    assert [(r.uri, r.mime_type) for r in listing.resources] == [("fixture://readme", "text/plain")]
    assert listing.server_info["name"] == "fixture-fastmcp"


def test_streamable_http_listing_is_exact(web_servers):
    listing = live.list_url(web_servers["http"], timeout=120)
    assert_fixture_tools(listing)
    assert [prompt.name for prompt in listing.prompts] == ["summarise"]
    assert not any("SSE" in warning for warning in listing.warnings)


def test_sse_endpoint_is_listed_after_streamable_http_fails(web_servers):
    listing = live.list_url(web_servers["sse"], timeout=120)
    assert_fixture_tools(listing)
    assert "streamable HTTP failed; listed over SSE" in listing.warnings


def test_paging_follows_next_cursor_to_the_last_page():
    listing = live.list_stdio(launch("paged.py", "7"), timeout=120)
    assert [tool.name for tool in listing.tools] == [f"page_tool_{i}" for i in range(7)]
    assert listing.warnings == []


def test_paging_stops_on_a_repeated_cursor_with_a_warning():
    listing = live.list_stdio(launch("paged.py", "7", "loop"), timeout=120)
    assert [tool.name for tool in listing.tools] == [f"page_tool_{i}" for i in range(6)]
    assert any("repeated the cursor '3'" in warning for warning in listing.warnings)


def test_malformed_and_duplicate_tools_are_named_and_the_rest_kept_verbatim():
    listing = live.list_stdio(launch("raw_jsonrpc.py"), timeout=120)
    assert [tool.name for tool in listing.tools] == ["ok_tool", "schema_without_type"]
    assert listing.tools[0].raw["x_extra"] == {"kept": True}
    assert listing.tools[0].annotations["customHint"] == "kept"
    assert listing.duplicates == ["ok_tool"]
    assert {m.split(":")[0] for m in listing.malformed} == {
        "tool #3",
        "bad_schema",
        "bad_annotations",
        "number_description",
        "tool #8",
    }


def test_silent_server_times_out_with_the_timeout_named():
    started = time.monotonic()
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch("hangs.py"), timeout=2)
    assert failure.value.kind == "timeout"
    assert "within 2s" in str(failure.value)
    # the server never answers: only the timeout ends the wait. The bound catches a hang, not slowness
    # (start-up in the sandbox on a loaded machine counts too).
    assert time.monotonic() - started < 120


def test_garbage_on_stdout_is_reported_as_bad_protocol_with_the_text():
    # The server never answers, so the whole timeout passes; it must be long enough for the server to
    # start in the sandbox and print its text even on a loaded machine, or the failure is a plain timeout.
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch("garbage.py"), timeout=10)
    assert failure.value.kind == "bad_protocol"
    assert "Welcome to the garbage server" in str(failure.value)


def test_crash_mid_handshake_reports_the_last_stderr_line():
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch("crashes_midway.py"), timeout=120)
    assert failure.value.kind == "crash"
    assert "RuntimeError: database file is corrupt" in str(failure.value)


def test_crash_report_names_the_error_line_without_colour_codes_stack_or_runtime_footer():
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch("crashes_like_node.py"), timeout=120)
    assert "RangeError: Cannot allocate memory" in str(failure.value)
    assert "Node.js v20" not in str(failure.value)


def test_missing_required_key_is_needs_config():
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch("needs_key.py"), timeout=120)
    assert failure.value.kind == "needs_config"
    assert "FOO_API_KEY is not set" in str(failure.value)


def test_http_401_is_one_clear_line_with_the_challenge():
    server, port = serve_on_loopback("auth_401.py")
    try:
        with pytest.raises(CatalogError) as failure:
            live.list_url(f"http://127.0.0.1:{port}/mcp", timeout=120)
    finally:
        server.kill()
        server.wait()
    message = str(failure.value)
    assert failure.value.kind == "auth" and "\n" not in message
    assert "HTTP 401" in message and "authentication required" in message
    assert 'Bearer realm="fixture"' in message


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_sandbox_hides_home_and_network_passes_only_given_env_and_kills_the_tree(listener, monkeypatch):
    monkeypatch.setenv("CATALOG_TEST_DECOY", "must-not-leak")
    token = f"probe-{uuid.uuid4().hex}"
    real_home = os.path.expanduser("~")
    listing = live.list_stdio(
        launch("probe.py", str(listener), token, real_home, env={"GIVEN_KEY": "1"}), timeout=120
    )
    facts = {tool.name: tool.description for tool in listing.tools}
    assert facts["network"].startswith("blocked")
    assert set(json.loads(facts["env_names"])) <= ALWAYS_SET | {"GIVEN_KEY"}
    assert "GIVEN_KEY" in json.loads(facts["env_names"])
    assert facts["home"].startswith("writable") and real_home not in facts["home"]
    visible = set(json.loads(facts["directory"]))
    assert visible <= mount_points_in_home()
    assert set(os.listdir(real_home)) - visible, "the real HOME has entries the sandbox should hide"
    assert processes_with(token) == []


def test_without_sandbox_the_process_group_is_still_killed_and_env_still_limited(listener, monkeypatch):
    monkeypatch.setenv("CATALOG_TEST_DECOY", "must-not-leak")
    token = f"probe-{uuid.uuid4().hex}"
    listing = live.list_stdio(launch("probe.py", str(listener), token, sandboxed=False), timeout=120)
    facts = {tool.name: tool.description for tool in listing.tools}
    assert facts["network"] == "connected"  # the probe itself works: the sandbox is what blocks it
    assert set(json.loads(facts["env_names"])) <= ALWAYS_SET | {sandbox.RUN_TOKEN}
    assert any("no sandbox" in warning for warning in listing.warnings)
    assert processes_with(token) == []


def test_unusable_bwrap_fails_with_one_line_suggesting_no_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this PATH
    monkeypatch.delenv(sandbox.MODE_VARIABLE, raising=False)
    sandbox.bwrap_usable.cache_clear()
    try:
        with pytest.raises(CatalogError) as failure:
            live.list_stdio(launch("hangs.py"), timeout=5)
    finally:
        sandbox.bwrap_usable.cache_clear()
    message = str(failure.value)
    assert failure.value.kind == "sandbox" and "\n" not in message
    assert "bwrap" in message and "--no-sandbox" in message


def test_the_memory_limit_stops_a_process_that_allocates_past_it():
    limits = sandbox.Limits(data_bytes=300 * 1024**2)
    grab = [PY, "-c", "blocks = [bytearray(50 * 1024**2) for _ in range(20)]"]
    done = sandbox.run(grab, {}, timeout=60, limits=limits)
    assert done.returncode != 0 and "MemoryError" in done.stderr
    small = sandbox.run([PY, "-c", "blocks = [bytearray(50 * 1024**2) for _ in range(2)]"], {}, limits=limits)
    assert small.returncode == 0, small.stderr


def test_node_can_reserve_webassembly_memory_under_the_default_limits():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    script = "new WebAssembly.Memory({initial: 1}); console.log('reserved')"
    done = sandbox.run([node, "-e", script], {}, timeout=60, limits=sandbox.Limits())
    assert done.returncode == 0 and "reserved" in done.stdout, done.stderr


def test_bwrap_is_usable_on_this_machine():
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap not installed")
    sandbox.bwrap_usable.cache_clear()
    assert sandbox.bwrap_usable() is None


# Per-package environments, from packages built here (no registry).


def echo_wheel(links: Path, dist: str = "catalog-echo", **kwargs) -> Path:
    module = dist.replace("-", "_")
    scripts = kwargs.pop("scripts", {dist: f"{module}:main", f"{dist}-admin": f"{module}:main"})
    return build_wheel(links, dist, scripts=scripts, **kwargs)


def test_python_env_installs_a_wheel_and_runs_its_console_script_in_the_sandbox(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links)
    prepared = envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    assert prepared.command == [str(prepared.root / "bin" / "catalog-echo")]  # not catalog-echo-admin
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert [(tool.name, tool.description) for tool in listing.tools] == [("echo", "echo from catalog_echo")]


def stand_in_mcp_wheels(links: Path) -> None:
    """Two releases of a stand-in 'mcp' distribution, as the index offers both majors."""
    for version in ("1.9", "2.0"):
        links.mkdir(parents=True, exist_ok=True)
        files = {"mcp/__init__.py": f"VERSION = {version!r}\n"}
        (links / f"mcp-{version}-py3-none-any.whl").write_bytes(wheel_bytes("mcp", version, files, {}))


def installed_version(root: Path, dist: str) -> str:
    found = sorted(root.glob(f"lib/python*/site-packages/{dist}-*.dist-info"))
    assert len(found) == 1, found
    return found[0].name.removeprefix(f"{dist}-").removesuffix(".dist-info")


@pytest.mark.parametrize(("requirement", "expected"), [("mcp", "1.9"), ("mcp>=1", "1.9"), ("mcp>=2", "2.0")])
def test_a_python_server_gets_mcp_1_unless_it_requires_2(tmp_path, requirement, expected):
    links = tmp_path / "links"
    stand_in_mcp_wheels(links)
    build_wheel(links, "catalog-echo", requires=(requirement,), scripts={"catalog-echo": "catalog_echo:main"})
    prepared = envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    assert installed_version(prepared.root, "mcp") == expected


def test_an_unsatisfiable_install_says_why_not_only_that_it_failed(tmp_path):
    links = tmp_path / "links"
    build_wheel(links, "catalog-echo", requires=("catalog-missing-dependency>=3",))
    with pytest.raises(CatalogError) as failure:
        envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    assert failure.value.kind == "install_failed"
    assert "catalog-missing-dependency" in str(failure.value) and "\n" not in str(failure.value)


def test_python_env_is_reused_once_complete(tmp_path):
    links = tmp_path / "links"
    wheel = echo_wheel(links)
    first = envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    marker = first.root / envs.COMPLETE
    stamp = marker.stat().st_mtime_ns
    wheel.unlink()  # a reinstall would now fail
    second = envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    assert second.command == first.command and marker.stat().st_mtime_ns == stamp


def test_an_interrupted_install_is_wiped_and_redone(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links)
    root = tmp_path / "envs" / "pypi" / "catalog-echo-1.0"
    root.mkdir(parents=True)
    (root / "half-written").write_text("left by a killed install")
    prepared = envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)
    assert prepared.root == root and not (root / "half-written").exists()
    assert (root / envs.COMPLETE).exists() and Path(prepared.command[0]).is_file()


def test_concurrent_installs_of_one_package_share_one_working_env(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links)

    def prepare(_: int) -> envs.Prepared:
        return envs.python_env("catalog-echo", "1.0", tmp_path / "envs", find_links=links)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(prepare, range(3)))
    assert len({tuple(result.command) for result in results}) == 1
    listing = live.list_stdio(live.Launch(results[0].command, {}, binds=results[0].binds), timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]


def test_several_scripts_none_named_after_the_package_is_a_clear_error(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links, "catalog-multi", scripts={"alpha": "catalog_multi:main", "beta": "catalog_multi:main"})
    with pytest.raises(CatalogError) as failure:
        envs.python_env("catalog-multi", "1.0", tmp_path / "envs", find_links=links)
    assert failure.value.kind == "no_entry_point"
    assert "alpha, beta" in str(failure.value) and "--cmd" in str(failure.value)


def test_a_package_with_only_a_main_module_runs_with_python_m(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links, "catalog-mainonly", scripts={}, main=True)
    prepared = envs.python_env("catalog-mainonly", "1.0", tmp_path / "envs", find_links=links)
    assert prepared.command[1:] == ["-m", "catalog_mainonly"]
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]


def test_a_failed_install_leaves_no_env_behind(tmp_path):
    (tmp_path / "links").mkdir()
    with pytest.raises(CatalogError) as failure:
        envs.python_env("catalog-absent", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    assert failure.value.kind == "install_failed" and "catalog-absent" in str(failure.value)
    assert not (tmp_path / "envs" / "pypi" / "catalog-absent-1.0").exists()


def test_an_sdist_build_step_runs_in_the_sandbox_without_the_users_home(tmp_path):
    real_home = os.path.expanduser("~")
    links = tmp_path / "links"
    build_sdist(links, "catalog-built", real_home)
    prepared = envs.python_env("catalog-built", "1.0", tmp_path / "envs", find_links=links)
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    facts = json.loads(listing.tools[0].description)  # recorded by the build step
    assert facts["home_variable"] != real_home
    assert set(facts["home_entries"]) <= mount_points_in_home()
    assert set(os.listdir(real_home)) - set(facts["home_entries"])


@pytest.mark.parametrize("name, version", [("../evil", "1.0"), ("ok-name", "1.0; rm -rf /"), ("ok-name", "")])
def test_names_and_versions_that_could_escape_the_cache_are_refused(tmp_path, name, version):
    with pytest.raises(CatalogError) as failure:
        envs.python_env(name, version, tmp_path / "envs")
    assert failure.value.kind == "usage"


def write_npm_package(root: Path, name: str, bins: object, main: str | None = None) -> Path:
    package = root / "node_modules" / name
    (package / "dist").mkdir(parents=True)
    (package / "dist" / "index.js").write_text("#!/usr/bin/env node\n")
    (package / "dist" / "check.js").write_text("#!/usr/bin/env node\n")
    manifest = {"name": name, "version": "1.0.0", "bin": bins} | ({"main": main} if main else {})
    (package / "package.json").write_text(json.dumps(manifest))
    return package


@pytest.mark.parametrize(
    "bins, main",
    [
        ({"acme-server-w": "./dist/index.js", "acme-server-w-check": "./dist/check.js"}, None),  # ends with the name
        ({"start-w": "./dist/index.js", "w-doctor": "./dist/check.js"}, "dist/index.js"),  # the bin that runs main
    ],
)
def test_npm_entry_point_finds_the_server_among_bins_not_named_after_the_package(tmp_path, bins, main):
    package = write_npm_package(tmp_path, "@acme/server-w", bins, main)
    assert envs.npm_entry_point(tmp_path, "@acme/server-w") == (package / "dist" / "index.js").resolve()


def test_npm_entry_point_picks_the_bin_named_after_the_package(tmp_path):
    package = write_npm_package(tmp_path, "@acme/server-x", {"server-x": "dist/index.js", "x-admin": "a.js"})
    assert envs.npm_entry_point(tmp_path, "@acme/server-x") == (package / "dist" / "index.js").resolve()


def test_npm_entry_point_accepts_a_single_string_bin(tmp_path):
    package = write_npm_package(tmp_path, "server-y", "./dist/index.js")
    assert envs.npm_entry_point(tmp_path, "server-y") == (package / "dist" / "index.js").resolve()


@pytest.mark.parametrize("bins", [None, {"a": "dist/index.js", "b": "dist/index.js"}, "../../../etc/passwd"])
def test_npm_entry_point_refuses_missing_ambiguous_or_escaping_bins(tmp_path, bins):
    write_npm_package(tmp_path, "server-z", bins)
    with pytest.raises(CatalogError) as failure:
        envs.npm_entry_point(tmp_path, "server-z")
    assert failure.value.kind in ("no_entry_point", "bad_package")


def packed_scripted_server(tmp_path: Path) -> Path:
    """The stand-in package whose install script writes the module its server needs, packed with npm."""
    return npm_packed(NPM_SCRIPTED, tmp_path)


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_npm_install_scripts_run_in_the_sandbox_without_home_or_the_users_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CATALOG_TEST_DECOY", "must-not-leak")
    tarball = packed_scripted_server(tmp_path)
    prepared = envs.npm_env("catalog-scripted-server", "1.0.0", tmp_path / "envs", tarball=tarball)
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert [tool.name for tool in listing.tools] == ["built_by_install_script"]
    seen = json.loads(listing.tools[0].description)
    assert seen["decoy"] == "" and seen["home"] != os.path.expanduser("~")
    assert prepared.notes == []


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_without_the_sandbox_npm_install_scripts_are_skipped_and_noted(tmp_path):
    tarball = packed_scripted_server(tmp_path)
    prepared = envs.npm_env(
        "catalog-scripted-server", "1.0.0", tmp_path / "envs", tarball=tarball, sandbox_enabled=False
    )
    assert prepared.notes == ["install scripts not run: they run only in the sandbox"]
    assert not (prepared.root / "node_modules" / "catalog-scripted-server" / "generated.js").exists()


@pytest.mark.integration
def test_npm_env_installs_a_published_server_and_lists_it_without_network(tmp_path):
    name = "@modelcontextprotocol/server-everything"
    version = subprocess.run(
        ["npm", "view", name, "version"], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    prepared = envs.npm_env(name, version, tmp_path / "envs")
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=60)
    assert len(listing.tools) >= 5 and all(tool.description for tool in listing.tools)


def test_python_env_installs_and_runs_with_no_sandbox_when_asked(tmp_path):
    links = tmp_path / "links"
    echo_wheel(links)
    prepared = envs.python_env(
        "catalog-echo", "1.0", tmp_path / "envs", find_links=links, sandbox_enabled=False
    )
    listing = live.list_stdio(
        live.Launch(prepared.command, {}, binds=prepared.binds, sandbox=False), timeout=120
    )
    assert [tool.name for tool in listing.tools] == ["echo"]


def test_a_venv_and_a_script_under_tmp_stay_visible_inside_the_sandbox(tmp_path):
    """The sandbox mounts a fresh /tmp; a server installed or checked out there must still start."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    script = tmp_path / "server" / "stdlib_server.py"
    script.parent.mkdir()
    shutil.copy(SERVERS / "stdlib_server.py", script)
    launch = live.Launch(command=[str(venv / "bin" / "python"), str(script)], env={}, sandbox=True)
    listing = live.list_stdio(launch, timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert str(tmp_path / "server") in sandbox.implied_binds(launch.command)


def test_a_script_inside_a_project_gets_the_whole_project_visible_in_the_sandbox(tmp_path):
    """node and Python resolve imports above the script (node_modules, the package root): bind the project."""
    project = tmp_path / "env" / "prefix"
    script = project / "node_modules" / "server-x" / "dist" / "stdlib_server.py"
    script.parent.mkdir(parents=True)
    (project / "package.json").write_text("{}")
    (project / "node_modules" / "server-x" / "package.json").write_text("{}")
    shutil.copy(SERVERS / "stdlib_server.py", script)
    command = [PY, str(script)]
    assert str(project) in sandbox.implied_binds(command)
    listing = live.list_stdio(live.Launch(command=command, env={}, sandbox=True), timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")
def test_an_npm_bin_that_is_a_compiled_program_is_run_directly_not_with_node(tmp_path):
    package = tmp_path / "package"
    (package / "bin").mkdir(parents=True)
    shutil.copy("/bin/true", package / "bin" / "server")
    manifest = {
        "name": "catalog-native-server",
        "version": "1.0.0",
        "bin": {"catalog-native-server": "bin/server"},
    }
    (package / "package.json").write_text(json.dumps(manifest))
    npm_pack(package, tmp_path)
    tarball = tmp_path / "catalog-native-server-1.0.0.tgz"
    prepared = envs.npm_env("catalog-native-server", "1.0.0", tmp_path / "envs", tarball=tarball)
    assert len(prepared.command) == 1 and prepared.command[0].endswith("bin/server")


@pytest.mark.integration
def test_an_npm_install_that_misses_a_dependency_names_it_not_a_log_file(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    manifest = {
        "name": "catalog-broken-server",
        "version": "1.0.0",
        "bin": {"catalog-broken-server": "index.js"},
        "dependencies": {"catalog-test-dependency-that-is-not-published": "^1.0.0"},
    }
    (package / "package.json").write_text(json.dumps(manifest))
    (package / "index.js").write_text("#!/usr/bin/env node\n")
    npm_pack(package, tmp_path)
    with pytest.raises(CatalogError) as failure:
        envs.npm_env(
            "catalog-broken-server",
            "1.0.0",
            tmp_path / "envs",
            tarball=tmp_path / "catalog-broken-server-1.0.0.tgz",
        )
    message = str(failure.value)
    assert "catalog-test-dependency-that-is-not-published" in message and "_logs" not in message
