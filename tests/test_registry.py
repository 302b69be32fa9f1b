"""Registry walks against a misbehaving stand-in registry on loopback: transient failures, pages without
end, empty pages, older versions, repeated entries, a failing page, redirects to another host."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.models import CatalogError
from catalog.sources.registry import RegistryWalk, iter_entries
from tests.factories import registry_entry


class Behaviour:
    """What the stand-in registry does; tests set it and read `requests`."""

    def __init__(self) -> None:
        self.entries = [registry_entry(f"reg-{i}", "1.0") for i in range(6)]
        self.mode = "normal"
        self.failures_left = 0
        self.requests: list[str] = []


class StandIn(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def do_GET(self) -> None:  # noqa: N802
        b = self.behaviour
        b.requests.append(self.path)
        url = urlsplit(self.path)
        if url.path == "/moved/v0/servers":
            self.answer(302, location=f"http://127.0.0.2:{self.server.server_address[1]}/v0/servers")
            return
        cursor = int(parse_qs(url.query).get("cursor", ["0"])[0])
        if b.failures_left > 0 and (b.mode != "page2-fails" or cursor == 2):
            if b.mode != "page2-fails":
                b.failures_left -= 1
            self.answer(503)
            return
        if b.mode == "endless-empty":
            self.answer(200, {"servers": [], "metadata": {"nextCursor": str(cursor + 1)}})
            return
        if b.mode == "endless-same":
            page = b.entries[:2]
            self.answer(200, {"servers": page, "metadata": {"nextCursor": str(cursor + 1)}})
            return
        page = b.entries[cursor : cursor + 2]
        metadata = {"nextCursor": str(cursor + 2)} if cursor + 2 < len(b.entries) else {}
        self.answer(200, {"servers": page, "metadata": metadata})

    def answer(self, status: int, body: object = None, location: str | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (StandIn,), {"behaviour": behaviour}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", behaviour
    finally:
        server.shutdown()
        server.server_close()


def keys(base: str, **kwargs) -> list[str]:
    return [entry.key for entry in iter_entries(base, **kwargs)]


def test_transient_failures_are_retried_and_nothing_is_lost(registry):
    base, behaviour = registry
    behaviour.failures_left = 2
    assert keys(base) == [f"pypi:reg-{i}" for i in range(6)]
    assert len(behaviour.requests) == 3 + 2


def test_a_page_that_keeps_failing_ends_the_walk_keeping_what_came_before(registry):
    base, behaviour = registry
    behaviour.mode, behaviour.failures_left = "page2-fails", 1
    walk = RegistryWalk()
    assert keys(base, walk=walk) == ["pypi:reg-0", "pypi:reg-1"]
    assert walk.stopped and "page 2 failed" in walk.stopped and "503" in walk.stopped
    assert "stopped early" in walk.summary()


def test_a_first_page_that_fails_is_an_error(registry):
    base, behaviour = registry
    behaviour.failures_left = 99
    with pytest.raises(CatalogError) as failure:
        keys(base)
    assert failure.value.kind == "registry" and "503" in str(failure.value)


def test_endless_empty_pages_stop_at_once_and_say_why(registry):
    base, behaviour = registry
    behaviour.mode = "endless-empty"
    walk = RegistryWalk()
    assert keys(base, walk=walk) == []
    assert walk.pages == 1 and "empty" in (walk.stopped or "")


def test_endless_pages_repeating_entries_are_capped_and_each_server_yielded_once(registry):
    base, behaviour = registry
    behaviour.mode = "endless-same"
    walk = RegistryWalk()
    assert keys(base, walk=walk, max_pages=25) == ["pypi:reg-0", "pypi:reg-1"]
    assert walk.pages == 25 and walk.duplicates == 48 and "after 25" in (walk.stopped or "")


def test_only_the_latest_version_of_a_server_is_kept_unless_asked(registry):
    base, behaviour = registry
    old = registry_entry("reg-0", "0.9")
    old["_meta"]["io.modelcontextprotocol.registry/official"]["isLatest"] = False
    behaviour.entries = [old, *behaviour.entries]
    walk = RegistryWalk()
    assert keys(base, walk=walk) == [f"pypi:reg-{i}" for i in range(6)]
    assert walk.older_versions == 1
    assert keys(base, all_versions=True)[:2] == ["pypi:reg-0", "pypi:reg-0"]


def test_a_redirect_to_another_host_is_not_followed(registry):
    base, behaviour = registry
    with pytest.raises(CatalogError) as failure:
        keys(base + "/moved")
    assert "another host" in str(failure.value) and "127.0.0.2" in str(failure.value)
    assert len(behaviour.requests) == 1
