"""The signals issue 11 found missing: each labels a real-looking tool destructive and names its reason."""

from __future__ import annotations

import classifier
from classifier.features import build_features


def label_one(name: str, description: str = "", server: str = "test:signals", **extra) -> dict:
    return classifier.classify([{"server": server, "name": name, "description": description, **extra}])[0]


def schema(defs: dict | None = None, **properties: dict) -> dict:
    found: dict = {"type": "object", "properties": properties}
    if defs:
        found["$defs"] = defs
    return found


def said(label: dict, reason: str) -> bool:
    return any(reason in r for r in label["reasons"])


def test_the_schema_walk_finds_enums_and_defaults_through_refs_anyof_and_array_items():
    defs = {
        "Change": {
            "type": "object",
            "properties": {"op": {"anyOf": [{"enum": ["set", "rm"]}, {"type": "null"}]}},
        },
        "Mode": {"enum": ["append", "overwrite"]},
    }
    tool = {
        "server": "s",
        "name": "apply_changes",
        "input_schema": schema(
            defs=defs,
            changes={"type": "array", "items": {"$ref": "#/$defs/Change"}},
            mode={"anyOf": [{"$ref": "#/$defs/Mode"}, {"type": "null"}], "default": "append"},
        ),
    }
    feature = build_features([tool])[0]
    mode = next(p for p in feature.params if p.name == "mode")
    assert (mode.enum, mode.default) == (("append", "overwrite"), "append")
    nested = {p.path: p.enum for p in feature.nested_params}
    assert nested == {"changes[].op": ("set", "rm")}


def test_a_nested_operation_enum_with_delete_is_destructive():
    label = label_one(
        "update_edge_config_items",
        "Update the items of an Edge Config in one request.",
        input_schema=schema(
            edgeConfigId={"type": "string"},
            items={
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "operation": {"type": "string", "enum": ["create", "update", "upsert", "delete"]},
                        "key": {"type": "string"},
                        "value": {},
                    },
                },
            },
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "its nested 'items[].operation' parameter accepts 'delete'")


def test_a_camel_case_action_enum_reached_through_a_ref_is_destructive():
    label = label_one(
        "manageFunctions",
        "Manage cloud functions of the environment.",
        input_schema=schema(
            defs={
                "Action": {
                    "type": "string",
                    "enum": ["createFunction", "updateFunctionConfig", "deleteFunction"],
                }
            },
            action={"$ref": "#/$defs/Action"},
            name={"type": "string"},
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'action' parameter accepts 'deleteFunction'")


def test_a_destructive_default_counts_without_an_enum():
    label = label_one(
        "sync_bucket",
        "Sync a local folder with a bucket prefix.",
        input_schema=schema(
            source={"type": "string"},
            bucket={"type": "string"},
            mode={"type": "string", "default": "overwrite"},
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'mode' parameter defaults to 'overwrite'")


def test_a_signal_enum_that_accepts_kill_is_destructive():
    label = label_one(
        "signal-process",
        "Send a signal to a remote process by pid.",
        input_schema=schema(
            pid={"type": "integer"}, signal={"type": "string", "enum": ["INT", "TERM", "KILL"]}
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'signal' parameter accepts")


def test_upsert_by_a_caller_given_key_is_destructive():
    label = label_one(
        "upsert_budget",
        "Create or update a budget for a category and budget period.",
        input_schema=schema(
            category_id={"type": "integer"}, start_date={"type": "string"}, amount={"type": "number"}
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "an upsert by caller-given key overwrites")


def test_replacing_all_rows_of_a_table_is_destructive():
    label = label_one(
        "load_table_csv",
        "Load a CSV file into a table. This replaces all data in the table with the rows of the file.",
        input_schema=schema(table_id={"type": "integer"}, csv={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "the description says 'replaces all data")


def test_a_whole_configuration_created_or_replaced_is_destructive():
    label = label_one(
        "update_firewall",
        "Create or replace the firewall configuration of a project.",
        input_schema=schema(projectId={"type": "string"}, firewall={"type": "object"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "the description says 'create or replace the firewall configuration'")


def test_setting_a_member_list_to_exactly_the_given_one_is_destructive():
    label = label_one(
        "set_group_members",
        "Set the members of a group to exactly the given list of user ids.",
        input_schema=schema(
            group_id={"type": "string"}, user_ids={"type": "array", "items": {"type": "string"}}
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "the description says 'set the members of a group to exactly'")


def test_wiping_the_device_is_destructive():
    label = label_one(
        "reset_test_device",
        "Wipes the simulator: apps, settings and data are erased.",
        input_schema=schema(device_id={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "'wipes'") or said(label, "verb 'reset'")


def test_a_load_that_clears_memory_by_default_is_destructive():
    label = label_one(
        "load_dataset",
        "Load a dataset file into the running session.",
        input_schema=schema(path={"type": "string"}, clear={"type": "boolean", "default": True}),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'clear' parameter defaults to true")


def test_a_shutdown_with_a_force_stop_flag_is_destructive():
    label = label_one(
        "shutdown_vm",
        "Gracefully shut down a VM via ACPI. Falls back to a hard stop after the timeout if force_stop is true.",
        input_schema=schema(
            node={"type": "string"}, vmid={"type": "integer"}, force_stop={"type": "boolean"}
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'force_stop' parameter forces the stop")


def test_a_query_cancel_that_can_terminate_the_backend_is_destructive():
    label = label_one(
        "cancel_query",
        "Cancel a running query by its process id.",
        input_schema=schema(pid={"type": "integer"}, terminate={"type": "boolean"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "its 'terminate' parameter forces the stop")


def test_powering_off_a_machine_is_destructive():
    label = label_one(
        "power_off_vm",
        "Power off the specified virtual machine.",
        input_schema=schema(vm_name={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "a power-off cuts the machine off at once")


def test_running_a_caller_chosen_image_is_destructive():
    label = label_one(
        "docker-run",
        "Run a Docker container with the specified options.",
        input_schema=schema(imageName={"type": "string"}, options={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "a caller-chosen 'imageName'")


def test_updating_the_code_of_an_action_is_destructive():
    label = label_one(
        "update_action",
        "Update an existing login-flow action.",
        input_schema=schema(id={"type": "string"}, code={"type": "string"}, runtime={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "puts caller code ('code') into a 'action'")


def test_deploying_is_destructive_and_a_deploy_guide_stays_read():
    label = label_one(
        "deploy_local_folder",
        "Deploy a local folder to Cloud Run as a new revision of the service.",
        input_schema=schema(folderPath={"type": "string"}, service={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "verb 'deploy' ships code or a configuration live")
    guide = label_one("deploy_iac_rules_get", "Get the rules for writing infrastructure as code.")
    assert guide["category"] != "destructive"


def test_graphql_that_allows_mutations_is_destructive_unless_they_are_refused():
    label = label_one(
        "run_graphql",
        "Run a GraphQL query or mutation against the connected org.",
        input_schema=schema(query={"type": "string"}, variables={"type": "object"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "takes a GraphQL document and the description allows mutations")
    refused = label_one(
        "query_graphql",
        "Send a GraphQL query to the endpoint. Mutations are disabled.",
        input_schema=schema(query={"type": "string"}),
    )
    assert refused["category"] == "read"


def test_explain_analyze_is_destructive_and_plain_explain_is_read():
    label = label_one(
        "explain_query",
        "Show the execution plan of a SQL query. With analyze, the query is run to collect timings.",
        input_schema=schema(sql={"type": "string"}, analyze={"type": "boolean"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "EXPLAIN ANALYZE (its 'analyze' parameter) executes the caller's statement")
    plain = label_one(
        "explain_query",
        "Show the execution plan of a SQL query.",
        input_schema=schema(sql={"type": "string"}),
    )
    assert plain["category"] == "read"


def test_putting_a_whole_object_at_a_caller_key_is_destructive_unless_it_refuses_to_overwrite():
    label = label_one(
        "r2_put_object",
        "Upload an object into an R2 bucket under the given key.",
        input_schema=schema(bucket={"type": "string"}, key={"type": "string"}, content={"type": "string"}),
    )
    assert label["category"] == "destructive"
    assert said(label, "verb 'put' on a whole 'object' at a caller-given key or path")
    safe = label_one(
        "put_object",
        "Upload an object under a new key; fails if the object exists.",
        input_schema=schema(bucket={"type": "string"}, key={"type": "string"}, content={"type": "string"}),
    )
    assert safe["category"] == "write"


def test_setting_the_groups_of_a_collection_is_destructive():
    label = label_one(
        "update_org_collection",
        "Update a collection",
        input_schema=schema(
            collectionId={"type": "string"},
            groups={"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
        ),
    )
    assert label["category"] == "destructive"
    assert said(label, "sets its 'groups' list to exactly the given one")


def test_moving_a_message_to_the_trash_is_a_destructive_soft_delete():
    label = label_one(
        "trash_thread", "Move a thread to the trash.", input_schema=schema(threadId={"type": "string"})
    )
    assert label["category"] == "destructive"
    assert said(label, "a soft delete, the trash may not be kept")


def test_a_webhooks_nested_event_type_delete_is_not_an_action():
    label = label_one(
        "create_webhook",
        "Create a webhook that posts repository events to a URL.",
        input_schema=schema(
            url={"type": "string"},
            events={
                "type": "array",
                "items": {"type": "object", "properties": {"type": {"enum": ["push", "create", "delete"]}}},
            },
        ),
    )
    assert label["category"] == "write"
