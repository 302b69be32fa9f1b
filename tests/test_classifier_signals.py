"""The signals issue 11 found missing: each labels a real-looking tool destructive and names its reason."""

from __future__ import annotations

import pytest

import classifier
from classifier.features import build_features


def tool(name: str, description: str = "", server: str = "test:signals", **extra) -> dict:
    return {"server": server, "name": name, "description": description, **extra}


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


def test_valued_params_are_the_parameters_at_any_depth_that_carry_an_enum_or_a_default():
    """The walk that builds only valued parameters keeps the same ones, in the same order, as all_params,
    the cap on nested parameters included."""
    many = {f"p{i}": {"type": "string", **({"enum": ["a", "b"]} if i % 7 == 0 else {})} for i in range(260)}
    tools = [
        tool(
            "bulk_edit",
            input_schema=schema(items={"type": "array", "items": {"type": "object", "properties": many}}),
        ),
        tool(
            "set_mode",
            input_schema=schema(
                mode={"enum": ["on", "off"]},
                options={
                    "type": "object",
                    "properties": {"force": {"type": "boolean", "default": True}, "note": {"type": "string"}},
                },
            ),
        ),
        tool("plain", input_schema=schema(name={"type": "string"})),
    ]
    for one in tools:
        built_all, built_valued = build_features([one])[0], build_features([one])[0]
        expected = [p for p in built_all.all_params if p.enum or p.default is not None]
        assert built_valued.valued_params == expected
    capped = build_features([tools[0]])[0]
    assert len(capped.nested_params) == 200 and 0 < len(capped.valued_params) < 200
    assert [p.name for p in build_features([tools[1]])[0].valued_params] == ["mode", "force"]


# One real-looking tool per signal (and the counter-cases that must not fire): its category, and the reason
# the label must name (any one of several, where two rules may both explain it; none for counter-cases).
CASES = [
    pytest.param(
        tool(
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
        ),
        "destructive",
        ("its nested 'items[].operation' parameter accepts 'delete'",),
        id="a_nested_operation_enum_with_delete_is_destructive",
    ),
    pytest.param(
        tool(
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
        ),
        "destructive",
        ("its 'action' parameter accepts 'deleteFunction'",),
        id="a_camel_case_action_enum_reached_through_a_ref_is_destructive",
    ),
    pytest.param(
        tool(
            "sync_bucket",
            "Sync a local folder with a bucket prefix.",
            input_schema=schema(
                source={"type": "string"},
                bucket={"type": "string"},
                mode={"type": "string", "default": "overwrite"},
            ),
        ),
        "destructive",
        ("its 'mode' parameter defaults to 'overwrite'",),
        id="a_destructive_default_counts_without_an_enum",
    ),
    pytest.param(
        tool(
            "signal-process",
            "Send a signal to a remote process by pid.",
            input_schema=schema(
                pid={"type": "integer"}, signal={"type": "string", "enum": ["INT", "TERM", "KILL"]}
            ),
        ),
        "destructive",
        ("its 'signal' parameter accepts",),
        id="a_signal_enum_that_accepts_kill_is_destructive",
    ),
    pytest.param(
        tool(
            "upsert_budget",
            "Create or update a budget for a category and budget period.",
            input_schema=schema(
                category_id={"type": "integer"}, start_date={"type": "string"}, amount={"type": "number"}
            ),
        ),
        "destructive",
        ("an upsert by caller-given key overwrites",),
        id="upsert_by_a_caller_given_key_is_destructive",
    ),
    pytest.param(
        tool(
            "load_table_csv",
            "Load a CSV file into a table. This replaces all data in the table with the rows of the file.",
            input_schema=schema(table_id={"type": "integer"}, csv={"type": "string"}),
        ),
        "destructive",
        ("the description says 'replaces all data",),
        id="replacing_all_rows_of_a_table_is_destructive",
    ),
    pytest.param(
        tool(
            "update_firewall",
            "Create or replace the firewall configuration of a project.",
            input_schema=schema(projectId={"type": "string"}, firewall={"type": "object"}),
        ),
        "destructive",
        ("the description says 'create or replace the firewall configuration'",),
        id="a_whole_configuration_created_or_replaced_is_destructive",
    ),
    pytest.param(
        tool(
            "set_group_membership",
            "Set the members of a group to exactly the given list of user ids.",
            input_schema=schema(
                group_id={"type": "string"}, user_ids={"type": "array", "items": {"type": "string"}}
            ),
        ),
        "destructive",
        ("the description says 'set the members of a group to exactly'",),
        id="setting_a_member_list_to_exactly_the_given_one_is_destructive",
    ),
    pytest.param(
        tool(
            "reset_test_device",
            "Wipes the simulator: apps, settings and data are erased.",
            input_schema=schema(device_id={"type": "string"}),
        ),
        "destructive",
        ("'wipes'", "verb 'reset'"),
        id="wiping_the_device_is_destructive",
    ),
    pytest.param(
        tool(
            "load_dataset",
            "Load a dataset file into the running session.",
            input_schema=schema(path={"type": "string"}, clear={"type": "boolean", "default": True}),
        ),
        "destructive",
        ("its 'clear' parameter defaults to true",),
        id="a_load_that_clears_memory_by_default_is_destructive",
    ),
    pytest.param(
        tool(
            "shutdown_vm",
            "Gracefully shut down a VM via ACPI. Falls back to a hard stop after the timeout if force_stop is true.",
            input_schema=schema(
                node={"type": "string"}, vmid={"type": "integer"}, force_stop={"type": "boolean"}
            ),
        ),
        "destructive",
        ("its 'force_stop' parameter forces the stop",),
        id="a_shutdown_with_a_force_stop_flag_is_destructive",
    ),
    pytest.param(
        tool(
            "cancel_query",
            "Cancel a running query by its process id.",
            input_schema=schema(pid={"type": "integer"}, terminate={"type": "boolean"}),
        ),
        "destructive",
        ("its 'terminate' parameter forces the stop",),
        id="a_query_cancel_that_can_terminate_the_backend_is_destructive",
    ),
    pytest.param(
        tool(
            "power_off_vm",
            "Power off the specified virtual machine.",
            input_schema=schema(vm_name={"type": "string"}),
        ),
        "destructive",
        ("a power-off cuts the machine off at once",),
        id="powering_off_a_machine_is_destructive",
    ),
    pytest.param(
        tool(
            "docker-run",
            "Run a Docker container with the specified options.",
            input_schema=schema(imageName={"type": "string"}, options={"type": "string"}),
        ),
        "destructive",
        ("a caller-chosen 'imageName'",),
        id="running_a_caller_chosen_image_is_destructive",
    ),
    pytest.param(
        tool(
            "update_action",
            "Update an existing login-flow action.",
            input_schema=schema(id={"type": "string"}, code={"type": "string"}, runtime={"type": "string"}),
        ),
        "destructive",
        ("puts caller code ('code') into a 'action'",),
        id="updating_the_code_of_an_action_is_destructive",
    ),
    pytest.param(
        tool(
            "deploy_local_folder",
            "Deploy a local folder to Cloud Run as a new revision of the service.",
            input_schema=schema(folderPath={"type": "string"}, service={"type": "string"}),
        ),
        "destructive",
        ("verb 'deploy' ships code or a configuration live",),
        id="deploying_is_destructive_and_a_deploy_guide_stays_read",
    ),
    pytest.param(
        tool("deploy_iac_rules_get", "Get the rules for writing infrastructure as code."),
        "read",
        ("verb 'get' in the name",),
        id="deploying_is_destructive_and_a_deploy_guide_stays_read-guide",
    ),
    pytest.param(
        tool(
            "run_graphql",
            "Run a GraphQL query or mutation against the connected org.",
            input_schema=schema(query={"type": "string"}, variables={"type": "object"}),
        ),
        "destructive",
        ("takes a GraphQL document and the description allows mutations",),
        id="graphql_that_allows_mutations_is_destructive_unless_they_are_refused",
    ),
    pytest.param(
        tool(
            "query_graphql",
            "Send a GraphQL query to the endpoint. Mutations are disabled.",
            input_schema=schema(query={"type": "string"}),
        ),
        "read",
        (),
        id="graphql_that_allows_mutations_is_destructive_unless_they_are_refused-refused",
    ),
    pytest.param(
        tool(
            "explain_query",
            "Show the execution plan of a SQL query. With analyze, the query is run to collect timings.",
            input_schema=schema(sql={"type": "string"}, analyze={"type": "boolean"}),
        ),
        "destructive",
        ("EXPLAIN ANALYZE (its 'analyze' parameter) executes the caller's statement",),
        id="explain_analyze_is_destructive_and_plain_explain_is_read",
    ),
    pytest.param(
        tool(
            "explain_query",
            "Show the execution plan of a SQL query.",
            input_schema=schema(sql={"type": "string"}),
        ),
        "read",
        (),
        id="explain_analyze_is_destructive_and_plain_explain_is_read-plain",
    ),
    pytest.param(
        tool(
            "r2_put_object",
            "Upload an object into an R2 bucket under the given key.",
            input_schema=schema(
                bucket={"type": "string"}, key={"type": "string"}, content={"type": "string"}
            ),
        ),
        "destructive",
        ("verb 'put' on a whole 'object' at a caller-given key or path",),
        id="putting_a_whole_object_at_a_caller_key_is_destructive_unless_it_refuses_to_overwrite",
    ),
    pytest.param(
        tool(
            "put_object",
            "Upload an object under a new key; fails if the object exists.",
            input_schema=schema(
                bucket={"type": "string"}, key={"type": "string"}, content={"type": "string"}
            ),
        ),
        "write",
        (),
        id="putting_a_whole_object_at_a_caller_key_is_destructive_unless_it_refuses_to_overwrite-safe",
    ),
    pytest.param(
        tool(
            "update_org_collection",
            "Update a collection",
            input_schema=schema(
                collectionId={"type": "string"},
                groups={
                    "type": "array",
                    "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                },
            ),
        ),
        "destructive",
        ("sets its 'groups' list to exactly the given one",),
        id="setting_the_groups_of_a_collection_is_destructive",
    ),
    pytest.param(
        tool("trash_thread", "Move a thread to the trash.", input_schema=schema(threadId={"type": "string"})),
        "destructive",
        ("a soft delete, the trash may not be kept",),
        id="moving_a_message_to_the_trash_is_a_destructive_soft_delete",
    ),
    pytest.param(
        tool(
            "create_webhook",
            "Create a webhook that posts repository events to a URL.",
            input_schema=schema(
                url={"type": "string"},
                events={
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"type": {"enum": ["push", "create", "delete"]}},
                    },
                },
            ),
        ),
        "write",
        (),
        id="a_webhooks_nested_event_type_delete_is_not_an_action",
    ),
    pytest.param(
        tool(
            "batch_update_products",
            "Update several products in one call.",
            input_schema=schema(
                updates={"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}}}}
            ),
        ),
        "destructive",
        ("'batch' with verb 'update': the fields of many records are rewritten at once",),
        id="a_batch_update_of_records_is_a_destructive_bulk_update",
    ),
    pytest.param(
        tool(
            "batch_update_labels",
            "Add or change labels on several issues in one call.",
            input_schema=schema(issue_ids={"type": "array", "items": {"type": "string"}}),
        ),
        "write",
        (),
        id="a_batch_update_of_labels_is_a_write",
    ),
    pytest.param(
        tool(
            "cancel_subscription",
            "Cancel a customer's subscription.",
            input_schema=schema(subscription_id={"type": "string"}),
        ),
        "destructive",
        ("verb 'cancel' on 'subscription': cancelling it moves or forfeits money",),
        id="cancelling_a_subscription_is_money",
    ),
    pytest.param(
        tool(
            "create_zfs_pool",
            "Create a new ZFS pool on a node.",
            input_schema=schema(node={"type": "string"}, name={"type": "string"}, devices={"type": "string"}),
        ),
        "destructive",
        ("verb 'create' on the block device in 'devices': what the device held is erased",),
        id="creating_a_pool_on_block_devices_erases_them",
    ),
    pytest.param(
        tool(
            "create_zfs_dataset",
            "Create a new ZFS dataset in an existing pool.",
            input_schema=schema(pool={"type": "string"}, name={"type": "string"}),
        ),
        "write",
        (),
        id="creating_a_dataset_in_a_pool_is_a_write",
    ),
    pytest.param(
        tool(
            "delete_issue_emoji_reaction",
            "Remove an emoji reaction from an issue.",
            input_schema=schema(issue_id={"type": "string"}, reaction_id={"type": "string"}),
        ),
        "write",
        ("verb 'delete' only detaches a 'reaction', which can be re-added",),
        id="deleting_a_reaction_only_detaches_it",
    ),
    pytest.param(
        tool("delete_emoji", "Remove a custom emoji from the server.", input_schema=schema(name={"type": "string"})),
        "destructive",
        (),
        id="deleting_a_custom_emoji_is_destructive",
    ),
    pytest.param(
        tool("resolve_comment", "Mark a comment thread as resolved.", input_schema=schema(comment_id={"type": "string"})),
        "write",
        ("verb 'resolve' marks a 'comment' resolved",),
        id="resolving_a_comment_is_a_write",
    ),
    pytest.param(
        tool("resolve_host", "Reverse DNS lookup for an IP address.", input_schema=schema(ip={"type": "string"})),
        "read",
        (),
        id="resolving_a_host_name_is_a_read",
    ),
    pytest.param(
        tool(
            "compute_vm_create",
            "Create a virtual machine in a resource group.",
            input_schema=schema(name={"type": "string"}, size={"type": "string"}),
        ),
        "write",
        ("verb 'create' in the name",),
        id="a_leading_compute_is_the_service_not_the_verb",
    ),
    pytest.param(
        tool("runAccessibilityAudit", "Run an accessibility audit on the current page"),
        "read",
        ("verb 'run' runs a 'audit' and returns its result",),
        id="running_an_audit_returns_a_report",
    ),
    pytest.param(
        tool(
            "update_subscription",
            "Change a subscription's items; prorations are billed on the next invoice.",
            input_schema=schema(subscription_id={"type": "string"}, items={"type": "array"}),
        ),
        "destructive",
        ("on a subscription that the description ties to",),
        id="changing_a_paid_subscription_is_money",
    ),
    pytest.param(
        tool(
            "update_webhook_subscription",
            "Update a webhook subscription's delivery URL and the events billed accounts receive.",
            input_schema=schema(subscription_id={"type": "string"}, url={"type": "string"}),
        ),
        "write",
        (),
        id="a_webhook_subscription_is_not_paid",
    ),
    pytest.param(
        tool("reset_password", "Reset a user's password.", input_schema=schema(username={"type": "string"})),
        "write",
        ("verb 'reset' rotates a 'password': a credential change (write)",),
        id="resetting_a_password_rotates_a_credential",
    ),
    pytest.param(
        tool(
            "set_group_members",
            "Set which members belong to a group.",
            input_schema=schema(group_id={"type": "string"}, member_ids={"type": "array"}),
        ),
        "destructive",
        ("the whole 'members' list", "list to exactly the given one"),
        id="setting_a_groups_members_replaces_the_list",
    ),
    pytest.param(
        tool("dataset", "Dataset ops: list/get/schema/preview/create/update/delete.", input_schema=schema()),
        "destructive",
        ("its description lists 'create/update/delete' among what it does",),
        id="operations_listed_in_the_description_include_a_delete",
    ),
    pytest.param(
        tool("dataset", "Dataset ops: list/get/schema/preview.", input_schema=schema()),
        "read",
        (),
        id="operations_listed_in_the_description_are_reads",
    ),
]


@pytest.mark.parametrize(("definition", "category", "reasons"), CASES)
def test_a_signal_sets_the_category_and_names_its_reason(definition: dict, category: str, reasons: tuple):
    label = classifier.classify([definition])[0]
    assert label["category"] == category, label["reasons"]
    assert not reasons or any(said(label, reason) for reason in reasons), label["reasons"]
