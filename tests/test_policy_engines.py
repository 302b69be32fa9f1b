"""The new policy formats evaluated by their real engines (Cedar: cedarpy; CEL: cel-python), Cursor's
and Codex's files checked against their documented shapes, and every decision compared with the
PolicyLayer export for the mlflow fixture."""

from __future__ import annotations

import json
import tomllib

import cedarpy
import celpy
import pytest
import yaml

from catalog.models import CatalogError
from catalog.policies import build_policy, render_policy
from catalog.policies import envoy_mcproute as envoy
from tests.test_policies import MLFLOW, labelled, mlflow_tools

TOOLS = [t.tool.name for t in MLFLOW[0][1]]
UNKNOWN = "drop_database"  # a tool the server adds later: never in the policy


def policylayer_decisions(servers=MLFLOW) -> dict[str, str]:
    """allow | approve | deny per tool, as the PolicyLayer gateway would decide it."""
    document = json.loads(render_policy(servers, "policylayer"))
    decisions = {}
    for name, entry in document["tools"].items():
        if name in document.get("hide", []):
            decisions[name] = "deny"
        elif any(rule["conditions"] == [] for rule in entry.get("deny_if", [])):
            decisions[name] = "approve"
        else:
            decisions[name] = "allow"
    return decisions


# -- Cedar -------------------------------------------------------------------------------------------


def cedar_string(text: str) -> str:
    """A Cedar string literal for a request's entity id (Cedar escapes are \\u{...}, not JSON's)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or char in "\u2028\u2029":
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def cedar_decision(policies: str, request: dict, entities: list[dict]) -> str:
    """allow | approve | deny: Cedar's answer, and whether a deciding permit asks for approval."""
    result = cedarpy.is_authorized(request, policies, entities)
    assert result.diagnostics.errors == [], result.diagnostics.errors
    if result.decision != cedarpy.Decision.Allow:
        return "deny"
    annotations = json.loads(cedarpy.policies_to_json_str(policies))["staticPolicies"]
    asks = any("requireApproval" in annotations[p].get("annotations", {}) for p in result.diagnostics.reasons)
    return "approve" if asks else "allow"


def toolhive_decisions(config: dict, tools: list[str]) -> dict[str, str]:
    policies = "\n".join(config["cedar"]["policies"])
    entities = json.loads(config["cedar"]["entities_json"]) + [
        {"uid": {"type": "Client", "id": "agent"}, "attrs": {}, "parents": []}
    ]
    decisions = {}
    for tool in tools:
        request = {
            "principal": 'Client::"agent"',
            "action": 'Action::"call_tool"',
            "resource": f"Tool::{cedar_string(tool)}",
            "context": {},
        }
        entities_now = entities + [{"uid": {"type": "Tool", "id": tool}, "attrs": {}, "parents": []}]
        decisions[tool] = cedar_decision(policies, request, entities_now)
    return decisions


def docker_decisions(policies: str, server: str, tools: list[str]) -> dict[str, str]:
    decisions = {}
    for number, tool in enumerate(tools):
        uid = f"{server}/tool{number}"  # Docker matches tools by the `name` attribute, not the entity id
        entities = [
            {"uid": {"type": "MCP::Server", "id": server}, "attrs": {}, "parents": []},
            {
                "uid": {"type": "MCP::Tool", "id": uid},
                "attrs": {"name": tool, "readOnly": False, "destructive": True},
                "parents": [{"type": "MCP::Server", "id": server}],
            },
            {"uid": {"type": "MCP::User", "id": "dev"}, "attrs": {}, "parents": []},
        ]
        request = {
            "principal": 'MCP::User::"dev"',
            "action": 'MCP::Action::"invokeTool"',
            "resource": f"MCP::Tool::{cedar_string(uid)}",
            "context": {},
        }
        decisions[tool] = cedar_decision(policies, request, entities)
    return decisions


def test_toolhive_cedar_gives_the_policylayer_decisions_with_approval_as_deny():
    config = json.loads(render_policy(MLFLOW, "cedar-toolhive"))
    assert config["version"] == "1.0" and config["type"] == "cedarv1"
    got = toolhive_decisions(config, [*TOOLS, UNKNOWN])
    expected = {name: ("deny" if d == "approve" else d) for name, d in policylayer_decisions().items()}
    assert got == {**expected, UNKNOWN: "deny"}
    assert got["get_run"] == "allow" and got["delete_run"] == "deny"


def test_docker_cedar_gives_exactly_the_policylayer_decisions_with_approval_asked():
    policies = render_policy(MLFLOW, "cedar-docker")
    got = docker_decisions(policies, "mlflow", [*TOOLS, UNKNOWN])
    assert got == {**policylayer_decisions(), UNKNOWN: "deny"}
    reads = [t.tool.name for t in MLFLOW[0][1] if t.category == "read"]
    assert all(got[name] == "allow" for name in reads)
    destructive = [t.tool.name for t in MLFLOW[0][1] if t.category == "destructive"]
    assert all(got[name] in ("approve", "deny") for name in destructive)
    assert got["delete_run"] == "approve" and got["delete_experiment"] == "deny"


def test_docker_cedar_is_scoped_to_the_registered_server_name():
    policies = render_policy([("notion-work", mlflow_tools())], "cedar-docker")
    assert docker_decisions(policies, "notion-work", ["get_run"]) == {"get_run": "allow"}
    assert docker_decisions(policies, "other", ["get_run"]) == {"get_run": "deny"}


def test_hostile_tool_names_stay_inside_cedar_strings():
    tools = [labelled('x") ; permit(principal, action, resource); //', "read", "low")]
    tools += [labelled("line\nbreak\u2028", "read", "low")]
    policies = render_policy([("srv", tools)], "cedar-docker")
    cedarpy.policies_to_json_str(policies)  # parses
    names = [t.tool.name for t in tools]
    assert docker_decisions(policies, "srv", [*names, "other"]) == {
        names[0]: "allow",
        names[1]: "allow",
        "other": "deny",
    }
    config = json.loads(render_policy([("srv", tools)], "cedar-toolhive"))
    assert toolhive_decisions(config, [names[0], "other"]) == {names[0]: "allow", "other": "deny"}


# -- CEL ---------------------------------------------------------------------------------------------


def cel(expression: str, activation: dict) -> bool:
    env = celpy.Environment()
    return bool(env.program(env.compile(expression)).evaluate(celpy.json_to_cel(activation)))


def agentgateway_decisions(text: str, tools: list[str]) -> dict[str, str]:
    rules = yaml.safe_load(text)["mcpAuthorization"]["rules"]
    return {
        tool: "allow" if any(cel(rule, {"mcp": {"tool": {"name": tool}}}) for rule in rules) else "deny"
        for tool in tools
    }


def envoy_decisions(route: dict, backend: str, tools: list[str]) -> dict[str, str]:
    authorization = route["spec"]["securityPolicy"]["authorization"]
    decisions = {}
    for tool in tools:
        request = {"request": {"mcp": {"method": "tools/call", "backend": backend, "tool": tool}}}
        action = next(
            (rule["action"] for rule in authorization["rules"] if cel(rule["cel"], request)),
            authorization["defaultAction"],
        )
        decisions[tool] = action.lower()
    return decisions


def test_agentgateway_cel_allows_exactly_what_policylayer_allows_without_approval():
    text = render_policy(MLFLOW, "cel-agentgateway")
    got = agentgateway_decisions(text, [*TOOLS, UNKNOWN])
    expected = {name: ("allow" if d == "allow" else "deny") for name, d in policylayer_decisions().items()}
    assert got == {**expected, UNKNOWN: "deny"}


def test_envoy_mcproute_cel_allows_exactly_what_policylayer_allows_and_lists_other_methods():
    route = yaml.safe_load(render_policy(MLFLOW, "envoy-mcproute"))
    assert route["apiVersion"] == "aigateway.envoyproxy.io/v1beta1" and route["kind"] == "MCPRoute"
    got = envoy_decisions(route, "mlflow", [*TOOLS, UNKNOWN])
    expected = {name: ("allow" if d == "allow" else "deny") for name, d in policylayer_decisions().items()}
    assert got == {**expected, UNKNOWN: "deny"}
    assert envoy_decisions(route, "other-backend", ["get_run"]) == {"get_run": "deny"}
    listing = {"request": {"mcp": {"method": "tools/list", "backend": "mlflow", "tool": ""}}}
    assert cel(route["spec"]["securityPolicy"]["authorization"]["rules"][0]["cel"], listing)
    [backend] = route["spec"]["backendRefs"]
    assert backend["toolSelector"] == {"exclude": ["delete_experiment"]}
    assert len(route["spec"]["securityPolicy"]["authorization"]["rules"]) <= 32


def test_hostile_tool_names_stay_inside_cel_strings():
    name = '" || true || "'
    tools = [labelled(name, "read", "low"), labelled("wipe", "destructive", "critical")]
    assert agentgateway_decisions(render_policy([("s", tools)], "cel-agentgateway"), [name, "wipe", "x"]) == {
        name: "allow",
        "wipe": "deny",
        "x": "deny",
    }
    route = yaml.safe_load(render_policy([("s", tools)], "envoy-mcproute"))
    assert envoy_decisions(route, "s", [name, "wipe", "x"]) == {name: "allow", "wipe": "deny", "x": "deny"}


def test_envoy_backend_names_are_kubernetes_names():
    assert envoy.backend_name("pypi:Mlflow_MCP") == "pypi-mlflow-mcp"


# -- Cursor and Codex ---------------------------------------------------------------------------------


def test_cursor_allowlist_holds_exactly_the_tools_allowed_without_approval():
    document = json.loads(render_policy(MLFLOW, "cursor"))
    assert set(document) == {"mcpAllowlist"}
    allowed = {name for name, d in policylayer_decisions().items() if d == "allow"}
    assert set(document["mcpAllowlist"]) == {f"mlflow:{name}" for name in allowed}


def test_cursor_merge_keeps_the_users_keys_and_entries(tmp_path):
    path = tmp_path / "permissions.json"
    path.write_text(json.dumps({"terminalAllowlist": ["git status"], "mcpAllowlist": ["mlflow:delete_run"]}))
    result = build_policy(MLFLOW, "cursor", merge_with=path)
    merged = json.loads(result.text)
    assert merged["terminalAllowlist"] == ["git status"] and merged["mcpAllowlist"][0] == "mlflow:delete_run"
    assert "mlflow:get_run" in merged["mcpAllowlist"] and len(result.added) == 35


CODEX_SERVER_KEYS = {
    "command", "args", "env", "env_vars", "cwd", "url", "bearer_token_env_var", "http_headers",
    "env_http_headers", "enabled", "required", "startup_timeout_sec", "tool_timeout_sec",
    "enabled_tools", "disabled_tools", "default_tools_approval_mode", "tools", "scopes", "oauth",
}  # fmt: skip


def codex_shape_errors(config: dict) -> list[str]:
    """The shape Codex accepts for an `[mcp_servers.X]` table (TECH.md §7, codex-rs mcp_types.rs)."""
    errors = []
    for name, table in config["mcp_servers"].items():
        if ("command" in table) == ("url" in table):
            errors.append(f"{name}: needs exactly one of command or url")
        errors += [f"{name}: unknown key {k}" for k in set(table) - CODEX_SERVER_KEYS]
        if table.get("default_tools_approval_mode", "auto") not in ("auto", "prompt", "approve", "writes"):
            errors.append(f"{name}: bad default_tools_approval_mode")
        for tool, entry in (table.get("tools") or {}).items():
            if set(entry) - {"approval_mode", "output_token_limit"}:
                errors.append(f"{name}.tools.{tool}: unknown keys")
            if entry.get("approval_mode") not in ("auto", "prompt", "approve"):
                errors.append(f"{name}.tools.{tool}: bad approval_mode")
        if set(table.get("enabled_tools", [])) & set(table.get("disabled_tools", [])):
            errors.append(f"{name}: a tool both enabled and disabled")
    return errors


@pytest.mark.parametrize(
    "source, start",
    [
        ({"source": "pypi:mlflow-mcp", "kind": "pypi", "version": "0.4.1"}, {"command": "uvx", "args": ["mlflow-mcp==0.4.1"]}),
        ({"source": "npm:@scope/srv", "kind": "npm", "version": "1.2.0"}, {"command": "npx", "args": ["-y", "@scope/srv@1.2.0"]}),
        ({"source": "python server.py --stdio", "kind": "command"}, {"command": "python", "args": ["server.py", "--stdio"]}),
        ({"source": "http://127.0.0.1:8000/mcp", "kind": "url"}, {"url": "http://127.0.0.1:8000/mcp"}),
    ],
)  # fmt: skip
def test_codex_table_is_complete_and_has_the_codex_shape(source, start):
    text = render_policy(MLFLOW, "codex", sources={"mlflow": source})
    config = tomllib.loads(text)
    assert codex_shape_errors(config) == []
    table = config["mcp_servers"]["mlflow"]
    assert {k: table[k] for k in start} == start
    decisions = policylayer_decisions()
    assert set(table["enabled_tools"]) == {n for n, d in decisions.items() if d != "deny"}
    assert table["disabled_tools"] == ["delete_experiment"]
    assert table["default_tools_approval_mode"] == "prompt"
    modes = {name: entry["approval_mode"] for name, entry in table["tools"].items()}
    assert modes == {
        n: ("prompt" if d == "approve" else "approve") for n, d in decisions.items() if d != "deny"
    }


def test_codex_without_a_known_launch_says_so():
    result = build_policy(MLFLOW, "codex", sources={"mlflow": {"source": "owner/repo", "kind": "github"}})
    assert "did not say how to start it" in result.notes[0]
    assert "add `command`" in result.text


def test_codex_merge_keeps_the_users_comments_and_settings(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# my settings\nmodel = "o3"  # fast\n\n[mcp_servers.mlflow]\ncommand = "uvx"\n')
    result = build_policy(MLFLOW, "codex", merge_with=path)
    assert result.text.startswith('# my settings\nmodel = "o3"  # fast\n')
    config = tomllib.loads(result.text)
    assert config["mcp_servers"]["mlflow"]["command"] == "uvx" and codex_shape_errors(config) == []


@pytest.mark.parametrize("format", ["cedar-toolhive", "cedar-docker", "cel-agentgateway", "envoy-mcproute"])
def test_formats_without_a_merge_refuse_and_point_to_force(tmp_path, format):
    path = tmp_path / "existing"
    path.write_text("hand written\n")
    with pytest.raises(CatalogError, match="--force"):
        build_policy(MLFLOW, format, merge_with=path)


def test_colliding_tool_names_are_refused_where_the_gateway_keys_by_bare_name():
    servers = [("a", [labelled("search", "read", "low")]), ("b", [labelled("search", "read", "low")])]
    for format in ("cedar-toolhive", "cel-agentgateway"):
        with pytest.raises(CatalogError, match="exists on both"):
            render_policy(servers, format)
    assert docker_decisions(render_policy(servers, "cedar-docker"), "b", ["search"]) == {"search": "allow"}
