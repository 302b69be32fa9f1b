"""Behaviour of the classifier: labels and reasons, annotation mistrust, siblings, calibration, the model file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import classifier
from classifier import model as model_module
from classifier.combine import Decision
from classifier.features import LEXICON_PATH, build_features, load_lexicon
from classifier.labelling import calibrate, classifier_version
from classifier.training import fit_calibrators, load_training_rows

FIXTURES = Path(__file__).parent / "fixtures" / "classifier"


def label_one(name: str, description: str = "", server: str = "test:one", **extra) -> dict:
    return classifier.classify([{"server": server, "name": name, "description": description, **extra}])[0]


def schema(**properties: dict) -> dict:
    return {"type": "object", "properties": properties}


def test_delete_verb_is_destructive_and_says_so():
    label = label_one("delete_run", "Delete a run by id.", input_schema=schema(run_id={"type": "string"}))
    assert label["category"] == "destructive"
    assert label["risk"] in ("high", "critical")
    assert "verb 'delete' in the name" in label["reasons"][0]


def test_get_verb_is_read_low_risk():
    label = label_one(
        "get_experiment", "Get one experiment by id.", input_schema=schema(id={"type": "string"})
    )
    assert (label["category"], label["risk"]) == ("read", "low")
    assert "verb 'get' in the name" in label["reasons"][0]


def test_sql_runner_marked_read_only_is_still_destructive_and_critical():
    label = label_one(
        "run_query",
        "Execute a SQL statement against the database and return the rows.",
        input_schema=schema(sql={"type": "string"}),
        annotations={"readOnlyHint": True},
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")
    assert any("readOnlyHint" in r and "untrusted" in r for r in label["reasons"])


def test_sql_runner_that_says_read_only_is_read_with_medium_risk():
    label = label_one(
        "run_query",
        "Run a read-only SQL query (SELECT only) and return the rows.",
        input_schema=schema(sql={"type": "string"}),
    )
    assert (label["category"], label["risk"]) == ("read", "medium")


def test_read_only_hint_false_without_destructive_hint_counts_as_destructive_per_spec_defaults():
    label = label_one("frobnicate", "", annotations={"readOnlyHint": False})
    assert label["category"] == "destructive"
    assert any("the spec assumes destructive" in r for r in label["reasons"])


def test_destructive_hint_false_marks_an_unclear_tool_as_write():
    label = label_one("frobnicate", "", annotations={"readOnlyHint": False, "destructiveHint": False})
    assert label["category"] == "write"


def test_a_read_verb_outweighs_a_wrong_destructive_hint():
    label = label_one("list_pages", "List the pages of a site.", annotations={"destructiveHint": True})
    assert label["category"] == "read"
    assert any("untrusted" in r for r in label["reasons"])


def test_action_parameter_with_delete_value_makes_tool_destructive():
    label = label_one(
        "manage_repo",
        "Manage a repository.",
        input_schema=schema(action={"type": "string", "enum": ["create", "update", "delete"]}),
    )
    assert label["category"] == "destructive"
    assert "its 'action' parameter accepts 'delete'" in label["reasons"][0]


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("jira_get_issue", "read"),
        ("jira_create_issue", "write"),
        ("git_log", "read"),
        ("git_commit", "write"),
        ("kubectl_get_pods", "read"),
        ("kubectl_delete_pod", "destructive"),
    ],
)
def test_service_prefixes_are_read_as_nouns(name: str, category: str):
    assert label_one(name)["category"] == category


def test_sibling_delete_tool_raises_a_bare_update_to_high_risk():
    alone = classifier.classify([{"server": "s:a", "name": "update", "description": "Update."}])[0]
    with_sibling = classifier.classify(
        [
            {"server": "s:b", "name": "update", "description": "Update."},
            {"server": "s:b", "name": "delete_record", "description": "Delete a record."},
        ]
    )[0]
    assert (alone["category"], alone["risk"]) == ("write", "medium")
    assert (with_sibling["category"], with_sibling["risk"]) == ("write", "high")
    assert any("delete_record" in r for r in with_sibling["reasons"])


def test_siblings_never_turn_a_read_into_a_write():
    labels = classifier.classify(
        [
            {"server": "s:c", "name": "list_records", "description": "List records."},
            {"server": "s:c", "name": "drop_table", "description": "Drop a table."},
        ]
    )
    assert labels[0]["category"] == "read"


def test_every_label_carries_reasons_version_and_a_probability():
    labels = classifier.classify(
        [{"server": "s", "name": n, "description": ""} for n in ("get_x", "zzz", "create_y")]
    )
    for label in labels:
        assert label["reasons"] and label["version"].startswith("rules-")
        assert 0.0 <= label["confidence"] <= 1.0


def test_all_forty_mlflow_tools_of_the_held_out_server_are_right():
    listing = json.loads((FIXTURES / "kkruglik__mlflow-mcp.json").read_text())
    rows = [
        {
            "server": listing["server"],
            "name": t["name"],
            "description": t["description"],
            "input_schema": t["inputSchema"],
            "annotations": t["annotations"],
        }
        for t in listing["tools"]
    ]
    labels = classifier.classify(rows)
    wrong = [
        (t["name"], t["label"], label["category"])
        for t, label in zip(listing["tools"], labels, strict=True)
        if t["label"] != label["category"]
    ]
    assert len(rows) == 40
    assert wrong == []


def test_mlflow_server_is_held_out_of_training(tmp_path: Path):
    (tmp_path / "labelled").mkdir()
    listing = json.loads((FIXTURES / "kkruglik__mlflow-mcp.json").read_text())
    with (tmp_path / "labelled" / "mlflow.jsonl").open("w") as handle:
        for t in listing["tools"]:
            handle.write(
                json.dumps({"server": listing["server"], "name": t["name"], "label": t["label"]}) + "\n"
            )
    assert load_training_rows(tmp_path) == []


def decisions_with_accuracy(raw: float, right: int, wrong: int) -> tuple[list[Decision], list[str]]:
    decisions = [Decision("read", "rule", raw) for _ in range(right + wrong)]
    return decisions, ["read"] * right + ["write"] * wrong


def test_calibration_maps_raw_scores_to_the_observed_rate_of_being_right():
    high, high_labels = decisions_with_accuracy(0.95, right=90, wrong=10)
    low, low_labels = decisions_with_accuracy(0.6, right=30, wrong=20)
    calibrators, stats = fit_calibrators(high + low, high_labels + low_labels)
    calibrated = calibrate([Decision("read", "rule", 0.95), Decision("read", "rule", 0.6)], calibrators)
    assert calibrated[0] == pytest.approx(0.9, abs=0.01)
    assert calibrated[1] == pytest.approx(0.6, abs=0.01)
    assert stats["rule"]["count"] == 150


def test_calibration_of_a_rare_route_falls_back_to_the_pooled_map():
    rule, rule_labels = decisions_with_accuracy(0.9, right=40, wrong=10)
    rare = [Decision("write", "blend", 0.9)]
    calibrators, _ = fit_calibrators(rule + rare, rule_labels + ["write"])
    assert set(calibrators) == {"all", "rule"}
    assert calibrate(rare, calibrators)[0] == pytest.approx(41 / 51, abs=0.01)


def tiny_data_dir(root: Path) -> Path:
    """A data dir of the real hand-written seed rows, split into a seed file and one labelled file."""
    rows = [json.loads(line) for line in (classifier.DATA_DIR / "seed.jsonl").read_text().splitlines()]
    (root / "labelled").mkdir(parents=True)
    (root / "seed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[::2]))
    labelled = [{**r, "server": "real:" + r["server"], "split": "train"} for r in rows[1::2]]
    (root / "labelled" / "real.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labelled))
    return root


def test_training_is_byte_for_byte_reproducible_and_round_trips_through_the_array_file(tmp_path: Path):
    pytest.importorskip("sklearn")
    data = tiny_data_dir(tmp_path / "data")
    first = classifier.train(data, tmp_path / "a.npz")
    second = classifier.train(data, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert first["model_digest"] == second["model_digest"]
    assert first["files"] == {"seed.jsonl": 63, "labelled/real.jsonl": 63}
    assert first["cv_rows"] == 63  # only the labelled (real) servers are held out
    bundle = model_module.load(tmp_path / "a.npz")
    assert bundle.stats["rows"] == 126 and set(bundle.calibrators) >= {"all"}
    features = build_features([{"server": "x", "name": "delete_note", "description": "Delete a note."}])
    proba = bundle.model.predict_proba(features)
    assert proba.shape == (1, 3) and abs(proba.sum() - 1) < 1e-9


def test_loading_refuses_a_model_file_that_holds_a_pickled_object(tmp_path: Path):
    import os

    import numpy as np

    crafted = np.empty(1, dtype=object)
    crafted[0] = os.system
    np.savez(tmp_path / "bad.npz", header=np.frombuffer(b"{}", dtype=np.uint8), coef=crafted)
    with pytest.raises(ValueError, match="allow_pickle"):
        model_module.load(tmp_path / "bad.npz")


def test_loading_refuses_a_file_of_another_format(tmp_path: Path):
    import numpy as np

    header = json.dumps({"format": "something-else/9", "classes": ["read", "write", "destructive"]})
    np.savez(tmp_path / "other.npz", header=np.frombuffer(header.encode(), dtype=np.uint8))
    with pytest.raises(model_module.ModelFileError, match="something-else"):
        model_module.load(tmp_path / "other.npz")


DEV_SET = Path(os.environ.get("CATALOG_DEV_SET", "/work/shared/eval/dev.jsonl"))


def dev_rows() -> list[dict]:
    if not DEV_SET.exists():
        pytest.skip(f"the development set {DEV_SET} is not on this machine (set CATALOG_DEV_SET)")
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_numpy_model_gives_the_scikit_learn_pipelines_probabilities_on_every_dev_row(tmp_path: Path):
    pytest.importorskip("sklearn")
    import numpy as np

    from classifier import training

    rows = load_training_rows(classifier.DATA_DIR)[::8]  # an eighth of the data keeps the fit to seconds
    features = build_features(rows)
    pipeline = training.fit_pipeline(features, [r["label"] for r in rows])
    exported = training.export_pipeline(pipeline)
    dev = build_features(dev_rows())
    reference = training.pipeline_proba(pipeline, dev)
    assert reference.shape == (len(dev), 3)
    assert np.abs(exported.predict_proba(dev) - reference).max() < 1e-9
    # the same after a round trip through the file
    model_module.save(model_module.Bundle(exported, {}, {}), tmp_path / "model.npz")
    assert np.abs(model_module.load(tmp_path / "model.npz").model.predict_proba(dev) - reference).max() < 1e-9


def test_the_exported_calibrator_predicts_what_scikit_learns_isotonic_regression_does():
    pytest.importorskip("sklearn")
    import numpy as np
    from sklearn.isotonic import IsotonicRegression

    from classifier.training import export_isotonic

    rng = np.random.default_rng(0)
    raw = rng.uniform(0.3, 0.95, 500)
    correct = (rng.uniform(size=500) < raw).astype(float)
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, correct)
    probe = np.linspace(0.0, 1.0, 1001)
    assert np.abs(export_isotonic(fitted).predict(probe) - fitted.predict(probe)).max() < 1e-12


DEV_LABELS = FIXTURES / "dev_labels.jsonl"


def test_labels_on_the_dev_set_are_those_of_the_snapshot():
    """tests/fixtures/classifier/dev_labels.jsonl: what the shipped classifier said on dev.jsonl when its model
    was last trained (first made from the scikit-learn-era classifier of 5d2afa3, whose labels the numpy one
    matched exactly; regenerated with the retrained model); the same model and lexicon must still say that."""
    lines = DEV_LABELS.read_text(encoding="utf-8").splitlines()
    made_with = json.loads(lines[0])
    expected = [json.loads(line) for line in lines[1:]]
    if model_module.file_digest(model_module.MODEL_PATH) != made_with["model_digest"]:
        pytest.skip("the shipped model was retrained since the snapshot; regenerate it to compare again")
    assert load_lexicon().digest == made_with["lexicon_digest"]
    labels = classifier.classify(dev_rows())
    keys = ("category", "risk", "confidence", "reasons")
    got = [{k: label[k] for k in keys} for label in labels]
    assert got == [{k: row[k] for k in keys} for row in expected]


def test_labelling_imports_neither_scikit_learn_nor_scipy():
    import subprocess
    import sys

    code = (
        "import sys, catalog.cli, classifier\n"
        "classifier.classify([{'server': 's', 'name': 'delete_run', 'description': 'Delete a run.'}])\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'skops') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_changes_when_the_model_or_the_lexicon_changes(tmp_path: Path):
    pytest.importorskip("sklearn")
    data = tiny_data_dir(tmp_path / "data")
    classifier.train(data, tmp_path / "a.npz")
    lexicon = load_lexicon()
    before = classifier_version(lexicon, tmp_path / "a.npz")
    rows = [json.loads(line) for line in (data / "seed.jsonl").read_text().splitlines()]
    (data / "seed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:-1]))
    classifier.train(data, tmp_path / "a.npz")
    assert classifier_version(lexicon, tmp_path / "a.npz") != before

    edited = tmp_path / "lexicon.json"
    shutil.copy(LEXICON_PATH, edited)
    words = json.loads(edited.read_text())
    words["verbs"]["destructive"].append("annihilate")
    edited.write_text(json.dumps(words))
    assert load_lexicon(edited).digest != lexicon.digest
    assert classifier_version(load_lexicon(edited), tmp_path / "a.npz") != classifier_version(
        lexicon, tmp_path / "a.npz"
    )


def test_a_force_flag_turns_a_push_into_a_destructive_force_push():
    plain = label_one(
        "git_push", "Push commits to the remote.", input_schema=schema(remote={"type": "string"})
    )
    forced = label_one(
        "git_push",
        "Push commits to the remote.",
        input_schema=schema(remote={"type": "string"}, force={"type": "boolean"}),
    )
    assert plain["category"] == "write"
    assert forced["category"] == "destructive"
    assert "its 'force' parameter can overwrite or delete existing data" in forced["reasons"][0]


def test_placing_a_stock_order_moves_money_and_is_critical():
    label = label_one("place_stock_order", "Place a buy or sell order for a stock.")
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_removing_a_tag_through_an_operation_enum_is_only_a_write():
    label = label_one(
        "set_email_tags",
        "Add or remove tags on an email.",
        input_schema=schema(operation={"type": "string", "enum": ["add", "remove"]}),
    )
    assert label["category"] == "write"


def test_read_guard_overrules_a_read_the_model_finds_plausibly_destructive():
    import numpy as np

    from classifier.combine import read_guard
    from classifier.rules import RuleVerdict

    read = Decision("read", "blend", 0.6, ["the description opens with 'compute'"])
    guarded = read_guard(read, np.array([0.5, 0.05, 0.45]), RuleVerdict())
    kept = read_guard(read, np.array([0.8, 0.1, 0.1]), RuleVerdict())
    assert guarded.category == "destructive" and "cautious" in guarded.reasons[0]
    assert kept is read


def test_read_guard_needs_more_model_doubt_to_overrule_a_clear_read_verb():
    import numpy as np

    from classifier.combine import read_guard
    from classifier.rules import STRONG, RuleVerdict

    clear = RuleVerdict(category="read", strength=STRONG, reasons=["verb 'list' in the name"])
    read = Decision("read", "rule", 0.9, ["verb 'list' in the name"])
    assert read_guard(read, np.array([0.4, 0.05, 0.55]), clear) is read
    assert read_guard(read, np.array([0.3, 0.05, 0.65]), clear).category == "destructive"
    label = classifier.classify(
        [
            {
                "server": "m",
                "name": "list_run_inputs",
                "description": "List the datasets logged as inputs of a run. (v2)",
            }
        ]
    )[0]
    assert label["category"] == "read"


def test_a_tool_with_nothing_to_read_gets_the_cautious_label():
    label = classifier.classify([{"server": "s", "name": "", "description": ""}])[0]
    assert label["category"] == "destructive"
    assert "no clear signal" in label["reasons"][0]


def test_a_generic_request_tool_whose_method_allows_delete_is_destructive():
    label = label_one(
        "api_request",
        "Perform an HTTP request against the service API.",
        input_schema=schema(
            method={"type": "string", "description": "HTTP method (GET, POST, PUT, DELETE)"},
            path={"type": "string"},
        ),
    )
    assert label["category"] == "destructive"
    assert "allows any HTTP method, DELETE included" in label["reasons"][0]


def test_applying_a_whole_manifest_to_a_cluster_is_destructive():
    label = label_one(
        "cluster_apply",
        "Apply a YAML manifest to the cluster.",
        input_schema=schema(manifest={"type": "string"}, namespace={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert "whole 'manifest'" in label["reasons"][0]


def test_updating_every_record_matching_a_filter_is_destructive_and_bulk():
    label = label_one(
        "update_documents",
        "Update documents in a collection.",
        input_schema=schema(filter={"type": "object"}, update={"type": "object"}),
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_cancelling_an_order_on_a_server_that_trades_stocks_moves_money():
    tools = [
        {
            "server": "test:broker",
            "name": "place_order",
            "description": "Place an order to buy or sell stock.",
        },
        {"server": "test:broker", "name": "cancel_order", "description": "Cancel an open order by id."},
    ]
    label = classifier.classify(tools)[1]
    assert label["category"] == "destructive"
    assert "moves money" in label["reasons"][0]


def test_sql_that_is_read_only_only_by_default_is_destructive():
    label = label_one(
        "run_query",
        "Execute SQL queries. Queries run in read-only mode by default.",
        input_schema=schema(query={"type": "string"}),
    )
    assert label["category"] == "destructive"


@pytest.mark.parametrize(
    ("name", "description", "properties"),
    [
        ("create_refund", "Refund a payment.", {"payment_intent": {"type": "string"}}),
        ("send_transaction", "Send ETH from the wallet to an address.", {"to": {"type": "string"}}),
    ],
)
def test_creating_or_sending_a_refund_or_transaction_moves_money(name, description, properties):
    label = label_one(name, description, input_schema=schema(**properties))
    assert (label["category"], label["risk"]) == ("destructive", "critical")
    assert "moves money" in label["reasons"][0]


def test_creating_a_payment_link_moves_no_money():
    label = label_one("create_payment_link", "Create a payment link for a product.")
    assert label["category"] == "write"


def test_a_migration_that_runs_ddl_from_a_query_parameter_is_destructive():
    label = label_one(
        "apply_migration",
        "Applies a migration to the database. Use this when executing DDL operations.",
        input_schema=schema(name={"type": "string"}, query={"type": "string"}),
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")
    assert "'ddl'" in label["reasons"][0]


def test_emptying_the_trash_and_moving_to_it_are_both_destructive():
    """RUBRIC "Hard cases, settled": a soft delete (to the trash) is destructive; the agent cannot know the
    trash will be kept."""
    tools = [
        {"server": "test:mail", "name": "empty_trash", "description": "Empty the trash folder."},
        {"server": "test:mail", "name": "move_to_trash", "description": "Move an email to the trash."},
    ]
    emptied, moved = classifier.classify(tools)
    assert emptied["category"] == "destructive" and moved["category"] == "destructive"
    assert "a soft delete" in moved["reasons"][0]


def test_restoring_a_backup_overwrites_the_current_data():
    label = label_one("restore_backup", "Restore the database from a backup.")
    assert label["category"] == "destructive"
    assert "overwrites the current data" in label["reasons"][0]


def test_converting_to_an_output_file_is_a_write_not_a_read():
    label = label_one(
        "render_diagram",
        "Render a Mermaid diagram to an image.",
        input_schema=schema(source={"type": "string"}, output_path={"type": "string"}),
    )
    plain = label_one(
        "convert_units", "Convert a value between units.", input_schema=schema(value={"type": "number"})
    )
    assert label["category"] == "write" and plain["category"] == "read"


def test_transferring_a_repository_moves_no_money():
    label = label_one("transfer_repository", "Transfer a repository to another owner.")
    assert label["category"] == "write"
    assert "no money involved" in label["reasons"][0]


def test_running_a_playbook_runs_arbitrary_tasks():
    label = label_one(
        "run_playbook",
        "Run an Ansible playbook against the inventory.",
        input_schema=schema(playbook={"type": "string"}),
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_a_plain_stop_is_a_write_but_forcing_a_stop_or_a_checkout_loses_state():
    """RUBRIC "Hard cases, settled": stop is a write; a forced stop that loses state is destructive."""
    stop = label_one(
        "stop_instance", "Stop a running instance.", input_schema=schema(instance_id={"type": "string"})
    )
    forced = label_one(
        "stop_instance",
        "Stop a running instance.",
        input_schema=schema(instance_id={"type": "string"}, force={"type": "boolean"}),
    )
    checkout = label_one(
        "git_checkout",
        "Switch branches or restore working tree files.",
        input_schema=schema(target={"type": "string"}, force={"type": "boolean"}),
    )
    assert stop["category"] == "write"
    assert forced["category"] == "destructive"
    assert "its 'force' parameter forces the stop" in forced["reasons"][0]
    assert checkout["category"] == "destructive"
    assert "'force' parameter can overwrite" in checkout["reasons"][0]


def test_a_bare_query_tool_running_any_sql_is_destructive_but_a_read_query_is_read():
    sql = schema(query={"type": "string", "description": "SQL query to execute"})
    bare = label_one("query", "Execute a query on the DuckDB database", input_schema=sql)
    named_read = label_one("read_query", "Execute a SELECT query on the SQLite database", input_schema=sql)
    assert (bare["category"], bare["risk"]) == ("destructive", "critical")
    assert named_read["category"] == "read"


def test_shrinking_a_retention_period_discards_data_but_growing_it_is_a_write():
    shrink = label_one("decrease_stream_retention_period", "Decreases the retention period of a stream.")
    grow = label_one("increase_stream_retention_period", "Increases the retention period of a stream.")
    assert shrink["category"] == "destructive" and "discards data" in shrink["reasons"][0]
    assert grow["category"] == "write"


def test_accepting_rebooting_or_unpausing_is_a_write_whatever_the_hint():
    for name in ("accept_calendar_event", "reboot_instance", "unpause_vm", "prepend_value"):
        label = label_one(name, "", annotations={"destructiveHint": True})
        assert label["category"] == "write", name


def test_a_write_named_verb_whose_description_deletes_is_destructive():
    label = label_one("unwatch_topic", "Delete a saved topic watch and its state.")
    assert label["category"] == "destructive"
    assert "the description opens with 'delete'" in label["reasons"][0]


def test_a_leading_word_that_names_a_thing_yields_to_the_description():
    label = label_one("prometheus_label_values", "Get all values for a specific Prometheus label.")
    assert label["category"] == "read"


def test_a_write_whose_description_says_it_executes_ddl_is_destructive():
    label = label_one(
        "prepare_database_migration",
        "This tool performs database schema migrations by automatically generating and executing DDL statements.",
        input_schema=schema(params={"type": "object"}),
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_sql_parameters_are_recognised_by_their_last_word_not_any_word():
    runner = label_one(
        "apply_change", "Apply a change.", input_schema=schema(migrationSql={"type": "string"})
    )
    lookup = label_one(
        "search_traces", "Search traces.", input_schema=schema(sql_warehouse_id={"type": "string"})
    )
    assert runner["category"] == "destructive" and lookup["category"] == "read"


def test_read_only_that_is_only_one_of_two_modes_is_no_limit():
    label = label_one(
        "transact",
        "Execute SQL statements in a transaction. READ-ONLY MODE: only SELECT. READ-WRITE MODE: any DML or DDL.",
        input_schema=schema(sql_list={"type": "array"}, statement={"type": "string"}),
    )
    assert label["category"] == "destructive"


def test_a_method_enum_with_a_compound_delete_value_is_destructive():
    label = label_one(
        "manage_board",
        "Manage a board.",
        input_schema=schema(method={"type": "string", "enum": ["add_item", "update_item", "delete_item"]}),
    )
    assert label["category"] == "destructive"
    assert "accepts 'delete_item'" in label["reasons"][0]


@pytest.mark.parametrize("name", ["lpop", "json_arrtrim", "flushdb", "pop_stash"])
def test_redis_style_pops_trims_and_flushes_remove_data(name: str):
    assert label_one(name, "")["category"] == "destructive"


def test_restoring_from_a_backup_named_in_the_description_overwrites():
    label = label_one("restore_droplet", "Restore a droplet from a backup or snapshot.")
    assert label["category"] == "destructive"


def test_applying_a_planned_run_can_destroy_what_it_manages():
    label = label_one("apply_run", "Apply a run that has been planned.")
    assert label["category"] == "destructive"
    assert "applying a planned run" in label["reasons"][0]


def test_sending_input_to_a_terminal_runs_any_command():
    label = label_one(
        "interact_with_process",
        "Send input to an existing terminal or REPL process and return the new output.",
        input_schema=schema(pid={"type": "integer"}, input={"type": "string"}),
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_a_create_whose_description_purchases_moves_money():
    label = label_one("create_incoming_phone_number", "Purchase a phone number for the account.")
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_an_execute_after_the_first_verb_still_runs_the_code():
    label = label_one("insert_execute_code_cell", "Insert a cell and run it.")
    assert label["category"] == "destructive"
    assert "verb 'execute'" in label["reasons"][0]


def test_a_write_whose_description_lists_a_delete_among_its_operations_is_destructive():
    label = label_one("all_api_write", "Execute GraphQL mutations to create, update, or delete data.")
    assert label["category"] == "destructive"


def test_a_read_whose_method_parameter_allows_delete_is_destructive():
    label = label_one(
        "GenericOpenSearchApiTool",
        "A flexible tool for calling any OpenSearch API endpoint.",
        input_schema=schema(method={"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]}),
    )
    assert label["category"] == "destructive"


def test_a_camel_case_local_path_makes_a_download_a_write():
    label = label_one(
        "downloadFile",
        "Download a Drive file to a local path.",
        input_schema=schema(fileId={"type": "string"}, localPath={"type": "string"}),
    )
    assert label["category"] == "write"


def test_a_mongodb_aggregation_pipeline_can_write():
    label = label_one(
        "aggregate",
        "Run an aggregation against a MongoDB collection.",
        input_schema=schema(collection={"type": "string"}, pipeline={"type": "array"}),
        annotations={"readOnlyHint": True},
    )
    assert label["category"] == "destructive"


def test_sql_read_only_only_as_the_default_mode_is_no_limit():
    label = label_one(
        "execute_query",
        "Execute one SQL statement. Read-only (default): the statement runs in a read-only transaction.",
        input_schema=schema(
            sql={"type": "string", "description": "Whether writes are permitted is fixed by the server."}
        ),
    )
    assert label["category"] == "destructive"


def test_an_update_that_removes_the_line_items_it_is_not_given_is_destructive():
    label = label_one(
        "update_invoice",
        "Update a draft invoice. All line items must be provided. Any line items not provided will be removed.",
    )
    assert label["category"] == "destructive"


def test_a_deprecation_notice_is_no_removal():
    label = label_one(
        "trigger_pipeline",
        "Trigger a pipeline. template_id is deprecated and will be removed in a future version.",
    )
    assert label["category"] == "write"


def test_an_adjustment_made_to_refund_moves_money():
    label = label_one(
        "create_adjustment", "Create an adjustment to refund or credit all or part of a transaction."
    )
    assert (label["category"], label["risk"]) == ("destructive", "critical")


def test_a_list_of_operations_with_and_deleting_is_destructive():
    label = label_one("batch_update_form", "Apply batch updates: adding, updating, and deleting form items.")
    assert label["category"] == "destructive"


def test_a_conversion_the_description_calls_irreversible_is_destructive():
    label = label_one("convert_vm_to_template", "Convert a VM into a template (irreversible).")
    assert label["category"] == "destructive"


def test_sql_read_only_only_if_the_operator_sets_it_is_no_limit():
    label = label_one(
        "query",
        "Execute a SQL query. Writes are blocked if the server is read-only.",
        input_schema=schema(sql={"type": "string"}),
    )
    enforced = label_one(
        "run_query",
        "Run a SQL query. This server is in READ-ONLY mode. Only SELECT queries are permitted.",
        input_schema=schema(sql={"type": "string"}),
    )
    conditional = label_one(
        "run_sql",
        "Execute a SQL query. In read-only mode, INSERT and UPDATE are rejected.",
        input_schema=schema(sql={"type": "string"}),
    )
    assert label["category"] == "destructive" and enforced["category"] == "read"
    assert conditional["category"] == "destructive"


def jsonl_of(rows: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def seed_rows_as_servers(copies: int) -> list[dict]:
    rows = [json.loads(line) for line in (classifier.DATA_DIR / "seed.jsonl").read_text().splitlines()]
    return [{**r, "server": f"copy{i}:{r['server']}"} for i in range(copies) for r in rows]


@pytest.mark.parametrize("workers", [1, 2])
def test_streaming_in_batches_gives_the_labels_of_one_whole_call_in_input_order(workers: int):
    import io

    from classifier import stream

    rows = sorted(seed_rows_as_servers(3), key=lambda r: r["server"])
    out = io.BytesIO()
    summary = stream.label_stream(
        jsonl_of(rows).splitlines(keepends=True), out, batch_rows=40, workers=workers, parallel_min_rows=100
    )
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    expected = classifier.classify(rows)
    assert [w["name"] for w in written] == [r["name"] for r in rows]
    assert [{k: w[k] for k in stream.LABEL_KEYS} for w in written] == [
        {k: e[k] for k in stream.LABEL_KEYS} for e in expected
    ]
    assert (
        summary.batches > 3 and summary.split_servers == 0 and summary.workers == (2 if workers == 2 else 0)
    )


def test_catalog_classify_streams_jsonl_and_says_when_servers_are_interleaved(tmp_path: Path):
    import subprocess
    import sys

    rows = seed_rows_as_servers(1)
    path = tmp_path / "tools.jsonl"
    path.write_bytes(jsonl_of(rows))
    command = [sys.executable, "-m", "catalog.cli", "classify", "--input", str(path)]
    done = subprocess.run(command, capture_output=True, check=True)
    written = [json.loads(line) for line in done.stdout.splitlines()]
    assert [w["category"] for w in written] == [label["category"] for label in classifier.classify(rows)]
    assert done.stderr == b""
    # a server that comes back after its batch was written: labelled, with a warning (one line)
    spread = [{"server": "a", "name": f"get_{i}"} for i in range(3000)] + [{"server": "b", "name": "x"}]
    path.write_bytes(jsonl_of(spread + [{"server": "a", "name": "delete_everything"}]))
    done = subprocess.run(command, capture_output=True, check=True)
    assert len(done.stdout.splitlines()) == 3002
    assert b"1 servers' tools were not together" in done.stderr and done.stderr.count(b"\n") == 1


def test_catalog_classify_rejects_a_bad_line_with_one_clear_line_and_exit_2(tmp_path: Path):
    import subprocess
    import sys

    path = tmp_path / "tools.jsonl"
    path.write_text('{"server": "s", "name": "get_x"}\n{"name": \n')
    command = [sys.executable, "-m", "catalog.cli", "classify", "--input", str(path)]
    done = subprocess.run(command, capture_output=True)
    assert done.returncode == 2
    assert f"{path}:2: not valid JSON" in done.stderr.decode() and b"Traceback" not in done.stderr
    path.write_text('["not", "an", "object"]\n')
    done = subprocess.run(command, capture_output=True)
    assert done.returncode == 2 and b"must be an object with a string 'name'" in done.stderr


def test_catalog_train_ends_with_a_readable_summary(tmp_path: Path):
    import subprocess
    import sys

    pytest.importorskip("sklearn")
    data = tiny_data_dir(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-m", "catalog.cli", "train", "--data", str(data), "--out", str(tmp_path / "m.npz")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "trained on 126 tools" in done.stdout
    assert "leave-servers-out CV" in done.stdout and "destructive recall" in done.stdout
    assert "CV confusion" in done.stdout and "{" not in done.stdout  # words and a table, not a dict dump
