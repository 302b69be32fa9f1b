"""Policy exporters: documented schemas, gateway semantics, reasons, profiles, caps and merging."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
import yaml

from catalog.models import CatalogError, Classification, LabelledTool, Override, Tool
from catalog.policies import FORMATS, build_policy, render_policy

FIXTURES = Path(__file__).parent / "fixtures" / "policy_schemas"
SEED = {
    "version": "1",
    "default": "deny",
    "tools": {
        "set_model_alias": {
            "limits": [{"counter": "set_model_alias_rate", "window": "minute", "max": 30, "scope": "grant"}]
        }
    },
}


def mlflow_tools() -> list[LabelledTool]:
    data = json.loads((FIXTURES / "mlflow_labelled_tools.json").read_text())
    return [
        LabelledTool(
            Tool(t["name"], t["description"], t["input_schema"], t["annotations"]),
            Classification(t["category"], t["risk"], t["confidence"], t["reasons"], "test"),
        )
        for t in data["tools"]
    ]


def labelled(name: str, category: str, risk: str, reasons: list[str] | None = None) -> LabelledTool:
    return LabelledTool(
        Tool(name, f"{name} tool"), Classification(category, risk, 0.9, reasons or [f"{name} reason"])
    )


def schema(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.schema.json").read_text())


MLFLOW = [("mlflow", mlflow_tools())]


def test_fixture_is_the_realistic_mlflow_server():
    counts = Counter(t.category for t in MLFLOW[0][1])
    assert counts == {"read": 27, "write": 8, "destructive": 5}


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_policylayer_output_matches_the_documented_schema(profile):
    document = json.loads(render_policy(MLFLOW, "policylayer", profile))
    jsonschema.validate(document, schema("policylayer"))
    assert document["default"] == "deny"
    assert len(document["tools"]) == 40


def test_policylayer_schema_rejects_an_undocumented_field():
    document = json.loads(render_policy(MLFLOW, "policylayer"))
    document["tools"]["get_run"]["why"] = "no such field"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema("policylayer"))


def test_policylayer_write_rule_is_exactly_the_seed_example():
    tools = [t for t in MLFLOW[0][1] if t.tool.name == "set_model_alias"]
    assert json.loads(render_policy([("mlflow", tools)], "policylayer")) == SEED


def test_policylayer_reads_are_allowed_with_a_generous_cap_and_medium_reads_a_lower_one():
    tools = json.loads(render_policy(MLFLOW, "policylayer"))["tools"]
    assert tools["get_run"] == {
        "limits": [{"counter": "get_run_rate", "window": "minute", "max": 60, "scope": "grant"}]
    }
    assert tools["get_artifact"]["limits"][0]["max"] == 30
    assert "deny_if" not in tools["get_artifact"]


def test_policylayer_destructive_tool_needs_approval_with_a_tight_cap():
    entry = json.loads(render_policy(MLFLOW, "policylayer"))["tools"]["delete_run"]
    [deny] = entry["deny_if"]
    assert deny["conditions"] == []
    assert "approv" in deny["on_deny"] and "verb `delete` in the name" in deny["on_deny"]
    assert entry["limits"][0]["max"] == 5


def test_policylayer_critical_tool_is_hidden_and_denied_with_its_reason():
    document = json.loads(render_policy(MLFLOW, "policylayer"))
    assert document["hide"] == ["delete_experiment"]
    message = document["tools"]["delete_experiment"]["deny_if"][0]["on_deny"]
    assert "acts in bulk" in message and "opt in" in message
    assert "limits" not in document["tools"]["delete_experiment"]


def test_every_rule_has_a_reason_in_the_sidecar_with_the_classifier_evidence():
    result = build_policy(MLFLOW, "policylayer")
    reasons = result.reasons()
    assert len(reasons) == 40
    assert "verb `set` in the name" in reasons["mlflow/set_model_alias"]["reason"]
    assert reasons["mlflow/set_model_alias"]["cap_per_minute"] == 30
    assert all(r["reason"] for r in reasons.values())


def intercept_semantics(document: dict) -> list[str]:
    """What Intercept's validator refuses beyond the schema, as error strings."""
    errors = []
    for tool, entry in document["tools"].items():
        windows = Counter()
        for rule in entry["rules"]:
            if "rate_limit" in rule:
                if rule.get("action") == "deny":
                    errors.append(f"{tool}: rate_limit with action deny")
                windows[rule["rate_limit"].split("/")[1]] += 1
        errors += [f"{tool}: two rate limits per {w}" for w, n in windows.items() if n > 1]
    return errors


@pytest.mark.parametrize("profile", ["strict", "balanced", "permissive"])
def test_intercept_output_parses_and_passes_schema_and_semantic_checks(profile):
    document = yaml.safe_load(render_policy(MLFLOW, "intercept", profile))
    jsonschema.validate(document, schema("intercept"))
    assert intercept_semantics(document) == []
    assert document["version"] == "1" and document["default"] == "deny"
    assert all(rule.get("on_deny") for entry in document["tools"].values() for rule in entry["rules"])


def test_intercept_semantic_check_catches_a_rate_limit_on_a_deny_rule():
    bad = {"tools": {"x": {"rules": [{"name": "n", "action": "deny", "rate_limit": "5/minute"}]}}}
    assert intercept_semantics(bad) == ["x: rate_limit with action deny"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "1", **bad}, schema("intercept"))


def test_intercept_denies_approval_tools_and_keeps_their_cap_in_a_separate_rule():
    document = yaml.safe_load(render_policy(MLFLOW, "intercept"))
    deny, cap = document["tools"]["delete_run"]["rules"]
    assert deny["action"] == "deny" and "approval" in deny["name"] and "approval" in deny["on_deny"]
    assert cap == {
        "name": "destructive/high: at most 5 calls per minute",
        "rate_limit": "5/minute",
        "on_deny": "delete_run is capped at 5 calls per minute (destructive, high risk).",
    }
    assert document["hide"] == ["delete_experiment"]


def test_intercept_comments_carry_each_reason():
    text = render_policy(MLFLOW, "intercept")
    for line_no, line in enumerate(text.splitlines()):
        if line.startswith('  "set_model_alias":'):
            assert "verb `set` in the name" in text.splitlines()[line_no - 1]
            assert text.splitlines()[line_no - 1].lstrip().startswith("#")
            break
    else:
        pytest.fail("set_model_alias not found")


def test_hostile_reasons_cannot_break_out_of_a_comment_or_string():
    evil = labelled("evil", "read", "low", ['x\nversion: "2"\ndefault: allow\n# "quoted" \\ back'])
    for format in ("intercept", "codex"):
        text = render_policy([("srv", [evil])], format)
        if format == "intercept":
            document = yaml.safe_load(text)
            assert document["version"] == "1" and document["default"] == "deny"
        else:
            assert tomllib.loads(text)["mcp_servers"]["srv"]["enabled_tools"] == ["evil"]


def test_strict_profile_puts_writes_behind_approval_with_lower_caps():
    document = json.loads(render_policy(MLFLOW, "policylayer", "strict"))["tools"]
    assert document["set_model_alias"]["deny_if"][0]["conditions"] == []
    assert document["set_model_alias"]["limits"][0]["max"] == 10
    assert document["get_run"]["limits"][0]["max"] == 30


def test_permissive_profile_caps_destructive_tools_but_still_denies_critical_ones():
    document = json.loads(render_policy(MLFLOW, "policylayer", "permissive"))
    assert document["tools"]["delete_run"] == {
        "limits": [{"counter": "delete_run_rate", "window": "minute", "max": 10, "scope": "grant"}]
    }
    assert "delete_experiment" in document["hide"]


def test_caps_are_overridden_per_category():
    document = json.loads(render_policy(MLFLOW, "policylayer", caps={"read": 120, "write": 10}))["tools"]
    assert document["get_run"]["limits"][0]["max"] == 120
    assert document["get_artifact"]["limits"][0]["max"] == 120
    assert document["set_model_alias"]["limits"][0]["max"] == 10
    assert document["delete_run"]["limits"][0]["max"] == 5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"format": "nginx"}, "unknown policy format"),
        ({"format": "policylayer", "profile": "yolo"}, "unknown profile"),
        ({"format": "policylayer", "caps": {"reads": 5}}, "unknown cap category"),
        ({"format": "policylayer", "caps": {"read": 0}}, "positive whole number"),
    ],
)
def test_bad_choices_are_one_line_user_errors(kwargs, message):
    with pytest.raises(CatalogError, match=message):
        render_policy(MLFLOW, **kwargs)


def test_a_critical_tool_the_user_opts_in_to_needs_approval_instead():
    document = json.loads(render_policy(MLFLOW, "policylayer", opt_in=["delete_experiment"]))
    assert "hide" not in document
    entry = document["tools"]["delete_experiment"]
    assert entry["limits"][0]["max"] == 5 and "opted in" in entry["deny_if"][0]["on_deny"]


def test_a_reviewer_override_decides_the_rule_and_is_named_as_the_reason():
    tools = mlflow_tools()
    alias = next(t for t in tools if t.tool.name == "delete_model_alias")
    alias.override = Override("write", "aliases are pointers; deleting one loses no model")
    result = build_policy([("mlflow", tools)], "policylayer")
    entry = json.loads(result.text)["tools"]["delete_model_alias"]
    assert entry == {
        "limits": [{"counter": "delete_model_alias_rate", "window": "minute", "max": 30, "scope": "grant"}]
    }
    assert (
        "reviewer override: aliases are pointers" in result.reasons()["mlflow/delete_model_alias"]["reason"]
    )


def test_policylayer_merge_keeps_the_users_entries_and_settings_and_adds_only_new_tools(tmp_path):
    tools = mlflow_tools()
    old = [t for t in tools if t.tool.name in {"get_run", "set_model_alias", "delete_run"}]
    existing = json.loads(render_policy([("mlflow", old)], "policylayer"))
    existing["default"] = "allow"
    existing["all_tools"] = {"limits": [{"counter": "all", "window": "day", "max": 1000, "scope": "grant"}]}
    existing["tools"]["set_model_alias"]["limits"][0]["max"] = 3
    existing["tools"]["delete_run"] = {}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(existing))

    result = build_policy([("mlflow", tools)], "policylayer", merge_with=path)
    merged = json.loads(result.text)

    jsonschema.validate(merged, schema("policylayer"))
    assert merged["default"] == "allow" and merged["all_tools"] == existing["all_tools"]
    for name in ("get_run", "set_model_alias", "delete_run"):
        assert merged["tools"][name] == existing["tools"][name]
    assert len(result.added) == 37 and "delete_experiment" in result.added
    assert result.kept == ["delete_run", "get_run", "set_model_alias"]
    assert merged["hide"] == ["delete_experiment"]


def test_intercept_merge_keeps_the_users_text_and_comments_line_for_line(tmp_path):
    existing = (
        "# my hand-written policy\n"
        'version: "1"\n'
        "default: deny\n"
        "tools:\n"
        "    # I trust this one\n"
        "    get_run:\n"
        "        rules: []\n"
        "    delete_run:\n"
        "        rules:\n"
        "            - name: my own block\n"
        "              action: deny\n"
        "\n"
        "# trailing comment\n"
    )
    path = tmp_path / "policy.yaml"
    path.write_text(existing)
    result = build_policy(MLFLOW, "intercept", merge_with=path)

    merged_lines = result.text.splitlines()
    positions = [merged_lines.index(line) for line in existing.splitlines() if line.strip()]
    assert positions == sorted(positions), "the user's lines stay in their order"
    document = yaml.safe_load(result.text)
    jsonschema.validate(document, schema("intercept"))
    assert document["tools"]["get_run"] == {"rules": []}
    assert document["tools"]["delete_run"] == {"rules": [{"name": "my own block", "action": "deny"}]}
    assert len(document["tools"]) == 40 and document["hide"] == ["delete_experiment"]
    assert sorted(result.added) == sorted(set(document["tools"]) - {"get_run", "delete_run"})
    assert result.notes == []


def test_intercept_merge_of_a_flow_style_file_rewrites_it_and_says_so(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text('{version: "1", default: deny, tools: {get_run: {rules: []}}}\n')
    result = build_policy(MLFLOW, "intercept", merge_with=path)
    assert yaml.safe_load(result.text)["tools"]["get_run"] == {"rules": []}
    assert "comments were lost" in result.notes[0]


def test_merge_with_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot read"):
        render_policy(MLFLOW, "intercept", merge_with=tmp_path / "nope.yaml")


def test_intercept_holds_several_servers_grouped_when_tool_names_are_distinct():
    servers = [("mlflow", mlflow_tools()), ("github", [labelled("create_issue", "write", "medium")])]
    text = render_policy(servers, "intercept")
    assert "# ---- server github ----" in text and "# ---- server mlflow ----" in text
    assert len(yaml.safe_load(text)["tools"]) == 41


@pytest.mark.parametrize("format", ["intercept", "policylayer"])
def test_gateways_keyed_by_bare_tool_name_refuse_colliding_servers(format):
    servers = [("a", [labelled("search", "read", "low")]), ("b", [labelled("search", "read", "low")])]
    with pytest.raises(CatalogError, match="exists on both 'a' and 'b'"):
        render_policy(servers, format)


def test_claude_code_allows_reads_asks_for_writes_and_denies_destructive_tools():
    permissions = json.loads(render_policy(MLFLOW, "claude-code"))["permissions"]
    assert set(permissions) == {"allow", "ask", "deny"}
    assert len(permissions["allow"]) == 27 and len(permissions["ask"]) == 8 and len(permissions["deny"]) == 5
    assert "mcp__mlflow__set_model_alias" in permissions["ask"]
    assert "mcp__mlflow__delete_run" in permissions["deny"]


def test_claude_code_sanitises_server_names_like_claude_code_does():
    tools = [labelled("get.thing", "read", "low")]
    allow = json.loads(render_policy([("my server.v2", tools)], "claude-code"))["permissions"]["allow"]
    assert allow == ["mcp__my_server_v2__get_thing"]
    allow = json.loads(render_policy([("claude.ai Google  Drive", tools)], "claude-code"))["permissions"][
        "allow"
    ]
    assert allow == ["mcp__claude_ai_Google_Drive__get_thing"]


def test_claude_code_permissive_asks_for_destructive_tools_and_still_denies_critical():
    permissions = json.loads(render_policy(MLFLOW, "claude-code", "permissive"))["permissions"]
    assert "mcp__mlflow__delete_run" in permissions["ask"]
    assert permissions["deny"] == ["mcp__mlflow__delete_experiment"]
    assert "mcp__mlflow__set_model_alias" in permissions["allow"]


def test_claude_code_merge_keeps_other_settings_and_existing_entries(tmp_path):
    path = tmp_path / "settings.json"
    settings = {
        "model": "opus",
        "permissions": {"allow": ["Bash(git:*)", "mcp__mlflow__delete_run"], "deny": []},
    }
    path.write_text(json.dumps(settings))
    result = build_policy(MLFLOW, "claude-code", merge_with=path)
    merged = json.loads(result.text)
    assert merged["model"] == "opus"
    assert merged["permissions"]["allow"][:2] == ["Bash(git:*)", "mcp__mlflow__delete_run"]
    assert "mcp__mlflow__delete_run" not in merged["permissions"]["deny"]
    assert "delete_run" not in result.added and len(result.added) == 39


def test_codex_table_parses_with_tomllib_enables_reads_and_writes_and_asks_for_destructive_tools():
    config = tomllib.loads(render_policy(MLFLOW, "codex"))
    table = config["mcp_servers"]["mlflow"]
    assert len(table["enabled_tools"]) == 39 and "set_model_alias" in table["enabled_tools"]
    assert table["disabled_tools"] == ["delete_experiment"]
    assert table["tools"]["set_model_alias"] == {"approval_mode": "approve"}
    assert table["tools"]["delete_run"] == {"approval_mode": "prompt"}


def test_codex_strict_profile_asks_for_writes_and_quotes_odd_server_names():
    config = tomllib.loads(render_policy([("pypi:mlflow", mlflow_tools())], "codex", "strict"))
    table = config["mcp_servers"]["pypi:mlflow"]
    assert table["tools"]["set_model_alias"] == {"approval_mode": "prompt"}
    assert table["tools"]["get_run"] == {"approval_mode": "approve"}


def test_codex_merge_fills_the_users_server_table_and_keeps_its_command(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('model = "o3"\n\n[mcp_servers.mlflow]\ncommand = "uvx"\nargs = ["mlflow-mcp"]\n')
    result = build_policy(MLFLOW, "codex", merge_with=path)
    config = tomllib.loads(result.text)
    assert config["model"] == "o3" and config["mcp_servers"]["mlflow"]["command"] == "uvx"
    assert len(config["mcp_servers"]["mlflow"]["enabled_tools"]) == 39 and len(result.added) == 40


def test_codex_merge_leaves_an_existing_tool_filter_alone_and_reports_unlisted_tools(tmp_path):
    path = tmp_path / "config.toml"
    original = '[mcp_servers.mlflow]\ncommand = "uvx"\nenabled_tools = ["get_run"]\n'
    path.write_text(original)
    result = build_policy(MLFLOW, "codex", merge_with=path)
    assert result.text == original and result.added == []
    assert "not listed there" in result.notes[0] and "set_model_alias" in result.notes[0]


@pytest.mark.parametrize("format", FORMATS)
def test_an_empty_server_list_is_refused(format):
    with pytest.raises(CatalogError, match="no servers"):
        render_policy([], format)
