"""Reviews that live in git: a YAML file of reviewer overrides, written by `catalog label` and read by
`catalog policy` and `catalog check`, applied over the database's own overrides.

    version: 1
    servers:
      kkruglik/mlflow-mcp:
        set_model_alias:
          category: write
          risk: medium          # optional; absent means the rubric's risk for the category
          note: aliases are reviewed weekly
          at: "2026-12-03T12:00:00+00:00"
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.models import CatalogError, LabelledTool, Override

CATEGORIES = ("read", "write", "destructive")
RISKS = ("low", "medium", "high", "critical")
HEADER = (
    "# Reviewer overrides for mcp-catalog: one entry per tool, reviewed like code.\n"
    "# `catalog label ... --overrides-file FILE` writes here; `catalog policy` and `catalog check`\n"
    "# read it with --overrides-file. An entry sets the category; `risk` is optional.\n"
)

Reviewed = dict[str, dict[str, Override]]  # server -> tool -> override


def _bad(path: Path, message: str) -> CatalogError:
    return CatalogError(f"{path}: {message}", kind="usage")


def read_overrides(path: Path) -> Reviewed:
    """Parse and check the file; a missing file is a usage error, an empty one has no overrides."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(path, f"cannot read the overrides file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _bad(path, f"not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("servers") or {}, dict):
        raise _bad(path, "expected a mapping with `servers: {SERVER: {TOOL: {category, note}}}`")
    reviewed: Reviewed = {}
    for server, tools in (data.get("servers") or {}).items():
        if not isinstance(tools, dict):
            raise _bad(path, f"servers.{server} must map tool names to overrides")
        for tool, entry in tools.items():
            where = f"servers.{server}.{tool}"
            if not isinstance(entry, dict):
                raise _bad(path, f"{where} must be a mapping with category and note")
            category, risk, note = entry.get("category"), entry.get("risk"), entry.get("note")
            if category not in CATEGORIES:
                raise _bad(path, f"{where}.category must be one of {', '.join(CATEGORIES)}")
            if risk is not None and risk not in RISKS:
                raise _bad(path, f"{where}.risk must be one of {', '.join(RISKS)}")
            if not isinstance(note, str) or not note.strip():
                raise _bad(path, f"{where}.note must say why")
            reviewed.setdefault(str(server), {})[str(tool)] = Override(
                category, note.strip(), risk, str(entry.get("at") or "")
            )
    return reviewed


def apply_overrides(server: str, tools: list[LabelledTool], reviewed: Reviewed) -> list[LabelledTool]:
    """The tools with the file's overrides in place of the database's, where the file has one."""
    mine = reviewed.get(server, {})
    return [replace(lt, override=mine[lt.tool.name]) if lt.tool.name in mine else lt for lt in tools]


def write_override(path: Path, server: str, tool: str, category: str, note: str, risk: str | None) -> None:
    """Add or replace one entry, keeping every other entry (and rewriting the file in a stable order)."""
    import yaml

    existing: dict[str, Any] = {}
    if path.exists():
        read_overrides(path)  # refuse to rewrite a file we cannot read back
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    servers = existing.setdefault("servers", {}) or {}
    existing["servers"] = servers
    entry: dict[str, Any] = {"category": category}
    if risk:
        entry["risk"] = risk
    entry["note"] = note
    entry["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    servers.setdefault(server, {})[tool] = entry
    body = {"version": 1, "servers": {s: dict(sorted(t.items())) for s, t in sorted(servers.items())}}
    text = HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
