"""A new user's first commands through the real CLI on a real file: version, completion, usage errors as
one line with exit 2, close ids suggested, eval's needs in words, untrusted text inert in tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.models import Classification, CrawlResult, ServerRef, Tool
from catalog.store import Store
from tests.test_cli import one_line_error, run

HOSTILE = "[link=http://127.0.0.1/x]click[/link] [/] \x1b]0;owned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("first-hour")
    store = Store(path / "catalog.db")
    for index in range(12):
        name = "mcp-server-git" if index == 0 else f"mcp-server-other-{index}"
        tools = [Tool("git_log", "Show the commit log. " + "Very long text. " * 20)]
        store.save_crawl(
            CrawlResult(ServerRef(f"pypi:{name}", f"pypi:{name}", "pypi"), "static", "fixture", tools),
            {"git_log": Classification("read", "low", 0.9, ["verb `log`"])},
        )
    hostile = CrawlResult(ServerRef("evil", "evil.json", "json"), "static", "fixture",
                          [Tool("evil_" + HOSTILE, "Reads " + HOSTILE)])
    store.save_crawl(hostile, {"evil_" + HOSTILE: Classification("read", "low", 0.9, ["r"])})
    store.close()
    return path


def test_version_prints_the_package_version(home):
    done = run(home, "--version")
    assert done.returncode == 0 and done.stdout.startswith("catalog (mcp-catalog) 0.")


def test_shell_completion_is_on(home):
    assert "--install-completion" in run(home, "--help").stdout
    # What an installed bash completion script asks the program (no shell detection, which depends on the
    # processes above the test).
    catalog = Path(sys.executable).with_name("catalog")
    env = {**os.environ, "_CATALOG_COMPLETE": "complete_bash", "COMP_WORDS": "catalog cra", "COMP_CWORD": "1"}
    done = subprocess.run([str(catalog)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split() == ["crawl"], done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("tools", "--bogus"), "No such option: --bogus"),
        (("tools",), "Missing argument"),
        (("nosuchcommand",), "No such command"),
        (("search", "x", "--limit", "many"), "Invalid value for '--limit'"),
        (("search", "log", "--category", "destructve"), "did you mean destructive?"),
        (("search", "log", "--risk", "hihg"), "did you mean high?"),
        (("label", "pypi:mcp-server-git", "git_log", "reed", "--note", "x"), "did you mean read?"),
        (("label", "pypi:mcp-server-git", "git_log", "read", "--note", "x", "--risk", "lo"), "did you mean low?"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2_and_no_box(home, args, expected):
    done = run(home, *args)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done)
    assert expected in line and line.startswith("error:")
    assert "╭" not in done.stderr and "│" not in done.stderr


def test_an_unknown_server_id_suggests_the_close_ids_and_says_how_many_are_stored(home):
    done = run(home, "tools", "mcp-server-git")
    assert done.returncode == 1
    line = one_line_error(done)
    assert "did you mean pypi:mcp-server-git" in line
    assert "13 stored" in line and "and 5 more" in line


def test_eval_says_in_words_that_it_needs_hand_labels(home, tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(json.dumps({"name": "get_run", "description": "Get a run.", "category": "read"}) + "\n")
    done = run(home, "eval", str(labelled))
    assert done.returncode == 2
    line = one_line_error(done)
    assert "no hand label" in line and '"label" of read, write or destructive' in line
    assert "('read'" not in line


def test_untrusted_names_and_descriptions_are_inert_in_tables(home):
    for args in (("tools", "evil"), ("search", "reads"), ("tools", "evil", "--json"), ("annotate", "evil"),
                 ("report", "evil")):
        done = run(home, *args)
        assert done.returncode == 0, done.stderr
        if "--json" not in args:
            assert "\x1b" not in done.stdout and "\x07" not in done.stdout
            assert "evil_" in done.stdout


def test_descriptions_are_cut_with_an_ellipsis(home):
    done = run(home, "tools", "pypi:mcp-server-git")
    assert done.returncode == 0
    assert "…" in done.stdout and "Show the commit log." in done.stdout


def test_an_unknown_id_with_escape_sequences_is_shown_inert_in_the_error(home):
    done = run(home, "tools", "x\x1b]0;owned\x07[/]")
    assert done.returncode == 1
    line = one_line_error(done)
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "[/]" in line
