"""Claude Code settings: the `permissions` block with allow / ask / deny lists of `mcp__<server>__<tool>`.

Claude Code has no rate limits and its settings have no comment field, so this format carries no
reasons; `PolicyResult.reasons()` gives them as a sidecar. A capped rule elsewhere becomes `ask` here
where the profile wants a human in the loop: reads are allowed, writes asked, destructive tools denied.
"""

from __future__ import annotations

import json
import re
from typing import Any

from catalog.policies import PolicyPlan, parse_json_policy
from catalog.policies.rules import DENY, ToolRule

LISTS = ("allow", "ask", "deny")
# Which list each rule class goes to, by profile.
PLACEMENT = {
    "strict": {"read-low": "allow", "read-medium": "ask", "write": "ask", "destructive-high": "deny"},
    "balanced": {"read-low": "allow", "read-medium": "allow", "write": "ask", "destructive-high": "deny"},
    "permissive": {"read-low": "allow", "read-medium": "allow", "write": "allow", "destructive-high": "ask"},
}


def normalize_name(name: str) -> str:
    """Claude Code's own sanitising: anything outside [A-Za-z0-9_-] becomes `_`; for `claude.ai ...`
    connectors, runs of `_` are then collapsed and trimmed."""
    normalized = re.sub(r"[^a-zA-Z0-9_-]", "_", name)
    if name.startswith("claude.ai "):
        normalized = re.sub(r"_+", "_", normalized).strip("_")
    return normalized


def permission_name(server: str, tool: str) -> str:
    return f"mcp__{normalize_name(server)}__{normalize_name(tool)}"


def placement(rule: ToolRule, profile: str) -> str:
    if rule.action == DENY:
        return "deny"
    klass = "destructive-high" if rule.rule_class == "critical" else rule.rule_class  # opted in
    return PLACEMENT[profile][klass]


def permissions(plan: PolicyPlan) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {name: [] for name in LISTS}
    for rule in plan.rules:
        lists[placement(rule, plan.profile)].append(permission_name(rule.server, rule.tool))
    return lists


def render(plan: PolicyPlan) -> str:
    return json.dumps({"permissions": permissions(plan)}, indent=2, ensure_ascii=False) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Keep the user's settings file as is; add entries only for tools none of its lists mention."""
    settings = parse_json_policy(existing, "the settings file", "permissions", dict, "has no permissions object")
    block: dict[str, Any] = settings.setdefault("permissions", {})
    mentioned = {entry for name in LISTS for entry in block.get(name) or []}
    added = []
    for rule in plan.rules:
        entry = permission_name(rule.server, rule.tool)
        if entry in mentioned:
            continue
        block.setdefault(placement(rule, plan.profile), []).append(entry)
        added.append(rule.tool)
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n", added, []
