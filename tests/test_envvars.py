"""Environment variables a server reads, found in its files as text, and placeholders that let it start."""

from __future__ import annotations

import json
from pathlib import Path

from catalog import envs, envvars, live
from tests.fixtures.servers.packages import server_source, wheel_bytes

PYTHON_SOURCE = '''
import os
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN = os.environ["ACME_API_TOKEN"]
region = os.getenv("ACME_REGION", "eu")
base = os.environ.get('ACME_BASE_URL')
port = os.getenv("ACME_PORT")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACME_")

    workspace_id: str
    debug: bool = False

    def helper(self):
        local: int = 3
'''

JS_SOURCE = """
const key = process.env.WIDGET_KEY;
const { WIDGET_ORG, WIDGET_HOST: host = "x" } = process.env;
if (!process.env["WIDGET_SECRET"]) throw new Error("WIDGET_SECRET is required");
const mode = process.env.NODE_ENV;
"""


def test_python_reads_and_settings_fields_are_found_in_order():
    assert envvars.names_in_text(PYTHON_SOURCE, "config.py") == [
        "ACME_API_TOKEN", "ACME_REGION", "ACME_BASE_URL", "ACME_PORT", "ACME_WORKSPACE_ID", "ACME_DEBUG",
    ]


def test_javascript_reads_and_destructuring_are_found():
    assert envvars.names_in_text(JS_SOURCE, "index.js") == [
        "WIDGET_KEY", "WIDGET_SECRET", "NODE_ENV", "WIDGET_ORG", "WIDGET_HOST",
    ]


def test_server_json_and_bundle_manifest_variables_are_found():
    server_json = {"packages": [{"environmentVariables": [{"name": "BRAVE_API_KEY", "isSecret": True}]}]}
    manifest = {"server": {"mcp_config": {"env": {"NOTION_TOKEN": "${user_config.token}"}}}}
    assert envvars.names_in_text(json.dumps(server_json), "server.json") == ["BRAVE_API_KEY"]
    assert envvars.names_in_text(json.dumps(manifest), "manifest.json") == ["NOTION_TOKEN"]


def test_placeholders_skip_given_names_and_names_that_steer_the_server():
    names = ["ACME_API_TOKEN", "ACME_BASE_URL", "ACME_PORT", "ACME_DEBUG", "NODE_ENV", "DB_HOST", "GIVEN"]
    assert envvars.placeholders(names, {"GIVEN": "secret"}) == {
        "ACME_API_TOKEN": envvars.SECRET_PLACEHOLDER,
        "ACME_BASE_URL": "http://127.0.0.1:9/",
        "DB_HOST": "127.0.0.1",
    }


NEEDS_CONFIG = '''

def configured_main():
    import os
    token = os.environ.get("ACME_API_TOKEN")
    if not token:
        sys.stderr.write("Error: ACME_API_TOKEN is not set\\n")
        raise SystemExit(1)
    workspace = os.environ["ACME_WORKSPACE"]
    main()
'''


def config_wheel(links: Path) -> None:
    links.mkdir(parents=True, exist_ok=True)
    files = {"catalog_conf/__init__.py": server_source() + NEEDS_CONFIG}
    data = wheel_bytes("catalog-conf", "1.0", files, {"catalog-conf": "catalog_conf:configured_main"})
    (links / "catalog_conf-1.0-py3-none-any.whl").write_bytes(data)


def test_a_server_that_needs_configuration_starts_with_placeholders_and_names_them(tmp_path):
    config_wheel(tmp_path / "links")
    prepared = envs.python_env("catalog-conf", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    assert prepared.env_names == ["ACME_API_TOKEN", "ACME_WORKSPACE"]
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, env_names=prepared.env_names)
    listing = live.list_stdio(launch, timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.placeholder_names == ["ACME_API_TOKEN", "ACME_WORKSPACE"]
    assert any(w.startswith("started with placeholder values for ACME_API_TOKEN, ACME_WORKSPACE") for w in listing.warnings)
    assert not any("placeholder" in w and "=" in w for w in listing.warnings)  # names only, never values


def test_given_values_win_over_placeholders_and_stay_out_of_messages(tmp_path):
    config_wheel(tmp_path / "links")
    prepared = envs.python_env("catalog-conf", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    launch = live.Launch(prepared.command, {"ACME_API_TOKEN": "s3cret-value"}, binds=prepared.binds,
                         env_names=prepared.env_names)
    listing = live.list_stdio(launch, timeout=120)
    assert listing.placeholder_names == ["ACME_WORKSPACE"]
    assert not any("s3cret-value" in w for w in listing.warnings)


def test_names_the_error_mentions_get_placeholders_even_when_the_files_were_not_read(tmp_path):
    """Its stderr says "ACME_API_TOKEN is not set"; with that one set, a KeyError names ACME_WORKSPACE."""
    config_wheel(tmp_path / "links")
    prepared = envs.python_env("catalog-conf", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    listing = live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=120)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.placeholder_names == ["ACME_API_TOKEN", "ACME_WORKSPACE"]
    assert any("(without them: server exited: Error: ACME_API_TOKEN is not set)" in w for w in listing.warnings)
