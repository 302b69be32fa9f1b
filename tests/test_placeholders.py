"""Servers that refuse to start without configuration, started with placeholders the way published ones need:
the narrowest set first (names the error mentions, names a schema requires, keys/tokens/addresses), so that
variables which filter tools, hold JSON or prefix tool names stay unset. Real packages built in the test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalog import envs, envvars, live, sandbox
from tests.fixtures.servers.packages import installed_server, npm_packed, server_source, wheel_bytes

FIXTURES = Path(__file__).parent / "fixtures"
needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm not installed")


def names(listing: live.LiveListing) -> list[str]:
    return [tool.name for tool in listing.tools]


def packed(tmp_path: Path, fixture: str) -> Path:
    return npm_packed(FIXTURES / fixture, tmp_path)


def launch_for(prepared: envs.Prepared) -> live.Launch:
    return live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True,
                       env_names=prepared.env_names, env_values=prepared.env_values)


@needs_npm
def test_an_npm_server_reading_an_env_it_was_handed_starts_with_its_key_and_credentials_file_only(tmp_path):
    """`env.ACME_API_KEY` is found; ACME_TOOLS (a filter) and ACME_EXTRA_HEADERS (JSON) stay unset, the
    credentials variable points at a placeholder OAuth client file."""
    prepared = envs.npm_env("catalog-configured", "1.0.0", tmp_path / "envs",
                            tarball=packed(tmp_path, "npm_configured"))
    assert {"ACME_API_KEY", "ACME_TOOLS", "ACME_EXTRA_HEADERS", "ACME_OAUTH_CREDENTIALS"} <= set(prepared.env_names)
    listing = live.list_stdio(launch_for(prepared), timeout=30)
    assert names(listing) == ["list_widgets", "delete_widget"]
    assert listing.placeholder_names == ["ACME_API_KEY", "ACME_OAUTH_CREDENTIALS"]


@needs_npm
@pytest.mark.integration
def test_an_environment_parsed_with_a_zod_schema_gets_the_first_member_of_an_enum(tmp_path):
    """The schema (with the real zod installed) requires a role out of an enum: 'placeholder' fails it."""
    prepared = envs.npm_env("catalog-zod-env", "1.0.0", tmp_path / "envs", tarball=packed(tmp_path, "npm_zod_env"))
    assert prepared.env_values["ACME_USER_ROLE"] == "developer"
    assert "ACME_REQUEST_HEADERS" not in prepared.env_values  # optional
    listing = live.list_stdio(launch_for(prepared), timeout=30)
    assert names(listing) == ["query_documents", "deploy_schema"]
    assert listing.placeholder_names == ["ACME_API_TOKEN", "ACME_PROJECT_ID", "ACME_USER_ROLE"]


PREFIXED = '''

import logging
import os

TOOL_PREFIX = os.environ.get("TOOL_PREFIX", "")
HEADERS = json.loads(os.environ["ACME_CUSTOM_HEADERS"]) if os.environ.get("ACME_CUSTOM_HEADERS") else {}
URL = os.environ.get("ACME_URL", "")
TOKEN = os.environ.get("ACME_TOKEN", "")
TIMEOUT = int(os.environ.get("ACME_REQUEST_TIMEOUT", "30"))


def answer(message):
    if message.get("method") != "tools/list":
        return _answer(message)
    tools = [{"name": f"{TOOL_PREFIX}{name}", "inputSchema": {"type": "object"}} for name in ("query", "labels")]
    return {"jsonrpc": "2.0", "id": message["id"], "result": {"tools": tools}}


def configured_main():
    if not URL:
        logging.error('{"error": "ACME_URL environment variable is not set"}')
        logging.error('{"event": "Environment setup failed, exiting"}')
        raise SystemExit(1)
    main()
'''


def test_a_python_server_gets_only_what_it_needs_so_a_tool_prefix_stays_unset(tmp_path):
    """Its last line names nothing; an earlier one names ACME_URL. A placeholder for TOOL_PREFIX would rename
    every tool, one for ACME_CUSTOM_HEADERS would crash it at import."""
    source = server_source().replace("def answer(", "def _answer(") + PREFIXED
    files = {"catalog_prefixed/__init__.py": source}
    prepared = installed_server(tmp_path, "catalog-prefixed", files, "catalog_prefixed:configured_main")
    assert {"TOOL_PREFIX", "ACME_CUSTOM_HEADERS", "ACME_URL"} <= set(prepared.env_names)
    listing = live.list_stdio(launch_for(prepared), timeout=30)
    assert names(listing) == ["query", "labels"]
    assert listing.placeholder_names == ["ACME_TOKEN", "ACME_URL"]
    assert not any(w.startswith("started as") for w in listing.warnings)  # no entry form was needed


BOTO = '''

import boto3


def aws_main():
    boto3.client("ec2")  # botocore.exceptions.NoRegionError without a region
    main()
'''


@pytest.mark.integration
def test_a_server_whose_cloud_sdk_needs_a_region_gets_one(tmp_path):
    """The package's own files name no variable; botocore (installed with it) reads AWS_REGION."""
    links = tmp_path / "links"
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(links), "boto3"],
                   check=True, timeout=600, capture_output=True)
    data = wheel_bytes("catalog-aws", "1.0", {"catalog_aws/__init__.py": server_source() + BOTO},
                       {"catalog-aws": "catalog_aws:aws_main"}, requires=("boto3",))
    (links / "catalog_aws-1.0-py3-none-any.whl").write_bytes(data)
    prepared = envs.python_env("catalog-aws", "1.0", tmp_path / "envs", find_links=links)
    assert prepared.env_values["AWS_REGION"] == "us-east-1"
    listing = live.list_stdio(launch_for(prepared), timeout=60)
    assert names(listing) == ["echo"]
    assert "AWS_REGION" in listing.placeholder_names


def test_names_in_a_servers_output_skip_runtime_codes_and_templates():
    output = (
        "Error: Configure either ACME_ORG_<NAME>_DOMAIN with ACME_DEFAULT_ORG, or both ACME_DOMAIN and ACME_API_KEY.\n"
        "code: 'ERR_MODULE_NOT_FOUND' MODULE_NOT_FOUND ${ACME_HIDDEN}"
    )
    assert envvars.mentioned(output) == ["ACME_DEFAULT_ORG", "ACME_DOMAIN", "ACME_API_KEY"]


def test_what_a_server_needs_is_tried_before_what_steers_it():
    read = ["ACME_URL", "ACME_TOOLS", "ACME_REQUIRE_SITE_ID", "ACME_CLIENT_ID", "CURSOR_TRACE_ID", "ACME_REGION",
            "ACME_MAX_UPLOAD_MB", "ACME_CONFIG_B64", "ACME_PASSWORD"]
    assert envvars.needed(read) == ["ACME_URL", "ACME_CLIENT_ID", "ACME_REGION", "ACME_PASSWORD"]
    assert envvars.placeholders(read, {}) == {
        "ACME_URL": "http://127.0.0.1:9/", "ACME_CLIENT_ID": "placeholder", "CURSOR_TRACE_ID": "placeholder",
        "ACME_REGION": "us-east-1", "ACME_PASSWORD": envvars.SECRET_PLACEHOLDER,
    }


def test_a_long_install_step_reports_how_it_is_getting_on(tmp_path):
    """sandbox.run calls on_wait while the step runs (it sleeps 3 s: at least one call, whatever the load);
    the install watch names the packages downloaded and installed so far."""
    calls: list[int] = []
    done = sandbox.run([sys.executable, "-c", "import time; time.sleep(3)"], {}, on_wait=lambda: calls.append(1))
    assert done.returncode == 0 and calls
    node_modules = tmp_path / "prefix" / "node_modules"
    for folder in ("zod", "left-pad", "@acme/one", "@acme/two", ".bin"):
        (node_modules / folder).mkdir(parents=True)
    downloads = tmp_path / "cache" / "archive-v0"
    downloads.mkdir(parents=True)
    seen: list[str] = []
    watch = envs._install_watch(tmp_path / "prefix", downloads, seen.append)
    assert watch is not None
    (downloads / "abc").mkdir()
    watch()
    assert seen[0].startswith("installing, ") and seen[0].endswith("s: packages 1 downloaded, 4 installed")


CLICK_GROUP = '''

import base64


def cli():
    """A click-style group: `serve` runs the server, which needs a Fernet key (32 bytes, URL-safe base64) and an
    app id; without a subcommand it prints its commands, one of which mentions a token."""
    if sys.argv[1:] != ["serve"]:
        sys.stderr.write("Usage: catalog-group [OPTIONS] COMMAND [ARGS]...\\n\\nCommands:\\n"
                         "  serve   Run the MCP server over stdio.\\n"
                         "  status  Show the current token status and connected account.\\n")
        raise SystemExit(2)
    key, app = os.environ.get("ACME_MCP_KEY", ""), os.environ.get("ACME_APP_ID", "")
    if not app or len(base64.urlsafe_b64decode(key.encode() or b"=")) != 32:
        sys.stderr.write("Configuration error: ACME_MCP_KEY must be a Fernet key and ACME_APP_ID set\\n")
        raise SystemExit(2)
    main()
'''


def test_a_cli_group_is_served_with_its_subcommand_and_a_key_shaped_like_a_key(tmp_path):
    """The help text says "token", which is no configuration error: the entry forms are tried; `serve` then
    needs placeholders, and a key that decodes to 32 bytes."""
    source = server_source() + "\nimport os\n" + CLICK_GROUP
    prepared = installed_server(tmp_path, "catalog-group", {"catalog_group/__init__.py": source}, "catalog_group:cli")
    listing = live.list_stdio(launch_for(prepared), timeout=30)
    assert names(listing) == ["echo"]
    assert listing.started_with == ["serve"]
    assert listing.placeholder_names == ["ACME_APP_ID", "ACME_MCP_KEY"]
