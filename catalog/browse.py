"""`catalog browse`: the catalog database in Datasette, with titles, facets and canned review queries."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from catalog.models import CatalogError

HOST = "127.0.0.1"

# Every current tool with its effective label comes from the store's `labelled_tools` view, the one
# definition of the rule (catalog.models); the queries below only pick and order its columns.
RISK_RANK_SQL = (
    "CASE risk WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
)
CATEGORY_RANK_SQL = (
    "CASE category WHEN 'destructive' THEN 3 WHEN 'write' THEN 2 WHEN 'read' THEN 1 ELSE 0 END"
)

QUERIES: dict[str, dict[str, Any]] = {
    "riskiest_tools": {
        "title": "Riskiest tools",
        "description": "Every current tool, most dangerous first: risk level, then category, then how sure "
        "the label is. Reviewer overrides are applied.",
        "hide_sql": True,
        "sql": f"""
SELECT server_id, name, category, risk, confidence, override_note AS reviewer_note, description, reasons
FROM labelled_tools
ORDER BY {RISK_RANK_SQL} DESC, {CATEGORY_RANK_SQL} DESC, confidence DESC, server_id, name""",
    },
    "servers_by_destructive": {
        "title": "Servers by number of destructive tools",
        "description": "One row per server: how many of its current tools can destroy data, how many are "
        "critical, and how many it has in all.",
        "hide_sql": True,
        "sql": """
SELECT s.id AS server_id, s.kind,
  count(l.name) AS tools,
  coalesce(sum(l.category = 'destructive'), 0) AS destructive,
  coalesce(sum(l.risk = 'critical'), 0) AS critical,
  coalesce(sum(l.category = 'write'), 0) AS write,
  coalesce(sum(l.category = 'read'), 0) AS read
FROM servers s LEFT JOIN labelled_tools l ON l.server_id = s.id
GROUP BY s.id
ORDER BY destructive DESC, critical DESC, tools DESC, s.id""",
    },
    "changed_descriptions": {
        "title": "Tools whose description changed between crawls",
        "description": "A changed description is a finding: the text an agent reads to decide what a tool "
        "does is not what it was when it was first reviewed.",
        "hide_sql": True,
        "sql": """
SELECT v.server_id, v.name,
  count(DISTINCT coalesce(v.description, '')) AS descriptions_seen,
  (SELECT f.description FROM tool_versions f WHERE f.server_id = v.server_id AND f.name = v.name
    ORDER BY f.first_seen, f.crawl_id LIMIT 1) AS first_description,
  (SELECT l.description FROM tool_versions l WHERE l.server_id = v.server_id AND l.name = v.name
    ORDER BY l.first_seen DESC, l.crawl_id DESC LIMIT 1) AS latest_description,
  max(v.first_seen) AS last_changed
FROM tool_versions v
GROUP BY v.server_id, v.name
HAVING count(DISTINCT coalesce(v.description, '')) > 1
ORDER BY last_changed DESC, v.server_id, v.name""",
    },
    "low_confidence": {
        "title": "Low-confidence labels to review",
        "description": "Tools the classifier was least sure about and no reviewer has labelled yet, least "
        "sure first. `below` sets the confidence threshold (default 0.6); settle one with "
        "`catalog label SERVER TOOL CATEGORY --note TEXT`.",
        "hide_sql": True,
        "sql": """
SELECT server_id, name, category, risk, confidence, description, reasons
FROM labelled_tools
WHERE override_category IS NULL
  AND confidence < CAST(coalesce(nullif(:below, ''), '0.6') AS REAL)
ORDER BY confidence, server_id, name""",
        "params": ["below"],
    },
}

TABLES: dict[str, dict[str, Any]] = {
    "servers": {
        "description": "Every server ever crawled, by its catalog id.",
        "facets": ["kind"],
    },
    "tools": {
        "title": "Tools",
        "description": "The current and removed tools of every server, exactly as listed or extracted. "
        "Search names and descriptions with the search box.",
        "facets": ["server_id"],
        "sort": "name",
    },
    "classifications": {
        "title": "Classifier labels",
        "description": "The classifier's category, risk level, confidence and reasons per tool "
        "(reviewer overrides live in `overrides`).",
        "facets": ["category", "risk", "version"],
        "sort": "confidence",
    },
    "overrides": {
        "title": "Reviewer overrides",
        "description": "Labels set by a reviewer with `catalog label`; they win over the classifier and "
        "survive re-crawls.",
        "facets": ["category", "risk"],
        "sort_desc": "at",
    },
    "crawls": {
        "description": "Every crawl: source, method, version, status and error.",
        "facets": ["status", "method", "error_kind"],
        "sort_desc": "started_at",
    },
    "tool_versions": {
        "title": "Tool versions",
        "description": "Every distinct name, description, schema and annotations seen, with a content hash.",
        "facets": ["server_id"],
        "sort_desc": "first_seen",
    },
}


def metadata(db_path: Path) -> dict[str, Any]:
    """Datasette metadata for one catalog database: titles, descriptions, facets, canned queries."""
    return {
        "title": "MCP tool catalog",
        "description": "MCP servers, their tools, and how each tool is labelled: read, write or destructive, "
        "with a risk level and the reasons.",
        "databases": {
            db_path.stem: {
                "description": "The catalog database written by `catalog crawl`.",
                "tables": TABLES,
                "queries": QUERIES,
            }
        },
    }


def datasette_instance(db_path: Path) -> Any:
    """A started Datasette serving the database with the catalog's metadata."""
    try:
        from datasette.app import Datasette
        from datasette.utils import StartupError
    except ImportError:
        raise CatalogError(
            "catalog browse needs Datasette 0.65: pip install 'datasette>=0.65,<0.66'", kind="missing_extra"
        ) from None
    if not db_path.is_file():
        raise CatalogError(f"no catalog database at {db_path}; crawl something first", kind="usage")
    try:
        instance = Datasette([str(db_path)], metadata=metadata(db_path))
    except StartupError as exc:
        raise CatalogError(f"Datasette cannot start: {exc}", kind="error") from None
    asyncio.run(instance.invoke_startup())
    return instance


def require_free_port(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise CatalogError(
                f"port {port} on {HOST} is in use; pick another with --port", kind="usage"
            ) from None


def browse(db_path: Path, port: int = 8001, open_browser: bool = True) -> None:
    """Serve the catalog on 127.0.0.1:PORT until interrupted, optionally opening a browser on it."""
    import uvicorn

    path = Path(db_path)
    instance = datasette_instance(path)
    require_free_port(port)
    url = f"http://{HOST}:{port}/{path.stem}"
    sys.stderr.write(f"serving {url} (Ctrl-C to stop)\n")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(instance.app(), host=HOST, port=port, log_level="warning", lifespan="on")
