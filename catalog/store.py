"""The catalog database: schema and migrations, one transaction per crawl, history and queries."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.models import CatalogError, Classification, CrawlResult, LabelledTool, Override, Tool

SCHEMA_VERSION = 1
JSON_TOOL_FIELDS = ("input_schema", "annotations", "params", "unresolved", "raw")


def default_db_path() -> Path:
    """CATALOG_DB, else the per-user data directory."""
    if env := os.environ.get("CATALOG_DB"):
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mcp-catalog" / "catalog.db"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class Store:
    """A catalog.db file: open (creating or migrating it), write crawls atomically, read tools back."""

    def __init__(self, path: Path | str | None = None):
        import sqlite_utils

        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite_utils.Database(self.path)
            self.db.execute("PRAGMA busy_timeout = 30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"cannot open catalog database {self.path}: {exc}", kind="bad_database"
            ) from None

    # -- schema ---------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"{self.path} was written by a newer mcp-catalog (schema {version} > {SCHEMA_VERSION}); upgrade",
                kind="bad_database",
            )
        if version < 1:
            with self.db.atomic():
                self._create_v1()
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _create_v1(self) -> None:
        db = self.db
        db["servers"].create(
            {"id": str, "name": str, "kind": str, "source": str, "first_seen": str},
            pk="id",
            if_not_exists=True,
        )
        db["crawls"].create(
            {
                "id": int,
                "server_id": str,
                "source": str,
                "method": str,
                "route": str,
                "version": str,
                "digest": str,
                "started_at": str,
                "finished_at": str,
                "duration_ms": int,
                "status": str,
                "error": str,
                "error_kind": str,
                "tool_count": int,
                "warnings": str,
                "env_names": str,
                "server_info": str,
            },
            pk="id",
            foreign_keys=[("server_id", "servers")],
            if_not_exists=True,
        )
        db["tools"].create(
            {
                "server_id": str,
                "name": str,
                "title": str,
                "description": str,
                "input_schema": str,
                "annotations": str,
                "params": str,
                "origin": str,
                "unresolved": str,
                "raw": str,
                "content_hash": str,
                "first_seen": str,
                "changed_at": str,
                "removed_at": str,
            },
            pk=("server_id", "name"),
            foreign_keys=[("server_id", "servers")],
            if_not_exists=True,
        )
        db["tool_versions"].create(
            {
                "server_id": str,
                "name": str,
                "content_hash": str,
                "title": str,
                "description": str,
                "input_schema": str,
                "annotations": str,
                "params": str,
                "first_seen": str,
                "crawl_id": int,
            },
            pk=("server_id", "name", "content_hash"),
            if_not_exists=True,
        )
        db["classifications"].create(
            {
                "server_id": str,
                "name": str,
                "content_hash": str,
                "category": str,
                "risk": str,
                "confidence": float,
                "reasons": str,
                "version": str,
                "classified_at": str,
            },
            pk=("server_id", "name"),
            if_not_exists=True,
        )
        db["overrides"].create(
            {"server_id": str, "name": str, "category": str, "risk": str, "note": str, "at": str},
            pk=("server_id", "name"),
            if_not_exists=True,
        )
        db["prompts"].create(
            {"server_id": str, "name": str, "description": str, "arguments": str},
            pk=("server_id", "name"),
            if_not_exists=True,
        )
        db["resources"].create(
            {"server_id": str, "uri": str, "name": str, "description": str, "mime_type": str},
            pk=("server_id", "uri"),
            if_not_exists=True,
        )
        db["crawls"].create_index(["server_id", "started_at"], if_not_exists=True)
        db["tool_versions"].create_index(["server_id", "name"], if_not_exists=True)
        db["tools"].enable_fts(["name", "description"], create_triggers=True, replace=True)

    # -- writing --------------------------------------------------------------------------------------

    def save_crawl(
        self,
        result: CrawlResult,
        classifications: dict[str, Classification] | None = None,
        started_at: str | None = None,
    ) -> int:
        """Record one crawl in one transaction; tools only change when the crawl produced a listing."""
        finished = now()
        with self.db.atomic():
            self._ensure_server(result)
            crawl_id = self._insert_crawl(result, started_at or finished, finished)
            if result.status != "failed":
                self._apply_listing(result, crawl_id, finished)
                self._save_extras(result)
            if classifications:
                self._save_classifications(result.server.id, result.tools, classifications, finished)
        return crawl_id

    def _ensure_server(self, result: CrawlResult) -> None:
        ref = result.server
        if self.db.execute("SELECT 1 FROM servers WHERE id = ?", [ref.id]).fetchone():
            return
        self.db["servers"].insert(
            {
                "id": ref.id,
                "name": ref.name or ref.id,
                "kind": ref.kind,
                "source": ref.source,
                "first_seen": now(),
            }
        )

    def _insert_crawl(self, result: CrawlResult, started: str, finished: str) -> int:
        duration = int(
            (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds() * 1000
        )
        table = self.db["crawls"].insert(
            {
                "server_id": result.server.id,
                "source": result.server.source,
                "method": result.method,
                "route": result.route,
                "version": result.version,
                "digest": result.digest,
                "started_at": started,
                "finished_at": finished,
                "duration_ms": duration,
                "status": result.status,
                "error": result.error,
                "error_kind": result.error_kind,
                "tool_count": len(result.tools) if result.status != "failed" else None,
                "warnings": _dumps(result.warnings),
                "env_names": _dumps(sorted(result.env_names)),
                "server_info": _dumps(result.server_info),
            }
        )
        return int(table.last_pk)

    def _apply_listing(self, result: CrawlResult, crawl_id: int, at: str) -> None:
        server_id = result.server.id
        current = {
            row["name"]: row
            for row in self.db.query(
                "SELECT name, content_hash, removed_at FROM tools WHERE server_id = ?", [server_id]
            )
        }
        seen = set()
        for tool in result.tools:
            seen.add(tool.name)
            digest = tool.content_hash()
            old = current.get(tool.name)
            if old and old["content_hash"] == digest and old["removed_at"] is None:
                continue
            self._record_version(server_id, tool, digest, crawl_id, at)
            row = self._tool_row(server_id, tool, digest, at)
            if old:
                self.db["tools"].update((server_id, tool.name), row)
            else:
                self.db["tools"].insert({**row, "first_seen": at})
        if result.status == "ok":
            gone = [name for name, row in current.items() if name not in seen and row["removed_at"] is None]
            for name in gone:
                self.db["tools"].update((server_id, name), {"removed_at": at})

    def _record_version(self, server_id: str, tool: Tool, digest: str, crawl_id: int, at: str) -> None:
        content = tool.content()
        self.db["tool_versions"].insert(
            {
                "server_id": server_id,
                "name": tool.name,
                "content_hash": digest,
                "title": tool.title,
                "description": tool.description,
                "input_schema": _dumps(content["input_schema"]),
                "annotations": _dumps(content["annotations"]),
                "params": _dumps(content["params"]),
                "first_seen": at,
                "crawl_id": crawl_id,
            },
            ignore=True,
        )

    @staticmethod
    def _tool_row(server_id: str, tool: Tool, digest: str, at: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "server_id": server_id,
            "name": tool.name,
            "title": tool.title,
            "description": tool.description,
            "origin": tool.origin,
            "content_hash": digest,
            "changed_at": at,
            "removed_at": None,
        }
        for key in JSON_TOOL_FIELDS:
            row[key] = _dumps(getattr(tool, key) or None)
        return row

    def _save_extras(self, result: CrawlResult) -> None:
        if result.prompts:
            self.db["prompts"].upsert_all(
                [
                    {
                        "server_id": result.server.id,
                        "name": p.name,
                        "description": p.description,
                        "arguments": _dumps(p.arguments),
                    }
                    for p in result.prompts
                ],
                pk=("server_id", "name"),
            )
        if result.resources:
            self.db["resources"].upsert_all(
                [
                    {
                        "server_id": result.server.id,
                        "uri": r.uri,
                        "name": r.name,
                        "description": r.description,
                        "mime_type": r.mime_type,
                    }
                    for r in result.resources
                ],
                pk=("server_id", "uri"),
            )

    def _save_classifications(
        self, server_id: str, tools: Iterable[Tool], labels: dict[str, Classification], at: str
    ) -> None:
        stored = {
            row["name"]: row
            for row in self.db.query(
                "SELECT name, content_hash, version FROM classifications WHERE server_id = ?", [server_id]
            )
        }
        rows = []
        for tool in tools:
            label = labels.get(tool.name)
            if label is None:
                continue
            digest = tool.content_hash()
            old = stored.get(tool.name)
            if old and old["content_hash"] == digest and old["version"] == label.version:
                continue
            rows.append(
                {
                    "server_id": server_id,
                    "name": tool.name,
                    "content_hash": digest,
                    "category": label.category,
                    "risk": label.risk,
                    "confidence": round(label.confidence, 4),
                    "reasons": _dumps(label.reasons),
                    "version": label.version,
                    "classified_at": at,
                }
            )
        if rows:
            self.db["classifications"].upsert_all(rows, pk=("server_id", "name"))

    def save_classifications(self, server_id: str, labels: dict[str, Classification]) -> None:
        """Store labels for the current tools of a server (re-classification after a new model)."""
        with self.db.atomic():
            self._save_classifications(server_id, self.tools(server_id), labels, now())

    def save_labels(self, labels: list[tuple[str, Tool, Classification]]) -> None:
        """Store a batch of labels for tools of many servers in one transaction."""
        by_server: dict[str, dict[str, Classification]] = {}
        tools: dict[str, list[Tool]] = {}
        for server_id, tool, label in labels:
            by_server.setdefault(server_id, {})[tool.name] = label
            tools.setdefault(server_id, []).append(tool)
        at = now()
        with self.db.atomic():
            for server_id, server_labels in by_server.items():
                self._save_classifications(server_id, tools[server_id], server_labels, at)

    def set_override(
        self, server_id: str, name: str, category: str, note: str, risk: str | None = None
    ) -> None:
        if not self.db.execute(
            "SELECT 1 FROM tools WHERE server_id = ? AND name = ?", [server_id, name]
        ).fetchone():
            raise CatalogError(f"no tool {name!r} stored for server {server_id!r}", kind="not_found")
        with self.db.atomic():
            self.db["overrides"].upsert(
                {
                    "server_id": server_id,
                    "name": name,
                    "category": category,
                    "risk": risk,
                    "note": note,
                    "at": now(),
                },
                pk=("server_id", "name"),
            )

    # -- reading --------------------------------------------------------------------------------------

    def server_ids(self) -> list[str]:
        return [row["id"] for row in self.db.query("SELECT id FROM servers ORDER BY id")]

    def require_server(self, server_id: str) -> None:
        if not self.db.execute("SELECT 1 FROM servers WHERE id = ?", [server_id]).fetchone():
            known = ", ".join(self.server_ids()[:5]) or "none yet"
            raise CatalogError(f"no server {server_id!r} in {self.path} (stored: {known})", kind="not_found")

    def tools(self, server_id: str) -> list[Tool]:
        """The current tools of a server, in a stable order (by name)."""
        rows = self.db.query(
            "SELECT * FROM tools WHERE server_id = ? AND removed_at IS NULL ORDER BY name", [server_id]
        )
        return [self._tool_from_row(row) for row in rows]

    @staticmethod
    def _tool_from_row(row: dict[str, Any]) -> Tool:
        return Tool(
            name=row["name"],
            title=row["title"],
            description=row["description"] or "",
            input_schema=_loads(row["input_schema"]),
            annotations=_loads(row["annotations"]),
            params=_loads(row["params"]),
            origin=row["origin"] or "",
            unresolved=_loads(row["unresolved"]) or [],
            raw=_loads(row["raw"]),
        )

    def labelled_tools(self, server_id: str) -> list[LabelledTool]:
        """Current tools with their classification and any reviewer override."""
        labels = {
            row["name"]: row
            for row in self.db.query("SELECT * FROM classifications WHERE server_id = ?", [server_id])
        }
        overrides = {
            row["name"]: row
            for row in self.db.query("SELECT * FROM overrides WHERE server_id = ?", [server_id])
        }
        result = []
        for tool in self.tools(server_id):
            label = labels.get(tool.name)
            classification = (
                Classification(
                    category=label["category"],
                    risk=label["risk"],
                    confidence=label["confidence"],
                    reasons=_loads(label["reasons"]) or [],
                    version=label["version"],
                )
                if label
                else Classification("destructive", "high", 0.0, ["not classified yet"], "")
            )
            override = overrides.get(tool.name)
            result.append(
                LabelledTool(
                    tool,
                    classification,
                    Override(override["category"], override["note"], override["risk"], override["at"])
                    if override
                    else None,
                )
            )
        return result

    def recently_crawled(self, since: str) -> set[str]:
        """Server ids and source strings with a successful crawl finished after `since`."""
        rows = self.db.query(
            "SELECT server_id, source FROM crawls WHERE status = 'ok' AND finished_at >= ?", [since]
        )
        keys: set[str] = set()
        for row in rows:
            keys.update((row["server_id"], row["source"]))
        return keys

    def unclassified_tools(self, server_ids: list[str] | None = None) -> list[tuple[str, Tool]]:
        """Current tools (of all tools of servers that have any) whose label is missing or stale.

        A server with one stale tool gets all its tools back, since siblings inform each label.
        """
        sql = """SELECT DISTINCT t.server_id FROM tools t
                 LEFT JOIN classifications c ON c.server_id = t.server_id AND c.name = t.name
                 WHERE t.removed_at IS NULL AND (c.name IS NULL OR c.content_hash != t.content_hash)"""
        stale = [row["server_id"] for row in self.db.query(sql)]
        wanted = set(server_ids) if server_ids is not None else None
        result = []
        for server_id in stale:
            if wanted is None or server_id in wanted:
                result.extend((server_id, tool) for tool in self.tools(server_id))
        return result

    def crawls(self, server_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, args = ("WHERE server_id = ?", [server_id]) if server_id else ("", [])
        return list(self.db.query(f"SELECT * FROM crawls {where} ORDER BY id DESC LIMIT {int(limit)}", args))

    def last_ok_crawl(self, server_id: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                "SELECT * FROM crawls WHERE server_id = ? AND status != 'failed' ORDER BY id DESC LIMIT 1",
                [server_id],
            )
        )
        return rows[0] if rows else None

    def tool_versions(self, server_id: str, name: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT * FROM tool_versions WHERE server_id = ? AND name = ? ORDER BY first_seen",
                [server_id, name],
            )
        )

    def search(
        self, query: str, category: str | None = None, risk: str | None = None, limit: int = 50
    ) -> Iterator[dict[str, Any]]:
        """Full-text search over current tool names and descriptions, with optional label filters."""
        sql = f"""
            SELECT t.server_id, t.name, t.description, c.category, c.risk, c.confidence,
                   coalesce(o.category, c.category) AS effective_category,
                   {EFFECTIVE_RISK} AS effective_risk
            FROM tools_fts f JOIN tools t ON t.rowid = f.rowid
            LEFT JOIN classifications c ON c.server_id = t.server_id AND c.name = t.name
            LEFT JOIN overrides o ON o.server_id = t.server_id AND o.name = t.name
            WHERE tools_fts MATCH :q AND t.removed_at IS NULL
              AND (:category IS NULL OR coalesce(o.category, c.category) = :category)
              AND (:risk IS NULL OR {EFFECTIVE_RISK} = :risk)
            ORDER BY f.rank LIMIT :limit"""
        try:
            yield from self.db.query(
                sql, {"q": _fts_query(query), "category": category, "risk": risk, "limit": limit}
            )
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"bad search query {query!r}: {exc}", kind="usage") from None

    def catalog_summary(self) -> list[dict[str, Any]]:
        """One row per server: tool counts per effective category, the riskiest level, the last crawl."""
        sql = f"""
            SELECT s.id, s.kind, count(t.name) AS tools,
              sum(coalesce(o.category, c.category) = 'read') AS read,
              sum(coalesce(o.category, c.category) = 'write') AS write,
              sum(coalesce(o.category, c.category) = 'destructive') AS destructive,
              sum({EFFECTIVE_RISK} = 'critical') AS critical,
              max(CASE {EFFECTIVE_RISK} WHEN 'critical' THEN 4 WHEN 'high' THEN 3
                  WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) AS risk_rank,
              (SELECT max(finished_at) FROM crawls WHERE server_id = s.id) AS last_crawl,
              (SELECT status FROM crawls WHERE server_id = s.id ORDER BY id DESC LIMIT 1) AS last_status
            FROM servers s
            LEFT JOIN tools t ON t.server_id = s.id AND t.removed_at IS NULL
            LEFT JOIN classifications c ON c.server_id = t.server_id AND c.name = t.name
            LEFT JOIN overrides o ON o.server_id = t.server_id AND o.name = t.name
            GROUP BY s.id ORDER BY risk_rank DESC, destructive DESC, s.id"""
        levels = {4: "critical", 3: "high", 2: "medium", 1: "low", 0: None}
        rows = []
        for row in self.db.query(sql):
            row["riskiest"] = levels[row.pop("risk_rank") or 0]
            rows.append(row)
        return rows

    def save_differences(self, crawl_id: int, differences: list[dict[str, Any]]) -> None:
        """What static reading and the live listing of one crawl disagreed on (see crawl.reconcile)."""
        rows = [
            {
                "crawl_id": crawl_id,
                "tool": d["tool"],
                "what": d["what"],
                "static": _dumps(d.get("static")),
                "live": _dumps(d.get("live")),
            }
            for d in differences
        ]
        columns = {"crawl_id": int, "tool": str, "what": str, "static": str, "live": str}
        with self.db.atomic():
            self.db["crawl_differences"].create(columns, if_not_exists=True)
            if rows:
                self.db["crawl_differences"].insert_all(rows)

    def differences(self, crawl_id: int) -> list[dict[str, Any]]:
        if not self.db["crawl_differences"].exists():
            return []
        sql = "SELECT tool, what, static, live FROM crawl_differences WHERE crawl_id = ?"
        rows = self.db.query(sql, [crawl_id])
        return [{**row, "static": _loads(row["static"]), "live": _loads(row["live"])} for row in rows]

    def close(self) -> None:
        self.db.close()


# The risk a reviewer's override implies, in SQL; the same rule as models.default_risk_for.
EFFECTIVE_RISK = """CASE
    WHEN o.category IS NULL THEN c.risk
    WHEN o.risk IS NOT NULL THEN o.risk
    WHEN o.category = 'read' THEN (CASE WHEN c.risk IN ('low', 'medium') THEN c.risk ELSE 'low' END)
    WHEN o.category = 'write' THEN 'medium'
    ELSE (CASE WHEN c.risk IN ('high', 'critical') THEN c.risk ELSE 'high' END) END"""


def _fts_query(text: str) -> str:
    """Quote each word so user text never breaks FTS syntax; words are ANDed, the last one a prefix."""
    words = [w.replace('"', '""') for w in text.split() if w]
    if not words:
        raise CatalogError("empty search query", kind="usage")
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)
