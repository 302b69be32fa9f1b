"""Console scripts whose server is one subcommand among others: the subcommand is found in the command's own
--help listing and tried with `--transport stdio`; when it fails, its error is the cause, not a help line.
Real wheels with argparse CLIs, installed and run in the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import envs, live, sandbox, subcommands
from catalog.models import CatalogError
from tests.fixtures.servers.packages import installed_server, server_source

# `run --transport stdio` serves; anything else that parses says what it would have done and exits.
RUN_CLI = '''

def cli():
    import argparse

    parser = argparse.ArgumentParser(prog="catalog-subs")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("worker", help="Run the ingest worker.")
    run = commands.add_parser("run", help="Run the MCP server.")
    run.add_argument("--transport", choices=["http", "stdio"], default="http")
    commands.add_parser("db", help="Database migration commands.")
    arguments = parser.parse_args()
    if arguments.command is None:
        parser.print_help()
        raise SystemExit(0)
    if arguments.command == "run" and arguments.transport == "stdio":
        main()
        return
    sys.stderr.write(f"{arguments.command}: nothing served on stdio\\n")
    raise SystemExit(1)
'''

# `serve` is the server's command, and it refuses to start without a session set up beforehand.
SERVE_CLI = '''

def cli():
    import argparse

    parser = argparse.ArgumentParser(prog="catalog-subs")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("session", help="Manage stored sessions.")
    commands.add_parser("serve", help="Start the MCP server with one session.")
    arguments = parser.parse_args()
    if arguments.command == "serve":
        sys.stderr.write("No session configured. Run `catalog-subs session add` first.\\n")
        raise SystemExit(1)
    parser.print_help()
    raise SystemExit(0)
'''


def installed(tmp_path: Path, cli: str) -> envs.Prepared:
    files = {"catalog_subs/__init__.py": server_source() + cli}
    return installed_server(tmp_path, "catalog-subs", files, "catalog_subs:cli")


needs_bwrap = pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")


@needs_bwrap
def test_the_subcommand_whose_help_says_it_runs_the_server_is_started_with_transport_stdio(tmp_path):
    prepared = installed(tmp_path, RUN_CLI)
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True)
    listing = live.list_stdio(launch, timeout=30)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert listing.started_with == ["run", "--transport", "stdio"]
    assert "started as 'run --transport stdio': without it the command printed its help" in listing.warnings


@needs_bwrap
def test_when_the_servers_subcommand_fails_its_error_is_the_cause_not_a_help_line(tmp_path):
    prepared = installed(tmp_path, SERVE_CLI)
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, entry_forms=True)
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(launch, timeout=30)
    assert str(failure.value) == (
        "started as 'serve': server exited: No session configured. Run `catalog-subs session add` first."
        " (without it the command printed its help; also tried: stdio, serve, --transport stdio, mcp)"
    )


CLICK_HELP = """Usage: tool [OPTIONS] COMMAND [ARGS]...

Options:
  --version  Show the version and exit.
  --help     Show this message and exit.

Commands:
  db      Database migration management commands.
  run     Run the Nextcloud MCP server.
  worker  Run the ingest worker (Deck #183, per-tier fleets #323).
"""

TYPER_HELP = """ Usage: tool [OPTIONS] COMMAND [ARGS]...

╭─ Options ────────────────────────────────────────────╮
│ --help          Show this message and exit.          │
╰──────────────────────────────────────────────────────╯
╭─ Commands ───────────────────────────────────────────╮
│ login    Store credentials.                          │
│ start    Start the MCP server over stdio.            │
╰──────────────────────────────────────────────────────╯
"""

COMMANDER_HELP = """Usage: tool [options] [command]

Options:
  -V, --version      output the version number
  -h, --help         display help for command

Commands:
  auth [options]     Log in
  mcp [options]      Run as an MCP server
  help [command]     display help for command
"""


@pytest.mark.parametrize(
    ("text", "names", "forms"),
    [
        (
            CLICK_HELP,
            ["db", "run", "worker"],
            [("run", "--transport", "stdio"), ("run", "stdio"), ("run",)],
        ),
        (TYPER_HELP, ["login", "start"], [("start", "--transport", "stdio"), ("start", "stdio"), ("start",)]),
        (COMMANDER_HELP, ["auth", "mcp"], [("mcp", "--transport", "stdio"), ("mcp", "stdio")]),
    ],
)
def test_help_listings_give_the_subcommands_and_the_forms_of_the_one_that_serves(text, names, forms):
    listed = subcommands.listed(text)
    assert [sub.name for sub in listed] == names
    assert subcommands.server_forms(listed, tried=[("mcp",)]) == forms
