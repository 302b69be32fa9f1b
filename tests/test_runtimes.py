"""Choosing the Python a package's Requires-Python allows: real wheels, real uv installs, real interpreters."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog import envs, live, runtimes
from catalog.models import CatalogError
from tests.fixtures.servers.packages import build_wheel, npm_packed


def venv_version(root) -> str:
    lines = (root / "pyvenv.cfg").read_text().splitlines()
    full = next(line.split("=", 1)[1].strip() for line in lines if line.startswith("version_info"))
    return ".".join(full.split(".")[:2])


def labels() -> list[str]:
    return [interpreter.label for interpreter in runtimes.pythons()]


def test_interpreters_are_found_newest_first_without_shims():
    found = runtimes.pythons()
    assert found and [i.version for i in found] == sorted((i.version for i in found), reverse=True)
    assert all("shims" not in i.executable for i in found)


def test_a_package_is_installed_with_the_newest_python_that_its_requires_python_allows(tmp_path):
    newest = runtimes.pythons()[0]
    older = [i for i in runtimes.pythons() if i.version < newest.version]
    if not older:
        pytest.skip("needs two Python versions on this machine")
    links = tmp_path / "links"
    build_wheel(links, "catalog-older", scripts={"catalog-older": "catalog_older:main"},
                requires_python=f"<{newest.label}")
    prepared = envs.python_env("catalog-older", "1.0", tmp_path / "envs", find_links=links)
    assert venv_version(prepared.root) == older[0].label
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]


def test_a_package_needing_a_python_newer_than_any_here_says_which(tmp_path):
    links = tmp_path / "links"
    build_wheel(links, "catalog-future", scripts={"catalog-future": "catalog_future:main"},
                requires_python=">=3.99")
    with pytest.raises(CatalogError) as failure:
        envs.python_env("catalog-future", "1.0", tmp_path / "envs", find_links=links)
    assert failure.value.kind == "needs_runtime"
    assert str(failure.value).startswith("catalog-future==1.0 needs Python >=3.99; this machine has ")
    assert not (tmp_path / "envs" / "pypi" / "catalog-future-1.0").exists()


def test_a_default_install_uses_the_newest_python_on_the_machine(tmp_path):
    links = tmp_path / "links"
    build_wheel(links, "catalog-new", scripts={"catalog-new": "catalog_new:main"}, requires_python=">=3.10")
    prepared = envs.python_env("catalog-new", "1.0", tmp_path / "envs", find_links=links)
    assert venv_version(prepared.root) == labels()[0]
    assert str(runtimes.pythons()[0].prefix) in prepared.binds


ENGINES_SERVER = Path(__file__).parent / "fixtures" / "npm_engines" / "server.js"


def packed_engines_server(tmp_path: Path, engines: str) -> Path:
    """A one-tool npm server declaring engines.node = `engines`, packed with npm."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ENGINES_SERVER, source / "server.js")
    manifest = {"name": "catalog-engines", "version": "1.0.0", "bin": {"catalog-engines": "server.js"},
                "engines": {"node": engines}, "license": "MIT"}
    (source / "package.json").write_text(json.dumps(manifest))
    return npm_packed(source, tmp_path)


def node_major(listing: live.LiveListing) -> int:
    return int(listing.tools[0].description.lstrip("v").split(".")[0])


needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")


@needs_npm
def test_npm_semver_decides_whether_the_machines_node_meets_engines_node():
    node, version = runtimes.system_node()
    assert runtimes.node_satisfies(node, version, ">=18 || ^16.0.0")
    assert not runtimes.node_satisfies(node, version, ">=99")


@needs_npm
def test_node_answers_are_remembered_so_that_later_crawls_start_no_node_to_ask(tmp_path):
    memo = tmp_path / runtimes.NODE_ANSWERS
    node, version = runtimes.system_node(memo)
    assert not runtimes.node_satisfies(node, version, ">=99", memo)
    recorded = json.loads(memo.read_text())
    assert recorded[f"{version} satisfies >=99"] is False and version in recorded.values()
    # What is recorded is what is used: flip the verdict and the flipped one comes back, no node asked.
    memo.write_text(json.dumps({**recorded, f"{version} satisfies >=99": True}))
    assert runtimes.node_satisfies(node, version, ">=99", memo)


@needs_npm
def test_a_package_whose_engines_node_the_machine_meets_runs_on_the_machines_node(tmp_path):
    tarball = packed_engines_server(tmp_path, ">=18")
    prepared = envs.npm_env("catalog-engines", "1.0.0", tmp_path / "envs", tarball=tarball)
    assert prepared.command[0] == runtimes.system_node()[0]
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert listing.tools[0].description == runtimes.system_node()[1]


@needs_npm
@pytest.mark.integration
def test_a_package_needing_a_newer_node_gets_one_from_the_npm_registry(tmp_path):
    major = int(runtimes.system_node()[1].lstrip("v").split(".")[0])
    tarball = packed_engines_server(tmp_path, f">={major + 2}")
    prepared = envs.npm_env("catalog-engines", "1.0.0", tmp_path / "envs", tarball=tarball)
    assert prepared.command[0] != runtimes.system_node()[0]
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert node_major(listing) >= major + 2
    again = envs.npm_env("catalog-engines", "1.0.0", tmp_path / "envs", tarball=tarball)
    assert again.command == prepared.command  # the Node build is installed once


@needs_npm
@pytest.mark.integration
def test_a_node_range_no_release_meets_is_needs_runtime(tmp_path):
    tarball = packed_engines_server(tmp_path, ">=999")
    with pytest.raises(CatalogError) as failure:
        envs.npm_env("catalog-engines", "1.0.0", tmp_path / "envs", tarball=tarball)
    assert failure.value.kind == "needs_runtime"
    assert str(failure.value).startswith("catalog-engines@1.0.0 needs Node >=999; this machine has v")
