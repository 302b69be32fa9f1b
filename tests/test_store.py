"""The store on real SQLite files: transactions, history, overrides, search, corrupt files."""

from __future__ import annotations

import sqlite3

import pytest

from catalog.models import CatalogError, Classification, CrawlResult, ServerRef, Tool
from catalog.store import Store

SERVER = ServerRef("acme/models", "acme/models", "github")


def listing(*tools: Tool, status: str = "ok") -> CrawlResult:
    return CrawlResult(server=SERVER, method="static", route="test", tools=list(tools), status=status)


def get_run(description: str = "Get a run by id.") -> Tool:
    schema = {"type": "object", "properties": {"run_id": {"type": "string"}}, "required": ["run_id"]}
    return Tool("get_run", description, schema, {"readOnlyHint": True})


def delete_run() -> Tool:
    return Tool("delete_run", "Delete a run permanently.", {"type": "object", "properties": {}})


def table_counts(store: Store) -> dict[str, int]:
    return {name: store.db[name].count for name in ("servers", "tools", "tool_versions", "classifications")}


def test_recrawling_an_unchanged_server_changes_only_the_crawl_log(tmp_path):
    store = Store(tmp_path / "c.db")
    labels = {"get_run": Classification("read", "low", 0.95, ["verb 'get' in the name"], "v1")}
    store.save_crawl(listing(get_run(), delete_run()), labels)
    before = (table_counts(store), list(store.db["tools"].rows), list(store.db["classifications"].rows))
    store.save_crawl(listing(get_run(), delete_run()), labels)
    after = (table_counts(store), list(store.db["tools"].rows), list(store.db["classifications"].rows))
    assert before == after
    assert store.db["crawls"].count == 2


def test_changed_description_is_kept_as_a_new_version(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()))
    store.save_crawl(listing(get_run("Get a run by id. Now also deletes stale runs.")))
    versions = store.tool_versions(SERVER.id, "get_run")
    assert [v["description"] for v in versions] == ["Get a run by id.", "Get a run by id. Now also deletes stale runs."]
    assert store.tools(SERVER.id)[0].description.endswith("stale runs.")


def test_failed_crawl_is_recorded_and_keeps_the_previous_tools(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run(), delete_run()))
    failed = CrawlResult(server=SERVER, method="live", route="test", status="failed", error="server exited",
                         error_kind="crash")
    store.save_crawl(failed)
    assert [t.name for t in store.tools(SERVER.id)] == ["delete_run", "get_run"]
    assert store.crawls(SERVER.id)[0]["status"] == "failed"
    assert store.crawls(SERVER.id)[0]["error_kind"] == "crash"


def test_tool_missing_from_a_full_listing_is_marked_removed_but_kept_in_history(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run(), delete_run()))
    store.save_crawl(listing(get_run()))
    assert [t.name for t in store.tools(SERVER.id)] == ["get_run"]
    assert store.db["tools"].count == 2
    assert store.tool_versions(SERVER.id, "delete_run")


def test_partial_listing_does_not_remove_tools_it_could_not_read(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run(), delete_run()))
    store.save_crawl(listing(get_run(), status="partial"))
    assert {t.name for t in store.tools(SERVER.id)} == {"get_run", "delete_run"}


def test_crawl_is_one_transaction(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()))
    broken = listing(get_run("changed"), delete_run())
    labels = {"delete_run": Classification("destructive", "high", 0.9, ["x"], "v1")}
    store.db.execute("CREATE TRIGGER refuse_labels BEFORE INSERT ON classifications BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.DatabaseError):
        store.save_crawl(broken, labels)
    assert [t.name for t in store.tools(SERVER.id)] == ["get_run"]
    assert store.tools(SERVER.id)[0].description == "Get a run by id."
    assert store.db["crawls"].count == 1


def test_unicode_and_long_descriptions_round_trip_exactly(tmp_path):
    store = Store(tmp_path / "c.db")
    text = "Résumé ✓ 日本語 🚀\n  indented\r\n" + "x" * 10_000
    store.save_crawl(listing(Tool("ünïcode_tool", text, {"type": "object"}, {"title": "Ü", "customHint": 3})))
    got = store.tools(SERVER.id)[0]
    assert got.name == "ünïcode_tool" and got.description == text
    assert got.annotations == {"title": "Ü", "customHint": 3}


def test_override_survives_reclassification_and_wins(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()), {"get_run": Classification("read", "low", 0.9, ["r"], "v1")})
    store.set_override(SERVER.id, "get_run", "write", "it records an access log entry")
    store.save_crawl(listing(get_run()), {"get_run": Classification("read", "low", 0.8, ["r"], "v2")})
    labelled = store.labelled_tools(SERVER.id)[0]
    assert labelled.category == "write" and labelled.risk == "medium"
    assert labelled.classification.version == "v2"
    assert "access log" in labelled.top_reason()


def test_override_of_unknown_tool_is_a_clear_error(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()))
    with pytest.raises(CatalogError, match="no tool 'nope'"):
        store.set_override(SERVER.id, "nope", "read", "x")


def test_search_finds_words_and_filters_by_category(tmp_path):
    store = Store(tmp_path / "c.db")
    labels = {"get_run": Classification("read", "low", 0.9, [], "v"),
              "delete_run": Classification("destructive", "high", 0.9, [], "v")}
    store.save_crawl(listing(get_run(), delete_run()), labels)
    assert [r["name"] for r in store.search("run")] and len(list(store.search("run"))) == 2
    assert [r["name"] for r in store.search("run", category="destructive")] == ["delete_run"]
    assert [r["name"] for r in store.search('perman" OR (')] == []


def test_corrupt_database_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CatalogError, match="cannot open catalog database"):
        Store(path)


def test_newer_schema_is_refused_with_a_message(tmp_path):
    path = tmp_path / "c.db"
    Store(path).db.execute("PRAGMA user_version = 99")
    with pytest.raises(CatalogError, match="newer mcp-catalog"):
        Store(path)


def test_catalog_summary_orders_riskiest_first(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()), {"get_run": Classification("read", "low", 0.9, [], "v")})
    other = CrawlResult(ServerRef("pypi:danger", "pypi:danger", "pypi"), "static", "t", [delete_run()])
    store.save_crawl(other, {"delete_run": Classification("destructive", "critical", 0.9, [], "v")})
    rows = store.catalog_summary()
    assert [r["id"] for r in rows] == ["pypi:danger", "acme/models"]
    assert rows[0]["riskiest"] == "critical" and rows[0]["destructive"] == 1


def test_search_and_summary_use_the_risk_a_reviewer_override_implies(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()), {"get_run": Classification("read", "low", 0.9, [], "v")})
    store.set_override(SERVER.id, "get_run", "destructive", "it also purges old runs")
    assert [r["name"] for r in store.search("run", risk="high")] == ["get_run"]
    assert list(store.search("run", risk="low")) == []
    assert store.catalog_summary()[0]["riskiest"] == "high"
    store.set_override(SERVER.id, "get_run", "destructive", "bulk purge", risk="critical")
    assert store.catalog_summary()[0]["critical"] == 1


def key_tool() -> Tool:
    return Tool("update_api_key_permissions", "Change which scopes an API key grants.", {"type": "object"})


def test_confirming_the_classifiers_category_keeps_its_critical_risk(tmp_path):
    store = Store(tmp_path / "c.db")
    label = Classification("write", "critical", 0.9, ["credential or permission change"], "v")
    store.save_crawl(listing(key_tool()), {"update_api_key_permissions": label})
    store.set_override(SERVER.id, "update_api_key_permissions", "write", "yes, it changes permissions")
    [labelled] = store.labelled_tools(SERVER.id)
    assert (labelled.category, labelled.risk) == ("write", "critical")
    [row] = store.search("permissions")
    assert (row["effective_category"], row["effective_risk"]) == ("write", "critical")
    assert store.catalog_summary()[0]["critical"] == 1


@pytest.mark.parametrize(
    ("classifier", "override", "expected"),
    [
        (("destructive", "critical"), ("read", None), ("read", "critical")),  # never silently lowered
        (("destructive", "critical"), ("read", "low"), ("read", "low")),  # an explicit --risk wins
        (("read", "low"), ("write", None), ("write", "medium")),  # raised to the rubric's floor
        (("read", "medium"), ("destructive", None), ("destructive", "high")),
        (("write", "high"), ("write", None), ("write", "high")),
        (None, ("read", None), ("read", "high")),  # not classified yet: destructive / high until reviewed
    ],
)
def test_the_view_and_labelled_tool_give_the_same_effective_label(tmp_path, classifier, override, expected):
    store = Store(tmp_path / "c.db")
    labels = {"get_run": Classification(*classifier, 0.9, ["r"], "v")} if classifier else None
    store.save_crawl(listing(get_run()), labels)
    store.set_override(SERVER.id, "get_run", override[0], "reviewed", risk=override[1])
    [labelled] = store.labelled_tools(SERVER.id)
    [row] = store.db.query("SELECT category, risk FROM labelled_tools")
    assert (labelled.category, labelled.risk) == expected == (row["category"], row["risk"])


def test_an_old_database_gets_the_view_and_the_index_triggers_back(tmp_path):
    store = Store(tmp_path / "c.db")
    store.save_crawl(listing(get_run()))
    store.db.execute("DROP VIEW labelled_tools")
    store.db.execute("DROP TRIGGER tools_ai")
    store.db.conn.commit()
    store.db.execute("INSERT INTO tools (server_id, name, description) VALUES ('acme/models', 'x', 'purge all')")
    store.db.conn.commit()
    store.close()
    reopened = Store(tmp_path / "c.db")
    assert [r["name"] for r in reopened.search("purge")] == ["x"]
    assert reopened.db["labelled_tools"].count == 2


def test_catalog_label_confirming_a_critical_write_keeps_it_hidden_and_denied_in_the_policy(tmp_path):
    import json

    from tests.test_cli import run

    store = Store(tmp_path / "catalog.db")
    label = Classification("write", "critical", 0.9, ["credential or permission change"], "v")
    store.save_crawl(listing(key_tool(), get_run()), {"update_api_key_permissions": label,
                                                       "get_run": Classification("read", "low", 0.9, [], "v")})
    store.close()
    done = run(tmp_path, "label", SERVER.id, "update_api_key_permissions", "write", "--note", "confirmed")
    assert done.returncode == 0, done.stderr
    assert "write / critical" in done.stdout
    done = run(tmp_path, "policy", SERVER.id, "--format", "policylayer")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["hide"] == ["update_api_key_permissions"]
    assert document["tools"]["update_api_key_permissions"]["deny_if"][0]["conditions"] == []


def test_four_processes_crawling_into_one_database_all_land(tmp_path):
    """4 `catalog crawl` processes x 10 static crawls each into one file: 40 crawls stored, no error."""
    import json
    import os
    import subprocess

    from tests.test_cli import PY

    commands = []
    for worker in range(4):
        files = []
        for index in range(10):
            path = tmp_path / f"w{worker}-s{index}.json"
            tools = [{"name": f"get_item_{n}", "description": f"Get item {n} of set {worker}-{index}.",
                      "inputSchema": {"type": "object"}} for n in range(5)]
            tools.append({"name": "delete_items", "description": "Delete every item of the set."})
            path.write_text(json.dumps({"tools": tools}))
            files.append(str(path))
        commands.append([PY, "-m", "catalog.cli", "crawl", *files, "--json"])
    env = {**os.environ, "CATALOG_DB": str(tmp_path / "catalog.db"), "CATALOG_CACHE": str(tmp_path / "cache")}
    env.pop("CATALOG_DEBUG", None)
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL) for c in commands]
    outputs = [p.communicate(timeout=1800) for p in processes]  # generous: a CPU hog must not fail it
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "locked" not in err and "internal error" not in err, err
        assert [row["status"] for row in json.loads(out)] == ["ok"] * 10
    store = Store(tmp_path / "catalog.db")
    assert store.db["crawls"].count == 40
    assert {row["status"] for row in store.db["crawls"].rows} == {"ok"}
    assert store.db["servers"].count == 40 and store.db["tools"].count == 240
    assert store.db["classifications"].count == 240
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


TIME_COLUMNS = {"first_seen", "changed_at", "removed_at", "started_at", "finished_at", "duration_ms",
                "classified_at", "at"}


def content(store: Store) -> dict[str, list]:
    """Every row of every table, times reduced to whether they are set, in a stable order."""
    tables = ("servers", "crawls", "tools", "tool_versions", "classifications", "prompts", "resources")
    out = {}
    for table in tables:
        rows = [{k: (v is not None) if k in TIME_COLUMNS else v for k, v in row.items()}
                for row in store.db[table].rows]
        out[table] = sorted(rows, key=lambda r: json_key(r))
    return out


def json_key(row: dict) -> str:
    import json

    return json.dumps(row, sort_keys=True, default=str)


def crawl_history() -> list:
    from catalog.models import Prompt, Resource
    from catalog.store import PendingCrawl

    history = []
    for round_ in range(3):
        for index in range(5):
            ref = ServerRef(f"pypi:pkg-{index}", f"pypi:pkg-{index}", "pypi")
            tools = [Tool(f"get_thing_{n}", f"Get thing {n}, round {round_ if n == index else 0}.",
                          {"type": "object"}) for n in range(4)]
            if round_ == 1 and index % 2:
                tools = tools[:2]  # two tools removed
            status = "partial" if round_ == 2 and index == 3 else "ok"
            result = CrawlResult(ref, "static", "r", tools, status=status,
                                 prompts=[Prompt("p", "a prompt", [])], resources=[Resource(f"res://{round_}")])
            if round_ == 2 and index == 4:
                result = CrawlResult(ref, "live", "r", status="failed", error="boom", error_kind="crash")
            labels = {t.name: Classification("read", "low", 0.81234567, ["verb"], f"v{round_ // 2}")
                      for t in tools}
            history.append(PendingCrawl(result, labels if index != 2 else None))
    return history


def test_bulk_storage_writes_the_same_database_as_crawl_by_crawl(tmp_path):
    one_by_one = Store(tmp_path / "a.db")
    for pending in crawl_history():
        one_by_one.save_crawl(pending.result, pending.classifications)
    bulk = Store(tmp_path / "b.db")
    with bulk.bulk_load():
        ids = bulk.save_crawls(crawl_history(), batch_size=4)
        assert not bulk.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'tools_ai'").fetchone()
    assert ids == list(range(1, 16))
    assert content(bulk) == content(one_by_one)
    assert bulk.db["tools"].count == 20 and bulk.db["crawls"].count == 15
    for query in ("thing", "round 2", "get_thing_3"):
        assert list(bulk.search(query)) == list(one_by_one.search(query))
    bulk.db.execute("INSERT INTO tools_fts(tools_fts) VALUES ('integrity-check')")
    # the index triggers are back after the bulk block
    bulk.save_crawl(listing(Tool("purge_all", "Purge everything.")))
    assert [r["name"] for r in bulk.search("purge")] == ["purge_all"]


def test_a_failing_bulk_batch_leaves_earlier_batches_and_the_index_whole(tmp_path):
    store = Store(tmp_path / "c.db")
    store.db.execute("CREATE TRIGGER refuse BEFORE INSERT ON tool_versions WHEN new.description LIKE "
                     "'%round 1.' BEGIN SELECT RAISE(ABORT, 'boom'); END")  # the 7th crawl, in the 2nd batch
    with pytest.raises(sqlite3.DatabaseError, match="boom"), store.bulk_load():
        store.save_crawls(crawl_history(), batch_size=5)
    assert store.db["crawls"].count == 5
    assert len(list(store.search("thing"))) == 20
