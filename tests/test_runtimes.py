"""Choosing the Python a package's Requires-Python allows: real wheels, real uv installs, real interpreters."""

from __future__ import annotations

import pytest

from catalog import envs, live, runtimes
from catalog.models import CatalogError
from tests.fixtures.servers.packages import build_wheel


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
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=20)
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
