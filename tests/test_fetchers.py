"""A package whose entry point only fetches and runs another package (`npx -y NAME`, `uvx NAME`) waits in the
no-network sandbox: the fetch is seen in its process tree, and that package is listed instead (installed from
a loopback index, run without network). Real wheels; the fetcher is a stand-in that waits as npx does."""

from __future__ import annotations

import pytest

from catalog import envs, fallbacks, fetchers, live, sandbox
from catalog.models import CatalogError
from tests.fixtures.servers.packages import wheel_bytes
from tests.test_package_commands import loopback_index  # noqa: F401  (a fixture)

WRAPPER = '''
import os, subprocess, tempfile


def main():
    """Runs `uvx catalog-echo==1.0`, through a stand-in uvx that waits for a network that never comes."""
    folder = tempfile.mkdtemp()
    fetcher = os.path.join(folder, "uvx")
    with open(fetcher, "w") as handle:
        handle.write("#!/bin/sh\\nsleep 600\\n")
    os.chmod(fetcher, 0o755)
    raise SystemExit(subprocess.call([fetcher, "catalog-echo==1.0"]))
'''


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_a_wrapper_that_fetches_a_package_at_start_is_listed_through_that_package(
    tmp_path,
    monkeypatch,
    loopback_index,  # noqa: F811
):
    monkeypatch.setenv("UV_INDEX_URL", loopback_index)
    links = tmp_path / "wrap-links"
    links.mkdir()
    wheel = wheel_bytes("catalog-wrap", "1.0", {"catalog_wrap/__init__.py": WRAPPER}, {"catalog-wrap": "catalog_wrap:main"})
    (links / "catalog_wrap-1.0-py3-none-any.whl").write_bytes(wheel)
    prepared = envs.python_env("catalog-wrap", "1.0", tmp_path / "cache" / "envs", find_links=links)
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True)

    with pytest.raises(fetchers.FetchesAtStart) as waited:
        live.list_stdio(launch, timeout=20)
    assert waited.value.command == ["uvx", "catalog-echo==1.0"]
    assert waited.value.kind == "needs_network"
    assert str(waited.value).endswith(
        "it was running 'uvx catalog-echo==1.0', which downloads a package when it starts (the sandbox has no network)"
    )

    listing = fallbacks.list_stdio(launch, tmp_path / "cache", timeout=20, max_tools=100)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert "the server runs 'uvx catalog-echo==1.0' when it starts: that package was listed instead" in listing.warnings
    assert launch.command[0].endswith("/catalog-echo-1.0/bin/catalog-echo")


@pytest.mark.parametrize(
    ("command_line", "expected"),
    [
        (["npm exec cloudpanel-mcp@latest"], ["npx", "cloudpanel-mcp@latest"]),
        (["/usr/bin/node", "/usr/lib/node_modules/npm/bin/npx-cli.js", "-y", "pkg"], ["npx", "-y", "pkg"]),
        (["/root/.local/bin/uv", "tool", "uvx", "mcp-server-x"], ["uvx", "mcp-server-x"]),
        (["/usr/bin/python3", "/usr/local/bin/pipx", "run", "mcp-y"], ["pipx", "run", "mcp-y"]),
        (["/usr/bin/python3", "server.py"], []),
    ],
)
def test_fetching_command_lines_are_recognised_as_the_shape_package_behind_reads(command_line, expected):
    normalized = fetchers._normalized(command_line[0].split() if len(command_line) == 1 else command_line)
    assert normalized == expected
    assert (envs.package_behind(normalized) is not None) == bool(expected)


def test_no_fetch_no_special_error():
    assert fetchers.fetching_command([]) is None
    assert not issubclass(CatalogError, fetchers.FetchesAtStart)
