"""`catalog search QUERY`: full-text search with category and risk filters, through the CLI on a real file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog.models import Classification, CrawlResult, ServerRef, Tool
from catalog.store import Store
from tests.test_annotate import save_mlflow
from tests.test_cli import one_line_error, run


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("search")
    store = Store(path / "catalog.db")
    save_mlflow(store)
    notes = [Tool("get_note", "Get a note by id."), Tool("delete_note", "Delete a note for good.")]
    store.save_crawl(
        CrawlResult(ServerRef("notes", "notes.json", "json"), "static", "fixture", notes),
        {
            "get_note": Classification("read", "low", 0.9, ["verb `get`"]),
            "delete_note": Classification("destructive", "high", 0.9, ["verb `delete`"]),
        },
    )
    store.close()
    return path


def search(home: Path, *args: str) -> list[dict]:
    done = run(home, "search", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_words_match_names_and_descriptions_and_the_last_word_is_a_prefix(home):
    rows = search(home, "model ali")
    names = {row["name"] for row in rows}
    assert {"set_model_alias", "delete_model_alias", "get_model_version_by_alias"} <= names
    for row in rows:
        text = f"{row['name']} {row['description']}".lower()
        assert "model" in text and "ali" in text


def test_results_span_servers_and_say_which_server_a_tool_belongs_to(home):
    rows = search(home, "delete")
    assert {(r["server_id"], r["name"]) for r in rows} >= {("notes", "delete_note"), ("mlflow", "delete_run")}


def test_category_filter_keeps_only_that_category(home):
    rows = search(home, "model", "--category", "destructive")
    assert {r["name"] for r in rows} == {
        "delete_model_alias",
        "delete_model_version",
        "delete_registered_model",
    }
    assert {r["effective_category"] for r in rows} == {"destructive"}


def test_risk_filter_keeps_only_that_risk(home):
    rows = search(home, "delete", "--risk", "critical")
    assert [(r["server_id"], r["name"]) for r in rows] == [("mlflow", "delete_experiment")]


def test_limit_caps_the_number_of_results(home):
    assert len(search(home, "get", "--limit", "3")) == 3


def test_quotes_and_operators_in_a_query_are_words_not_syntax(home):
    assert search(home, 'note" OR "run') == []
    assert [r["name"] for r in search(home, "note NEAR")] == []
    assert {r["name"] for r in search(home, "note*")} == {"get_note", "delete_note"}


def test_an_empty_query_is_a_one_line_usage_error(home):
    done = run(home, "search", "   ")
    assert done.returncode == 2
    assert "empty search query" in one_line_error(done)


def test_table_output_names_the_count_and_the_query(home):
    done = run(home, "search", "note")
    assert done.returncode == 0, done.stderr
    assert "2 tools match 'note'" in done.stdout and "delete_note" in done.stdout


def test_a_reviewer_override_moves_a_tool_into_the_category_filter(home, tmp_path):
    shutil.copy(home / "catalog.db", tmp_path / "catalog.db")
    assert "get_run" not in {r["name"] for r in search(tmp_path, "run", "--category", "destructive")}
    assert (
        run(tmp_path, "label", "mlflow", "get_run", "destructive", "--note", "leaks secrets").returncode == 0
    )
    rows = search(tmp_path, "run", "--category", "destructive")
    assert "get_run" in {r["name"] for r in rows}


def test_tools_gone_from_the_latest_crawl_are_not_found(home, tmp_path):
    shutil.copy(home / "catalog.db", tmp_path / "catalog.db")
    store = Store(tmp_path / "catalog.db")
    kept = [Tool("get_note", "Get a note by id.")]
    store.save_crawl(CrawlResult(ServerRef("notes", "notes.json", "json"), "static", "fixture", kept))
    store.close()
    assert [r["name"] for r in search(tmp_path, "note")] == ["get_note"]


def test_or_between_words_finds_either(home):
    names = {r["name"] for r in search(home, "note OR experiment")}
    assert {"get_note", "delete_note", "delete_experiment"} <= names
    assert not {r["name"] for r in search(home, "note experiment")}


def test_a_quoted_phrase_matches_those_words_in_that_order(home):
    phrase = {r["name"] for r in search(home, '"note for good"')}
    assert phrase == {"delete_note"}
    assert search(home, '"good for note"') == []


def test_lowercase_or_and_other_operators_stay_words(home):
    assert search(home, "note or run") == []
    assert search(home, "note AND NOT run") == []
