"""Docker organisation MCP policy: Cedar in Docker's `MCP` namespace, one statement per tool.

Allowed tools get a `permit` on `MCP::Action::"invokeTool"` scoped to the registered server
(`resource in MCP::Server::"<name>"`) and the bare tool name; tools that need a human's approval get
the same `permit` annotated `@requireApproval("<reason>")` (an in-session confirmation); denied tools
get a `forbid`, which wins over any permit. Governed activity is default deny, so an unknown tool is
refused. The server name must be the one registered with Docker (`--server-name`).
"""

from __future__ import annotations

from catalog.policies import PolicyPlan, refuse_merge
from catalog.policies.cedar import annotation, literal
from catalog.policies.rules import ALLOW, APPROVE, ToolRule, one_line


def statement(rule: ToolRule) -> str:
    scope = (
        f'(principal, action == MCP::Action::"invokeTool", resource in MCP::Server::{literal(rule.server)})'
    )
    when = f"when {{ resource.name == {literal(rule.tool)} }};"
    lines = [f"// {one_line(rule.reason, 400)}", annotation("id", f"{rule.server}/{rule.tool}")]
    if rule.action == ALLOW:
        lines.append(f"permit {scope}")
    elif rule.action == APPROVE:
        lines += [annotation("requireApproval", f"{rule.tool}: {rule.grounds}"), f"permit {scope}"]
    else:
        lines.append(f"forbid {scope}")
    return "\n".join([*lines, when])


def render(plan: PolicyPlan) -> str:
    header = [
        f"// Docker MCP organisation policy for {one_line(', '.join(plan.servers))}, written by mcp-catalog"
        f" (profile: {plan.profile}).",
        "// Default deny: tools not listed here are refused. @requireApproval asks in the session first.",
    ]
    return "\n".join(header) + "\n\n" + "\n\n".join(statement(r) for r in plan.rules) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    raise refuse_merge("cedar-docker")
