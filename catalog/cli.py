"""The `catalog` command: parse arguments, call the library, render. Nothing else lives here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Crawl MCP servers, classify every tool as read / write / destructive, recommend policies.",
)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Catalog database (default: $CATALOG_DB or a per-user file).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CATEGORIES = ("read", "write", "destructive")


def _err(message: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {message}", markup=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """User errors become one line and exit code 1; bugs too, unless CATALOG_DEBUG asks for the traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from catalog.models import CatalogError

        try:
            return fn(*args, **kwargs)
        except CatalogError as exc:
            _err(str(exc))
            raise typer.Exit(2 if exc.kind == "usage" else 1) from None
        except KeyboardInterrupt:
            _err("interrupted; what finished is stored")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # a bug: still one line, unless asked for the traceback
            if os.environ.get("CATALOG_DEBUG"):
                raise
            _err(f"internal error: {type(exc).__name__}: {exc} (set CATALOG_DEBUG=1 for the traceback)")
            raise typer.Exit(1) from None

    return wrapper


def _store(db: Path | None):
    from catalog.store import Store

    return Store(db)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _parse_env(pairs: list[str]) -> dict[str, str]:
    from catalog.models import CatalogError

    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CatalogError(f"--env expects KEY=VALUE, got {pair!r}", kind="usage")
        env[key] = value
    return env


# -- crawl ---------------------------------------------------------------------------------------------


@app.command()
@friendly
def crawl(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="owner/repo, pypi:NAME[==VER], npm:NAME[@VER], a path, a .json file or a URL."),
    ] = None,
    db: DbOption = None,
    cmd: Annotated[
        list[str] | None, typer.Option("--cmd", help="A command that starts a server over stdio.")
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Run the server (sandboxed) and list its tools over MCP.")
    ] = False,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE for a live server (repeatable).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a live crawl may take.")] = 60.0,
    name: Annotated[
        str | None, typer.Option("--name", help="Server id for sources that carry no name.")
    ] = None,
    max_tools: Annotated[int, typer.Option("--max-tools", help="Refuse listings longer than this.")] = 5000,
    github_url: Annotated[
        str, typer.Option("--github-url", envvar="CATALOG_GITHUB_URL", help="GitHub base URL.")
    ] = "https://github.com",
    no_sandbox: Annotated[
        bool, typer.Option("--no-sandbox", help="Run live servers without bubblewrap.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Crawl servers into the catalog and classify their tools."""
    from catalog.crawl import CrawlOptions, crawl_source
    from catalog.models import CatalogError

    all_sources = list(sources or []) + [f"stdio:{c}" for c in cmd or []]
    if not all_sources:
        raise CatalogError("give a SOURCE or --cmd", kind="usage")
    options = CrawlOptions(
        live=live,
        env=_parse_env(env or []),
        timeout=timeout,
        name=name,
        max_tools=max_tools,
        github_url=github_url,
        sandbox=not no_sandbox,
    )
    store = _store(db)
    outcomes = []
    from rich.console import Console

    console = Console(stderr=True)
    for source in all_sources:
        with console.status(f"crawling {source} ..."):
            outcomes += crawl_source(source, options, store)
    if as_json:
        _print_json([_outcome_json(o) for o in outcomes])
    else:
        for outcome in outcomes:
            _print_outcome(outcome)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


def _outcome_json(outcome) -> dict[str, Any]:
    r = outcome.result
    return {
        "server": r.server.id,
        "status": r.status,
        "method": r.method,
        "route": r.route,
        "version": r.version,
        "tools": len(r.tools),
        "error": r.error,
        "error_kind": r.error_kind,
        "warnings": r.warnings,
        "crawl_id": outcome.crawl_id,
        "seconds": round(outcome.seconds, 3),
    }


def _print_outcome(outcome) -> None:
    from rich.console import Console

    r = outcome.result
    out = Console(highlight=False, soft_wrap=True)
    if r.status == "failed":
        _err(f"{r.server.id}: {r.error}")
        return
    mark = "[green]✓[/]" if r.status == "ok" else "[yellow]![/]"
    out.print(f"{mark} {r.server.id}: {len(r.tools)} tools ({r.method}, {outcome.seconds:.1f}s)")
    out.print(f"  route: {r.route}", markup=False)
    for warning in r.warnings[:10]:
        out.print(f"  warning: {warning}", markup=False)
    if r.status == "partial":
        _err(f"{r.server.id}: {r.error}")


# -- tools ---------------------------------------------------------------------------------------------


@app.command()
@friendly
def tools(
    server: Annotated[str, typer.Argument(help="Server id, e.g. kkruglik/mlflow-mcp.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the stored tools of a server with their classifications."""
    store = _store(db)
    store.require_server(server)
    labelled = store.labelled_tools(server)
    if as_json:
        _print_json([_labelled_json(lt) for lt in labelled])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{server}: {len(labelled)} tools")
    for column in ("tool", "category", "risk", "conf.", "description"):
        table.add_column(column)
    for lt in labelled:
        first_line = (lt.tool.description.strip().splitlines() or [""])[0][:90]
        table.add_row(lt.tool.name, lt.category, lt.risk, f"{lt.classification.confidence:.2f}", first_line)
    Console().print(table)


def _labelled_json(lt) -> dict[str, Any]:
    tool = lt.tool
    return {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "input_schema": tool.input_schema,
        "annotations": tool.annotations,
        "params": tool.parameter_names(),
        "origin": tool.origin,
        "unresolved": tool.unresolved,
        "category": lt.category,
        "risk": lt.risk,
        "confidence": lt.classification.confidence,
        "reasons": lt.classification.reasons,
        "classifier_version": lt.classification.version,
        "override": None
        if lt.override is None
        else {"category": lt.override.category, "note": lt.override.note, "at": lt.override.at},
    }


def main() -> None:
    app()


if __name__ == "__main__":
    main()
