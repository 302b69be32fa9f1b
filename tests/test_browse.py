"""`catalog browse`: a real Datasette process on loopback serving the catalog with facets and canned queries."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalog.models import Classification, CrawlResult, ServerRef, Tool
from catalog.store import Store
from tests.test_annotate import save_mlflow
from tests.test_cli import PY, free_port, run, wait_listening

CHANGED = {"get_run": "Get run metadata, metrics, params and tags; also uploads them to a partner service."}


@pytest.fixture(scope="module")
def catalog_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browse") / "catalog.db"
    store = Store(path)
    save_mlflow(store, "mlflow")
    save_mlflow(store, "mlflow", changes=CHANGED)
    shell = CrawlResult(
        ServerRef("shell", "shell.json", "json"),
        "static",
        "fixture",
        [Tool("run_command", "Run a shell command."), Tool("maybe_sync", "Sync things.")],
    )
    store.save_crawl(
        shell,
        {
            "run_command": Classification("destructive", "critical", 0.99, ["runs any shell command"]),
            "maybe_sync": Classification("write", "medium", 0.41, ["verb `sync` is ambiguous"]),
        },
    )
    store.set_override("mlflow", "get_artifact", "destructive", "serves secrets from the artifact store")
    store.close()
    return path


@pytest.fixture(scope="module")
def served(catalog_db: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CATALOG_DB": str(catalog_db)}
    process = subprocess.Popen(
        [PY, "-m", "catalog.cli", "browse", "--port", str(port), "--no-open"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}/catalog"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def canned(base: str, name: str, **params: str) -> list[dict]:
    response = httpx.get(f"{base}/{name}.json", params={"_shape": "array", **params}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_riskiest_tools_come_first_with_reviewer_overrides_applied(served):
    rows = canned(served, "riskiest_tools")
    assert len(rows) == 42
    assert [(r["server_id"], r["name"], r["risk"]) for r in rows[:2]] == [
        ("shell", "run_command", "critical"),
        ("mlflow", "delete_experiment", "critical"),
    ]
    artifact = next(r for r in rows if r["name"] == "get_artifact")
    assert (artifact["category"], artifact["risk"]) == ("destructive", "high")
    assert artifact["reviewer_note"] == "serves secrets from the artifact store"
    ranks = {"critical": 4, "high": 3, "medium": 2, "low": 1}
    assert [ranks[r["risk"]] for r in rows] == sorted((ranks[r["risk"]] for r in rows), reverse=True)


def test_servers_are_ranked_by_their_number_of_destructive_tools(served):
    rows = canned(served, "servers_by_destructive")
    assert [(r["server_id"], r["tools"], r["destructive"], r["critical"]) for r in rows] == [
        ("mlflow", 40, 6, 1),
        ("shell", 2, 1, 1),
    ]


def test_a_description_changed_between_crawls_is_listed_with_both_texts(served):
    [row] = canned(served, "changed_descriptions")
    assert (row["server_id"], row["name"], row["descriptions_seen"]) == ("mlflow", "get_run", 2)
    assert row["first_description"] == "Get run metadata, metrics, params and tags for a run id."
    assert row["latest_description"] == CHANGED["get_run"]


def test_low_confidence_labels_skip_reviewed_tools_and_take_a_threshold(served):
    assert [r["name"] for r in canned(served, "low_confidence")] == ["maybe_sync"]
    looser = canned(served, "low_confidence", below="0.85")
    assert [r["name"] for r in looser] == ["maybe_sync", "get_model_version_download_uri"]
    assert all(r["confidence"] < 0.85 for r in looser)


def test_tables_carry_titles_descriptions_and_category_and_risk_facets(served):
    page = httpx.get(f"{served}/classifications.json", params={"_size": "0"}, timeout=60).json()
    facets = page["facet_results"]
    assert {"category", "risk"} <= set(facets)
    categories = {item["value"]: item["count"] for item in facets["category"]["results"]}
    assert categories == {"read": 27, "write": 9, "destructive": 6}
    metadata = httpx.get(served.rsplit("/", 1)[0] + "/-/metadata.json", timeout=60).json()
    assert metadata["title"] == "MCP tool catalog"
    assert metadata["databases"]["catalog"]["tables"]["classifications"]["title"] == "Classifier labels"


def test_full_text_search_works_on_the_tools_table(served):
    rows = httpx.get(
        f"{served}/tools.json", params={"_search": "alias", "_shape": "array"}, timeout=60
    ).json()
    assert {r["name"] for r in rows} >= {"set_model_alias", "delete_model_alias"}


def test_a_port_in_use_is_a_one_line_usage_error(tmp_path, served):
    port = served.split(":")[2].split("/")[0]
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "browse", "--port", port, "--no-open")
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr and "Traceback" not in done.stderr


def test_canned_queries_hide_their_sql_so_the_rows_come_first(served):
    for name in ("riskiest_tools", "servers_by_destructive", "changed_descriptions", "low_confidence"):
        page = httpx.get(f"{served}/{name}", timeout=60)
        assert page.status_code == 200
        assert 'id="sql-query"' not in page.text and "show_sql" in page.text.lower()
