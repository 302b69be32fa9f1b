"""A server that serves HTTP unless a variable picks stdio (`X_MCP_TRANSPORT=stdio`) is started with it set, as
its README would tell a stdio client's user. A real wheel, installed and run in the sandbox."""

from __future__ import annotations

import pytest

from catalog import fallbacks, live, sandbox
from tests.fixtures.servers.packages import installed_server, server_source

HTTP_BY_DEFAULT = '''

def serve():
    """Serves stdio only when CATALOG_MCP_TRANSPORT says so; otherwise waits as an HTTP server would."""
    import os, time

    if os.environ.get("CATALOG_MCP_TRANSPORT", "http") == "stdio":
        main()
        return
    sys.stderr.write("serving streamable HTTP on 127.0.0.1:8000\\n")
    sys.stderr.flush()
    time.sleep(3600)
'''


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_a_server_that_serves_http_by_default_is_started_with_its_transport_variable_set_to_stdio(tmp_path):
    # Without the variable it would wait as an HTTP server does, and the listing would time out.
    files = {"catalog_httpish/__init__.py": server_source() + HTTP_BY_DEFAULT}
    prepared = installed_server(tmp_path, "catalog-httpish", files, "catalog_httpish:serve")
    launch = live.Launch(
        prepared.command, {}, binds=prepared.binds, entry_forms=True, env_names=prepared.env_names
    )

    listing = fallbacks.list_stdio(launch, tmp_path / "cache", timeout=60, max_tools=100)

    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.warnings[0] == "started with CATALOG_MCP_TRANSPORT=stdio: the variable that picks its MCP transport"


# Stdio is its default, and the variable only takes the other transports.
STDIO_BY_DEFAULT = '''

def serve():
    import os

    if os.environ.get("CATALOG_MCP_TRANSPORT") is not None:
        sys.stderr.write("CATALOG_MCP_TRANSPORT must be one of: http, sse\\n")
        raise SystemExit(2)
    main()
'''


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_a_server_that_refuses_stdio_in_its_transport_variable_is_started_without_it(tmp_path):
    files = {"catalog_strict/__init__.py": server_source() + STDIO_BY_DEFAULT}
    prepared = installed_server(tmp_path, "catalog-strict", files, "catalog_strict:serve")
    launch = live.Launch(
        prepared.command, {}, binds=prepared.binds, entry_forms=True, env_names=prepared.env_names
    )

    listing = fallbacks.list_stdio(launch, tmp_path / "cache", timeout=60, max_tools=100)

    assert [tool.name for tool in listing.tools] == ["echo"]
    assert not any("CATALOG_MCP_TRANSPORT" in warning for warning in listing.warnings)


def test_only_unset_transport_variables_of_a_packages_own_entry_point_are_set():
    launch = live.Launch(["x"], {"MCP_TRANSPORT": "sse"}, entry_forms=True,
                         env_names=["MCP_TRANSPORT", "X_MCP_TRANSPORT", "FASTMCP_TRANSPORT", "SMTP_TRANSPORT", "API_KEY"])
    assert fallbacks.transport_variables(launch) == ["X_MCP_TRANSPORT", "FASTMCP_TRANSPORT"]
    launch.entry_forms = False  # the user gave arguments: they chose how it starts
    assert fallbacks.transport_variables(launch) == []
