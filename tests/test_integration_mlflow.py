"""The product's headline: `catalog crawl kkruglik/mlflow-mcp` on a fresh machine, static and live, for real."""

from __future__ import annotations

import inspect
import json

import pytest

from tests.test_cli import one_line_error, run, stored_tools

pytestmark = pytest.mark.integration


def normalised(text: str) -> str:
    return " ".join(inspect.cleandoc(text).split())


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
        assert normalised(tool["description"]) == normalised(static[name]["description"]), name
        assert (tool["annotations"] or {}) == (static[name]["annotations"] or {}), name
        assert set(tool["params"]) == set(static[name]["params"]), name
