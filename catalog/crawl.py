"""The one crawl pipeline: work items -> workers (resolve, then list each target) -> the single writer
(redact, store) -> stale labels classified in one batch. Single and bulk crawls both run through
`run_pipeline`; `crawl_source` and `catalog.bulk` only build the work items."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.models import (
    CatalogError,
    Classification,
    CrawlResult,
    CrawlStatus,
    FailureKind,
    Problem,
    ProblemKind,
    ServerRef,
    Tool,
)
from catalog.sources import (
    AlreadyListed,
    ConnectUrl,
    ReadTree,
    ResolveOptions,
    RunCommand,
    Target,
    default_cache_dir,
    resolve,
)
from catalog.store import Store, now

if TYPE_CHECKING:
    from catalog.extract import Extraction
    from catalog.live import Launch

DEFAULT_MAX_TOOLS = 5000
CLASSIFY_BATCH_SERVERS = 500  # stale labels are classified once per this many stored servers


class Route(StrEnum):
    """How packages and repositories are listed: read statically, run live, or both and reconcile."""

    AUTO = "auto"  # static, plus live where the sandbox works; a live listing is the inventory
    STATIC = "static"  # never runs code
    LIVE = "live"  # the live listing is required


@dataclass
class CrawlOptions:
    """What the user asked for: the route, environment for live servers, limits."""

    route: Route = Route.STATIC
    env: dict[str, str] = field(default_factory=dict)
    server_args: list[str] = field(default_factory=list)  # after a package's own command (e.g. "stdio")
    timeout: float = 60.0
    name: str | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    github_url: str = "https://github.com"
    max_tools: int = DEFAULT_MAX_TOOLS
    sandbox: bool = True
    classify: bool = True
    # Told each phase of a live crawl (installing, starting, listing): the status line of a single crawl.
    progress: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.route is Route.LIVE

    def resolve_options(self) -> ResolveOptions:
        return ResolveOptions(
            cache_dir=self.cache_dir,
            github_url=self.github_url,
            name=self.name,
            live=self.route is not Route.STATIC,
            env=dict(self.env),
            timeout=self.timeout,
        )


@dataclass
class WorkItem:
    """One thing to crawl: its key (shown, used for resuming and for failures) and how to find its targets."""

    key: str
    resolve: Callable[[], list[Target]]


@dataclass
class Finished:
    """A result a worker produced, not yet redacted or stored."""

    result: CrawlResult
    started: str
    seconds: float


@dataclass
class CrawlOutcome:
    """A stored crawl, with the crawl id and how long it took."""

    result: CrawlResult
    crawl_id: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.result.status == CrawlStatus.OK


@dataclass
class RunSummary:
    """What one run of the pipeline stored, skipped and classified."""

    outcomes: list[CrawlOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    classified: int = 0

    @property
    def done(self) -> list[CrawlResult]:
        return [o.result for o in self.outcomes if o.result.status != CrawlStatus.FAILED]

    @property
    def failed(self) -> list[CrawlResult]:
        return [o.result for o in self.outcomes if o.result.status == CrawlStatus.FAILED]


Event = Callable[[str, str, CrawlResult | None], None]  # (started | skipped | a status, item key, result)


# -- the pipeline -------------------------------------------------------------------------------------------


def run_pipeline(
    items: Iterable[WorkItem],
    options: CrawlOptions,
    store: Store,
    *,
    jobs: int = 1,
    skip: set[str] | frozenset[str] = frozenset(),
    on_event: Event | None = None,
    bulk: bool = True,
    executor: Executor | None = None,
) -> RunSummary:
    """Crawl items with at most `jobs` workers; the calling thread is the single writer.

    `executor` runs the workers elsewhere (`catalog.cluster.DaskExecutor`: Dask workers); it relays their
    events to `on_event` (the callback stays on the driver), and the driver still stores each item's
    result once.

    In a bulk run (`bulk`), a usage error of one item (a bad line in a list file) is stored as that item's
    failure; in a single crawl it is raised (exit code 2) and nothing is stored for it.
    """
    from catalog.redact import redact

    summary = RunSummary()
    notify: Event = on_event or (lambda *_: None)
    to_classify: list[str] = []
    if jobs > 1:
        preload_for_threads()
    pool = executor or ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="crawl")
    pending: dict[Future[list[Finished]], str] = {}

    def write(done: Iterable[Future[list[Finished]]]) -> None:
        for future in done:
            key = pending.pop(future)
            for finished in future.result():
                outcome = store_finished(store, finished)
                summary.outcomes.append(outcome)
                if outcome.result.status != CrawlStatus.FAILED:
                    to_classify.append(outcome.result.server.id)
                notify(str(outcome.result.status), key, outcome.result)
            if options.classify and len(set(to_classify)) >= CLASSIFY_BATCH_SERVERS:
                summary.classified += classify_pending(store, sorted(set(to_classify)))
                to_classify.clear()

    try:
        for item in items:
            key = redact(item.key)
            if key in skip:
                summary.skipped.append(key)
                notify("skipped", key, None)
                continue
            while len(pending) >= max(1, jobs) * 4:  # a short queue: a registry is read lazily
                write(wait(pending, return_when=FIRST_COMPLETED).done)
            pending[pool.submit(work, item, key, options, bulk, notify)] = key
        while pending:
            write(wait(pending, return_when=FIRST_COMPLETED).done)
    except KeyboardInterrupt:
        summary.interrupted = True
        for future in list(pending):
            future.cancel()
        finished = [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]
        write(finished)  # what finished before the interrupt is stored, not dropped
        from catalog import sandbox

        sandbox.kill_all()  # servers still running would hold their threads until their timeout
    finally:
        pool.shutdown(wait=not summary.interrupted, cancel_futures=True)
        if options.classify and to_classify:
            summary.classified += classify_pending(store, sorted(set(to_classify)))
    return summary


def crawl_source(
    source: str, options: CrawlOptions, store: Store, on_event: Event | None = None
) -> list[CrawlOutcome]:
    """Resolve one source and crawl every server it names; each crawl is stored, failed or not."""
    item = WorkItem(source, lambda: resolve(source, options.resolve_options()))
    summary = run_pipeline([item], options, store, jobs=1, on_event=on_event, bulk=False)
    if summary.interrupted:
        raise KeyboardInterrupt
    return summary.outcomes


_preload_lock = threading.Lock()


def preload_for_threads() -> None:
    """Import what workers would otherwise import concurrently (the SDK's transports fail half-initialised
    when two threads import them at once)."""
    with _preload_lock:
        import mcp.client.sse  # noqa: F401
        import mcp.client.stdio  # noqa: F401
        import mcp.client.streamable_http  # noqa: F401

        from catalog import envs, live, sandbox  # noqa: F401
        from catalog.extract import _extractors
        from catalog.sources import command, github, local, manifest, npm, pypi, url  # noqa: F401

        _extractors()  # the language modules, and what they import lazily
        for name in ("griffe", "tree_sitter", "tree_sitter_go", "tree_sitter_typescript", "packaging.version"):
            try:
                importlib.import_module(name)
            except ImportError:
                pass


# -- a worker: resolve and list -----------------------------------------------------------------------------


def work(item: WorkItem, key: str, options: CrawlOptions, bulk: bool, notify: Event) -> list[Finished]:
    """Resolve one item and list each of its targets; failures become failed results, never exceptions
    (except a usage error of a single crawl)."""
    started, clock = now(), time.monotonic()
    notify("started", key, None)
    try:
        targets = item.resolve()
    except CatalogError as exc:
        if exc.kind is FailureKind.USAGE and not bulk:
            raise
        return [Finished(failed_result(item.key, options, exc), started, time.monotonic() - clock)]
    except Exception as exc:  # one broken source never stops the others
        error = CatalogError(f"internal error: {type(exc).__name__}: {exc}", FailureKind.INTERNAL)
        return [Finished(failed_result(item.key, options, error), started, time.monotonic() - clock)]
    finished = []
    for target in targets:
        target_started, target_clock = now(), time.monotonic()
        try:
            result = list_target(target, options, raise_usage=not bulk)
        except CatalogError:
            raise
        except Exception as exc:
            error = CatalogError(f"internal error: {type(exc).__name__}: {exc}", FailureKind.INTERNAL)
            result = failed_result(target.server.id, options, error)
        finished.append(Finished(result, target_started, time.monotonic() - target_clock))
    return finished


def failed_result(source: str, options: CrawlOptions, exc: CatalogError) -> CrawlResult:
    server_id = options.name or source
    result = CrawlResult(
        server=ServerRef(server_id, source, "unresolved"),
        method="live" if options.live else "static",
        route="source could not be resolved",
    )
    result.fail(exc)
    return result


# -- the writer ---------------------------------------------------------------------------------------------


def store_finished(store: Store, finished: Finished) -> CrawlOutcome:
    crawl_id = store_result(store, finished.result, started_at=finished.started)
    return CrawlOutcome(finished.result, crawl_id, finished.seconds)


def store_result(
    store: Store, result: CrawlResult, labels: dict[str, Classification] | None = None, started_at: str | None = None
) -> int:
    """The single writer: every result is redacted here, before it is stored and before anyone prints it."""
    from catalog.redact import redact_result

    redact_result(result)
    crawl_id = store.save_crawl(result, labels, started_at=started_at)
    if result.differences:
        store.save_differences(crawl_id, result.differences)
    return crawl_id


# -- listing one target -------------------------------------------------------------------------------------


def remember_target_secrets(target: Target) -> None:
    """What a target passes to its server (environment, secret-looking arguments, URL secrets, headers)."""
    from catalog import redact

    redact.remember_env(target.env)
    match target.access:
        case RunCommand(command):
            redact.remember_command(command)
        case ConnectUrl(url, headers):
            redact.remember(redact.secrets_in_url(url))
            redact.remember_headers(headers)


def list_target(target: Target, options: CrawlOptions, raise_usage: bool = False) -> CrawlResult:
    """The tools of one target, by the route it allows; a CatalogError becomes a failed result."""
    remember_target_secrets(target)
    result = CrawlResult(
        server=target.server,
        method="static",
        route=target.route,
        version=target.version,
        digest=target.digest,
        warnings=list(target.warnings),
    )
    try:
        match target.access:
            case AlreadyListed(tools) if not (options.live and target.package):
                result.tools = list(tools)
                _apply_problems(result, problems_from_text(target.warnings))
            case ReadTree() | AlreadyListed() if options.route is Route.STATIC or (
                target.package is None and options.route is Route.AUTO
            ):
                _list_static(target, result, live_possible=False)
            case ReadTree() | AlreadyListed():
                _list_package(target, options, result)
            case _:
                _list_live(target, options, result)
        _check_count(result, options.max_tools)
    except CatalogError as exc:
        if raise_usage and exc.kind is FailureKind.USAGE:
            raise
        result.fail(exc)
    return result


def _list_package(target: Target, options: CrawlOptions, result: CrawlResult) -> None:
    """Static reading and, unless the sandbox is missing in the default route, a live listing; reconciled."""
    from catalog import sandbox

    if options.route is Route.LIVE:
        _list_live(target, options, result)
        return
    why_not = sandbox.bwrap_usable() if options.sandbox else None
    static = CrawlResult(server=result.server, method="static", route=result.route)
    static_error: CatalogError | None = None
    if why_not is not None:
        try:
            _list_static(target, static, live_possible=False)
        except CatalogError as exc:
            static_error = exc
        result.warnings.append(f"static reading only: {why_not} (no sandbox to list it live)")
        if static_error:
            raise static_error
        _adopt(result, static)
        return
    live_result = CrawlResult(server=result.server, method="live", route=result.route)
    # The server starts first, in its own thread; the static reading runs while it starts up (not before it
    # is spawned: two busy threads would share the interpreter lock and delay the spawn).
    spawned = threading.Event()

    def progress(phase: str) -> None:
        if phase.startswith("starting"):
            spawned.set()
        _phase(options, phase)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="live") as pool:
        listed = pool.submit(_caught, _list_live, target, replace(options, progress=progress), live_result)
        listed.add_done_callback(lambda _: spawned.set())
        spawned.wait()
        try:
            _list_static(target, static, live_possible=True)
        except CatalogError as exc:
            static_error = exc
        live_error = listed.result()
    if live_error is not None:
        if live_error.kind is FailureKind.USAGE:
            raise live_error
        if static_error:
            raise CatalogError(f"{static_error}; live listing failed too: {live_error}", live_error.kind) from None
        _adopt(result, static)
        result.degrade(
            CrawlStatus.INCOMPLETE, f"live listing failed ({live_error.kind}): {live_error}", FailureKind.INCOMPLETE
        )
        return
    _adopt(result, live_result)
    result.method = "static+live"
    result.route = live_result.route
    result.differences = reconcile(static.tools, live_result.tools)
    if result.differences:
        result.warnings.append(f"static and live differ: {describe_differences(result.differences)}")


def _caught(list_fn: Callable[[Target, CrawlOptions, CrawlResult], None], *args: Any) -> CatalogError | None:
    """Run a listing; its CatalogError returned (for the caller's thread to handle), not raised."""
    try:
        list_fn(*args)
    except CatalogError as exc:
        return exc
    return None


def _adopt(into: CrawlResult, found: CrawlResult) -> None:
    into.method, into.route = found.method, found.route
    into.tools, into.prompts, into.resources = found.tools, found.prompts, found.resources
    into.server_info, into.env_names = found.server_info, found.env_names
    into.warnings.extend(found.warnings)
    into.problems = found.problems
    into.status, into.error, into.error_kind = found.status, found.error, found.error_kind


def _list_static(target: Target, result: CrawlResult, live_possible: bool) -> None:
    from catalog.extract import extract_tree

    if target.tools is not None:  # a manifest's tools, read where a live listing was also possible
        result.tools = list(target.tools)
        _apply_problems(result, problems_from_text(target.warnings))
        return
    assert target.root is not None
    found = extract_tree(target.root)
    result.tools = found.tools
    result.warnings.extend(found.warnings)
    if not found.tools:
        hint = "; try --live" if target.package is not None and not live_possible else ""
        cut = f"; {static_gaps(found)}" if found.may_be_incomplete else ""
        raise CatalogError(
            f"no MCP tools found statically in {target.route.split(',')[0]}"
            f" ({found.files_scanned} source files read){cut}{hint}",
            FailureKind.NO_TOOLS,
        )
    if gaps := static_gaps(found):
        result.degrade(CrawlStatus.INCOMPLETE, f"static reading may miss tools: {gaps}", FailureKind.INCOMPLETE)


def static_gaps(found: Extraction) -> str | None:
    """Why a static inventory may miss tools: files cut short by a budget, tools made at run time
    (the extractor's own reasons), names it could not resolve."""
    reasons = list(found.incomplete_reasons)
    reasons += [f"{tool.name}: {u}" for tool in found.tools for u in tool.unresolved if u.startswith("name")]
    if not reasons:
        return None
    more = f" (and {len(reasons) - 2} more)" if len(reasons) > 2 else ""
    return "; ".join(reasons[:2]) + more


def _list_live(target: Target, options: CrawlOptions, result: CrawlResult) -> None:
    from catalog import fallbacks, live

    result.env_names = sorted(target.env)
    if isinstance(target.access, ConnectUrl):
        _check_remote(target, options)
        _phase(options, "connecting and listing tools")
        listing = live.list_url(
            target.access.url,
            headers=target.access.headers or None,
            timeout=options.timeout,
            max_tools=options.max_tools,
        )
    else:
        launch, notes = _launch_for(target, options)
        launch.on_phase = options.progress
        result.warnings.extend(notes)
        result.env_names = sorted(launch.env)
        try:
            listing = fallbacks.list_stdio(launch, options.cache_dir, options.timeout, options.max_tools)
        except CatalogError as error:
            if notes:
                raise CatalogError(f"{error} ({'; '.join(notes)})", error.kind) from None
            raise
        result.route += f"; run live{' in a sandbox' if launch.sandbox else ''}: {' '.join(launch.command)}"
    result.method = "live"
    result.tools = listing.tools
    result.prompts = listing.prompts
    result.resources = listing.resources
    result.server_info = listing.server_info
    result.warnings.extend(listing.warnings)
    problems = [Problem(ProblemKind.MALFORMED, m) for m in listing.malformed]
    problems += [Problem(ProblemKind.DUPLICATE, repr(d)) for d in listing.duplicates]
    _apply_problems(result, problems)
    if not listing.complete:  # cut by a cap or a failed later page: tools not reached are not removed
        result.degrade(CrawlStatus.INCOMPLETE, f"listing cut: {listing.incomplete_reason}", FailureKind.INCOMPLETE)


def _check_remote(target: Target, options: CrawlOptions) -> None:
    """Before any remote endpoint is contacted: a URL the user named is contacted; one found in a registry
    or a client config only with --live. Either way the address must be safe (`url.check_url`)."""
    from catalog.sources.url import check_url, shown_url

    assert isinstance(target.access, ConnectUrl)
    url = target.access.url
    named = target.server.kind == "url" and target.server.source == url
    if not named and options.route is not Route.LIVE:
        raise CatalogError(
            f"remote endpoint {shown_url(url)} not contacted: endpoints from registries and client configs are"
            " listed only with --live",
            FailureKind.NOT_CONTACTED,
        )
    check_url(url)


def _phase(options: CrawlOptions, text: str) -> None:
    if options.progress is not None:
        options.progress(text)


def _launch_for(target: Target, options: CrawlOptions) -> tuple[Launch, list[str]]:
    """How to start the server live, and what its install noted (install scripts that failed)."""
    from catalog import live

    if isinstance(target.access, RunCommand):
        from catalog import envs

        command = list(target.access.command)
        behind = envs.package_behind(command)  # uvx NAME, npx -y NAME: the package route
        if behind is not None:
            _phase(options, f"downloading and installing {behind.name}")
            return envs.package_command_launch(behind, options.cache_dir, dict(target.env), options.sandbox)
        return live.command_launch(command, dict(target.env), options.sandbox), []
    if target.package is None:
        raise CatalogError(
            f"{target.server.id}: nothing to run live (no published package found)", FailureKind.UNSUPPORTED
        )
    from catalog import envs

    prepare = envs.python_env if target.package.registry == "pypi" else envs.npm_env
    env_dir = options.cache_dir / "envs"
    _phase(options, f"installing {target.package.name} {target.package.version}")
    prepared = prepare(
        target.package.name,
        target.package.version,
        env_dir,
        sandbox_enabled=options.sandbox,
        progress=options.progress,
    )
    launch = live.Launch(
        command=[*prepared.command, *options.server_args],
        env=dict(options.env),
        binds=list(prepared.binds),
        sandbox=options.sandbox,
        entry_forms=not options.server_args,  # try `stdio`, `serve`, ... when the plain entry point fails
        env_names=list(prepared.env_names),  # placeholders for these when it fails without them
        env_values=dict(prepared.env_values),
        scratch=list(prepared.scratch),  # its code's folders: writable throwaway copies
    )
    return launch, prepared.notes


# -- problems, caps, differences ----------------------------------------------------------------------------


def problems_from_text(lines: list[str]) -> list[Problem]:
    """The problem lines a manifest parser reports ("malformed tool at ...", "duplicate tool name 'x'")."""
    found = []
    for line in lines:
        if line.startswith("malformed"):
            found.append(Problem(ProblemKind.MALFORMED, line.removeprefix("malformed tool").strip()))
        elif line.startswith("duplicate"):
            found.append(Problem(ProblemKind.DUPLICATE, line.removeprefix("duplicate tool name").strip()))
        elif line.startswith("tool ") and " skipped: " in line:  # a tool the hostile-JSON reader dropped
            found.append(Problem(ProblemKind.MALFORMED, line.removeprefix("tool ").strip()))
    return found


def _apply_problems(result: CrawlResult, problems: list[Problem]) -> None:
    """Malformed or duplicate tools: keep the good ones, but mark the crawl partial (exit code 1)."""
    result.problems = problems
    if problems:
        result.degrade(CrawlStatus.PARTIAL, summarise_problems(problems), FailureKind.BAD_TOOLS)


def summarise_problems(problems: list[Problem]) -> str:
    """'2 duplicate, 4 malformed tool(s) in the listing: ...' with a few examples of each kind."""
    kinds = sorted({p.kind for p in problems})
    counts = ", ".join(f"{sum(p.kind == k for p in problems)} {k.value}" for k in kinds)
    examples = [str(p) for k in kinds for p in [q for q in problems if q.kind == k][:3]]
    return f"{counts} tool(s) in the listing: " + "; ".join(examples)


def _check_count(result: CrawlResult, max_tools: int) -> None:
    if len(result.tools) > max_tools:
        raise CatalogError(
            f"server lists {len(result.tools)} tools, more than the cap of {max_tools} "
            "(raise it with --max-tools)",
            FailureKind.TOO_MANY_TOOLS,
        )


def reconcile(static: list[Tool], live: list[Tool]) -> list[dict[str, Any]]:
    """What static reading and the live listing disagree on: names only one side has, descriptions and
    parameter names that differ (the live listing is the inventory)."""
    by_static = {t.name: t for t in static}
    by_live = {t.name: t for t in live}
    differences: list[dict[str, Any]] = [
        {"tool": name, "what": "static_only"} for name in sorted(by_static.keys() - by_live.keys())
    ]
    differences += [{"tool": name, "what": "live_only"} for name in sorted(by_live.keys() - by_static.keys())]
    for name in sorted(by_static.keys() & by_live.keys()):
        seen, listed = by_static[name], by_live[name]
        if " ".join(seen.description.split()) != " ".join(listed.description.split()):
            differences.append(
                {"tool": name, "what": "description", "static": seen.description, "live": listed.description}
            )
        static_params, live_params = sorted(seen.parameter_names()), sorted(listed.parameter_names())
        if (seen.input_schema is not None or seen.params) and static_params != live_params:
            differences.append({"tool": name, "what": "schema", "static": static_params, "live": live_params})
    return differences


def describe_differences(differences: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for d in differences:
        counts[d["what"]] = counts.get(d["what"], 0) + 1
    words = {
        "static_only": "found only statically",
        "live_only": "listed only live",
        "description": "description differs",
        "schema": "parameters differ",
    }
    return ", ".join(f"{n} {words.get(what, what)}" for what, n in sorted(counts.items()))


# -- classification -----------------------------------------------------------------------------------------


def classify_pending(store: Store, server_ids: list[str]) -> int:
    """Classify, in one batch, every current tool of these servers whose label is missing or stale."""
    todo = store.unclassified_tools(server_ids)
    if not todo:
        return 0
    labels = classify_rows(todo)
    store.save_labels(labels)
    return len(labels)


def classify_result(result: CrawlResult) -> dict[str, Classification]:
    """Label every tool of one crawl in one batch, with the server's tools as siblings."""
    return classify_tools(result.server.id, result.tools)


def classify_tools(server_id: str, tools: list[Tool]) -> dict[str, Classification]:
    return {tool.name: label for _, tool, label in classify_rows([(server_id, tool) for tool in tools])}


def classify_rows(tools: list[tuple[str, Tool]]) -> list[tuple[str, Tool, Classification]]:
    """Label tools of any number of servers in one vectorised batch (siblings grouped by server id)."""
    import classifier

    if not tools:
        return []
    labels = classifier.classify([tool_row(server_id, tool) for server_id, tool in tools])
    return [
        (
            server_id,
            tool,
            Classification(
                label["category"],
                label["risk"],
                float(label["confidence"]),
                list(label["reasons"]),
                label.get("version", ""),
                label.get("p_destructive"),
                label.get("caution_threshold"),
            ),
        )
        for (server_id, tool), label in zip(tools, labels, strict=True)
    ]


def tool_row(server_id: str, tool: Tool) -> dict:
    """The classifier's input form of a tool (the JSONL contract of `catalog classify`)."""
    return {
        "server": server_id,
        "name": tool.name,
        "description": tool.description,
        "params": tool.parameter_names(),
        "input_schema": tool.input_schema,
        "annotations": tool.annotations,
    }
