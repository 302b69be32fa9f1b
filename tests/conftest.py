"""Fixtures shared by several test files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.test_cli import SERVERS, free_port, wait_listening


@pytest.fixture
def http_server() -> Iterator[str]:
    """The FastMCP fixture over streamable HTTP on loopback."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SERVERS / "fastmcp_tools.py"), "http", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait()
