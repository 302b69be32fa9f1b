"""`catalog merge`: join catalogs built apart (other machines, split runs) into one new database.

History is kept (every crawl and every tool version of every input, each once), the newest crawl of a
server decides its current tools, labels and overrides follow their newest write, and nothing is counted
twice: a crawl present in several inputs (the same file merged again) is stored once.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.models import CatalogError
from catalog.store import SCHEMA_VERSION, Store, _insert_sql

TABLES = (
    "servers",
    "crawls",
    "tools",
    "tool_versions",
    "classifications",
    "overrides",
    "prompts",
    "resources",
)
Row = dict[str, Any]


@dataclass
class MergeSummary:
    inputs: int
    servers: int
    crawls: int
    duplicate_crawls: int
    tools: int
    tool_versions: int


@dataclass
class _Catalog:
    """All rows of one input database, by table."""

    path: Path
    rows: dict[str, list[Row]]


def _read(path: Path) -> _Catalog:
    if not path.is_file():
        raise CatalogError(f"no such catalog database: {path}", kind="usage")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise CatalogError(
                f"{path} has catalog schema {version}, this mcp-catalog merges schema {SCHEMA_VERSION}",
                kind="usage",
            )
        rows = {table: [dict(r) for r in conn.execute(f'SELECT * FROM "{table}"')] for table in TABLES}
        conn.close()
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"cannot read catalog database {path}: {exc}", kind="usage") from None
    return _Catalog(path, rows)


def merge_catalogs(inputs: list[Path], output: Path) -> MergeSummary:
    """Write a new catalog at `output` holding everything in `inputs` (see the module docstring)."""
    if len(inputs) < 1:
        raise CatalogError("give at least one catalog database to merge", kind="usage")
    if output.exists():
        raise CatalogError(
            f"{output} exists; merge writes a new catalog (pass it as an input to include it)", kind="usage"
        )
    catalogs = [_read(path) for path in inputs]
    crawls, crawl_ids, duplicates = _crawls(catalogs)
    latest = _latest_listing(crawls)
    winners = _winners(catalogs, latest)
    merged: dict[str, list[Row]] = {
        "servers": _servers(catalogs),
        "crawls": crawls,
        "tools": _tools(catalogs, winners, latest),
        "tool_versions": _versions(catalogs, crawl_ids),
        "overrides": _newest(catalogs, "overrides", ("server_id", "name"), "at"),
    }
    merged["classifications"] = _labels(catalogs, merged["tools"])
    for table, key in (("prompts", ("server_id", "name")), ("resources", ("server_id", "uri"))):
        merged[table] = _from_winner(catalogs, table, key, winners)
    store = Store(output)
    try:
        with store.bulk_load():
            store.write(lambda: _insert_all(store, merged))
    finally:
        store.close()
    return MergeSummary(
        inputs=len(inputs),
        servers=len(merged["servers"]),
        crawls=len(crawls),
        duplicate_crawls=duplicates,
        tools=len(merged["tools"]),
        tool_versions=len(merged["tool_versions"]),
    )


def _insert_all(store: Store, merged: dict[str, list[Row]]) -> None:
    for table, rows in merged.items():
        if rows:
            columns = tuple(rows[0])
            store.db.conn.executemany(
                _insert_sql(table, columns), [tuple(r[c] for c in columns) for r in rows]
            )


def _crawls(catalogs: list[_Catalog]) -> tuple[list[Row], dict[tuple[int, int], int], int]:
    """Every crawl once, renumbered in the order they finished; (input, old id) -> new id."""
    seen: dict[tuple[Any, ...], Row] = {}
    origin: list[tuple[tuple[int, int], tuple[Any, ...]]] = []
    duplicates = 0
    for index, catalog in enumerate(catalogs):
        for row in catalog.rows["crawls"]:
            key = _crawl_key(row)
            if key in seen:
                duplicates += 1
            else:
                seen[key] = dict(row)
            origin.append(((index, row["id"]), key))
    ordered = sorted(
        seen.items(), key=lambda item: (item[1]["finished_at"] or "", item[1]["started_at"] or "")
    )
    new_id = {}
    for number, (key, row) in enumerate(ordered, start=1):
        row["id"] = new_id[key] = number
    return [row for _, row in ordered], {old: new_id[key] for old, key in origin}, duplicates


def _latest_listing(crawls: list[Row]) -> dict[str, Row]:
    """Per server, its newest crawl that produced a listing."""
    latest: dict[str, Row] = {}
    for row in crawls:  # in finishing order
        if row["status"] != "failed":
            latest[row["server_id"]] = row
    return latest


def _servers(catalogs: list[_Catalog]) -> list[Row]:
    servers: dict[str, Row] = {}
    for catalog in catalogs:
        for row in catalog.rows["servers"]:
            kept = servers.setdefault(row["id"], dict(row))
            if (row["first_seen"] or "") < (kept["first_seen"] or ""):
                kept["first_seen"] = row["first_seen"]
    return list(servers.values())


def _crawl_key(row: Row) -> tuple[Any, ...]:
    """What makes two crawl rows the same crawl: one crawl copied into several inputs has them all equal."""
    return (row["server_id"], row["started_at"], row["finished_at"], row["method"], row["route"])


def _winners(catalogs: list[_Catalog], latest: dict[str, Row]) -> dict[str, int]:
    """Per server, the input holding its newest listing (the last such input when several hold that crawl).

    Keyed by the whole crawl, not its finishing time: two different crawls can finish in the same millisecond."""
    where: dict[tuple[Any, ...], int] = {}
    for index, catalog in enumerate(catalogs):
        for row in catalog.rows["crawls"]:
            where[_crawl_key(row)] = index
    return {server: where[_crawl_key(row)] for server, row in latest.items()}


def _tools(catalogs: list[_Catalog], winners: dict[str, int], latest: dict[str, Row]) -> list[Row]:
    """Current tools: the newest listing's rows win; a tool that listing lacks is kept as removed."""
    candidates: dict[tuple[str, str], list[tuple[int, Row]]] = {}
    for index, catalog in enumerate(catalogs):
        for row in catalog.rows["tools"]:
            candidates.setdefault((row["server_id"], row["name"]), []).append((index, row))
    result = []
    for (server_id, _name), rows in candidates.items():
        winner = winners.get(server_id)
        own = [row for index, row in rows if index == winner]
        if own:
            chosen = dict(own[0])
        else:
            chosen = dict(max((row for _, row in rows), key=lambda r: r["changed_at"] or ""))
            newest = latest.get(server_id)
            if winner is not None and newest and newest["status"] == "ok" and chosen["removed_at"] is None:
                chosen["removed_at"] = newest["finished_at"]
        chosen["first_seen"] = min((row["first_seen"] or "" for _, row in rows), default=None) or None
        result.append(chosen)
    return result


def _versions(catalogs: list[_Catalog], crawl_ids: dict[tuple[int, int], int]) -> list[Row]:
    """Every distinct tool version once, with the crawl that first saw it."""
    versions: dict[tuple[str, str, str], Row] = {}
    for index, catalog in enumerate(catalogs):
        for row in catalog.rows["tool_versions"]:
            row = {**row, "crawl_id": crawl_ids.get((index, row["crawl_id"]), row["crawl_id"])}
            key = (row["server_id"], row["name"], row["content_hash"])
            kept = versions.get(key)
            if kept is None or (row["first_seen"] or "") < (kept["first_seen"] or ""):
                versions[key] = row
    return list(versions.values())


def _content(row: Row) -> str:
    """A row's whole content as one comparable string: the last tie-breaker, so that which of two rows with the
    same timestamp wins does not depend on the order of the inputs (or on an input given twice)."""
    return repr(sorted(row.items()))


def _newest(catalogs: list[_Catalog], table: str, key: tuple[str, ...], when: str) -> list[Row]:
    rows: dict[tuple[Any, ...], Row] = {}
    for catalog in catalogs:
        for row in catalog.rows[table]:
            k = tuple(row[c] for c in key)
            kept = rows.get(k)
            if kept is None or ((row[when] or ""), _content(row)) >= ((kept[when] or ""), _content(kept)):
                rows[k] = row
    return list(rows.values())


def _labels(catalogs: list[_Catalog], tools: list[Row]) -> list[Row]:
    """Per tool, the newest label of its current content, else the newest label."""
    current = {(t["server_id"], t["name"]): t["content_hash"] for t in tools}

    def rank(row: Row) -> tuple[bool, str, str]:
        key = (row["server_id"], row["name"])
        return row["content_hash"] == current.get(key), row["classified_at"] or "", _content(row)

    best: dict[tuple[str, str], Row] = {}
    for catalog in catalogs:
        for row in catalog.rows["classifications"]:
            key = (row["server_id"], row["name"])
            kept = best.get(key)
            if kept is None or rank(row) >= rank(kept):
                best[key] = row
    return list(best.values())


def _from_winner(
    catalogs: list[_Catalog], table: str, key: tuple[str, ...], winners: dict[str, int]
) -> list[Row]:
    """Prompts or resources: the rows of the input with the newest listing of each server win."""
    rows: dict[tuple[Any, ...], Row] = {}
    for index, catalog in enumerate(catalogs):
        for row in catalog.rows[table]:
            k = tuple(row[c] for c in key)
            if k not in rows or index == winners.get(row["server_id"]):
                rows[k] = row
    return list(rows.values())
