"""`catalog pin` and `catalog check --lock`: each tool's full definition hash, label and risk, recorded
in a lock file, and the semantic difference from what a server offers now."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.ci import RANK, Finding
from catalog.ci.poisoning import hidden_instructions
from catalog.models import CatalogError, LabelledTool

LOCK_VERSION = 1
CATEGORY_RANK = {"read": 0, "write": 1, "destructive": 2}


def tool_entry(labelled: LabelledTool) -> dict[str, Any]:
    return {
        "hash": labelled.tool.content_hash(),
        "category": labelled.category,
        "risk": labelled.risk,
        "definition": labelled.tool.content(),
    }


def pin(servers: list[tuple[str, list[LabelledTool], dict[str, Any]]]) -> dict[str, Any]:
    """The lock document for these servers: (id, labelled tools, how the crawl found it)."""
    return {
        "lockfile_version": LOCK_VERSION,
        "generated_by": "mcp-catalog",
        "pinned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "servers": {
            server: {
                "source": source.get("source"),
                "kind": source.get("kind"),
                "version": source.get("version"),
                "tools": {lt.tool.name: tool_entry(lt) for lt in sorted(tools, key=lambda t: t.tool.name)},
            }
            for server, tools, source in servers
        },
    }


def read_lock(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"cannot read the lock file {path}: {exc.strerror}", kind="usage") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{path} is not JSON: {exc.msg} (line {exc.lineno})", kind="usage") from None
    if not isinstance(data, dict) or data.get("lockfile_version") != LOCK_VERSION:
        raise CatalogError(
            f"{path} is not an mcp-catalog lock file (lockfile_version {LOCK_VERSION})", kind="usage"
        )
    servers = data.get("servers")
    if not isinstance(servers, dict) or not all(
        isinstance(s, dict) and isinstance(s.get("tools"), dict) for s in servers.values()
    ):
        raise CatalogError(f"{path}: `servers` must map server ids to their pinned tools", kind="usage")
    return data


def params(definition: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    schema = definition.get("input_schema") or {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    if isinstance(props, dict):
        return props, set(schema.get("required") or [])
    return {name: None for name in definition.get("params") or []}, set()


def definition_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two definitions, in words a reviewer reads."""
    changes = []
    if old.get("description") != new.get("description"):
        changes.append("description changed")
    if old.get("title") != new.get("title"):
        changes.append("title changed")
    old_params, old_required = params(old)
    new_params, new_required = params(new)
    changes += [f"new parameter `{p}`" for p in sorted(set(new_params) - set(old_params))]
    changes += [f"parameter `{p}` removed" for p in sorted(set(old_params) - set(new_params))]
    changes += [
        f"parameter `{p}` changed"
        for p in sorted(set(old_params) & set(new_params))
        if old_params[p] != new_params[p]
    ]
    changes += [
        f"parameter `{p}` is now required" for p in sorted((new_required - old_required) & set(old_params))
    ]
    old_notes, new_notes = old.get("annotations") or {}, new.get("annotations") or {}
    for key in sorted(set(old_notes) | set(new_notes)):
        if old_notes.get(key) != new_notes.get(key):
            changes.append(
                f"annotation {key}: {json.dumps(old_notes.get(key))} -> {json.dumps(new_notes.get(key))}"
            )
    if not changes:
        changes.append("input schema changed")
    return changes


def drift(lock: dict[str, Any], current: dict[str, list[LabelledTool]]) -> list[Finding]:
    """Every difference between the pinned tools and the current ones, as gating findings."""
    findings: list[Finding] = []
    for server, pinned_server in lock["servers"].items():
        pinned: dict[str, Any] = pinned_server["tools"]
        now = {lt.tool.name: lt for lt in current.get(server, [])}
        for name in sorted(set(now) - set(pinned)):
            lt = now[name]
            findings.append(
                Finding(
                    "MCP100",
                    lt.risk,
                    server,
                    name,
                    f"new tool, not in the lock file ({lt.category}/{lt.risk})",
                    [lt.top_reason()] if lt.top_reason() else [],
                    gate=True,
                )
            )
            findings += poisoning(server, name, "", lt.tool.description)
        for name in sorted(set(pinned) - set(now)):
            entry = pinned[name]
            findings.append(
                Finding(
                    "MCP101",
                    "medium",
                    server,
                    name,
                    f"tool disappeared (was {entry['category']}/{entry['risk']})",
                    gate=True,
                )
            )
        for name in sorted(set(pinned) & set(now)):
            entry, lt = pinned[name], now[name]
            if lt.tool.content_hash() != entry["hash"]:
                changes = definition_changes(entry.get("definition") or {}, lt.tool.content())
                findings.append(
                    Finding("MCP102", "medium", server, name, "; ".join(changes), changes, gate=True)
                )
                old_text = (entry.get("definition") or {}).get("description") or ""
                findings += poisoning(server, name, old_text, lt.tool.description)
            rose = label_rise(entry, lt)
            if rose:
                findings.append(
                    Finding("MCP103", lt.risk, server, name, f"{name}: {rose}", [lt.top_reason()], gate=True)
                )
    return findings


def label_rise(entry: dict[str, Any], labelled: LabelledTool) -> str | None:
    parts = []
    if CATEGORY_RANK.get(labelled.category, 3) > CATEGORY_RANK.get(entry["category"], 3):
        parts.append(f"{entry['category']} -> {labelled.category}")
    if RANK.get(labelled.risk, 3) > RANK.get(entry["risk"], 3):
        parts.append(f"risk {entry['risk']} -> {labelled.risk}")
    return ", ".join(parts) or None


def poisoning(server: str, tool: str, before: str, after: str) -> list[Finding]:
    """A finding for hidden instructions the new description has and the pinned one did not."""
    added = [h for h in hidden_instructions(after) if h not in set(hidden_instructions(before))]
    if not added:
        return []
    return [
        Finding(
            "MCP200",
            "critical",
            server,
            tool,
            "hidden instructions in the description: " + "; ".join(added),
            added,
            gate=True,
        )
    ]


def scan(server: str, tools: list[LabelledTool], fail_on: str | None) -> list[Finding]:
    """Without a lock: hidden instructions in any description, and tools at or above `fail_on`."""
    from catalog.ci import at_least

    findings: list[Finding] = []
    for lt in tools:
        findings += poisoning(server, lt.tool.name, "", lt.tool.description)
        if fail_on is not None and at_least(lt.risk, fail_on):
            findings.append(
                Finding(
                    "MCP001", lt.risk, server, lt.tool.name, f"{lt.category}/{lt.risk}: {lt.top_reason()}"
                )
            )
    return findings
