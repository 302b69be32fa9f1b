"""Suggested MCP annotations and contradictions with the author's own hints."""

from __future__ import annotations

import json
from pathlib import Path

from catalog.annotate import suggest_annotations
from catalog.models import (
    ANNOTATION_HINTS,
    Classification,
    CrawlResult,
    LabelledTool,
    Override,
    ServerRef,
    Tool,
)
from catalog.store import Store
from tests.test_cli import run

FIXTURE = Path(__file__).parent / "fixtures" / "policy_schemas" / "mlflow_labelled_tools.json"


def mlflow_tools() -> list[LabelledTool]:
    data = json.loads(FIXTURE.read_text())
    return [
        LabelledTool(
            Tool(t["name"], t["description"], t["input_schema"], t["annotations"]),
            Classification(t["category"], t["risk"], t["confidence"], t["reasons"], "test"),
        )
        for t in data["tools"]
    ]


def save_mlflow(store: Store, server: str = "mlflow", changes: dict[str, str] | None = None) -> None:
    """Store one crawl of the 40 fixture tools with their hand labels; `changes` rewrites descriptions."""
    labelled = mlflow_tools()
    for lt in labelled:
        lt.tool.description = (changes or {}).get(lt.tool.name, lt.tool.description)
    result = CrawlResult(
        ServerRef(server, "fixture.json", "json"), "static", "fixture", [lt.tool for lt in labelled]
    )
    store.save_crawl(result, {lt.tool.name: lt.classification for lt in labelled})


def tools_list_file(path: Path) -> Path:
    """The fixture's tools as a real `tools/list` result that `catalog crawl` reads (and classifies)."""
    data = json.loads(FIXTURE.read_text())
    tools = [
        {"name": t["name"], "description": t["description"], "inputSchema": t["input_schema"]}
        | ({"annotations": t["annotations"]} if t["annotations"] else {})
        for t in data["tools"]
    ]
    path.write_text(json.dumps({"tools": tools}))
    return path


def by_name() -> dict[str, dict]:
    return {row["name"]: row for row in suggest_annotations(mlflow_tools())}


def tool(name, category, risk, params=(), description="", annotations=None, reasons=None):
    schema = {"type": "object", "properties": {p: {"type": "string"} for p in params}}
    return LabelledTool(
        Tool(name, description, schema, annotations),
        Classification(category, risk, 0.9, reasons or [f"verb in {name}"]),
    )


def test_every_tool_gets_all_four_hints_explicitly_with_a_reason_each():
    rows = suggest_annotations(mlflow_tools())
    assert len(rows) == 40
    for row in rows:
        assert set(row["annotations"]) == set(ANNOTATION_HINTS)
        assert all(isinstance(v, bool) for v in row["annotations"].values())
        assert all(row["reasons"][h] for h in ANNOTATION_HINTS)


def test_a_read_tool_is_read_only_idempotent_and_closed_world():
    row = by_name()["get_run"]
    assert row["annotations"] == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": False,
    }
    assert row["contradictions"] == []


def test_writes_are_not_destructive_and_idempotent_only_for_set_like_verbs():
    rows = by_name()
    assert rows["set_model_alias"]["annotations"]["destructiveHint"] is False
    assert rows["set_model_alias"]["annotations"]["idempotentHint"] is True
    assert "`set`" in rows["set_model_alias"]["reasons"]["idempotentHint"]
    assert rows["register_model"]["annotations"]["idempotentHint"] is False
    assert rows["create_run"]["annotations"]["idempotentHint"] is False
    assert rows["delete_run"]["annotations"]["destructiveHint"] is True


def test_read_only_hint_on_a_delete_tool_is_a_contradiction():
    assert by_name()["delete_run"]["contradictions"] == [
        "marked readOnlyHint but it can destroy data (verb `delete` in the name)"
    ]


def test_destructive_hint_on_a_search_tool_is_a_contradiction():
    assert by_name()["search_runs"]["contradictions"] == [
        "marked destructiveHint but it only reads (verb `search` in the name)"
    ]


def test_an_absent_destructive_hint_counts_at_its_spec_default_of_true():
    [message] = by_name()["set_model_alias"]["contradictions"]
    assert message.startswith("destructiveHint absent (default true), but its changes are additive")


def test_destructive_false_on_a_delete_tool_and_read_only_on_a_write_are_contradictions():
    rows = by_name()
    assert rows["delete_registered_model"]["contradictions"][0].startswith("marked destructiveHint: false")
    assert rows["log_metric"]["contradictions"][0].startswith("marked readOnlyHint but it changes state")
    assert rows["create_experiment"]["contradictions"] == []


def test_a_tool_without_annotations_has_no_contradictions_but_shows_what_changes_from_the_defaults():
    row = by_name()["get_experiment_by_name"]
    assert row["author"] == {} and row["contradictions"] == []
    assert row["changed"] == ["destructiveHint", "idempotentHint", "openWorldHint", "readOnlyHint"]


def test_sql_execution_marked_read_only_is_called_out_and_is_open_world():
    sql = tool(
        "execute_sql",
        "destructive",
        "critical",
        params=["sql"],
        annotations={"readOnlyHint": True},
        reasons=["runs any SQL statement"],
    )
    [row] = suggest_annotations([sql])
    assert row["contradictions"][0] == "marked readOnlyHint but it can destroy data (runs any SQL statement)"
    assert row["annotations"]["idempotentHint"] is False and row["annotations"]["openWorldHint"] is True
    assert "`sql`" in row["reasons"]["openWorldHint"]


def test_open_world_comes_from_url_parameters_messaging_verbs_or_web_wording():
    rows = suggest_annotations(
        [
            tool("fetch_page", "read", "medium", params=["url"]),
            tool("send_email", "write", "medium", params=["subject"]),
            tool("lookup", "read", "low", description="Looks a word up on the web."),
            tool("get_note", "read", "low", params=["note_id"], description="Get a note."),
        ]
    )
    assert [r["annotations"]["openWorldHint"] for r in rows] == [True, True, True, False]
    assert "`url` parameter" in rows[0]["reasons"]["openWorldHint"]


def test_closed_world_claim_on_a_tool_that_takes_a_url_is_a_contradiction():
    [row] = suggest_annotations(
        [
            tool(
                "post_webhook",
                "write",
                "medium",
                params=["url"],
                annotations={"openWorldHint": False, "destructiveHint": False},
            )
        ]
    )
    assert row["contradictions"] == [
        "marked openWorldHint: false but it reaches outside: the `url` parameter points outside the server"
    ]


def test_a_reviewer_override_drives_the_suggestion():
    alias = tool("delete_model_alias", "destructive", "high", params=["name", "alias"])
    alias.override = Override("write", "an alias is a pointer")
    [row] = suggest_annotations([alias])
    assert row["category"] == "write" and row["annotations"]["destructiveHint"] is False
    assert "reviewer override" in row["reasons"]["readOnlyHint"]


def test_the_leading_verb_decides_idempotence_not_a_noun_that_looks_like_a_verb():
    rows = suggest_annotations(
        [
            tool("delete_run", "destructive", "high", params=["run_id"]),
            tool("run_delete_job", "destructive", "high", params=["job_id"]),
        ]
    )
    assert rows[0]["annotations"]["idempotentHint"] is True
    assert rows[0]["reasons"]["idempotentHint"].startswith("verb `delete`")
    assert rows[1]["annotations"]["idempotentHint"] is False


def test_annotate_command_prints_all_four_hints_per_tool_and_the_contradictions(tmp_path):
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "annotate", "mlflow")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "mlflow: suggested annotations for 40 tools (5 contradict the author)" in text
    get_run = next(line for line in done.stdout.splitlines() if "│ get_run " in line)
    assert [cell.strip() for cell in get_run.split("│")[2:7]] == ["read", "true", "false*", "true*", "false*"]
    assert "delete_run: marked readOnlyHint but it can destroy data (verb `delete` in the name)" in text


def test_annotate_json_gives_explicit_booleans_and_contradictions_per_tool(tmp_path):
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "annotate", "mlflow", "--json")
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert len(rows) == 40
    assert all(set(row["annotations"]) == set(ANNOTATION_HINTS) for row in rows.values())
    assert rows["search_runs"]["contradictions"] == [
        "marked destructiveHint but it only reads (verb `search` in the name)"
    ]
