"""Fixtures shared by several test files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.test_cli import serve_on_loopback


@pytest.fixture
def http_server() -> Iterator[str]:
    """The FastMCP fixture over streamable HTTP on loopback."""
    process, port = serve_on_loopback("fastmcp_tools.py", "http")
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait()
