"""ToolHive authorization config (`thv run --authz-config`): Cedar policies in the `cedarv1` dialect.

One policy per tool over `Action::"call_tool"` and `Tool::"<name>"`: allowed tools are permitted;
tools that need a human's approval are forbidden, since ToolHive has no approval step (delete the
forbid to allow one); denied tools are forbidden. Anything else is denied by Cedar's default, so a
tool the server adds later stays off. Each policy carries its reason in a `@reason` annotation.
"""

from __future__ import annotations

import json

from catalog.policies import PolicyPlan, refuse_merge, unique_tool_names
from catalog.policies.cedar import annotation, literal
from catalog.policies.rules import ALLOW, APPROVE, ToolRule


def policy(rule: ToolRule) -> str:
    head = f'(principal, action == Action::"call_tool", resource == Tool::{literal(rule.tool)});'
    if rule.action == ALLOW:
        why = rule.reason
        effect = "permit"
    elif rule.action == APPROVE:
        why = f"{rule.reason} ToolHive cannot ask for approval: delete this forbid to allow it."
        effect = "forbid"
    else:
        why = rule.reason
        effect = "forbid"
    return "\n".join(
        [annotation("id", f"{rule.server}/{rule.tool}"), annotation("reason", why), effect + head]
    )


def policies(plan: PolicyPlan) -> list[str]:
    unique_tool_names(plan, "ToolHive")
    return [policy(rule) for rule in plan.rules]


def render(plan: PolicyPlan) -> str:
    config = {
        "version": "1.0",
        "type": "cedarv1",
        "cedar": {"policies": policies(plan), "entities_json": "[]"},
    }
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    raise refuse_merge("cedar-toolhive")
