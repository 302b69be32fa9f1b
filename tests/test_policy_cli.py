"""`catalog policy` as a user runs it: writing into an existing file, --merge, --force, --json, bad paths."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.test_annotate import tools_list_file
from tests.test_cli import one_line_error, run


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Path:
    """A catalog with the 40 mlflow fixture tools crawled (and classified) once for the module."""
    home = tmp_path_factory.mktemp("crawled")
    listing = tools_list_file(home / "tools.json")
    done = run(home, "crawl", str(listing), "--name", "mlflow")
    assert done.returncode == 0, done.stderr
    return home


@pytest.fixture
def home(crawled: Path, tmp_path: Path) -> Path:
    """A private copy of the crawled catalog, so a test may write to it."""
    shutil.copy(crawled / "catalog.db", tmp_path / "catalog.db")
    return tmp_path


USER_SETTINGS = {
    "model": "opus",
    "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}]},
    "permissions": {"allow": ["Bash(git:*)", "mcp__mlflow__delete_run"], "deny": ["Read(./.env)"]},
}


def test_writing_claude_code_policy_over_existing_settings_keeps_everything_the_user_had(home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(USER_SETTINGS))
    done = run(home, "policy", "mlflow", "--format", "claude-code", "-o", str(settings))
    assert done.returncode == 0, done.stderr
    merged = json.loads(settings.read_text())
    assert merged["model"] == "opus" and merged["hooks"] == USER_SETTINGS["hooks"]
    assert merged["permissions"]["allow"][:2] == ["Bash(git:*)", "mcp__mlflow__delete_run"]
    assert "Read(./.env)" in merged["permissions"]["deny"]
    assert "mcp__mlflow__delete_run" not in merged["permissions"]["deny"]  # the user's decision stands
    assert "mcp__mlflow__get_run" in merged["permissions"]["allow"]
    assert "merged with" in done.stderr


def test_force_overwrites_an_existing_output_file(home):
    settings = home / "settings.json"
    settings.write_text(json.dumps(USER_SETTINGS))
    done = run(home, "policy", "mlflow", "--format", "claude-code", "-o", str(settings), "--force")
    assert done.returncode == 0, done.stderr
    assert set(json.loads(settings.read_text())) == {"permissions"}


def edit_policylayer(text: str) -> str:
    document = json.loads(text)
    document["tools"]["set_model_alias"]["limits"][0]["max"] = 3
    return json.dumps(document)


def kept_policylayer(text: str) -> bool:
    return json.loads(text)["tools"]["set_model_alias"]["limits"][0]["max"] == 3


def edit_intercept(text: str) -> str:
    return text.replace('"get_run":\n    rules:', '"get_run":  # hand edit\n    rules:', 1)


def kept_intercept(text: str) -> bool:
    return '"get_run":  # hand edit' in text and len(yaml.safe_load(text)["tools"]) == 40


def edit_claude(text: str) -> str:
    document = json.loads(text)
    document["permissions"]["deny"].remove("mcp__mlflow__delete_run")
    document["permissions"]["allow"].append("mcp__mlflow__delete_run")
    return json.dumps(document)


def kept_claude(text: str) -> bool:
    lists = json.loads(text)["permissions"]
    return "mcp__mlflow__delete_run" in lists["allow"] and "mcp__mlflow__delete_run" not in lists["deny"]


def edit_codex(text: str) -> str:
    head, marker, tail = text.partition("[mcp_servers.mlflow.tools.delete_model_alias]")
    tail = tail.replace('approval_mode = "prompt"', 'approval_mode = "approve"  # I trust it', 1)
    return '# my codex config\nmodel = "o3"\n\n' + head + marker + tail


def kept_codex(text: str) -> bool:
    table = tomllib.loads(text)["mcp_servers"]["mlflow"]
    return (
        text.startswith("# my codex config")
        and table["tools"]["delete_model_alias"]["approval_mode"] == "approve"
    )


def edit_cursor(text: str) -> str:
    document = json.loads(text)
    document["mcpAllowlist"].append("mlflow:delete_run")
    document["terminalAllowlist"] = ["git status"]
    return json.dumps(document)


def kept_cursor(text: str) -> bool:
    document = json.loads(text)
    return "mlflow:delete_run" in document["mcpAllowlist"] and document["terminalAllowlist"] == ["git status"]


HAND_EDITS = {
    "cursor": (edit_cursor, kept_cursor),
    "policylayer": (edit_policylayer, kept_policylayer),
    "intercept": (edit_intercept, kept_intercept),
    "claude-code": (edit_claude, kept_claude),
    "codex": (edit_codex, kept_codex),
}


@pytest.mark.parametrize("format", sorted(HAND_EDITS))
def test_merge_from_the_cli_keeps_a_hand_edit(home, format):
    edit, kept = HAND_EDITS[format]
    first = run(home, "policy", "mlflow", "--format", format)
    assert first.returncode == 0, first.stderr
    path = home / "policy.txt"
    path.write_text(edit(first.stdout))
    done = run(home, "policy", "mlflow", "--format", format, "--merge", str(path))
    assert done.returncode == 0, done.stderr
    assert kept(done.stdout), done.stdout


def test_policy_json_carries_the_text_the_rules_and_what_a_merge_did(home):
    path = home / "policy.json"
    first = run(home, "policy", "mlflow")
    path.write_text(edit_policylayer(first.stdout))
    done = run(home, "policy", "mlflow", "--merge", str(path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["format"] == "policylayer" and kept_policylayer(data["policy"])
    assert len(data["rules"]) == 40 and all(r["reason"] for r in data["rules"])
    assert "set_model_alias" in data["kept"]


def test_output_into_a_missing_folder_is_a_usage_error(home):
    done = run(home, "policy", "mlflow", "-o", str(home / "no" / "such" / "policy.json"))
    assert done.returncode == 2
    assert "does not exist" in one_line_error(done)


def test_merge_with_a_missing_file_is_a_usage_error(home):
    done = run(home, "policy", "mlflow", "--merge", str(home / "nope.json"))
    assert done.returncode == 2 and "no such file" in one_line_error(done)


def test_server_name_renames_the_server_in_the_policy(home):
    done = run(home, "policy", "mlflow", "--format", "claude-code", "--server-name", "ml flow")
    assert done.returncode == 0, done.stderr
    assert "mcp__ml_flow__get_run" in json.loads(done.stdout)["permissions"]["allow"]


@pytest.mark.parametrize("format", ["cedar-toolhive", "cedar-docker", "cel-agentgateway", "envoy-mcproute"])
def test_formats_that_cannot_merge_refuse_an_existing_output_without_force(home, format):
    path = home / "policy.out"
    path.write_text("my own policy\n")
    done = run(home, "policy", "mlflow", "--format", format, "-o", str(path))
    assert done.returncode == 2 and "--force" in one_line_error(done)
    assert path.read_text() == "my own policy\n"
    done = run(home, "policy", "mlflow", "--format", format, "-o", str(path), "--force")
    assert done.returncode == 0, done.stderr
    assert "mcp-catalog" in path.read_text() or "cedarv1" in path.read_text()


def test_codex_from_the_cli_starts_the_server_the_way_it_was_crawled(home):
    done = run(home, "policy", "mlflow", "--format", "codex", "--server-name", "ml")
    assert done.returncode == 0, done.stderr
    assert "did not say how to start it" in done.stderr  # crawled from a tools/list file
    assert (
        "mlflow" not in tomllib.loads(done.stdout)["mcp_servers"]
        and "ml" in tomllib.loads(done.stdout)["mcp_servers"]
    )


def test_an_unknown_format_is_one_line_and_exit_2(home):
    done = run(home, "policy", "mlflow", "--format", "opa")
    assert done.returncode == 2 and "unknown policy format" in one_line_error(done)
