"""Reports on one server and on the whole catalog: terminal, Markdown, self-contained HTML, JSON, overrides."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from catalog.models import Classification, CrawlResult, LabelledTool, Override, ServerRef, Tool
from catalog.policies import render_policy
from catalog.report import render_catalog, render_report
from catalog.store import Store
from tests.test_annotate import mlflow_tools, save_mlflow, tools_list_file
from tests.test_cli import run, sqlite_rows

SCREENSHOT_COPY = Path("/work/scratch/report/report.png")
CHROMIUM = Path("/usr/bin/chromium")


def with_override(tools: list[LabelledTool], name: str, category: str, note: str) -> list[LabelledTool]:
    for lt in tools:
        if lt.tool.name == name:
            lt.override = Override(category, note, None, "2025-01-01T00:00:00")
    return tools


def test_summary_counts_every_category():
    text = render_report("mlflow", mlflow_tools(), "table")
    assert "mlflow: 40 tools: 27 read, 8 write, 5 destructive (1 critical)" in text


def test_terminal_report_groups_by_category_riskiest_first_with_risk_confidence_and_top_reason():
    text = render_report("mlflow", mlflow_tools(), "table")
    starts = [text.index(title) for title in ("destructive (5)", "write (8)", "read (27)")]
    assert starts == sorted(starts)
    delete_line = next(line for line in text.splitlines() if "delete_experiment" in line)
    assert "critical" in delete_line and "0.95" in delete_line and "verb `delete` in the name" in delete_line
    assert "delete_run !hints" in text and "marked readOnlyHint but it can destroy data" in text


def test_json_lists_every_tool_with_category_risk_confidence_reasons_and_override():
    tools = with_override(mlflow_tools(), "get_run", "destructive", "returns secrets of the run")
    document = json.loads(render_report("mlflow", tools, "json"))
    assert document["summary"] == {"tools": 40, "read": 26, "write": 8, "destructive": 6}
    assert len(document["tools"]) == 40
    for tool in document["tools"]:
        assert {"category", "risk", "confidence", "reasons", "override"} <= set(tool)
        assert tool["reasons"]
    run_tool = next(t for t in document["tools"] if t["name"] == "get_run")
    assert run_tool["category"] == "destructive" and run_tool["risk"] == "high"
    assert run_tool["override"]["note"] == "returns secrets of the run"
    assert run_tool["classifier"]["category"] == "read"


def test_markdown_has_a_table_per_category_contradictions_and_the_policy():
    tools = mlflow_tools()
    tools[0].tool.description = "Get | split <b>rows</b>"
    policy = render_policy([("mlflow", tools)], "policylayer")
    text = render_report("mlflow", tools, "markdown", policy)
    assert "## destructive (5)" in text and "## write (8)" in text and "## read (27)" in text
    assert "## Annotation contradictions" in text and "`delete_run`: marked readOnlyHint" in text
    assert "## Recommended policy" in text and '"default": "deny"' in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 40 and all(line.count(" | ") == 4 for line in rows)


def test_html_is_one_self_contained_file_with_chart_details_contradictions_policy_and_overrides():
    tools = with_override(mlflow_tools(), "get_run", "destructive", "returns secrets of the run")
    tools[1].tool.description = "<script>alert('x')</script>"
    policy = render_policy([("mlflow", tools)], "policylayer")
    page = render_report("mlflow", tools, "html", policy)
    assert not re.search(r"<link|<img|<iframe|\bsrc=|@import|url\(|https?://", page)
    assert "default-src 'none'" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert page.count("<details>") == 40 and '<svg id="summary-chart"' in page
    assert "marked readOnlyHint but it can destroy data" in page
    assert "Reviewer override (destructive): returns secrets of the run" in page
    assert "Recommended policy" in page and '"default": "deny"' in html.unescape(page)
    assert '"default": "deny"' not in page  # autoescaped


def test_an_unknown_format_is_a_usage_error(tmp_path):
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "report", "mlflow", "--format", "pdf")
    assert done.returncode == 2 and "unknown format" in done.stderr


def test_catalog_report_has_one_row_per_server_riskiest_first(tmp_path):
    store = Store(tmp_path / "catalog.db")
    save_mlflow(store, "mlflow")
    calm = CrawlResult(
        ServerRef("notes", "notes.json", "json"), "static", "fixture", [Tool("get_note", "Get a note.")]
    )
    store.save_crawl(calm, {"get_note": Classification("read", "low", 0.9, ["verb `get`"])})
    rows = json.loads(render_catalog(store.catalog_summary(), "json"))
    assert [(r["id"], r["tools"], r["destructive"], r["riskiest"]) for r in rows] == [
        ("mlflow", 40, 5, "critical"),
        ("notes", 1, 0, "low"),
    ]
    table = render_catalog(store.catalog_summary(), "table")
    assert "2 servers, riskiest first" in table and table.index("mlflow") < table.index("notes")
    page = render_catalog(store.catalog_summary(), "html")
    assert page.index(">mlflow<") < page.index(">notes<") and "https://" not in page


def test_report_without_server_through_the_cli_writes_markdown_to_a_file(tmp_path):
    save_mlflow(Store(tmp_path / "catalog.db"))
    done = run(tmp_path, "report", "--format", "markdown", "-o", str(tmp_path / "catalog.md"))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "catalog.md").read_text()
    assert "| mlflow | ok | 40 | 27 | 8 | 5 | critical |" in text


def test_label_shows_in_the_report_drives_the_policy_and_survives_recrawl_and_reclassification(tmp_path):
    listing = tools_list_file(tmp_path / "tools.json")
    assert run(tmp_path, "crawl", str(listing), "--name", "mlflow").returncode == 0
    before = json.loads(run(tmp_path, "report", "mlflow", "--format", "json").stdout)["summary"][
        "destructive"
    ]
    note = "returns every run's params, which hold credentials here"
    done = run(tmp_path, "label", "mlflow", "get_run", "destructive", "--note", note)
    assert done.returncode == 0, done.stderr

    def check() -> None:
        report = json.loads(run(tmp_path, "report", "mlflow", "--format", "json").stdout)
        tool = next(t for t in report["tools"] if t["name"] == "get_run")
        assert (tool["category"], tool["risk"], tool["override"]["note"]) == ("destructive", "high", note)
        assert tool["classifier"]["category"] == "read"
        assert report["summary"]["destructive"] == before + 1
        policy = json.loads(run(tmp_path, "policy", "mlflow").stdout)
        assert policy["tools"]["get_run"]["deny_if"][0]["conditions"] == []

    check()
    table = run(tmp_path, "report", "mlflow").stdout
    assert "get_run [override]" in table and "reviewer override: returns every run" in " ".join(table.split())
    labelled_at = sqlite_rows(tmp_path, "SELECT classified_at FROM classifications WHERE name = 'get_run'")
    data = json.loads(listing.read_text())
    for tool in data["tools"]:
        tool["description"] += " (v2)"
    listing.write_text(json.dumps(data))
    assert run(tmp_path, "crawl", str(listing), "--name", "mlflow").returncode == 0
    relabelled_at = sqlite_rows(tmp_path, "SELECT classified_at FROM classifications WHERE name = 'get_run'")
    assert relabelled_at != labelled_at
    check()


@pytest.mark.browser
def test_html_report_renders_sorts_by_a_header_click_and_filters_by_typing(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    tools = with_override(mlflow_tools(), "get_run", "destructive", "returns secrets of the run")
    page_file = tmp_path / "report.html"
    page_file.write_text(
        render_report("mlflow", tools, "html", render_policy([("mlflow", tools)], "policylayer"))
    )
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            def only_the_file(route) -> None:
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    errors.append(f"fetched {route.request.url}")
                    route.abort()

            page.route("**/*", only_the_file)
            page.goto(page_file.as_uri())
            names = page.locator("#tools tbody tr summary code")
            assert names.count() == 40 and page.locator("#summary-chart rect").count() >= 6
            assert page.locator("#count").inner_text() == "Showing 40 of 40 tools"

            page.locator("#tools th", has_text="Tool").click()
            shown = names.all_inner_texts()
            assert shown == sorted(shown) and shown[0] == "compare_runs"
            page.locator("#tools th", has_text="Confidence").click()
            confidences = [float(c) for c in page.locator("#tools tbody td.num").all_inner_texts()]
            assert confidences == sorted(confidences) and confidences[0] == 0.8

            page.locator("#filter").press_sequentially("Delete")
            visible = page.locator("#tools tbody tr:visible summary code").all_inner_texts()
            expected = [
                t.tool.name
                for t in tools
                if "delete" in " ".join([t.tool.name, t.tool.description, *t.classification.reasons]).lower()
            ]
            assert sorted(visible) == sorted(expected) and len(expected) < 40
            assert page.locator("#count").inner_text() == f"Showing {len(expected)} of 40 tools"
            page.locator("#filter").fill("")
            page.locator("#category").select_option("destructive")
            assert page.locator("#tools tbody tr:visible").count() == 6

            page.locator("#tools tbody tr:visible summary", has_text="get_run").click()
            assert page.get_by_text(
                "Reviewer override (destructive): returns secrets of the run"
            ).is_visible()
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert screenshot.stat().st_size > 10_000
    if SCREENSHOT_COPY.parent.is_dir():
        shutil.copy(screenshot, SCREENSHOT_COPY)


def test_reports_open_with_what_to_do_and_carry_an_action_per_tool():
    tools = mlflow_tools()
    expected = "deny 1, approval for 4, allow 35 (capped at 30-60 calls/minute)"
    table = render_report("mlflow", tools, "table")
    assert table.splitlines()[1] == f"What to do: {expected}"
    delete_line = next(line for line in table.splitlines() if "delete_run" in line)
    assert "approval, ≤5/min" in delete_line
    markdown = render_report("mlflow", tools, "markdown")
    assert markdown.index(f"**What to do: {expected}**") < markdown.index("## destructive")
    assert "| `delete_experiment` | deny | critical |" in markdown
    page = render_report("mlflow", tools, "html")
    assert page.index("What to do:") < page.index('<table id="tools">') and expected in page
    assert '<span class="action approve">approval, ≤5/min</span>' in page
    document = json.loads(render_report("mlflow", tools, "json"))
    assert document["actions"] == {"deny": 1, "approve": 4, "allow": 35}


def test_terminal_report_is_capped_riskiest_first_with_a_count_of_the_rest():
    table = render_report("mlflow", mlflow_tools(), "table", limit=10)
    assert "delete_experiment" in table and "write (5 of 8)" in table and "read (" not in table
    assert "… and 30 more lower-risk tools not shown" in table


def test_hostile_names_and_reasons_are_inert_in_the_terminal():
    tools = [
        LabelledTool(
            Tool("evil\x1b]52;c;aGk=\x07[bold]x[/bold]", "d"),
            Classification("read", "low", 0.9, ["[red]fake[/red] \x1b[2J wipe"]),
        )
    ]
    table = render_report("srv\x1b[31m", tools, "table")
    assert "\x1b" not in table and "[bold]x[/bold]" in table and "[red]fake[/red]" in table


def test_report_cli_header_colour_json_and_failed_crawls(tmp_path):
    listing = tools_list_file(tmp_path / "tools.json")
    assert run(tmp_path, "crawl", str(listing), "--name", "mlflow").returncode == 0
    plain = run(tmp_path, "report", "mlflow")
    assert plain.returncode == 0 and "\x1b[" not in plain.stdout
    assert "crawled 20" in plain.stdout and "route: tools/list result in" in plain.stdout
    assert "classifier version " in plain.stdout
    coloured = run_env(tmp_path, {"FORCE_COLOR": "1", "COLUMNS": "160"}, "report", "mlflow")
    assert re.search(r"\x1b\[[0-9;]*3[1-3]m", coloured.stdout), "risk is coloured on a terminal"
    no_colour = run_env(tmp_path, {"FORCE_COLOR": "1", "NO_COLOR": "1", "COLUMNS": "160"}, "report", "mlflow")
    assert not re.search(r"\x1b\[[0-9;]*(3[0-7]|38;|4[0-7])", no_colour.stdout), "NO_COLOR is honoured"

    document = json.loads(run(tmp_path, "report", "mlflow", "--json").stdout)
    assert document["crawl"]["status"] == "ok" and document["crawl"]["route"].startswith("tools/list")

    done = run(tmp_path, "crawl", "--cmd", "false", "--name", "broken")
    assert done.returncode == 1
    catalog = run_env(tmp_path, {"COLUMNS": "200"}, "report")
    broken = next(line for line in catalog.stdout.splitlines() if "broken" in line)
    assert "failed: " in broken and " 0 " not in broken

    done = run(tmp_path, "report", "mlflow", "-o", str(tmp_path / "missing" / "r.html"), "--format", "html")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr


def run_env(tmp_path, extra: dict[str, str], *args: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "catalog.db")}
    env.pop("NO_COLOR", None)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "catalog.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )
