"""Codex config.toml: an `[mcp_servers.<name>]` table per server with `enabled_tools` and `disabled_tools`.

`enabled_tools` is an allowlist, so a tool the server adds later stays off until listed. Each tool
sits on its own line with its reason as a TOML comment. Codex has no rate limits.
"""

from __future__ import annotations

import json
import re
import tomllib

from catalog.models import CatalogError
from catalog.policies import PolicyPlan
from catalog.policies.rules import DENY, ToolRule, one_line

# Which rule classes are enabled, by profile; everything else is disabled.
ENABLED = {
    "strict": {"read-low", "read-medium"},
    "balanced": {"read-low", "read-medium", "write"},
    "permissive": {"read-low", "read-medium", "write", "destructive-high"},
}
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key(name: str) -> str:
    """A TOML key: bare when it can be, else a basic string."""
    return name if BARE_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def enabled(rule: ToolRule, profile: str) -> bool:
    if rule.action == DENY:
        return False
    klass = "destructive-high" if rule.rule_class == "critical" else rule.rule_class  # opted in
    return klass in ENABLED[profile]


def array(name: str, rules: list[ToolRule]) -> list[str]:
    if not rules:
        return [f"{name} = []"]
    items = [f"  {json.dumps(r.tool, ensure_ascii=False)},  # {one_line(r.grounds, 300)}" for r in rules]
    return [f"{name} = [", *items, "]"]


def tool_lines(plan: PolicyPlan, server: str) -> list[str]:
    rules = plan.server_rules(server)
    on = [r for r in rules if enabled(r, plan.profile)]
    off = [r for r in rules if not enabled(r, plan.profile)]
    return [*array("enabled_tools", on), *array("disabled_tools", off)]


def table(plan: PolicyPlan, server: str) -> list[str]:
    return [
        f"# {one_line(server)}: tool filter written by mcp-catalog (profile: {plan.profile})",
        f"[mcp_servers.{key(server)}]",
        *tool_lines(plan, server),
    ]


def render(plan: PolicyPlan) -> str:
    blocks = ["\n".join(table(plan, server)) for server in plan.servers]
    return "\n\n".join(blocks) + "\n"


def parse(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"the config to merge with is not TOML: {exc}", kind="usage") from None


def header_index(lines: list[str], server: str) -> int | None:
    names = {re.escape(server), re.escape(json.dumps(server)), re.escape(f"'{server}'")}
    pattern = re.compile(rf"\s*\[\s*mcp_servers\s*\.\s*({'|'.join(names)})\s*\]\s*(#.*)?$")
    return next((i for i, line in enumerate(lines) if pattern.match(line)), None)


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Add tool filters to the user's server tables, or whole tables for servers it lacks.

    A table that already filters its tools is left exactly as written: Codex reads one list per key,
    so the tools the user never listed are reported, not inserted into their arrays."""
    servers = parse(existing).get("mcp_servers") or {}
    lines = existing.rstrip("\n").splitlines()
    added: list[str] = []
    notes: list[str] = []
    for server in plan.servers:
        names = [r.tool for r in plan.server_rules(server)]
        current = servers.get(server)
        if current is None:
            lines += ["", *table(plan, server)]
            added += names
        elif "enabled_tools" in current or "disabled_tools" in current:
            listed = set(current.get("enabled_tools") or []) | set(current.get("disabled_tools") or [])
            unlisted = [n for n in names if n not in listed]
            if unlisted:
                notes.append(f"{server}: already filters its tools; not listed there: {', '.join(unlisted)}")
        else:
            index = header_index(lines, server)
            if index is None:
                raise CatalogError(
                    f"mcp_servers.{server} is not written as a [table] header, so it cannot be merged into",
                    kind="usage",
                )
            lines[index + 1 : index + 1] = tool_lines(plan, server)
            added += names
    merged = "\n".join(lines) + "\n"
    parse(merged)
    return merged, added, notes
