"""The crawl pipeline: source → targets → tools (static or live) → classifications → one stored crawl."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.models import CatalogError, Classification, CrawlResult, Tool
from catalog.sources import ResolveOptions, Target, default_cache_dir, resolve
from catalog.store import Store, now

if TYPE_CHECKING:
    from catalog.live import Launch

DEFAULT_MAX_TOOLS = 5000


@dataclass
class CrawlOptions:
    """What the user asked for: live or static, environment for live servers, limits."""

    live: bool = False
    env: dict[str, str] = field(default_factory=dict)
    server_args: list[str] = field(default_factory=list)  # after a package's own command (e.g. "stdio")
    timeout: float = 60.0
    name: str | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    github_url: str = "https://github.com"
    max_tools: int = DEFAULT_MAX_TOOLS
    sandbox: bool = True
    classify: bool = True

    def resolve_options(self) -> ResolveOptions:
        return ResolveOptions(
            cache_dir=self.cache_dir,
            github_url=self.github_url,
            name=self.name,
            live=self.live,
            env=dict(self.env),
            timeout=self.timeout,
        )


@dataclass
class CrawlOutcome:
    """A stored crawl, with the crawl id and how long it took."""

    result: CrawlResult
    crawl_id: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.result.status == "ok"


def crawl_source(
    source: str, options: CrawlOptions, store: Store, on_target: Callable[[Target], None] | None = None
) -> list[CrawlOutcome]:
    """Resolve one source and crawl every server it names; each crawl is stored, failed or not."""
    started = now()
    clock = time.monotonic()
    try:
        targets = resolve(source, options.resolve_options())
    except CatalogError as exc:
        if exc.kind == "usage":  # not a server at all: nothing to record
            raise
        result = failed_result(source, options, exc)
        return [CrawlOutcome(result, store.save_crawl(result, started_at=started), time.monotonic() - clock)]
    outcomes = []
    for target in targets:
        if on_target:
            on_target(target)
        outcomes.append(crawl_target(target, options, store))
    return outcomes


def crawl_target(target: Target, options: CrawlOptions, store: Store) -> CrawlOutcome:
    started, clock = now(), time.monotonic()
    result = list_target(target, options)
    labels = classify_result(result) if options.classify and result.status != "failed" else None
    crawl_id = store.save_crawl(result, labels, started_at=started)
    return CrawlOutcome(result, crawl_id, time.monotonic() - clock)


def failed_result(source: str, options: CrawlOptions, exc: CatalogError) -> CrawlResult:
    from catalog.models import ServerRef

    server_id = options.name or source
    return CrawlResult(
        server=ServerRef(server_id, source, "unresolved"),
        method="live" if options.live else "static",
        route="source could not be resolved",
        status="failed",
        error=str(exc),
        error_kind=exc.kind,
    )


def list_target(target: Target, options: CrawlOptions) -> CrawlResult:
    """The tools of one target, by the route it allows; a CatalogError becomes a failed result."""
    live = options.live or target.tools is None and target.root is None
    result = CrawlResult(
        server=target.server,
        method="live" if live else "static",
        route=target.route,
        version=target.version,
        digest=target.digest,
        warnings=list(target.warnings),
        env_names=sorted(target.env) if live else [],
    )
    try:
        if target.tools is not None and not (options.live and target.package):
            result.tools = list(target.tools)
            result.method = "static"
            _check_problems(result, list(target.warnings))
        elif live:
            _list_live(target, options, result)
        else:
            _list_static(target, result)
        _check_count(result, options.max_tools)
    except CatalogError as exc:
        result.status, result.error, result.error_kind = "failed", str(exc), exc.kind
        result.tools = []
    return result


def _list_static(target: Target, result: CrawlResult) -> None:
    from catalog.extract import extract_tree

    assert target.root is not None
    found = extract_tree(target.root)
    result.tools = found.tools
    result.warnings.extend(found.warnings)
    if not found.tools:
        raise CatalogError(
            f"no MCP tools found statically in {target.route.split(',')[0]}"
            f" ({found.files_scanned} source files read); try --live",
            kind="no_tools",
        )


def _list_live(target: Target, options: CrawlOptions, result: CrawlResult) -> None:
    from catalog import live

    if target.url:
        listing = live.list_url(
            target.url, headers=None, timeout=options.timeout, max_tools=options.max_tools
        )
    else:
        launch, notes = _launch_for(target, options)
        result.warnings.extend(notes)
        try:
            listing = live.list_stdio(launch, timeout=options.timeout, max_tools=options.max_tools)
        except CatalogError as error:
            if notes:
                raise CatalogError(f"{error} ({'; '.join(notes)})", kind=error.kind) from None
            raise
        result.route += f"; run live{' in a sandbox' if launch.sandbox else ''}: {' '.join(launch.command)}"
    result.method = "live"
    result.tools = listing.tools
    result.prompts = listing.prompts
    result.resources = listing.resources
    result.server_info = listing.server_info
    result.warnings.extend(listing.warnings)
    problems = [f"malformed tool: {m}" for m in listing.malformed]
    problems += [f"duplicate tool name {d!r}" for d in listing.duplicates]
    _check_problems(result, problems)
    if not listing.complete:  # cut by a cap or a failed later page: tools not reached are not removed
        result.status = "partial"
        result.error = result.error or listing.incomplete_reason
        result.error_kind = result.error_kind or "incomplete"


def _launch_for(target: Target, options: CrawlOptions) -> tuple[Launch, list[str]]:
    """How to start the server live, and what its install noted (install scripts that failed)."""
    from catalog import live

    if target.command:
        from catalog import envs

        behind = envs.package_behind(list(target.command))  # uvx NAME, npx -y NAME: the package route
        if behind is not None:
            return envs.package_command_launch(behind, options.cache_dir, dict(target.env), options.sandbox)
        return live.command_launch(list(target.command), dict(target.env), options.sandbox), []
    if target.package is None:
        raise CatalogError(
            f"{target.server.id}: nothing to run live (no published package found)", kind="unsupported"
        )
    from catalog import envs

    prepare = envs.python_env if target.package.registry == "pypi" else envs.npm_env
    env_dir = options.cache_dir / "envs"
    prepared = prepare(target.package.name, target.package.version, env_dir, sandbox_enabled=options.sandbox)
    result_env = dict(options.env)
    launch = live.Launch(
        command=[*prepared.command, *options.server_args],
        env=result_env,
        binds=list(prepared.binds),
        sandbox=options.sandbox,
        entry_forms=not options.server_args,  # try `stdio`, `serve`, ... when the plain entry point fails
        env_names=list(prepared.env_names),  # placeholders for these when it fails without them
        scratch=list(prepared.scratch),  # its code's folders: writable throwaway copies
    )
    return launch, prepared.notes


def _check_problems(result: CrawlResult, problems: list[str]) -> None:
    """Malformed or duplicate tools: keep the good ones, but mark the crawl partial (exit code 1)."""
    bad = [p for p in problems if p.startswith(("malformed", "duplicate"))]
    if bad:
        result.status = "partial"
        result.error = _summarise_problems(bad)
        result.error_kind = "bad_tools"


def _summarise_problems(bad: list[str]) -> str:
    """'2 duplicate, 4 malformed tool(s): ...' with a few examples of each kind."""
    kinds = sorted({p.split(" ", 1)[0] for p in bad})
    counts = ", ".join(f"{sum(p.startswith(k) for p in bad)} {k}" for k in kinds)
    examples = [p for k in kinds for p in [q for q in bad if q.startswith(k)][:3]]
    return f"{counts} tool(s) in the listing: " + "; ".join(examples)


def _check_count(result: CrawlResult, max_tools: int) -> None:
    if len(result.tools) > max_tools:
        raise CatalogError(
            f"server lists {len(result.tools)} tools, more than the cap of {max_tools} "
            "(raise it with --max-tools)",
            kind="too_many_tools",
        )


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
