"""URLs named by users, configs and registries: addresses that must never be contacted are refused
before any connection; private ones only when allowed."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys

import pytest

from catalog.models import CatalogError
from catalog.sources import ResolveOptions, url

NEVER = ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[fe80::1]/mcp",
         "http://100.100.100.200/", "http://0.0.0.0:8080/", "http://[::ffff:169.254.169.254]/", "http://224.0.0.1/"]
PRIVATE = ["http://127.0.0.1:8080/mcp", "http://10.0.0.8/mcp", "http://192.168.1.2/", "http://[::1]/mcp",
           "http://[fd12:3456::1]/", "http://100.64.0.1/", "http://localhost:9/mcp"]


@pytest.mark.parametrize("address", NEVER)
def test_link_local_and_metadata_addresses_are_never_contacted_even_when_private_is_allowed(address):
    with pytest.raises(CatalogError) as failure:
        url.check_url(address, allow_private=True)
    assert failure.value.kind == "unsafe_url" and "never contacted" in str(failure.value)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_and_loopback_addresses_need_permission(address):
    with pytest.raises(CatalogError) as failure:
        url.check_url(address, allow_private=False)
    assert failure.value.kind == "unsafe_url" and url.ALLOW_PRIVATE_VARIABLE in str(failure.value)
    url.check_url(address, allow_private=True)


def test_a_public_address_passes_and_bad_schemes_are_usage_errors():
    url.check_url("https://93.184.216.34/mcp", allow_private=False)  # a literal: no lookup, no contact
    for bad in ("file:///etc/passwd", "gopher://127.0.0.1/", "http:///nohost"):
        with pytest.raises(CatalogError) as failure:
            url.check_url(bad)
        assert failure.value.kind == "usage"


def test_a_refused_url_contacts_nothing_and_its_secrets_are_not_echoed(tmp_path, monkeypatch):
    monkeypatch.delenv(url.ALLOW_PRIVATE_VARIABLE, raising=False)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        address = f"http://user:pw-secret@127.0.0.1:{listener.getsockname()[1]}/mcp?token=tok-secret"
        with pytest.raises(CatalogError) as failure:
            url.resolve(address, ResolveOptions(cache_dir=tmp_path))
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert "pw-secret" not in str(failure.value) and "tok-secret" not in str(failure.value)
    monkeypatch.setenv(url.ALLOW_PRIVATE_VARIABLE, "1")
    assert url.resolve(address, ResolveOptions(cache_dir=tmp_path)).url == address


def test_an_ipv4_mapped_private_address_counts_as_private():
    mapped = ipaddress.ip_address("::ffff:10.1.2.3")
    assert url.address_problem(mapped, allow_private=False)
    assert url.address_problem(mapped, allow_private=True) is None


def test_the_cli_refuses_a_metadata_url_in_one_line(tmp_path):
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "catalog.db")}
    env["CATALOG_ALLOW_PRIVATE_URLS"] = "1"  # even then
    done = subprocess.run(
        [sys.executable, "-m", "catalog.cli", "crawl", "http://169.254.169.254/latest/meta-data/"],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert any("never contacted" in line for line in lines), done.stderr
