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


# Stdio is its default, and the variable only takes the other transports.
STDIO_BY_DEFAULT = '''

def serve():
    import os

    if os.environ.get("CATALOG_MCP_TRANSPORT") is not None:
        sys.stderr.write("CATALOG_MCP_TRANSPORT must be one of: http, sse\\n")
        raise SystemExit(2)
    main()
'''


SET_TO_STDIO = "started with CATALOG_MCP_TRANSPORT=stdio: the variable that picks its MCP transport"


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
@pytest.mark.parametrize(
    ("server", "warnings"),
    [
        # serves HTTP unless the variable says stdio: without it the listing would time out
        pytest.param(HTTP_BY_DEFAULT, [SET_TO_STDIO], id="started-with-the-variable-set-to-stdio"),
        # refuses stdio in the variable: started again without it, and no warning claims it was set
        pytest.param(STDIO_BY_DEFAULT, [], id="refuses-stdio-so-started-without-it"),
    ],
)
def test_a_server_with_a_transport_variable_is_listed_on_stdio(tmp_path, server, warnings):
    files = {"catalog_transport/__init__.py": server_source() + server}
    prepared = installed_server(tmp_path, "catalog-transport", files, "catalog_transport:serve")
    launch = live.Launch(
        prepared.command, {}, binds=prepared.binds, entry_forms=True, env_names=prepared.env_names
    )

    listing = fallbacks.list_stdio(launch, tmp_path / "cache", timeout=60, max_tools=100)

    assert [tool.name for tool in listing.tools] == ["echo"]
    assert [w for w in listing.warnings if "CATALOG_MCP_TRANSPORT" in w] == warnings


def test_only_unset_transport_variables_of_a_packages_own_entry_point_are_set():
    launch = live.Launch(["x"], {"MCP_TRANSPORT": "sse"}, entry_forms=True,
                         env_names=["MCP_TRANSPORT", "X_MCP_TRANSPORT", "FASTMCP_TRANSPORT", "SMTP_TRANSPORT", "API_KEY"])
    assert fallbacks.transport_variables(launch) == ["X_MCP_TRANSPORT", "FASTMCP_TRANSPORT"]
    launch.entry_forms = False  # the user gave arguments: they chose how it starts
    assert fallbacks.transport_variables(launch) == []
