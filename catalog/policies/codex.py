"""Codex config.toml: a complete `[mcp_servers.<name>]` table per server.

The table carries how to start the server (`command` and `args`, or `url`, from the crawl's source),
`enabled_tools` (an allowlist, so a tool the server adds later stays off until listed),
`disabled_tools`, `default_tools_approval_mode` and a `[mcp_servers.<name>.tools.<tool>]` table with
`approval_mode` per enabled tool: `approve` runs it without asking, `prompt` asks a human each time.
Each tool's reason is a TOML comment. Codex has no rate limits. Written and merged with tomlkit, so
the user's comments and layout survive a merge.
"""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

from catalog.models import CatalogError
from catalog.policies import PolicyPlan
from catalog.policies.rules import ALLOW, APPROVE, ToolRule, one_line

# Codex's per-tool approval modes (codex-rs config mcp_types.rs, AppToolApproval).
APPROVAL_MODES = ("auto", "prompt", "approve")
MODE = {ALLOW: "approve", APPROVE: "prompt"}


def enabled(rule: ToolRule, profile: str = "") -> bool:
    """Enabled when the gateway would let it run at all (allowed, or after a human's approval)."""
    return rule.action in (ALLOW, APPROVE)


def launch(source: dict[str, Any] | None) -> dict[str, Any]:
    """`command` and `args`, or `url`, from how the crawl found the server; {} when not known."""
    if not source:
        return {}
    text, kind, version = str(source.get("source") or ""), source.get("kind"), source.get("version")
    if text.startswith("pypi:"):
        name = text[5:].split("==")[0]
        return {"command": "uvx", "args": [f"{name}=={version}" if version else name]}
    if text.startswith("npm:"):
        spec = text[4:]
        name = spec.rsplit("@", 1)[0] if spec.rfind("@") > 0 else spec
        return {"command": "npx", "args": ["-y", f"{name}@{version}" if version else name]}
    if kind == "url" or text.startswith(("http://", "https://")):
        return {"url": text}
    if kind == "command":
        argv = shlex.split(text.removeprefix("stdio:"))
        if argv:
            return {"command": argv[0], "args": argv[1:]}
    return {}


def _array(rules: list[ToolRule]):
    import tomlkit

    items = tomlkit.array()
    for rule in rules:
        items.add_line(rule.tool, comment=one_line(rule.grounds, 300))
    if rules:
        items.add_line(indent="")
    return items


def server_table(plan: PolicyPlan, server: str, notes: list[str]):
    """The whole `[mcp_servers.<server>]` table as a tomlkit table."""
    import tomlkit

    rules = plan.server_rules(server)
    table = tomlkit.table()
    table.add(tomlkit.comment(f"{one_line(server)}: written by mcp-catalog (profile: {plan.profile})"))
    start = launch(plan.sources.get(server))
    if not start:
        notes.append(
            f"{server}: the crawl did not say how to start it; add `command` and `args` (or `url`) to its table"
        )
        table.add(
            tomlkit.comment("add `command` and `args`, or `url`: the crawl did not say how to start it")
        )
    for key, value in start.items():
        table.add(key, value)
    table.add("enabled_tools", _array([r for r in rules if enabled(r)]))
    table.add("disabled_tools", _array([r for r in rules if not enabled(r)]))
    table.add("default_tools_approval_mode", "prompt")
    tools = tomlkit.table(is_super_table=True)
    for rule in rules:
        if enabled(rule):
            entry = tomlkit.table()
            entry.add("approval_mode", MODE[rule.action])
            asks = "asks a human each time" if rule.action == APPROVE else "runs without asking"
            entry.comment(f"{rule.category}/{rule.risk}: {asks}")
            tools.add(rule.tool, entry)
    table.add("tools", tools)
    return table


def document(plan: PolicyPlan, notes: list[str]):
    import tomlkit

    doc = tomlkit.document()
    servers = tomlkit.table(is_super_table=True)
    for server in plan.servers:
        servers.add(server, server_table(plan, server, notes))
    doc.add("mcp_servers", servers)
    return doc


def render(plan: PolicyPlan) -> str:
    return render_with_notes(plan)[0]


def render_with_notes(plan: PolicyPlan) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = document(plan, notes).as_string()
    check(text)
    return text, notes


def parse(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"the config to merge with is not TOML: {exc}", kind="usage") from None


def check(text: str) -> None:
    """What Codex requires of each table this module writes (TECH.md §7, codex-rs mcp_types.rs)."""
    for name, table in (parse(text).get("mcp_servers") or {}).items():
        for tool, entry in (table.get("tools") or {}).items():
            if set(entry) - {"approval_mode", "output_token_limit"}:
                raise AssertionError(f"{name}.tools.{tool}: unknown keys {sorted(entry)}")
            if entry.get("approval_mode", "auto") not in APPROVAL_MODES:
                raise AssertionError(f"{name}.tools.{tool}: bad approval_mode")


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Add whole tables for servers the user's config lacks; fill a table that has no tool filter.

    A table that already filters its tools keeps its lists exactly as written (Codex reads one list
    per key), so the tools the user never listed are reported, not inserted into their arrays."""
    import tomlkit

    parse(existing)
    try:
        doc = tomlkit.parse(existing)
    except tomlkit.exceptions.TOMLKitError as exc:
        raise CatalogError(f"the config to merge with is not TOML: {exc}", kind="usage") from None
    added: list[str] = []
    notes: list[str] = []
    if "mcp_servers" not in doc:
        doc.add("mcp_servers", tomlkit.table(is_super_table=True))
    servers = doc["mcp_servers"]
    for server in plan.servers:
        names = [r.tool for r in plan.server_rules(server)]
        current = servers.get(server)  # type: ignore[union-attr]
        fresh = server_table(plan, server, [])
        if current is None:
            servers.add(server, server_table(plan, server, notes))  # type: ignore[union-attr]
            added += names
        elif "enabled_tools" in current or "disabled_tools" in current:
            listed = set(current.get("enabled_tools") or []) | set(current.get("disabled_tools") or [])
            unlisted = [n for n in names if n not in listed]
            if unlisted:
                notes.append(f"{server}: already filters its tools; not listed there: {', '.join(unlisted)}")
        else:
            for key in ("enabled_tools", "disabled_tools", "default_tools_approval_mode", "tools"):
                if key not in current:
                    current.add(key, fresh[key])
            added += names
    merged = doc.as_string()
    parse(merged)
    return merged, added, notes
