"""Finding how a package's server starts: entry forms tried after the plain command, npm packages without
a bin. Real wheels and packages, real servers in the sandbox."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from catalog import envs, live
from catalog.models import CatalogError
from tests.fixtures.servers.packages import installed_server, server_source, wheel_bytes

SUBCOMMAND_CLI = '''

def cli():
    """Serves MCP only as `{form}`; otherwise prints usage, as click/argparse CLIs do."""
    if sys.argv[1:] == {form!r}:
        main()
        return
    sys.stderr.write("Usage: catalog-sub [OPTIONS] COMMAND [ARGS]...\\nError: Missing command.\\n")
    raise SystemExit(2)
'''


def subcommand_wheel(links: Path, form: list[str]) -> None:
    source = server_source() + SUBCOMMAND_CLI.format(form=form)
    links.mkdir(parents=True, exist_ok=True)
    data = wheel_bytes("catalog-sub", "1.0", {"catalog_sub/__init__.py": source}, {"catalog-sub": "catalog_sub:cli"})
    (links / "catalog_sub-1.0-py3-none-any.whl").write_bytes(data)


@pytest.mark.parametrize("form", [["serve"], ["--transport", "stdio"]])
def test_a_console_script_that_needs_a_subcommand_is_started_with_it(tmp_path, form):
    subcommand_wheel(tmp_path / "links", form)
    prepared = envs.python_env("catalog-sub", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True)
    listing = live.list_stdio(launch, timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.started_with == form
    assert any(w.startswith(f"started as '{' '.join(form)}'") for w in listing.warnings)


HTTP_BY_DEFAULT = '''

def http_cli():
    """Serves streamable HTTP unless given `--transport stdio` (as FastMCP servers run through fire or
    typer often do); any other argument is taken as the host name and still serves HTTP."""
    if sys.argv[1:] == ["--transport", "stdio"]:
        main()
        return
    sys.stderr.write("INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)\\n")
    sys.stderr.flush()
    import time
    time.sleep(600)
'''


def test_a_server_that_waits_on_http_by_default_is_started_with_transport_stdio_first(tmp_path):
    """Nothing comes back on stdio; its stderr says it serves HTTP, so `--transport stdio` is tried first
    (the other forms would each wait out the timeout)."""
    files = {"catalog_http/__init__.py": server_source() + HTTP_BY_DEFAULT}
    prepared = installed_server(tmp_path, "catalog-http", files, "catalog_http:http_cli")
    started = time.monotonic()
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True)
    listing = live.list_stdio(launch, timeout=240)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.started_with == ["--transport", "stdio"]
    # the HTTP start was given up a few seconds after its banner, not after the 240 s timeout
    assert time.monotonic() - started < 200


def test_without_entry_forms_the_first_failure_is_reported_as_it_is(tmp_path):
    subcommand_wheel(tmp_path / "links", ["serve"])
    prepared = envs.python_env("catalog-sub", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert str(failure.value) == "server exited: Error: Missing command."


def test_when_no_form_works_the_first_error_is_reported_with_the_forms_tried(tmp_path):
    subcommand_wheel(tmp_path / "links", ["never"])
    prepared = envs.python_env("catalog-sub", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True), timeout=120)
    assert str(failure.value) == (
        "server exited: Error: Missing command. (also tried: stdio, serve, --transport stdio, mcp)"
    )
    assert failure.value.kind == "crash"


def npm_package(root: Path, manifest: dict, files: list[str]) -> Path:
    package = root / "node_modules" / manifest["name"]
    for name in files:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("// server\n")
    (package / "package.json").write_text(json.dumps(manifest))
    return package


@pytest.mark.parametrize(("manifest", "files", "expected"), [
    ({"main": "lib/main.js"}, ["lib/main.js"], "lib/main.js"),
    ({"exports": "./dist/entry.mjs"}, ["dist/entry.mjs"], "dist/entry.mjs"),
    ({"exports": {".": {"import": "./dist/esm.js", "require": "./dist/cjs.js"}}}, ["dist/esm.js"], "dist/esm.js"),
    ({}, ["dist/src/server.js", "dist/other.js"], "dist/src/server.js"),
])
def test_an_npm_package_without_a_bin_runs_its_main_exports_or_single_server_file(tmp_path, manifest, files, expected):
    package = npm_package(tmp_path, {"name": "server-nobin", "version": "1.0.0", **manifest}, files)
    assert envs.npm_entry_point(tmp_path, "server-nobin") == (package / expected).resolve()


def test_an_npm_package_with_no_entry_at_all_says_so(tmp_path):
    npm_package(tmp_path, {"name": "server-none", "version": "1.0.0"}, ["dist/a/server.js", "dist/b/server.js"])
    with pytest.raises(CatalogError) as failure:
        envs.npm_entry_point(tmp_path, "server-none")
    assert failure.value.kind == "no_entry_point"
    assert "2 dist/**/server.js files" in str(failure.value)
