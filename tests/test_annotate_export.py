"""`catalog annotate --format toolhive|server-json|tools-list`: corrected hints with their provenance."""

from __future__ import annotations

import json

import yaml
from mcp.types import ListToolsResult

from catalog.annotate import META_KEY, export_annotations, suggest_annotations
from catalog.models import ANNOTATION_HINTS
from catalog.store import Store
from tests.test_annotate import mlflow_tools, save_mlflow, tool
from tests.test_cli import one_line_error, run


def test_toolhive_tool_config_overrides_every_tools_annotations():
    text = export_annotations("kkruglik/mlflow-mcp", mlflow_tools(), "toolhive")
    config = yaml.safe_load(text)
    assert config["kind"] == "MCPToolConfig" and config["apiVersion"].startswith("toolhive.stacklok.dev/")
    assert config["metadata"]["name"] == "kkruglik-mlflow-mcp-annotations"
    overrides = config["spec"]["toolsOverride"]
    assert len(overrides) == 40
    assert all(set(o["annotations"]) == set(ANNOTATION_HINTS) for o in overrides.values())
    assert overrides["delete_run"]["annotations"]["destructiveHint"] is True
    assert overrides["get_run"]["annotations"]["readOnlyHint"] is True
    assert "delete_run.destructiveHint = true (" in text  # the provenance as a comment


def test_tools_list_is_a_valid_mcp_result_with_the_provenance_in_meta():
    document = json.loads(export_annotations("mlflow", mlflow_tools(), "tools-list"))
    result = ListToolsResult.model_validate(document)  # the MCP SDK's own model
    assert len(result.tools) == 40
    get_run = next(t for t in document["tools"] if t["name"] == "get_run")
    hints = get_run["_meta"][META_KEY]["hints"]
    assert set(hints) == set(ANNOTATION_HINTS)
    assert all(h["source"] in ("author", "confirmed", "ours") and h["why"] for h in hints.values())


def test_server_json_carries_the_tools_in_a_publisher_extension():
    document = json.loads(export_annotations("mlflow", mlflow_tools(), "server-json"))
    tools = document["_meta"]["io.modelcontextprotocol.registry/publisher-provided"][META_KEY]["tools"]
    assert len(tools) == 40 and all("inputSchema" in t and "annotations" in t for t in tools)


def published(labelled):
    return suggest_annotations([labelled])[0]["published"]


def test_a_wrong_read_only_claim_is_corrected_and_says_so():
    hints = published(tool("delete_run", "destructive", "high", annotations={"readOnlyHint": True}))
    assert hints["readOnlyHint"]["value"] is False and hints["readOnlyHint"]["source"] == "ours"
    assert hints["readOnlyHint"]["why"].startswith("corrected: the author set true")


def test_an_author_hint_we_agree_with_is_confirmed():
    hints = published(tool("get_run", "read", "low", annotations={"readOnlyHint": True}))
    assert hints["readOnlyHint"] == {
        "value": True,
        "source": "confirmed",
        "why": hints["readOnlyHint"]["why"],
    } and hints["readOnlyHint"]["why"].startswith("the author set it and we agree")


def test_an_author_hint_we_have_no_evidence_against_is_kept():
    hints = published(tool("frobnicate_thing", "write", "medium", annotations={"idempotentHint": True}))
    assert hints["idempotentHint"]["value"] is True and hints["idempotentHint"]["source"] == "author"


def test_an_author_hint_contradicted_by_evidence_is_corrected():
    hints = published(tool("fetch_page", "read", "low", params=["url"], annotations={"openWorldHint": False}))
    assert hints["openWorldHint"]["value"] is True and hints["openWorldHint"]["source"] == "ours"


def test_annotate_export_from_the_cli_and_a_bad_format(tmp_path):
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "annotate", "mlflow", "--format", "tools-list", "-o", str(tmp_path / "tools.json"))
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "tools.json").read_text())["tools"]) == 40
    done = run(tmp_path, "annotate", "mlflow", "--format", "openapi")
    assert done.returncode == 2 and "unknown annotate format" in one_line_error(done)
    done = run(tmp_path, "annotate", "mlflow", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)[0]["published"]
