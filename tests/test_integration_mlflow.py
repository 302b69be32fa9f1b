"""The product's headline: `catalog crawl kkruglik/mlflow-mcp` on a fresh machine, static and live, for real."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import one_line_error, run, stored_tools

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    home = tmp_path_factory.mktemp("mlflow")
    done = run(home, "crawl", "kkruglik/mlflow-mcp", timeout=600)
    assert done.returncode == 0, done.stderr
    return home, done


def test_github_unreachable_falls_back_to_the_package_naming_the_repo(crawled):
    _, done = crawled
    assert "kkruglik/mlflow-mcp: 40 tools (static" in done.stdout
    assert "found pypi mlflow-mcp whose metadata names this repository" in done.stdout


def test_all_forty_tools_with_docstrings_and_labels(crawled):
    home, _ = crawled
    tools = {t["name"]: t for t in stored_tools(home, "kkruglik/mlflow-mcp")}
    assert len(tools) == 40
    assert all(t["description"].strip() for t in tools.values())
    assert tools["get_runs"]["category"] == "read" and tools["query_runs"]["category"] == "read"
    assert tools["set_model_alias"]["category"] == "write"
    deletes = [name for name in tools if name.startswith("delete_")]
    assert deletes and all(tools[name]["category"] == "destructive" for name in deletes)


def test_a_package_naming_another_repository_is_refused(tmp_path):
    done = run(tmp_path, "crawl", "someone-else/mlflow-mcp", timeout=600)
    assert done.returncode == 1
    line = one_line_error(done)
    assert "refused" in line and "kkruglik/mlflow-mcp" in line


def test_live_crawl_in_the_sandbox_agrees_with_the_static_route(crawled, tmp_path):
    home, _ = crawled
    static = {t["name"]: t for t in stored_tools(home, "kkruglik/mlflow-mcp")}
    uri = f"file://{tmp_path / 'mlruns'}"
    done = run(home, "crawl", "kkruglik/mlflow-mcp", "--live", "--env", f"MLFLOW_TRACKING_URI={uri}",
               "--timeout", "120", "--json", timeout=900)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["method"] == "live"
    live = {t["name"]: t for t in stored_tools(home, "kkruglik/mlflow-mcp")}
    assert set(live) == set(static)
    for name, tool in live.items():
        # Static extraction reproduces what the SDK registers, byte for byte.
        assert tool["description"] == static[name]["description"], name
        assert (tool["annotations"] or {}) == (static[name]["annotations"] or {}), name
        assert tool["input_schema"] == static[name]["input_schema"], name


def test_policy_for_the_real_server_allows_reads_caps_writes_and_gates_deletes(crawled):
    home, _ = crawled
    done = run(home, "policy", "kkruglik/mlflow-mcp", "--format", "policylayer")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["default"] == "deny"
    labels = {t["name"]: t["category"] for t in stored_tools(home, "kkruglik/mlflow-mcp")}
    rules = document["tools"]
    assert set(rules) == set(labels)
    reads = [name for name, category in labels.items() if category == "read"]
    writes = [name for name, category in labels.items() if category == "write"]
    deletes = [name for name in labels if name.startswith("delete_")]
    assert len(reads) == 27 and len(writes) == 8 and len(deletes) == 5
    # Reads are allowed, except a read whose P(destructive) passes the cautious threshold (issue 11.4), which
    # needs approval and says why; none is hidden.
    assert all(name not in document.get("hide", []) for name in reads)
    assert all(
        "deny_if" not in rules[name] or "possibly destructive (p = " in rules[name]["deny_if"][0]["on_deny"]
        for name in reads
    )
    assert rules["set_model_alias"]["limits"] == [
        {"counter": "set_model_alias_rate", "window": "minute", "max": 30, "scope": "grant"}
    ]
    # Writes are capped at 30/minute; a write whose P(destructive) passes the cautious threshold (issue 11.4)
    # needs approval instead, and says why.
    cautious = [name for name in writes if "deny_if" in rules[name]]
    assert "set_model_alias" not in cautious
    assert all(rules[name]["limits"][0]["max"] == 30 for name in writes if name not in cautious)
    assert all("possibly destructive (p = " in rules[name]["deny_if"][0]["on_deny"] for name in cautious)
    assert all(rules[name].get("deny_if") or name in document.get("hide", []) for name in deletes)


def test_intercept_policy_and_json_report_for_the_real_server(crawled):
    home, _ = crawled
    import yaml

    intercept = run(home, "policy", "kkruglik/mlflow-mcp", "--format", "intercept")
    assert intercept.returncode == 0, intercept.stderr
    assert yaml.safe_load(intercept.stdout)
    report = run(home, "report", "kkruglik/mlflow-mcp", "--format", "json")
    assert report.returncode == 0, report.stderr
    tools = json.loads(report.stdout)["tools"]
    assert len(tools) == 40
    assert all(t["category"] and t["risk"] and t["reasons"] for t in tools)
