"""Intercept policy YAML: default deny, rate_limit rules, and deny rules (Intercept cannot ask for approval).

Every rule says why three times over: its `name`, its `on_deny` message and a YAML comment above the
tool. Several servers share one file only when their tool names do not collide, since Intercept keys
rules by the exact tool name its single upstream exposes; the file then groups tools by server.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from catalog.models import CatalogError
from catalog.policies import PolicyPlan, unique_tool_names
from catalog.policies.rules import ALLOW, APPROVE, ToolRule, one_line


def quote(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def rules_for(rule: ToolRule) -> list[dict[str, str]]:
    """Intercept rules for one tool: a rate limit, preceded by a deny rule when approval is needed."""
    cap_rule = {
        "name": f"{rule.category}/{rule.risk}: at most {rule.cap} calls per minute",
        "rate_limit": f"{rule.cap}/minute",
        "on_deny": f"{rule.tool} is capped at {rule.cap} calls per minute ({rule.category}, {rule.risk} risk).",
    }
    if rule.action == ALLOW:
        return [cap_rule]
    if rule.action == APPROVE:
        deny = {
            "name": f"{rule.category}/{rule.risk}: needs human approval, which Intercept cannot ask for",
            "action": "deny",
            "on_deny": f"{rule.tool} needs a human's approval: {rule.reason} "
            "To approve it, delete this deny rule; the rate limit stays.",
        }
        return [deny, cap_rule]
    return [
        {
            "name": f"{rule.category}/{rule.risk}: denied until you opt in",
            "action": "deny",
            "on_deny": f"{rule.tool} is denied: {rule.reason} To opt in, unhide it and delete this rule.",
        }
    ]


def tool_block(rule: ToolRule, indent: str = "  ") -> list[str]:
    lines = [f"{indent}# {one_line(rule.reason, 400)}", f"{indent}{quote(rule.tool)}:", f"{indent}  rules:"]
    for item in rules_for(rule):
        first = True
        for key, value in item.items():
            lead = "- " if first else "  "
            lines.append(f"{indent}    {lead}{key}: {quote(value)}")
            first = False
    return lines


def hide_line(rule: ToolRule, indent: str = "  ") -> str:
    return f"{indent}- {quote(rule.tool)}  # {one_line(rule.grounds, 200)}"


def header(plan: PolicyPlan) -> list[str]:
    servers = ", ".join(plan.servers)
    return [
        f"# Intercept policy for {one_line(servers)}, written by mcp-catalog (profile: {plan.profile}).",
        "# Unlisted tools are denied. Each rule says why in its name, its on_deny message and the comment",
        "# above its tool. Intercept has no approval step: tools that need a human's approval are denied",
        "# by a rule you can delete to opt in (their rate limit stays); critical tools are also hidden.",
    ]


def render(plan: PolicyPlan) -> str:
    unique_tool_names(plan, "Intercept")
    description = f"mcp-catalog recommendation for {', '.join(plan.servers)} (profile {plan.profile})"
    lines = [*header(plan), 'version: "1"', f"description: {quote(one_line(description))}", "default: deny"]
    hidden = [r for r in plan.rules if r.action not in (ALLOW, APPROVE)]
    if hidden:
        lines.append("hide:")
        lines += [hide_line(r) for r in hidden]
    lines.append("tools:")
    for server in plan.servers:
        if len(plan.servers) > 1:
            lines.append(f"  # ---- server {one_line(server)} ----")
        for rule in plan.server_rules(server):
            lines += tool_block(rule)
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(
            f"the policy to merge with is not YAML: {one_line(str(exc))}", kind="usage"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("tools") or {}, dict):
        raise CatalogError("the policy to merge with is not an Intercept policy (no tools map)", kind="usage")
    return data


def block_span(lines: list[str], key: str) -> tuple[int, int] | None:
    """Line range [start, end) of a top-level block-style `key:` and its indented body."""
    start = next((i for i, line in enumerate(lines) if re.match(rf"{key}:\s*(#.*)?$", line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "\t", "#")):
        end += 1
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return start, end


def child_indent(lines: list[str], span: tuple[int, int], default: str = "  ") -> str:
    for line in lines[span[0] + 1 : span[1]]:
        if line.strip() and not line.lstrip().startswith("#"):
            return line[: len(line) - len(line.lstrip())]
    return default


def insert_text(existing: str, new: list[ToolRule]) -> str:
    """Append new tool blocks (and hide entries) into the user's own text, leaving every line of it as is."""
    lines = existing.splitlines()
    hidden = [r for r in new if r.action not in (ALLOW, APPROVE)]
    tools_span = block_span(lines, "tools")
    if tools_span is None:
        raise ValueError("no block-style tools map")
    indent = child_indent(lines, tools_span)
    blocks = [line for rule in new for line in tool_block(rule, indent)]
    lines[tools_span[1] : tools_span[1]] = [f"{indent}# added by mcp-catalog", *blocks]
    if hidden:
        hide_span = block_span(lines, "hide")
        if hide_span is None:
            lines[tools_span[0] : tools_span[0]] = ["hide:", *[hide_line(r) for r in hidden]]
        else:
            item_indent = child_indent(lines, hide_span)
            lines[hide_span[1] : hide_span[1]] = [hide_line(r, item_indent) for r in hidden]
    return "\n".join(lines) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    """Keep the user's file as written (comments too); add blocks only for tools it does not mention."""
    unique_tool_names(plan, "Intercept")
    current = parse(existing)
    tools = current.get("tools") or {}
    hide = current.get("hide") or []
    new = [r for r in plan.rules if r.tool not in tools and r.tool not in hide]
    if not new:
        return existing, [], ["nothing to add: the policy already covers every tool"]
    expected = expected_after_merge(current, new)
    notes = []
    try:
        merged = insert_text(existing, new)
        if yaml.safe_load(merged) != expected:
            raise ValueError("text insertion changed the meaning")
    except ValueError:
        merged = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True)
        notes.append("the file is not in block style, so it was rewritten: its comments were lost")
    return merged, [r.tool for r in new], notes


def expected_after_merge(current: dict[str, Any], new: list[ToolRule]) -> dict[str, Any]:
    merged = dict(current)
    merged["tools"] = {**(current.get("tools") or {}), **{r.tool: {"rules": rules_for(r)} for r in new}}
    hidden = [r.tool for r in new if r.action not in (ALLOW, APPROVE)]
    if hidden:
        merged["hide"] = [*(current.get("hide") or []), *hidden]
    return merged
