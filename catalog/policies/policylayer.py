"""PolicyLayer gateway policy JSON: default deny, per-tool limits, unconditional deny_if for approval.

The documented format (TECH.md §9) has no free-text field, so a rule's reason travels in its
`on_deny` message where it has one (approval and denied tools); allowed tools carry theirs only in
the sidecar that `PolicyResult.reasons()` returns. Nothing undocumented is written into the file.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.policies import PolicyPlan, parse_json_policy, unique_tool_names
from catalog.policies.rules import ALLOW, APPROVE, ToolRule


def limit(rule: ToolRule) -> dict[str, Any]:
    return {"counter": rule.counter, "window": "minute", "max": rule.cap, "scope": "grant"}


def tool_entry(rule: ToolRule) -> dict[str, Any]:
    """One tool's rules: limits for allowed tools; an unconditional deny plus a tight cap otherwise."""
    if rule.action == ALLOW:
        return {"limits": [limit(rule)]}
    if rule.action == APPROVE:
        message = (
            f"{rule.tool} needs a human's approval: {rule.reason} "
            f"To approve it, remove this deny_if (the {rule.cap}/minute limit stays)."
        )
        return {"deny_if": [{"conditions": [], "on_deny": message}], "limits": [limit(rule)]}
    message = f"{rule.tool} is denied: {rule.reason} To opt in, remove it from hide and delete this deny_if."
    return {"deny_if": [{"conditions": [], "on_deny": message}]}


def policy_document(plan: PolicyPlan) -> dict[str, Any]:
    unique_tool_names(plan, "PolicyLayer")
    hidden = [r.tool for r in plan.rules if r.action not in (ALLOW, APPROVE)]
    document: dict[str, Any] = {"version": "1", "default": "deny"}
    if hidden:
        document["hide"] = hidden
    document["tools"] = {r.tool: tool_entry(r) for r in plan.rules}
    return document


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(plan: PolicyPlan) -> str:
    return dump(policy_document(plan))


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Keep the user's document as written (top-level settings, every tool entry); add only new tools."""
    current = parse_json_policy(
        existing, "the policy", "tools", dict, "is not a PolicyLayer policy (no tools object)"
    )
    fresh = policy_document(plan)
    tools = current.setdefault("tools", {})
    hide = current.get("hide") or []
    known = set(tools) | set(hide)
    added = [name for name in fresh["tools"] if name not in known]
    for name in added:
        tools[name] = fresh["tools"][name]
        if name in fresh.get("hide", []):
            current["hide"] = hide = [*hide, name]
    notes = []
    stale = sorted(set(tools) - set(fresh["tools"]) - {"*"})
    if stale:
        notes.append(f"kept entries for tools the server no longer lists: {', '.join(stale)}")
    return dump(current), added, notes
