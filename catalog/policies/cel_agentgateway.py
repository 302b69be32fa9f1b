"""agentgateway `mcpAuthorization`: one CEL rule per tool an agent may call, `mcp.tool.name == "..."`.

agentgateway lists and lets through only the tools some rule matches, so everything not listed,
including a tool the server adds later, is filtered out and refused. It has no approval step: tools
that need a human's approval are left out, with a comment saying how to allow one. Each rule has its
reason in the YAML comment above it. Paste the block under a route's `policies:`.
"""

from __future__ import annotations

from catalog.policies import PolicyPlan, refuse_merge, unique_tool_names
from catalog.policies.cel import literal, yaml_item
from catalog.policies.rules import ALLOW, APPROVE, ToolRule, one_line


def expression(rule: ToolRule) -> str:
    return f"mcp.tool.name == {literal(rule.tool)}"


def rules(plan: PolicyPlan) -> list[str]:
    """The CEL rules, in order (what a test hands to a CEL engine)."""
    return [expression(r) for r in plan.rules if r.action == ALLOW]


def render(plan: PolicyPlan) -> str:
    unique_tool_names(plan, "agentgateway")
    lines = [
        f"# agentgateway mcpAuthorization for {one_line(', '.join(plan.servers))}, written by mcp-catalog"
        f" (profile: {plan.profile}).",
        "# Only tools a rule matches are listed and callable. agentgateway cannot ask for approval:",
        "# tools that need it are left out (add `- 'mcp.tool.name == \"NAME\"'` to allow one).",
        "mcpAuthorization:",
        "  rules:",
    ]
    allowed = [r for r in plan.rules if r.action == ALLOW]
    for rule in allowed:
        lines.append(f"  # {one_line(rule.reason, 400)}")
        lines.append(yaml_item(expression(rule), "  "))
    if not allowed:
        lines.append("  - 'false'  # no tool may be called")
    left_out = [r for r in plan.rules if r.action != ALLOW]
    if left_out:
        lines.append("  # Left out:")
        for rule in left_out:
            verdict = "needs approval" if rule.action == APPROVE else "denied"
            lines.append(f"  #   {one_line(rule.tool, 200)}: {verdict}: {one_line(rule.grounds, 300)}")
    return "\n".join(lines) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    raise refuse_merge("cel-agentgateway")
