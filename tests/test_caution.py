"""The cautious threshold: a tool labelled write whose P(destructive) reaches it needs approval in every format."""

from __future__ import annotations

import json
import sqlite3
from types import SimpleNamespace

import classifier
from catalog.crawl import classify_tools
from catalog.models import CrawlResult, ServerRef, Tool
from catalog.policies import FORMATS, build_policy
from catalog.store import SCHEMA_VERSION, Store
from classifier.caution import choose_threshold
from classifier.labelling import load_bundle

SERVER = ServerRef("github:hashicorp/terraform-mcp-server", "github:hashicorp/terraform-mcp-server", "github")
# A row of dev.jsonl labelled write (an unlock can be undone by locking again) that the model finds plausibly
# destructive, well above the threshold (p about 0.7 with this stop's model): the borderline case the caution
# is for.
FORCE_UNLOCK = Tool(
    "force_unlock_workspace",
    "Force unlocks a Terraform workspace stuck in a lock. Prefer using the action_run tool with \"discard\" or "
    "\"cancel\" before force-unlocking a workspace. Requires workspace admin permissions (e.g. an Owners team token).",
    {"type": "object", "properties": {"workspace_id": {"type": "string"}}, "required": ["workspace_id"]},
    {"title": "Force unlock a Terraform workspace by ID", "readOnlyHint": False, "destructiveHint": True},
)


def stored_catalog(tmp_path) -> Store:
    store = Store(tmp_path / "c.db")
    store.save_crawl(
        CrawlResult(SERVER, "static", "test", [FORCE_UNLOCK]), classify_tools(SERVER.id, [FORCE_UNLOCK])
    )
    return store


def test_the_shipped_model_carries_the_threshold_and_each_label_its_probability():
    threshold = load_bundle().stats["caution_threshold"]
    assert 0.0 < threshold < 1.0
    label = classifier.classify([{"server": "s", "name": "get_run", "description": "Get a run by id."}])[0]
    assert label["caution_threshold"] == threshold and isinstance(label["p_destructive"], float)
    assert label["possibly_destructive"] is (
        label["category"] != "destructive" and label["p_destructive"] >= threshold
    )


def test_a_borderline_write_needs_approval_with_its_probability_as_the_reason(tmp_path):
    store = stored_catalog(tmp_path)
    [labelled] = store.labelled_tools(SERVER.id)
    label = labelled.classification
    assert label.category == "write" and label.possibly_destructive
    result = build_policy([(SERVER.id, [labelled])], "policylayer")
    entry = json.loads(result.text)["tools"]["force_unlock_workspace"]
    message = entry["deny_if"][0]["on_deny"]
    assert "needs a human's approval" in message
    assert f"possibly destructive (p = {label.p_destructive:.2f})" in message
    assert entry["limits"][0]["max"] == 5  # the destructive cap, not the write one


def test_every_format_treats_it_as_destructive(tmp_path):
    [labelled] = stored_catalog(tmp_path).labelled_tools(SERVER.id)
    for name in FORMATS:
        result = build_policy([(SERVER.id, [labelled])], name)
        reason = result.reasons()[f"{SERVER.id}/force_unlock_workspace"]
        assert reason["action"] == "approve" and "possibly destructive (p = " in reason["reason"], name


def test_a_reviewer_override_wins_over_the_caution(tmp_path):
    store = stored_catalog(tmp_path)
    store.set_override(SERVER.id, "force_unlock_workspace", "write", "an unlock can be undone")
    [labelled] = store.labelled_tools(SERVER.id)
    entry = json.loads(build_policy([(SERVER.id, [labelled])], "policylayer").text)["tools"][
        "force_unlock_workspace"
    ]
    assert "deny_if" not in entry and entry["limits"][0]["max"] == 30


def test_a_database_from_before_the_probability_opens_and_keeps_its_labels(tmp_path):
    stored_catalog(tmp_path)
    conn = sqlite3.connect(tmp_path / "c.db")
    conn.executescript(
        "DROP VIEW labelled_tools; ALTER TABLE classifications DROP COLUMN p_destructive;"
        "ALTER TABLE classifications DROP COLUMN caution_threshold; PRAGMA user_version = 1;"
    )
    conn.close()
    store = Store(tmp_path / "c.db")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [labelled] = store.labelled_tools(SERVER.id)
    assert labelled.classification.category == "write" and labelled.classification.p_destructive is None
    assert not labelled.classification.possibly_destructive
    entry = json.loads(build_policy([(SERVER.id, [labelled])], "policylayer").text)["tools"][
        "force_unlock_workspace"
    ]
    assert "deny_if" not in entry


def decision(category: str, p: float) -> SimpleNamespace:
    return SimpleNamespace(category=category, model_destructive=p)


def test_the_threshold_is_the_largest_p_that_reaches_the_recall():
    # 50 destructive tools: 45 labelled so, 5 missed with p 0.9 .. 0.1; 0.98 recall needs 49, so 4 more.
    decisions = [decision("destructive", 0.9)] * 45 + [
        decision("write", p) for p in (0.9, 0.7, 0.5, 0.3, 0.1)
    ]
    decisions += [decision("read", 0.4), decision("write", 0.2), None]
    labels = ["destructive"] * 50 + ["read", "write", "write"]
    figures = choose_threshold(decisions, labels)
    assert figures["threshold"] == 0.3
    assert figures["recall_label"] == 0.9 and figures["recall_cautious"] == 0.98
    assert figures["false_alarms"] == 1 and figures["tools"] == 52
