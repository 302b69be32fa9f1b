"""Builders for realistic test inputs: cached wheels of small FastMCP servers, registry pages."""

from __future__ import annotations

import zipfile
from pathlib import Path

from catalog.sources import pypi


def fastmcp_source(tools: list[tuple[str, str]]) -> str:
    """Python source of a FastMCP 1.x server declaring these (name, docstring) tools."""
    lines = ["from mcp.server.fastmcp import FastMCP", "", 'mcp = FastMCP("generated")', ""]
    for name, doc in tools:
        lines += ["", "@mcp.tool()", f"def {name}(item_id: str, limit: int = 10) -> str:",
                  f"    {doc!r}", "    return item_id", ""]
    return "\n".join(lines)


def cached_wheel(cache_dir: Path, name: str, version: str, tools: list[tuple[str, str]],
                 repository: str | None = None) -> Path:
    """Put a real wheel of a generated server into the pypi cache, unpacked as a download would be."""
    dest = cache_dir / "pypi" / pypi.normalize(name) / version
    dest.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    wheel = dest / f"{module}-{version}-py3-none-any.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if repository:
        metadata += f"Project-URL: Repository, {repository}\n"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{module}/server.py", fastmcp_source(tools))
        zf.writestr(f"{module}-{version}.dist-info/METADATA", metadata)
    pypi._unpack(dest)
    return wheel


def registry_entry(package: str, version: str, registry_type: str = "pypi") -> dict:
    """One item of a v0 `/v0/servers` page, in the official format."""
    return {
        "server": {
            "name": f"io.github.example/{package}",
            "description": f"{package} server",
            "version": version,
            "packages": [{"registryType": registry_type, "identifier": package, "version": version,
                          "transport": {"type": "stdio"}}],
        },
        "_meta": {"io.modelcontextprotocol.registry/official": {"status": "active", "isLatest": True}},
    }
