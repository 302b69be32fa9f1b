"""Envoy AI Gateway `MCPRoute` (aigateway.envoyproxy.io/v1beta1) with CEL authorization rules.

`securityPolicy.authorization` is first-match with default Deny: one rule lets every MCP method but
`tools/call` through (listing, initialisation), one allows `tools/call` for the allowed tools of each
backend (`request.mcp.backend`, `request.mcp.tool`). Tools that need a human's approval are denied,
since the gateway cannot ask; denied tools are also excluded from listing with `toolSelector`.
`parentRefs` names a Gateway `ai-gateway`, and each backend a Service of the server's name: edit
them to match your cluster.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.policies import PolicyPlan, refuse_merge
from catalog.policies.cel import literal, names
from catalog.policies.rules import ALLOW, DENY, one_line

MAX_SELECTOR = 32  # toolSelector.exclude holds at most 32 names


def backend_name(server: str) -> str:
    """A Kubernetes object name (RFC 1123 label) for the server."""
    name = re.sub(r"[^a-z0-9-]+", "-", server.lower()).strip("-")
    return (name or "mcp-server")[:63].rstrip("-")


def rules(plan: PolicyPlan) -> list[dict[str, Any]]:
    """The authorization rules, in order (what a test hands to a CEL engine)."""
    out: list[dict[str, Any]] = [{"cel": 'request.mcp.method != "tools/call"', "action": "Allow"}]
    for server in plan.servers:
        allowed = [r.tool for r in plan.server_rules(server) if r.action == ALLOW]
        if allowed:
            backend = literal(backend_name(server))
            out.append(
                {
                    "cel": f'request.mcp.method == "tools/call" && request.mcp.backend == {backend} '
                    f"&& request.mcp.tool in {names(allowed)}",
                    "action": "Allow",
                }
            )
    return out


def backend(plan: PolicyPlan, server: str) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": backend_name(server), "kind": "Service", "port": 80}
    hidden = [r.tool for r in plan.server_rules(server) if r.action == DENY]
    if hidden and len(hidden) <= MAX_SELECTOR:
        ref["toolSelector"] = {"exclude": hidden}
    return ref


def render(plan: PolicyPlan) -> str:
    import yaml

    backends = [backend_name(s) for s in plan.servers]
    if len(set(backends)) != len(backends):
        from catalog.models import CatalogError

        raise CatalogError("two servers map to one backend name; write one MCPRoute per server", kind="usage")
    route = {
        "apiVersion": "aigateway.envoyproxy.io/v1beta1",
        "kind": "MCPRoute",
        "metadata": {"name": backend_name("-".join(plan.servers))},
        "spec": {
            "parentRefs": [{"name": "ai-gateway", "kind": "Gateway", "group": "gateway.networking.k8s.io"}],
            "backendRefs": [backend(plan, s) for s in plan.servers],
            "securityPolicy": {"authorization": {"defaultAction": "Deny", "rules": rules(plan)}},
        },
    }
    lines = [
        f"# Envoy AI Gateway MCPRoute for {one_line(', '.join(plan.servers))}, written by mcp-catalog"
        f" (profile: {plan.profile}).",
        "# Default deny; tools/call is allowed only for the tools listed. Why each tool is where it is:",
    ]
    lines += [f"#   {one_line(r.tool, 200)}: {one_line(r.reason, 400)}" for r in plan.rules]
    return "\n".join(lines) + "\n" + yaml.safe_dump(route, sort_keys=False, allow_unicode=True, width=10_000)


def merge(existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]:
    raise refuse_merge("envoy-mcproute")
