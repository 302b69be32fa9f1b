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
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Crawl MCP servers, classify every tool as read / write / destructive, recommend policies.",
)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Catalog database (default: $CATALOG_DB or a per-user file).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OverridesFileOption = Annotated[
    Path | None,
    typer.Option("--overrides-file", help="A reviewed overrides YAML file, applied over the database."),
]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]
FailOnOption = Annotated[
    str | None,
    typer.Option("--fail-on", help="Exit 1 when a tool is at or above: low, medium, high or critical."),
]
CATEGORIES = ("read", "write", "destructive")
RISKS = ("low", "medium", "high", "critical")


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"catalog (mcp-catalog) {version('mcp-catalog')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Crawl MCP servers, classify every tool as read / write / destructive, recommend policies."""


def _choice(option: str, value: str | None, allowed: tuple[str, ...]) -> None:
    """A usage error (exit 2) naming the allowed values, and the close one, for a typo in `option`."""
    import difflib

    from catalog.models import CatalogError

    if value is None or value in allowed:
        return
    close = difflib.get_close_matches(value, allowed, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise CatalogError(f"{option} must be one of {', '.join(allowed)}, not {value!r}{hint}", kind="usage")


def _first_line(text: str | None, width: int) -> str:
    """The first line of an untrusted description, cut at `width` with an ellipsis, inert for Rich."""
    from catalog.textsafe import inert_markup

    lines = (text or "").strip().splitlines()
    line = lines[0] if lines else ""
    if len(line) > width or len(lines) > 1:
        line = line[: width - 1].rstrip() + "…"
    return inert_markup(line, keep_newlines=False)


def _err(message: str) -> None:
    from rich.console import Console

    from catalog.redact import redact
    from catalog.textsafe import inert_markup

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[bold red]error:[/] {inert_markup(redact(message), keep_newlines=False)}", markup=True
    )


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """User errors become one line and exit code 1; bugs too, unless CATALOG_DEBUG asks for the traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from catalog.models import CatalogError

        try:
            return fn(*args, **kwargs)
        except CatalogError as exc:
            _err(str(exc))
            raise typer.Exit(exc.exit_code) from None
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


_OPENED: list = []  # the stores this command opened: closed before exit, so SQLite folds its WAL into the file


def _store(db: Path | None):
    from catalog.store import Store

    store = Store(db)
    _OPENED.append(store)
    return store


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
        bool,
        typer.Option("--live", help="Require a live listing: run the server (sandboxed) and list it over MCP."),
    ] = False,
    static: Annotated[
        bool,
        typer.Option(
            "--static", help="Never run code: read packages and repositories statically only."
        ),
    ] = False,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE for a live server (repeatable).")
    ] = None,
    server_args: Annotated[
        list[str] | None,
        typer.Option("--arg", help="An argument for a package's server command, e.g. stdio (repeatable)."),
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
    from_file: Annotated[
        Path | None, typer.Option("--from", help="A list of sources, or a client config.")
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry", help="Crawl every server of an MCP registry (v0 API); default: the official one."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="With --registry: at most this many entries.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Sources crawled at once (bulk crawls).")] = 4,
    max_age: Annotated[
        float, typer.Option("--max-age", help="Bulk: skip sources crawled OK within these hours.")
    ] = 24.0,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Bulk: crawl again even if recently crawled (a rerun after Ctrl-C resumes)."
        ),
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Bulk: run the crawls on Dask workers: tcp://HOST:8786, or local (a LocalCluster of --jobs processes).",
        ),
    ] = None,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="Contact private and loopback addresses (as CATALOG_ALLOW_PRIVATE_URLS=1); never link-local.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Crawl servers into the catalog and classify their tools.

    Packages and repositories are read statically and, where bubblewrap works, also listed live in the
    sandbox; the live listing is the inventory. Exit 0 only when every crawl is ok.
    """
    from catalog.crawl import CrawlOptions, Route, crawl_source
    from catalog.models import CatalogError, FailureKind

    _remember_secrets(env or [], cmd or [], server_args or [])
    if allow_private_urls:
        from catalog.sources.url import ALLOW_PRIVATE_VARIABLE

        os.environ[ALLOW_PRIVATE_VARIABLE] = "1"  # the one setting every URL check reads
    all_sources = list(sources or []) + [f"stdio:{c}" for c in cmd or []]
    _check_crawl_arguments(
        bool(all_sources or from_file or registry), live, static, timeout, jobs, max_tools, limit, max_age
    )
    if server_args and (not live or cmd):
        raise CatalogError(
            "--arg goes with --live and a package (put arguments in --cmd itself)", FailureKind.USAGE
        )
    route = Route.LIVE if live else Route.STATIC if static else Route.AUTO
    if route is not Route.STATIC:
        _check_sandbox_setting()
    options = CrawlOptions(
        route=route,
        env=_parse_env(env or []),
        server_args=list(server_args or []),
        timeout=timeout,
        name=name,
        max_tools=max_tools,
        github_url=github_url,
        sandbox=not no_sandbox,
    )
    if cluster is not None:
        from catalog.cluster import check_address

        check_address(cluster)
        if not (from_file or registry):
            raise CatalogError("--cluster goes with --from or --registry", FailureKind.USAGE)
    store = _store(db)
    if from_file or registry:
        from catalog.bulk import items_from_file, items_from_registry
        from catalog.sources.registry import RegistryWalk

        walk = RegistryWalk() if registry and not from_file else None
        if from_file:
            items = items_from_file(from_file, options)
        else:
            assert registry is not None  # the `if` above saw one of the two
            items = items_from_registry(registry, options, limit, walk=walk)
        run_key = f"file:{from_file.resolve()}" if from_file else f"registry:{registry}"
        if cluster is None:
            _bulk_crawl(items, options, store, jobs, max_age, refresh, as_json, run_key, walk=walk)
            return
        from catalog.cluster import open_cluster

        with open_cluster(cluster, local_workers=jobs) as executor:
            _bulk_crawl(
                items, options, store, executor.jobs, max_age, refresh, as_json, run_key, executor, walk=walk
            )
        return
    if route is Route.AUTO and not no_sandbox and not as_json:
        _say_when_static_only()
    outcomes = []
    from rich.console import Console

    from catalog.redact import redact
    from catalog.textsafe import inert_markup

    console = Console(stderr=True)
    for source in all_sources:
        shown = inert_markup(redact(source), keep_newlines=False)
        with console.status(f"crawling {shown}: resolving and downloading ...") as status:
            options.progress = lambda phase, shown=shown, status=status: status.update(
                f"crawling {shown}: {inert_markup(redact(phase), keep_newlines=False)} ..."
            )
            outcomes += crawl_source(source, options, store)
        options.progress = None
    if as_json:
        _print_json([_outcome_json(o) for o in outcomes])
    else:
        for outcome in outcomes:
            _print_outcome(outcome)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


def _check_crawl_arguments(
    anything: bool,
    live: bool,
    static: bool,
    timeout: float,
    jobs: int,
    max_tools: int,
    limit: int | None,
    max_age: float,
) -> None:
    """Bad flag values are usage errors (exit 2), before anything runs or is stored."""
    from catalog.models import UsageError

    if not anything:
        raise UsageError("give a SOURCE, --cmd, --from FILE or --registry")
    if live and static:
        raise UsageError("--live and --static exclude each other")
    checks = [
        (timeout > 0, f"--timeout must be a positive number of seconds, not {timeout:g}"),
        (jobs >= 1, f"--jobs must be at least 1, not {jobs}"),
        (max_tools >= 1, f"--max-tools must be at least 1, not {max_tools}"),
        (limit is None or limit >= 1, f"--limit must be at least 1, not {limit}"),
        (max_age >= 0, f"--max-age must not be negative, not {max_age:g}"),
    ]
    for fine, message in checks:
        if not fine:
            raise UsageError(message)


def _check_sandbox_setting() -> None:
    """A bad CATALOG_SANDBOX value is the user's mistake (exit 2), not a failed crawl to store."""
    from catalog import sandbox
    from catalog.models import CatalogError, FailureKind

    try:
        sandbox.choose_mode(False)
    except CatalogError as exc:
        if exc.kind is FailureKind.USAGE:
            raise


def _say_when_static_only() -> None:
    from catalog import sandbox

    if os.environ.get("CATALOG_SANDBOX", "").strip().lower() == "off":
        return
    if why := sandbox.bwrap_usable():
        _note(f"packages are read statically only: {why} (install bubblewrap to also list them live)")


def _note(message: str) -> None:
    from rich.console import Console

    from catalog.redact import redact
    from catalog.textsafe import inert_markup

    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[yellow]note:[/] {inert_markup(redact(message))}", markup=True
    )


def _remember_secrets(env: list[str], commands: list[str], server_args: list[str]) -> None:
    """Values given on the command line that must never be stored or printed (see catalog.redact)."""
    import shlex

    from catalog import redact

    redact.remember(value for _, sep, value in (pair.partition("=") for pair in env) if sep)
    for command in commands:
        try:
            redact.remember_command(shlex.split(command))
        except ValueError:
            redact.remember_command(command.split())
    redact.remember_command(server_args)


def _bulk_crawl(
    items,
    options,
    store,
    jobs: int,
    max_age: float,
    refresh: bool,
    as_json: bool,
    run_key: str,
    executor=None,
    walk=None,
) -> None:
    from datetime import timedelta

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from catalog.bulk import run_bulk
    from catalog.textsafe import inert_markup

    counts = {"ok": 0, "incomplete": 0, "partial": 0, "failed": 0, "skipped": 0}
    console = Console(stderr=True)
    columns = [
        TextColumn("[bold]crawling[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}"),
    ]
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("crawl", total=getattr(items, "total", None), counts="", current="")

        def on_event(status: str, key: str, result) -> None:
            if status == "started":
                progress.update(task, current=inert_markup(key[:60], keep_newlines=False))
                return
            counts[status] = counts.get(status, 0) + 1
            text = (
                f"ok {counts['ok']}  incomplete {counts['incomplete'] + counts['partial']}  "
                f"failed {counts['failed']}  skipped {counts['skipped']}"
            )
            progress.update(task, advance=1, counts=text)

        summary = run_bulk(
            items,
            options,
            store,
            jobs=jobs,
            max_age=timedelta(hours=max_age),
            refresh=refresh,
            on_event=on_event,
            run_key=run_key,
            executor=executor,
        )
    results = summary.done + summary.failed
    if as_json:
        registry = {"registry": _walk_json(walk)} if walk is not None else {}
        _print_json({**_bulk_json(results, summary), **registry})
    else:
        _print_bulk_table(results, summary)
        if walk is not None:
            _note(f"registry: {walk.summary()}")
    if summary.interrupted:
        _err("interrupted; what finished is stored, run the same command again to resume")
        raise typer.Exit(130)
    if walk is not None and walk.failed:
        _err(f"the registry walk stopped early: {walk.stopped}; the crawls that finished are stored")
        raise typer.Exit(1)
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


def _walk_json(walk) -> dict[str, Any]:
    return {
        "summary": walk.summary(),
        "pages": walk.pages,
        "entries": walk.entries,
        "stopped": walk.stopped,
        "failed": walk.failed,
    }


def _bulk_json(results, summary) -> dict[str, Any]:
    return {
        "done": len(summary.done),
        "failed": len(summary.failed),
        "skipped": len(summary.skipped),
        "interrupted": summary.interrupted,
        "classified": summary.classified,
        "results": [_result_json(r) for r in results],
    }


def _result_json(r) -> dict[str, Any]:
    return {
        "server": r.server.id,
        "status": str(r.status),
        "method": r.method,
        "route": r.route,
        "version": r.version,
        "tools": len(r.tools),
        "tool_names": [t.name for t in r.tools],
        "error": r.error,
        "error_kind": r.error_kind,
        "warnings": r.warnings,
        "problems": [str(p) for p in r.problems],
        "differences": r.differences,
    }


def _print_bulk_table(results, summary) -> None:
    from rich.console import Console
    from rich.table import Table

    from catalog.textsafe import inert_markup

    title = (
        f"{len(summary.done)} crawled, {len(summary.failed)} failed, {len(summary.skipped)} skipped (fresh), "
        f"{summary.classified} tools classified"
    )
    table = Table(title=title)
    for column in ("server", "status", "method", "tools", "error"):
        table.add_column(column, overflow="fold")
    for r in sorted(results, key=lambda r: (r.status == "ok", r.server.id)):
        table.add_row(
            inert_markup(r.server.id), str(r.status), r.method, str(len(r.tools)), inert_markup(r.error or "")
        )
    Console().print(table)


def _outcome_json(outcome) -> dict[str, Any]:
    return {**_result_json(outcome.result), "crawl_id": outcome.crawl_id, "seconds": round(outcome.seconds, 3)}


def _print_outcome(outcome) -> None:
    from rich.console import Console

    from catalog.textsafe import inert_markup

    r = outcome.result
    out = Console(highlight=False, soft_wrap=True)
    if r.status == "failed":
        _err(f"{r.server.id}: {r.error}")
        return
    mark = "[green]✓[/]" if r.status == "ok" else f"[yellow]! {r.status}[/]"
    out.print(f"{mark} {inert_markup(r.server.id)}: {len(r.tools)} tools ({r.method}, {outcome.seconds:.1f}s)")
    out.print(f"  route: {inert_markup(r.route)}")
    for warning in r.warnings[:10]:
        out.print(f"  warning: {inert_markup(warning)}")
    for difference in r.differences[:10]:
        out.print(f"  differs: {inert_markup(difference['tool'])}: {difference['what'].replace('_', ' ')}")
    if r.status != "ok":
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
    labelled = _stored_tools(store, server)
    inventory = _inventory_json(store.last_ok_crawl(server))
    if as_json:
        _print_json([{**_labelled_json(lt), "inventory": inventory} for lt in labelled])
        return
    from rich.console import Console
    from rich.table import Table

    from catalog.textsafe import inert_markup

    table = Table(
        title=inert_markup(f"{server}: {len(labelled)} tools", keep_newlines=False),
        caption=inert_markup(_inventory_line(inventory), keep_newlines=False) if inventory else None,
    )
    for column in ("tool", "category", "risk", "conf.", "description"):
        table.add_column(column)
    for lt in labelled:
        table.add_row(
            inert_markup(lt.tool.name, keep_newlines=False),
            lt.category,
            lt.risk,
            f"{lt.classification.confidence:.2f}",
            _first_line(lt.tool.description, 90),
        )
    Console().print(table)


def _inventory_json(crawl: dict[str, Any] | None) -> dict[str, Any] | None:
    """Which stored crawl the current tool list comes from: its id, status, route and time."""
    if crawl is None:
        return None
    keys = ("id", "status", "method", "route", "version", "finished_at", "error")
    return {("crawl_id" if key == "id" else key): crawl.get(key) for key in keys}


def _inventory_line(inventory: dict[str, Any]) -> str:
    line = f"from crawl {inventory['crawl_id']} ({inventory['method']}, {inventory['status']}, {inventory['finished_at']})"
    return line + (f": {inventory['error']}" if inventory.get("error") else "")


def _stored_tools(store, server: str) -> list:
    """The labelled tools of a server; a clear error when it never had a good crawl."""
    from catalog.models import CatalogError

    store.require_server(server)
    labelled = store.labelled_tools(server)
    if not labelled and store.last_ok_crawl(server) is None:
        last = store.crawls(server, limit=1)
        reason = f": {last[0]['error']}" if last and last[0]["error"] else ""
        raise CatalogError(f"{server} has no stored tools; its crawls failed{reason}", kind="not_found")
    return labelled


def _labelled_json(lt) -> dict[str, Any]:
    from catalog.report import labelled_json

    tool = lt.tool
    return {
        **labelled_json(lt),
        "input_schema": tool.input_schema,
        "annotations": tool.annotations,
        "params": tool.parameter_names(),
        "origin": tool.origin,
        "unresolved": tool.unresolved,
        "classifier_version": lt.classification.version,
        "override": None
        if lt.override is None
        else {"category": lt.override.category, "note": lt.override.note, "at": lt.override.at},
    }


# -- classify / eval / train ------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    from catalog.models import CatalogError

    stream = sys.stdin if str(path) == "-" else None
    if stream is None and (not path.exists() or path.is_dir()):
        raise CatalogError(f"no such file: {path}", kind="usage")
    rows = []
    lines = stream or path.open(encoding="utf-8")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}:{number}: not valid JSON ({exc.msg})", kind="usage") from None
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            raise CatalogError(
                f"{path}:{number}: each line must be an object with a string 'name'", kind="usage"
            )
        rows.append(row)
    return rows


@app.command()
@friendly
def classify(
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL of tools ('-' for stdin).")],
) -> None:
    """Classify tools from JSONL; write them back as JSONL with category, risk, confidence, reasons.

    Streams batch by batch (whole servers per batch: keep each server's tools together for exact sibling context).
    """
    from catalog.models import CatalogError
    from classifier import stream

    if str(input) != "-" and (not input.exists() or input.is_dir()):
        raise CatalogError(f"no such file: {input}", kind="usage")
    handle = sys.stdin.buffer if str(input) == "-" else input.open("rb")
    sys.stdout.flush()
    try:
        summary = stream.label_stream(handle, sys.stdout.buffer, source=str(input))
    except stream.InputError as exc:
        raise CatalogError(str(exc), kind="usage") from None
    finally:
        sys.stdout.buffer.flush()
        if handle is not sys.stdin.buffer:
            handle.close()
    if summary.split_servers:
        sys.stderr.write(
            f"warning: {summary.split_servers} servers' tools were not together in the input; "
            "those tools were labelled with partial sibling context (sort the input by server)\n"
        )


@app.command("eval")
@friendly
def eval_(
    file: Annotated[Path, typer.Argument(help="JSONL of tools with a 'label'.")], as_json: JsonOption = False
) -> None:
    """Score the classifier on labelled tools: accuracy, macro-F1, per-class scores, confusion matrix."""
    import classifier
    from catalog.models import CatalogError

    rows = _read_jsonl(file)
    bad = [r["name"] for r in rows if r.get("label") not in CATEGORIES]
    if bad:
        raise CatalogError(
            f"{len(bad)} of {len(rows)} tools in {file} have no hand label (first: {bad[0]}); eval scores "
            "the classifier against labels a person set: give each line a \"label\" of read, write or "
            "destructive (the output of `catalog classify` has the classifier's own labels, not hand labels)",
            kind="usage",
        )
    result = classifier.evaluate(rows)
    if as_json:
        _print_json(result)
    else:
        sys.stdout.write(classifier.format_evaluation(result) + "\n")


@app.command()
@friendly
def train(
    data_dir: Annotated[Path | None, typer.Option("--data", help="Directory with the labelled data.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the model.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild the shipped model from the labelled data in data/, reproducibly."""
    from rich.console import Console

    import classifier
    from catalog.models import CatalogError

    with Console(stderr=True, quiet=as_json).status(
        "training: leave-servers-out cross-validation, calibration, then the final fit ..."
    ):
        try:
            stats = classifier.train(data_dir or classifier.DATA_DIR, out or classifier.MODEL_PATH)
        except classifier.TrainingError as exc:
            raise CatalogError(str(exc), kind=exc.kind) from None
    if as_json:
        _print_json(stats)
    else:
        _print_training_summary(stats)


def _print_training_summary(stats: dict[str, Any]) -> None:
    """What `catalog train` did, in words: the data, the cross-validated figures, the confusion matrix."""
    from rich.console import Console
    from rich.table import Table

    counts = stats["label_counts"]
    out = Console(highlight=False)
    out.print(
        f"trained on {stats['rows']:,} tools from {stats['servers']:,} servers "
        f"(read {counts['read']:,}, write {counts['write']:,}, destructive {counts['destructive']:,})"
    )
    out.print(
        f"leave-servers-out CV over {stats['cv_servers']:,} servers: accuracy {stats['cv_accuracy']:.3f}, "
        f"macro-F1 {stats['cv_macro_f1']:.3f}, destructive recall {stats['cv_destructive_recall']:.3f}, "
        f"destructive labelled read {stats['cv_destructive_labelled_read']}, "
        f"calibration error {stats['cv_expected_calibration_error']:.3f}"
    )
    table = Table(title="CV confusion (rows: label, columns: predicted)")
    names = ("read", "write", "destructive")
    table.add_column("")
    for name in names:
        table.add_column(name, justify="right")
    for name, row in zip(names, stats["cv_confusion_matrix"], strict=True):
        table.add_row(name, *(f"{n:,}" for n in row))
    out.print(table)
    out.print(f"model written to {stats['model']} (digest {str(stats['model_digest'])[:12]})")


# -- report / policy / annotate / label / search / browse -----------------------------------------------------


@app.command()
@friendly
def report(
    server: Annotated[str | None, typer.Argument(help="Server id; without it, the whole catalog.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, markdown, html or json.")] = "table",
    output: OutputOption = None,
    db: DbOption = None,
    fail_on: FailOnOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", help="Terminal table: at most this many tools, riskiest first.")
    ] = 30,
    show_all: Annotated[bool, typer.Option("--all", help="Terminal table: every tool.")] = False,
) -> None:
    """A risk report for one server, or the whole catalog riskiest first."""
    from catalog import report as reports
    from catalog.models import CatalogError

    if as_json:
        format = "json"
    if fail_on is not None:
        from catalog.ci import check_level

        check_level(fail_on)
    if limit < 1:
        raise CatalogError(f"--limit must be at least 1, got {limit}", kind="usage")
    _check_output(output)
    if format not in ("table", "markdown", "html", "json"):
        raise CatalogError(f"unknown format {format!r}: use table, markdown, html or json", kind="usage")
    store = _store(db)
    console = None
    if format == "table" and output is None:
        from rich.console import Console

        console = Console(highlight=False)  # colour on a terminal; NO_COLOR and pipes get none
    if server is None:
        rows = store.catalog_summary()
        for row in rows:
            if row.get("last_status") not in (None, "ok"):
                last = store.crawls(row["id"], limit=1)
                row["last_error"] = last[0]["error"] if last else None
        text = reports.render_catalog(rows, format, console)
    else:
        labelled = _stored_tools(store, server)
        policy_text = (
            _policy_text([(server, labelled)], "policylayer") if format in ("html", "markdown") else None
        )
        crawl = (store.crawls(server, limit=1) or [None])[0]
        text = reports.render_report(
            server, labelled, format, policy_text, console, crawl, None if show_all else limit
        )
    if console is None:
        _emit(text, output)
    if fail_on is not None:
        _fail_on(store, server, fail_on)


def _fail_on(store, server: str | None, level: str) -> None:
    """Exit 1 when any tool of the server (or of the catalog) is at or above `level`, naming them."""
    from catalog.ci import at_least

    ids = [server] if server else store.server_ids()
    risky = [(s, lt) for s in ids for lt in store.labelled_tools(s) if at_least(lt.risk, level)]
    if risky:
        names = ", ".join(f"{s}/{lt.tool.name} ({lt.risk})" for s, lt in risky[:10])
        more = f" and {len(risky) - 10} more" if len(risky) > 10 else ""
        _err(f"{len(risky)} tools at or above {level} risk: {names}{more}")
        raise typer.Exit(1)


def _emit(text: str, output: Path | None) -> None:
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    elif text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _policy_text(servers, format: str, profile: str = "balanced", caps=None, merge_with=None) -> str:
    from catalog.policies import render_policy

    return render_policy(servers, format, profile=profile, caps=caps, merge_with=merge_with)


@app.command()
@friendly
def policy(
    servers: Annotated[list[str], typer.Argument(help="Server id(s).")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="policylayer, intercept, claude-code, codex, cursor, cedar-toolhive, cedar-docker, "
            "cel-agentgateway or envoy-mcproute.",
        ),
    ] = "policylayer",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file; an existing file is merged into."),
    ] = None,
    profile: Annotated[str, typer.Option(help="strict, balanced or permissive.")] = "balanced",
    cap: Annotated[
        list[str] | None, typer.Option("--cap", help="CATEGORY=N calls per minute (repeatable).")
    ] = None,
    merge: Annotated[
        Path | None, typer.Option("--merge", help="An existing policy whose edits are kept.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing --output file instead of merging.")
    ] = False,
    server_name: Annotated[
        str | None,
        typer.Option("--server-name", help="The name your client or gateway config uses for the server."),
    ] = None,
    overrides_file: OverridesFileOption = None,
    db: DbOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the policy, its rules and reasons, and merge notes as JSON.")
    ] = False,
) -> None:
    """A recommended gateway policy for the server(s)."""
    from catalog.models import CatalogError
    from catalog.policies import build_policy

    caps = {}
    for item in cap or []:
        key, _, value = item.partition("=")
        if key not in CATEGORIES or not value.isdigit():
            raise CatalogError(
                f"--cap expects CATEGORY=N with a category in {CATEGORIES}, got {item!r}", kind="usage"
            )
        caps[key] = int(value)
    if server_name is not None and len(servers) != 1:
        raise CatalogError("--server-name renames one server; give exactly one server id", kind="usage")
    if merge and not merge.is_file():
        raise CatalogError(f"no such file: {merge}", kind="usage")
    _check_output(output)
    merge_with = merge
    if merge_with is None and output is not None and output.exists() and not force:
        merge_with = output  # never destroy the user's file: merge into it (--force overwrites)
    store = _store(db)
    pairs = _policy_servers(store, servers, overrides_file)
    sources = {server: _server_source(store, server) for server in servers}
    if server_name is not None:
        sources = {server_name: sources[servers[0]]}
        pairs = [(server_name, pairs[0][1])]
    result = build_policy(pairs, format, profile, caps or None, merge_with, sources=sources)
    if as_json:
        _print_json(
            {
                "format": result.format,
                "profile": profile,
                "merged_with": str(merge_with) if merge_with else None,
                "added": result.added,
                "kept": result.kept,
                "notes": result.notes,
                "rules": [r.to_dict() for r in result.rules],
                "policy": result.text,
            }
        )
        if output:
            _emit(result.text, output)
        return
    _emit(result.text, output)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if merge_with is not None:
        typer.echo(
            f"merged with {merge_with}: {len(result.added)} tools added, {len(result.kept)} kept as written",
            err=True,
        )


def _check_output(output: Path | None) -> None:
    """An output path whose folder is missing, or which is a folder, is a usage error."""
    from catalog.models import CatalogError

    if output is None:
        return
    if output.is_dir():
        raise CatalogError(f"{output} is a folder; give a file name", kind="usage")
    if not output.parent.is_dir():
        raise CatalogError(f"cannot write {output}: the folder {output.parent} does not exist", kind="usage")


def _policy_servers(store, servers: list[str], overrides_file: Path | None) -> list:
    """(server, labelled tools) pairs, with a reviewed overrides file applied over the database."""
    pairs = [(server, _stored_tools(store, server)) for server in servers]
    if overrides_file is None:
        return pairs
    from catalog.overrides import apply_overrides, read_overrides

    reviewed = read_overrides(overrides_file)
    return [(server, apply_overrides(server, tools, reviewed)) for server, tools in pairs]


def _server_source(store, server: str) -> dict[str, Any]:
    """What the last good crawl says about how the server is started: its source, kind and route."""
    crawl = store.last_ok_crawl(server) or {}
    row = store.db.execute("SELECT kind, source FROM servers WHERE id = ?", [server]).fetchone()
    kind, source = (row[0], row[1]) if row else (None, None)
    return {
        "id": server,
        "kind": kind,
        "source": source,
        "route": crawl.get("route"),
        "version": crawl.get("version"),
    }


@app.command()
@friendly
def annotate(
    server: Annotated[str, typer.Argument(help="Server id.")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Export corrected hints: toolhive (MCPToolConfig), server-json or tools-list.",
        ),
    ] = None,
    output: OutputOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The MCP annotations each tool should carry, and where the author's own hints disagree."""
    from catalog.annotate import export_annotations, render_annotations, suggest_annotations

    _check_output(output)
    store = _store(db)
    if format is not None:
        from catalog.annotate import EXPORT_FORMATS
        from catalog.models import CatalogError

        if format not in EXPORT_FORMATS:
            raise CatalogError(
                f"unknown annotate format {format!r}; use {', '.join(EXPORT_FORMATS)}", kind="usage"
            )
        _emit(export_annotations(server, _stored_tools(store, server), format), output)
        return
    suggestions = suggest_annotations(_stored_tools(store, server))
    if as_json:
        _emit(json.dumps(suggestions, indent=2, ensure_ascii=False, default=str) + "\n", output)
    else:
        _emit(render_annotations(server, suggestions), output)


@app.command()
@friendly
def label(
    server: Annotated[str, typer.Argument(help="Server id.")],
    tool: Annotated[str, typer.Argument(help="Tool name.")],
    category: Annotated[str, typer.Argument(help="read, write or destructive.")],
    note: Annotated[str, typer.Option("--note", help="Why the reviewer decided so.")],
    risk: Annotated[
        str | None,
        typer.Option(help="low, medium, high or critical; without it the risk never drops below the classifier's."),
    ] = None,
    db: DbOption = None,
    overrides_file: Annotated[
        Path | None,
        typer.Option("--overrides-file", help="Also record the override in this reviewable YAML file."),
    ] = None,
) -> None:
    """Overrule the classifier for one tool; the override survives re-crawls and drives the policy."""
    from catalog.models import CatalogError

    _choice("CATEGORY", category, CATEGORIES)
    _choice("--risk", risk, RISKS)
    if not note.strip():
        raise CatalogError("--note must say why", kind="usage")
    _check_output(overrides_file)
    store = _store(db)
    store.require_server(server)
    store.set_override(server, tool, category, note.strip(), risk)
    if overrides_file is not None:
        from catalog.overrides import write_override

        write_override(overrides_file, server, tool, category, note.strip(), risk)
    from catalog.textsafe import inert

    labelled = next(lt for lt in store.labelled_tools(server) if lt.tool.name == tool)
    typer.echo(
        inert(f"{server} {tool}: labelled {category} by a reviewer; now {labelled.category} / {labelled.risk}")
    )


@app.command()
@friendly
def pin(
    servers: Annotated[list[str], typer.Argument(help="Server id(s) to pin.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The lock file, e.g. mcp-lock.json.")
    ] = None,
    overrides_file: OverridesFileOption = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the lock even with --output.")] = False,
) -> None:
    """Record each tool's full definition hash, label and risk in a lock file for `catalog check --lock`."""
    from catalog.ci.lock import pin as make_lock

    _check_output(output)
    store = _store(db)
    pairs = _policy_servers(store, servers, overrides_file)
    lock = make_lock([(server, tools, _server_source(store, server)) for server, tools in pairs])
    text = json.dumps(lock, indent=2, ensure_ascii=False) + "\n"
    if output is None or as_json:
        sys.stdout.write(text)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        count = sum(len(s["tools"]) for s in lock["servers"].values())
        typer.echo(f"pinned {count} tools of {len(servers)} server(s) in {output}", err=True)


@app.command()
@friendly
def check(
    servers: Annotated[
        list[str] | None, typer.Argument(help="Server id(s); with --lock, default: every server in it.")
    ] = None,
    lock: Annotated[Path | None, typer.Option("--lock", help="A lock file written by `catalog pin`.")] = None,
    stored: Annotated[
        bool, typer.Option("--stored", help="Compare the stored crawl instead of crawling again.")
    ] = False,
    fail_on: FailOnOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text, json or sarif.")] = "text",
    output: OutputOption = None,
    overrides_file: OverridesFileOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Gate a pipeline: drift from a lock file, hidden instructions, risky tools. Exit 1 on a failing finding."""
    from catalog.ci import check_level, failing, render_text
    from catalog.ci.lock import drift, read_lock, scan
    from catalog.models import CatalogError

    if as_json:
        format = "json"
    if format not in ("text", "json", "sarif"):
        raise CatalogError(f"unknown format {format!r}: use text, json or sarif", kind="usage")
    if fail_on is not None:
        check_level(fail_on)
    _check_output(output)
    pinned = read_lock(lock) if lock else None
    names = list(servers or (list(pinned["servers"]) if pinned else []))
    if not names:
        raise CatalogError("give a SERVER, or --lock FILE", kind="usage")
    store = _store(db)
    if pinned and not stored:
        for server in names:
            if server in pinned["servers"]:
                _recrawl(store, server, pinned["servers"][server])
    pairs = _policy_servers(store, names, overrides_file)
    if pinned:
        known = {s: t for s, t in pairs if s in pinned["servers"]}
        findings = drift({"servers": {s: pinned["servers"][s] for s in known}}, known)
        for server, tools in pairs:
            findings += [f for f in scan(server, tools, fail_on) if f.rule == "MCP001"]
    else:
        findings = [f for server, tools in pairs for f in scan(server, tools, fail_on)]
    failed = failing(findings, fail_on)
    if format == "text":
        text = render_text(findings, failed) + "\n"
    elif format == "json":
        text = (
            json.dumps(
                {"findings": [f.to_dict() for f in findings], "failing": len(failed), "fail_on": fail_on},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    else:
        from catalog.ci.sarif import to_sarif

        artifact = (lock.resolve().as_uri() if lock.is_absolute() else lock.as_posix()) if lock else names[0]
        text = (
            json.dumps(to_sarif(findings, failed, artifact, _version()), indent=2, ensure_ascii=False) + "\n"
        )
    _emit(text, output)
    if failed:
        raise typer.Exit(1)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcp-catalog")
    except PackageNotFoundError:
        return "0"


def _recrawl(store, server: str, pinned: dict[str, Any]) -> None:
    """Crawl a pinned server again from the source its lock entry records."""
    from catalog.crawl import CrawlOptions, crawl_source
    from catalog.models import CatalogError

    source, kind = pinned.get("source"), pinned.get("kind")
    if not source:
        raise CatalogError(f"the lock file does not say where {server} came from; use --stored", kind="usage")
    if kind == "command":
        source = f"stdio:{source}"
    named = kind in ("json", "local", "command", "url")
    outcomes = crawl_source(source, CrawlOptions(name=server if named else None), store)
    bad = [o.result for o in outcomes if o.result.status == "failed"]
    if bad:
        raise CatalogError(f"crawling {server} again failed: {bad[0].error}", kind="error")


@app.command()
@friendly
def search(
    query: Annotated[str, typer.Argument(help="Words to find in tool names and descriptions.")],
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    risk: Annotated[str | None, typer.Option(help="Only this risk level.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Full-text search over the names and descriptions of every stored tool.

    Words must all match; OR between words or "quoted phrases" means either; the last word is a prefix."""
    from catalog.models import CatalogError

    _choice("--category", category, CATEGORIES)
    _choice("--risk", risk, RISKS)
    if limit < 1:
        raise CatalogError(f"--limit must be at least 1, not {limit}", kind="usage")
    rows = list(_store(db).search(query, category=category, risk=risk, limit=limit))
    if as_json:
        _print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    from catalog.textsafe import inert_markup

    more = f" (the first {limit}; raise --limit for more)" if len(rows) == limit else ""
    title = f"{len(rows)} tools match {query!r}{more}"
    table = Table(title=inert_markup(title, keep_newlines=False))
    for column in ("server", "tool", "category", "risk", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            inert_markup(row["server_id"], keep_newlines=False),
            inert_markup(row["name"], keep_newlines=False),
            row["effective_category"] or "",
            row["effective_risk"] or "",
            _first_line(row["description"], 80),
        )
    Console().print(table)


@app.command()
@friendly
def browse(
    db: DbOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8001,
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser.")] = False,
) -> None:
    """Open the catalog in Datasette, with facets and canned queries."""
    from catalog.browse import browse as run_browse

    store = _store(db)
    run_browse(store.path, port=port, open_browser=not no_open)


@app.command()
@friendly
def merge(
    inputs: Annotated[list[Path], typer.Argument(help="Catalog databases built apart (two or more).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The new merged catalog database.")],
    as_json: JsonOption = False,
) -> None:
    """Merge catalogs built apart: history kept, the newest crawl of each server wins, nothing twice."""
    from dataclasses import asdict

    from catalog.merge import merge_catalogs

    summary = merge_catalogs(list(inputs), output)
    if as_json:
        _print_json({"output": str(output), **asdict(summary)})
        return
    typer.echo(
        f"wrote {output}: {summary.servers} servers, {summary.tools} tools, {summary.crawls} crawls "
        f"({summary.duplicate_crawls} found in more than one input, stored once), "
        f"{summary.tool_versions} tool versions, from {summary.inputs} catalogs"
    )


def main() -> None:
    """Run the app; Click's own usage errors become one line on stderr and exit code 2 (no box)."""
    try:  # Typer 0.2x ships its own copy of Click; older versions use Click itself
        from typer._click import exceptions as click_errors
    except ImportError:  # pragma: no cover
        from click import exceptions as click_errors  # type: ignore[no-redef]

    try:
        code = app(args=_default_registry(sys.argv[1:]), prog_name="catalog", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n")
        code = 0
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "catalog"
        message = " ".join(exc.format_message().split())
        _err(f"{message} (see `{where} --help`)")
        code = 2
    except click_errors.ClickException as exc:
        _err(" ".join(exc.format_message().split()))
        code = exc.exit_code
    except typer.Abort:
        _err("aborted")
        code = 1
    for store in _OPENED:
        store.close()
    import gc

    gc.freeze()  # the process ends here: its shutdown need not walk every object it made for garbage
    sys.exit(code if isinstance(code, int) else 0)


def _default_registry(argv: list[str]) -> list[str]:
    """`--registry` given without a URL means the official registry."""
    out = list(argv)
    if "--registry" not in out:
        return out
    from catalog.sources.registry import OFFICIAL_REGISTRY

    for index, arg in enumerate(out):
        if arg == "--registry" and (index + 1 == len(out) or out[index + 1].startswith("-")):
            out.insert(index + 1, OFFICIAL_REGISTRY)
            break
    return out


if __name__ == "__main__":
    main()
