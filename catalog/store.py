"""The catalog database: schema and migrations, one transaction per crawl (or per batch of crawls in
bulk), history and queries. Every write transaction takes the write lock at once (BEGIN IMMEDIATE), the
file is in WAL mode with a busy timeout, and a transaction that still meets a lock is retried whole, so
several `catalog` processes can write one file at the same time."""

from __future__ import annotations

import contextlib
import difflib
import json
import operator
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from catalog.models import (
    EFFECTIVE_CATEGORY_SQL,
    EFFECTIVE_RISK_SQL,
    TOOL_CONTENT_FIELDS,
    UNCLASSIFIED,
    CatalogError,
    Classification,
    CrawlResult,
    LabelledTool,
    Override,
    Tool,
)

SCHEMA_VERSION = 2  # 2: classifications.p_destructive and caution_threshold
JSON_TOOL_FIELDS = ("input_schema", "annotations", "params", "unresolved", "raw")
BUSY_TIMEOUT_S = 30.0
WRITE_ATTEMPTS = 8
T = TypeVar("T")

# Current tools with their effective label: the one definition (catalog.models) that search, reports,
# policies (through LabelledTool) and Datasette all read.
LABELLED_VIEW = f"""CREATE VIEW labelled_tools AS
SELECT t.*,
    c.category AS classifier_category, c.risk AS classifier_risk, c.confidence, c.reasons,
    c.version AS classifier_version, c.p_destructive, c.caution_threshold,
    o.category AS override_category, o.risk AS override_risk, o.note AS override_note, o.at AS override_at,
    {EFFECTIVE_CATEGORY_SQL} AS category,
    {EFFECTIVE_RISK_SQL} AS risk
FROM tools t
LEFT JOIN classifications c ON c.server_id = t.server_id AND c.name = t.name
LEFT JOIN overrides o ON o.server_id = t.server_id AND o.name = t.name
WHERE t.removed_at IS NULL"""

FTS_TABLE = 'CREATE VIRTUAL TABLE "tools_fts" USING FTS5 ("name", "description", content="tools")'
FTS_TRIGGERS = {
    "tools_ai": """CREATE TRIGGER "tools_ai" AFTER INSERT ON "tools" BEGIN
  INSERT INTO "tools_fts" (rowid, "name", "description") VALUES (new.rowid, new."name", new."description");
END""",
    "tools_ad": """CREATE TRIGGER "tools_ad" AFTER DELETE ON "tools" BEGIN
  INSERT INTO "tools_fts" ("tools_fts", rowid, "name", "description")
    VALUES('delete', old.rowid, old."name", old."description");
END""",
    "tools_au": """CREATE TRIGGER "tools_au" AFTER UPDATE ON "tools" BEGIN
  INSERT INTO "tools_fts" ("tools_fts", rowid, "name", "description")
    VALUES('delete', old.rowid, old."name", old."description");
  INSERT INTO "tools_fts" (rowid, "name", "description") VALUES (new.rowid, new."name", new."description");
END""",
}
# The tables (column: type, in table order), each written once: `_create_v1` creates them and the column
# tuples the writer inserts are read from them. A tool version keeps the tool's content columns
# (models.TOOL_CONTENT_FIELDS), the tools table the same columns and more.
CONTENT_COLUMNS: dict[str, type] = {key: str for key in TOOL_CONTENT_FIELDS if key != "name"}
SERVERS_TABLE: dict[str, type] = {"id": str, "name": str, "kind": str, "source": str, "first_seen": str}
CRAWLS_TABLE: dict[str, type] = {
    "id": int, "server_id": str, "source": str, "method": str, "route": str, "version": str, "digest": str,
    "started_at": str, "finished_at": str, "duration_ms": int, "status": str, "error": str, "error_kind": str,
    "tool_count": int, "warnings": str, "env_names": str, "server_info": str,
}  # fmt: skip
TOOLS_TABLE: dict[str, type] = {
    "server_id": str, "name": str, **CONTENT_COLUMNS, "origin": str, "unresolved": str, "raw": str,
    "content_hash": str, "first_seen": str, "changed_at": str, "removed_at": str,
}  # fmt: skip
VERSIONS_TABLE: dict[str, type] = {
    "server_id": str, "name": str, "content_hash": str, **CONTENT_COLUMNS, "first_seen": str, "crawl_id": int,
}  # fmt: skip
LABELS_TABLE: dict[str, type] = {
    "server_id": str, "name": str, "content_hash": str, "category": str, "risk": str, "confidence": float,
    "reasons": str, "version": str, "classified_at": str, "p_destructive": float, "caution_threshold": float,
}  # fmt: skip
TOOL_COLUMNS = tuple(TOOLS_TABLE)
CRAWL_COLUMNS = tuple(CRAWLS_TABLE)
VERSION_COLUMNS = tuple(VERSIONS_TABLE)
LABEL_COLUMNS = tuple(LABELS_TABLE)


def default_db_path() -> Path:
    """CATALOG_DB, else the per-user data directory."""
    if env := os.environ.get("CATALOG_DB"):
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mcp-catalog" / "catalog.db"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_TOOL_ROW = operator.itemgetter(*TOOL_COLUMNS)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)  # built once: bulk writes encode millions


def _dumps(value: Any) -> str | None:
    return None if value is None else _ENCODER.encode(value)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _insert_sql(table: str, columns: tuple[str, ...], conflict: str = "") -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT {conflict} INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def _upsert_sql(table: str, columns: tuple[str, ...], keys: tuple[str, ...]) -> str:
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
    return f"{_insert_sql(table, columns)} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@dataclass
class PendingCrawl:
    """One crawl to store with `Store.save_crawls`: the result, its labels, when it started."""

    result: CrawlResult
    classifications: dict[str, Classification] | None = None
    started_at: str | None = None


def _sqlite_utils() -> Any:
    """sqlite-utils, imported without numpy unless numpy is loaded already. sqlite-utils imports numpy only
    to map numpy scalar types to column types, which the catalog never stores; the import would cost a
    cached crawl more CPU than all of its own work."""
    if "numpy" in sys.modules or "sqlite_utils" in sys.modules:
        import sqlite_utils

        return sqlite_utils
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` now raises ImportError
    try:
        import sqlite_utils
    finally:
        del sys.modules["numpy"]
    return sqlite_utils


class Store:
    """A catalog.db file: open (creating or migrating it), write crawls atomically, read tools back."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._bulk_depth = 0
        self._db: Any = None
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S)
            self.conn.execute("PRAGMA recursive_triggers = on")  # as sqlite-utils' Database sets it
            self._retry(self._enable_wal)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(
                f"cannot open catalog database {self.path}: {exc}", kind="bad_database"
            ) from None

    @property
    def db(self) -> Any:
        """The connection as a sqlite-utils Database, for its table helpers; made on first use (a crawl's
        own reads and writes go through `conn`, so a crawl need not import sqlite-utils at all). No
        sqlite-utils plugins: finding them scans every installed distribution's entry points."""
        if self._db is None:
            self._db = _sqlite_utils().Database(self.conn, execute_plugins=False)
        return self._db

    # -- transactions ---------------------------------------------------------------------------------

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run `fn`, again after a short pause when another process still holds a lock past the timeout."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.1 * 2**attempt, 2.0))
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """A write transaction holding the write lock from its start; nested ones are savepoints."""
        conn = self.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    def write(self, fn: Callable[[], T]) -> T:
        """Run `fn` as one write transaction, retried whole if another writer holds the lock too long."""
        if self.conn.in_transaction:
            with self._transaction():
                return fn()

        def once() -> T:
            with self._transaction():
                return fn()

        return self._retry(once)

    def _enable_wal(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self.conn.execute("PRAGMA journal_mode=WAL")

    # -- schema ---------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"{self.path} was written by a newer mcp-catalog (schema {version} > {SCHEMA_VERSION}); upgrade",
                kind="bad_database",
            )
        if version < SCHEMA_VERSION or not self._schema_current():
            self.write(self._upgrade)

    def _schema_current(self) -> bool:
        objects = {
            row[0]: row[1]
            for row in self.conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"
            )
        }
        return objects.get("labelled_tools") == LABELLED_VIEW and set(FTS_TRIGGERS) <= set(objects)

    def _upgrade(self) -> None:
        """Create what is missing (inside the write lock, so concurrent first openers do it once)."""
        if self.db.execute("PRAGMA user_version").fetchone()[0] < 1:
            self._create_v1()
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if self.db.execute("PRAGMA user_version").fetchone()[0] < 2:
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(classifications)")}
            for column in ("p_destructive", "caution_threshold"):
                if column not in columns:
                    self.db.execute(f"ALTER TABLE classifications ADD COLUMN {column} FLOAT")
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.db.execute("DROP VIEW IF EXISTS labelled_tools")
        self.db.execute(LABELLED_VIEW)
        if self._bulk_depth == 0:
            self._restore_fts_triggers()

    def _restore_fts_triggers(self) -> None:
        """Triggers back after a bulk load (or a bulk load that was killed), the index rebuilt if they were off."""
        present = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        missing = [name for name in FTS_TRIGGERS if name not in present]
        if not missing:
            return
        for name in missing:
            self.db.execute(FTS_TRIGGERS[name])
        self.db.execute("INSERT INTO tools_fts(tools_fts) VALUES ('rebuild')")

    def _create_v1(self) -> None:
        db = self.db
        db.table("servers").create(SERVERS_TABLE, pk="id", if_not_exists=True)
        db.table("crawls").create(
            CRAWLS_TABLE, pk="id", foreign_keys=[("server_id", "servers")], if_not_exists=True
        )
        db.table("tools").create(
            TOOLS_TABLE, pk=("server_id", "name"), foreign_keys=[("server_id", "servers")], if_not_exists=True
        )
        db.table("tool_versions").create(
            VERSIONS_TABLE, pk=("server_id", "name", "content_hash"), if_not_exists=True
        )
        db.table("classifications").create(LABELS_TABLE, pk=("server_id", "name"), if_not_exists=True)
        db.table("overrides").create(
            {"server_id": str, "name": str, "category": str, "risk": str, "note": str, "at": str},
            pk=("server_id", "name"),
            if_not_exists=True,
        )
        db.table("prompts").create(
            {"server_id": str, "name": str, "description": str, "arguments": str},
            pk=("server_id", "name"),
            if_not_exists=True,
        )
        db.table("resources").create(
            {"server_id": str, "uri": str, "name": str, "description": str, "mime_type": str},
            pk=("server_id", "uri"),
            if_not_exists=True,
        )
        db.table("crawls").create_index(["server_id", "started_at"], if_not_exists=True)
        db.table("tool_versions").create_index(["server_id", "name"], if_not_exists=True)
        db.execute(FTS_TABLE)
        for trigger in FTS_TRIGGERS.values():
            db.execute(trigger)

    # -- writing --------------------------------------------------------------------------------------

    def save_crawl(
        self,
        result: CrawlResult,
        classifications: dict[str, Classification] | None = None,
        started_at: str | None = None,
    ) -> int:
        """Record one crawl in one transaction; tools only change when the crawl produced a listing."""
        return self.save_crawls([PendingCrawl(result, classifications, started_at)])[0]

    def save_crawls(self, crawls: Iterable[PendingCrawl | CrawlResult], batch_size: int = 500) -> list[int]:
        """Record many crawls, in order, with the same outcome as one `save_crawl` each: rows built in
        Python, one `executemany` per table and one transaction per `batch_size` crawls. Outside a
        `bulk_load()` block the full-text index is kept by its triggers; inside one it is rebuilt once at
        the end. Returns the crawl ids."""
        ids: list[int] = []
        batch: list[PendingCrawl] = []
        for item in crawls:
            batch.append(item if isinstance(item, PendingCrawl) else PendingCrawl(item))
            if len(batch) >= batch_size:
                ids += self._write_batch(batch)
                batch = []
        if batch:
            ids += self._write_batch(batch)
        return ids

    def _write_batch(self, batch: list[PendingCrawl]) -> list[int]:
        return self.write(lambda: self._save_batch(batch))

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[Store]:
        """A block of bulk writes (`save_crawls` calls): the full-text index triggers are off inside it and
        the index is rebuilt once at its end, even when the block fails; a killed process leaves the
        triggers off, and the next `Store()` on the file puts them back and rebuilds."""
        self._bulk_depth += 1
        try:
            if self._bulk_depth == 1:
                self.write(self._drop_fts_triggers)
                self._bulk_pragmas(bulk=True)
            yield self
        finally:
            self._bulk_depth -= 1
            if self._bulk_depth == 0:
                self.write(self._restore_fts_triggers)
                self._bulk_pragmas(bulk=False)

    def _bulk_pragmas(self, bulk: bool) -> None:
        """A larger page cache for a bulk block, and WAL's `synchronous=NORMAL` (a power cut may lose the
        last batches, which a resumed run crawls again; the file is never corrupted); defaults after it."""
        self.db.execute(f"PRAGMA cache_size = {-131072 if bulk else -2000}")
        self.db.execute(f"PRAGMA synchronous = {'NORMAL' if bulk else 'FULL'}")

    def _drop_fts_triggers(self) -> None:
        for name in FTS_TRIGGERS:
            self.db.execute(f'DROP TRIGGER IF EXISTS "{name}"')

    def _save_batch(self, batch: list[PendingCrawl]) -> list[int]:
        """Write a batch of crawls in the current transaction (see save_crawls)."""
        conn = self.conn
        servers = sorted({p.result.server.id for p in batch})
        marks = ", ".join("?" * len(servers))
        # The state the batch starts from, updated in memory crawl by crawl.
        current: dict[str, dict[str, tuple[str, str | None]]] = {server: {} for server in servers}
        for r in conn.execute(
            f"SELECT server_id, name, content_hash, removed_at FROM tools WHERE server_id IN ({marks})",
            servers,
        ):
            current[r[0]][r[1]] = (r[2], r[3])
        labelled: dict[tuple[str, str], tuple[str, str]] = {
            (r[0], r[1]): (r[2], r[3])
            for r in conn.execute(
                f"SELECT server_id, name, content_hash, version FROM classifications WHERE server_id IN ({marks})",
                servers,
            )
        }
        known = {r[0] for r in conn.execute(f"SELECT id FROM servers WHERE id IN ({marks})", servers)}
        next_id = (conn.execute("SELECT max(id) FROM crawls").fetchone()[0] or 0) + 1
        new_servers: list[tuple[Any, ...]] = []
        crawl_rows: list[tuple[Any, ...]] = []
        version_rows: list[tuple[Any, ...]] = []
        inserts: dict[tuple[str, str], dict[str, Any]] = {}  # tools new in this batch, final state
        updates: dict[tuple[str, str], dict[str, Any]] = {}  # stored tools rewritten, final state
        removals: dict[tuple[str, str], str] = {}  # stored tools only marked removed
        labels: dict[tuple[str, str], tuple[Any, ...]] = {}
        prompts: list[tuple[Any, ...]] = []
        resources: list[tuple[Any, ...]] = []
        ids = []
        for pending in batch:
            result = pending.result
            ref = result.server
            finished = now()
            if ref.id not in known:
                known.add(ref.id)
                new_servers.append((ref.id, ref.name or ref.id, ref.kind, ref.source, finished))
            crawl_id = next_id
            next_id += 1
            ids.append(crawl_id)
            crawl_rows.append(self._crawl_row(crawl_id, result, pending.started_at or finished, finished))
            digests: dict[str, str] = {}
            if result.status != "failed":
                state = current[ref.id]
                seen = set()
                for tool in result.tools:
                    key = (ref.id, tool.name)
                    seen.add(tool.name)
                    digest = digests[tool.name] = tool.content_hash()
                    old = state.get(tool.name)
                    if old and old[0] == digest and old[1] is None:
                        continue
                    row = self._tool_row(ref.id, tool, digest, finished)
                    version_rows.append(self._version_row(ref.id, tool, digest, crawl_id, finished, row))
                    state[tool.name] = (digest, None)
                    removals.pop(key, None)
                    if key in inserts:
                        inserts[key] = {**row, "first_seen": inserts[key]["first_seen"]}
                    elif old:
                        updates[key] = row
                    else:
                        inserts[key] = {**row, "first_seen": finished}
                if result.status == "ok":
                    for name, (digest, removed) in list(state.items()):
                        if name in seen or removed is not None:
                            continue
                        state[name] = (digest, finished)
                        key = (ref.id, name)
                        for rows in (inserts, updates):
                            if key in rows:
                                rows[key]["removed_at"] = finished
                                break
                        else:
                            removals[key] = finished
                prompts += [(ref.id, p.name, p.description, _dumps(p.arguments)) for p in result.prompts]
                resources += [(ref.id, r.uri, r.name, r.description, r.mime_type) for r in result.resources]
            for tool in result.tools if pending.classifications else ():
                label = (pending.classifications or {}).get(tool.name)
                if label is None:
                    continue
                key = (ref.id, tool.name)
                digest = digests.get(tool.name) or tool.content_hash()
                if labelled.get(key) == (digest, label.version):
                    continue
                labelled[key] = (digest, label.version)
                labels[key] = self._label_row(ref.id, tool.name, digest, label, finished)
        conn.executemany(_insert_sql("servers", tuple(SERVERS_TABLE)), new_servers)
        conn.executemany(_insert_sql("crawls", CRAWL_COLUMNS), crawl_rows)
        conn.executemany(_insert_sql("tool_versions", VERSION_COLUMNS, "OR IGNORE"), version_rows)
        conn.executemany(_insert_sql("tools", TOOL_COLUMNS), map(_TOOL_ROW, inserts.values()))
        changing = tuple(c for c in TOOL_COLUMNS if c not in ("server_id", "name", "first_seen"))
        conn.executemany(
            f"UPDATE tools SET {', '.join(f'{c} = ?' for c in changing)} WHERE server_id = ? AND name = ?",
            [(*(r[c] for c in changing), *key) for key, r in updates.items()],
        )
        conn.executemany(
            "UPDATE tools SET removed_at = ? WHERE server_id = ? AND name = ?",
            [(at, *key) for key, at in removals.items()],
        )
        conn.executemany(
            _upsert_sql("prompts", ("server_id", "name", "description", "arguments"), ("server_id", "name")),
            prompts,
        )
        conn.executemany(
            _upsert_sql(
                "resources", ("server_id", "uri", "name", "description", "mime_type"), ("server_id", "uri")
            ),
            resources,
        )
        conn.executemany(
            _upsert_sql("classifications", LABEL_COLUMNS, ("server_id", "name")), labels.values()
        )
        return ids

    @staticmethod
    def _crawl_row(crawl_id: int, result: CrawlResult, started: str, finished: str) -> tuple[Any, ...]:
        duration = int(
            (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds() * 1000
        )
        return (
            crawl_id,
            result.server.id,
            result.server.source,
            result.method,
            result.route,
            result.version,
            result.digest,
            started,
            finished,
            duration,
            result.status,
            result.error,
            result.error_kind,
            len(result.tools) if result.status != "failed" else None,
            _dumps(result.warnings),
            _dumps(sorted(result.env_names)),
            _dumps(result.server_info),
        )

    @staticmethod
    def _version_row(
        server_id: str, tool: Tool, digest: str, crawl_id: int, at: str, row: dict[str, Any]
    ) -> tuple[Any, ...]:
        """The tool_versions row; JSON already encoded for the tools `row` is reused where it is the same."""
        content = tool.content()

        def encoded(key: str) -> str | None:
            value = content[key]
            return row[key] if value and value == getattr(tool, key) else _dumps(value)

        values = (encoded(key) if key in JSON_TOOL_FIELDS else content[key] for key in CONTENT_COLUMNS)
        return (server_id, tool.name, digest, *values, at, crawl_id)

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

    @staticmethod
    def _label_row(server_id: str, name: str, digest: str, label: Classification, at: str) -> tuple[Any, ...]:
        return (
            server_id,
            name,
            digest,
            label.category,
            label.risk,
            round(label.confidence, 4),
            _dumps(label.reasons),
            label.version,
            at,
            label.p_destructive,
            label.caution_threshold,
        )

    def _save_classifications(
        self, server_id: str, tools: Iterable[Tool], labels: dict[str, Classification], at: str
    ) -> None:
        stored = {
            row[0]: (row[1], row[2])
            for row in self.db.execute(
                "SELECT name, content_hash, version FROM classifications WHERE server_id = ?", [server_id]
            )
        }
        rows = []
        for tool in tools:
            label = labels.get(tool.name)
            if label is None:
                continue
            digest = tool.content_hash()
            if stored.get(tool.name) == (digest, label.version):
                continue
            rows.append(self._label_row(server_id, tool.name, digest, label, at))
        self.db.conn.executemany(_upsert_sql("classifications", LABEL_COLUMNS, ("server_id", "name")), rows)

    def save_classifications(self, server_id: str, labels: dict[str, Classification]) -> None:
        """Store labels for the current tools of a server (re-classification after a new model)."""
        self.write(lambda: self._save_classifications(server_id, self.tools(server_id), labels, now()))

    def save_labels(self, labels: list[tuple[str, Tool, Classification]]) -> None:
        """Store a batch of labels for tools of many servers in one transaction."""
        by_server: dict[str, dict[str, Classification]] = {}
        tools: dict[str, list[Tool]] = {}
        for server_id, tool, label in labels:
            by_server.setdefault(server_id, {})[tool.name] = label
            tools.setdefault(server_id, []).append(tool)
        at = now()

        def save() -> None:
            for server_id, server_labels in by_server.items():
                self._save_classifications(server_id, tools[server_id], server_labels, at)

        self.write(save)

    def set_override(
        self, server_id: str, name: str, category: str, note: str, risk: str | None = None
    ) -> None:
        """A reviewer's label for one tool. Without `risk`, the effective risk follows the rule in
        catalog.models (never lower than the classifier's for the same or a changed category)."""

        def save() -> None:
            if not self.db.execute(
                "SELECT 1 FROM tools WHERE server_id = ? AND name = ?", [server_id, name]
            ).fetchone():
                raise CatalogError(f"no tool {name!r} stored for server {server_id!r}", kind="not_found")
            self.db.execute(
                _upsert_sql(
                    "overrides",
                    ("server_id", "name", "category", "risk", "note", "at"),
                    ("server_id", "name"),
                ),
                [server_id, name, category, risk, note, now()],
            )

        self.write(save)

    # -- reading --------------------------------------------------------------------------------------

    def server_ids(self) -> list[str]:
        return [row["id"] for row in self.db.query("SELECT id FROM servers ORDER BY id")]

    def require_server(self, server_id: str) -> None:
        """A clear not-found error naming the close ids (`git` finds `pypi:mcp-server-git`)."""
        if self.db.execute("SELECT 1 FROM servers WHERE id = ?", [server_id]).fetchone():
            return
        known = self.server_ids()
        raise CatalogError(
            f"no server {server_id!r} in {self.path}; {_suggest(server_id, known)}", kind="not_found"
        )

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
        """Current tools with their classification and any reviewer override (the `labelled_tools` view)."""
        result = []
        for row in self.db.query(
            "SELECT * FROM labelled_tools WHERE server_id = ? ORDER BY name", [server_id]
        ):
            classification = (
                Classification(
                    category=row["classifier_category"],
                    risk=row["classifier_risk"],
                    confidence=row["confidence"],
                    reasons=_loads(row["reasons"]) or [],
                    version=row["classifier_version"],
                    p_destructive=row["p_destructive"],
                    caution_threshold=row["caution_threshold"],
                )
                if row["classifier_category"] is not None
                else UNCLASSIFIED
            )
            override = (
                Override(
                    row["override_category"], row["override_note"], row["override_risk"], row["override_at"]
                )
                if row["override_category"] is not None
                else None
            )
            result.append(LabelledTool(self._tool_from_row(row), classification, override))
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
        stale = [row[0] for row in self.conn.execute(sql)]
        wanted = set(server_ids) if server_ids is not None else None
        result: list[tuple[str, Tool]] = []
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
        """Full-text search over current tool names and descriptions, with optional effective-label filters.

        Words are ANDed, `OR` between words or phrases means either, "quoted words" are a phrase, the last
        bare word is a prefix; every other character is text, never FTS syntax."""
        sql = """
            SELECT l.server_id, l.name, l.description, l.classifier_category AS category,
                   l.classifier_risk AS risk, l.confidence,
                   l.category AS effective_category, l.risk AS effective_risk
            FROM tools_fts f JOIN tools t ON t.rowid = f.rowid
            JOIN labelled_tools l ON l.server_id = t.server_id AND l.name = t.name
            WHERE tools_fts MATCH :q
              AND (:category IS NULL OR l.category = :category)
              AND (:risk IS NULL OR l.risk = :risk)
            ORDER BY f.rank LIMIT :limit"""
        try:
            yield from self.db.query(
                sql, {"q": self.fts_query(query), "category": category, "risk": risk, "limit": limit}
            )
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"bad search query {query!r}: {exc}", kind="usage") from None

    def fts_query(self, text: str) -> str:
        """User text as an FTS5 query (see search): sqlite-utils quotes each word and keeps phrases."""
        if text.count('"') % 2:
            text += '"'
        groups: list[list[str]] = [[]]
        for token in _FTS_TOKEN.split(text):
            if not token or token == '""':
                continue
            if token == "OR":
                groups.append([])
            else:
                groups[-1].append(token)
        groups = [g for g in groups if g]
        if not groups:
            raise CatalogError("empty search query", kind="usage")
        quoted = [self.db.quote_fts(" ".join(g)) for g in groups]
        if not groups[-1][-1].startswith('"'):
            quoted[-1] += "*"
        return " OR ".join(f"({q})" if len(groups) > 1 else q for q in quoted)

    def catalog_summary(self) -> list[dict[str, Any]]:
        """One row per server: tool counts per effective category, the riskiest level, the last crawl."""
        sql = """
            SELECT s.id, s.kind, count(l.name) AS tools,
              sum(l.category = 'read') AS read,
              sum(l.category = 'write') AS write,
              sum(l.category = 'destructive') AS destructive,
              sum(l.risk = 'critical') AS critical,
              max(CASE l.risk WHEN 'critical' THEN 4 WHEN 'high' THEN 3
                  WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END) AS risk_rank,
              (SELECT max(finished_at) FROM crawls WHERE server_id = s.id) AS last_crawl,
              (SELECT status FROM crawls WHERE server_id = s.id ORDER BY id DESC LIMIT 1) AS last_status
            FROM servers s
            LEFT JOIN labelled_tools l ON l.server_id = s.id
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
            self.db.table("crawl_differences").create(columns, if_not_exists=True)
            if rows:
                self.db.table("crawl_differences").insert_all(rows)

    def differences(self, crawl_id: int) -> list[dict[str, Any]]:
        if not self.db["crawl_differences"].exists():
            return []
        sql = "SELECT tool, what, static, live FROM crawl_differences WHERE crawl_id = ?"
        rows = self.db.query(sql, [crawl_id])
        return [{**row, "static": _loads(row["static"]), "live": _loads(row["live"])} for row in rows]

    def close(self) -> None:
        self.conn.close()


_FTS_TOKEN = re.compile(r'\s+|(".*?")')  # the split sqlite-utils' quote_fts uses: words and "phrases"


def _suggest(wanted: str, known: list[str], shown: int = 8) -> str:
    """`did you mean ...` for close ids, then how many are stored (the list is never cut silently)."""
    if not known:
        return "nothing is stored yet (crawl something first)"
    lowered = wanted.lower()
    close = [k for k in known if lowered in k.lower() or k.lower().split(":", 1)[-1] == lowered]
    close += [k for k in difflib.get_close_matches(wanted, known, n=5, cutoff=0.6) if k not in close]
    parts = []
    if close:
        more = f" (and {len(close) - shown} more)" if len(close) > shown else ""
        parts.append(f"did you mean {', '.join(close[:shown])}{more}?")
    listed = ", ".join(known[:shown])
    rest = f" and {len(known) - shown} more (`catalog report` lists them all)" if len(known) > shown else ""
    parts.append(f"{len(known)} stored: {listed}{rest}")
    return " ".join(parts)
