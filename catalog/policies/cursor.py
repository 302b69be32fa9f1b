"""Cursor `permissions.json`: `mcpAllowlist` entries `server:tool` for the tools that may run without
approval. Cursor asks before every other MCP tool call, so tools that need approval, and denied ones
(Cursor has no deny list), are simply not listed; turn denied servers' tools off in Cursor itself.
The file has no comment field our JSON writer keeps; `PolicyResult.reasons()` gives the reasons.
"""

from __future__ import annotations

import json

from catalog.policies import PolicyPlan, parse_json_policy
from catalog.policies.rules import ALLOW


def entry(server: str, tool: str) -> str:
    return f"{server}:{tool}"


def allowlist(plan: PolicyPlan) -> list[str]:
    return [entry(r.server, r.tool) for r in plan.rules if r.action == ALLOW]


def render(plan: PolicyPlan) -> str:
    return json.dumps({"mcpAllowlist": allowlist(plan)}, indent=2, ensure_ascii=False) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Keep every key and entry of the user's file; append allowlist entries it does not have."""
    current = parse_json_policy(
        existing, "the permissions file", "mcpAllowlist", list, "has no mcpAllowlist list", " (comments are not kept)"
    )
    listed = current.setdefault("mcpAllowlist", [])
    added = []
    for rule in plan.rules:
        name = entry(rule.server, rule.tool)
        if rule.action == ALLOW and name not in listed and f"{rule.server}:*" not in listed:
            listed.append(name)
            added.append(rule.tool)
    return json.dumps(current, indent=2, ensure_ascii=False) + "\n", added, []
