"""Live listing of an MCP server's tools, prompts and resources over stdio, streamable HTTP or SSE (mcp 1.x)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypedDict

import anyio

from catalog import fetchers, sandbox, subcommands
from catalog.models import CatalogError, Prompt, Resource, Tool

if TYPE_CHECKING:
    from catalog import rpc

MAX_PAGES = 1000
CONFIG_HINT = re.compile(
    r"api[_ -]?key|token|secret|credential|env(ironment)? var|not set|is required|must be (set|provided)"
    r"|missing .*(key|variable|config)|validation errors? for \w*(settings|config)|field required"
    r"|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+: (required|invalid)|must specify|failed to load [\w ]*configuration"
    r"|configuration (file )?(is )?(missing|not found|required)|\bconfigure (either|one of|your)\b"
    r"|\bno [\w. -]{0,30}\bconfigured\b|\b(log ?in|authenticate) first\b",
    re.IGNORECASE,
)
RUNTIME_HINT = re.compile(
    r"requires? (node(\.js)?|python)\s*(version\s*)?(>=?|v)?\s*\d|node(\.js)? (v?\d+ )?or (newer|higher|later)"
    r"|python 3\.\d+ or (newer|higher|later)|unsupported engine|ERR_UNKNOWN_BUILTIN_MODULE"
    r"|ERR_REQUIRE_ESM|is not defined.*\b(fetch|File|structuredClone)\b",
    re.IGNORECASE,
)
NETWORK_HINT = re.compile(
    r"\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH)\b|getaddrinfo|name or service not known"
    r"|temporary failure in name resolution|network is unreachable|connection refused|could not resolve host",
    re.IGNORECASE,
)


@dataclass
class Launch:
    """How to start a stdio server: its command, the variables it gets, and whether to sandbox it."""

    command: list[str]
    env: dict[str, str]
    cwd: str | None = None
    binds: list[str] = field(default_factory=list)
    sandbox: bool = True
    # A package's own entry point run without arguments: when it does not speak MCP on stdio (it exits,
    # prints help, or writes text), the usual forms (ENTRY_FORMS) are tried after it.
    entry_forms: bool = False
    # Variables the server's own files read (names only): when it fails to start without them, it is
    # started again with harmless placeholders for those not given in `env` (envvars.placeholders).
    env_names: list[str] = field(default_factory=list)
    # Values a schema or a cloud SDK fixes for some of those names (a zod enum's first member, a region).
    env_values: dict[str, str] = field(default_factory=dict)
    # Folders the server may write into (its own code's folder, its working directory): it sees a
    # throwaway writable copy of each, so the installed package stays as it was.
    scratch: list[str] = field(default_factory=list)
    # Told each phase (starting, listing) as it begins: a single crawl shows it on its status line.
    on_phase: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    def phase(self, text: str) -> None:
        if self.on_phase is not None:
            self.on_phase(text)


def command_launch(command: list[str], env: dict[str, str], use_sandbox: bool = True) -> Launch:
    """A command the user gave (`--cmd`, a client config entry): it runs in the caller's current
    directory (visible read-only, with a throwaway writable copy when small), and the arguments that name
    existing files or folders stay visible read-only. The home folder itself or / is never shown whole."""
    cwd = os.getcwd()
    home = os.path.realpath(os.path.expanduser("~"))
    shown = os.path.realpath(cwd) not in (home, "/")
    binds = [cwd] if shown else []
    for argument in command[1:]:
        path = os.path.abspath(argument) if "/" in argument or os.path.exists(argument) else None
        if path and os.path.exists(path) and os.path.realpath(path) not in (home, "/"):
            binds.append(path)
    return Launch(
        command=list(command),
        env=dict(env),
        cwd=cwd if shown else None,
        binds=binds,
        sandbox=use_sandbox,
        scratch=[cwd] if shown else [],
    )


ENTRY_FORMS: tuple[tuple[str, ...], ...] = (("stdio",), ("serve",), ("--transport", "stdio"), ("mcp",))
_USAGE_HINT = re.compile(r"usage:|missing command|no such command|unknown command|--help|subcommand", re.I)


@dataclass
class LiveListing:
    """Everything one live session listed, plus what was wrong with it (without failing the listing)."""

    tools: list[Tool]
    prompts: list[Prompt]
    resources: list[Resource]
    server_info: dict[str, Any]
    protocol_version: str | None
    malformed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True  # False when a page, size, count or time cap (or a server fault) cut the listing
    incomplete_reason: str = ""  # why, in one line; tools not reached must not be taken as removed
    capabilities: dict[str, Any] = field(default_factory=dict)
    started_with: list[str] = field(default_factory=list)  # arguments added to start it (an entry form)
    placeholder_names: list[str] = field(default_factory=list)  # variables given placeholder values

    def cut(self, reason: str) -> None:
        self.complete = False
        self.incomplete_reason = self.incomplete_reason or reason
        self.warnings.append(reason)


def list_stdio(launch: Launch, timeout: float = 60, max_tools: int = 5000, era: str = "auto") -> LiveListing:
    """Start the server (sandboxed unless told otherwise), list everything it offers, and stop it.
    `era`: auto (initialize, then server/discover when refused), legacy (initialize only) or modern
    (2026-07-28 only). With `launch.entry_forms`, a command that does not speak MCP is retried with
    the usual subcommands and flags; a server that fails to start is retried with placeholder values for
    the variables it reads or names in its error (_with_placeholders). The first error is reported when
    nothing works."""
    _require_command(launch)
    try:
        return _list_in_forms(launch, timeout, max_tools, era)
    except CatalogError as first:
        if first.kind not in ("needs_config", "crash", "bad_protocol"):
            raise
        listing = _with_placeholders(launch, first, timeout, max_tools, era)
        if listing is not None:
            return listing
        with_options = _with_option_placeholders(launch, first, timeout, max_tools, era)
        if with_options is None:
            raise first from None
        return with_options


class StartFailure(CatalogError):
    """A server that stopped without a listing; `mentioned` holds the variable-like names its output named."""

    def __init__(self, message: str, kind: str, mentioned: list[str], serves_http: bool = False) -> None:
        super().__init__(message, kind)
        self.mentioned = mentioned
        self.serves_http = serves_http  # it said it listens on HTTP (and answered nothing on stdio)


def _mentioned(error: CatalogError) -> list[str]:
    return error.mentioned if isinstance(error, StartFailure) else []


MAX_PLACEHOLDER_STARTS = 3


def _with_placeholders(
    launch: Launch, first: CatalogError, timeout: float, max_tools: int, era: str
) -> LiveListing | None:
    """Start a server that failed again with harmless placeholder values, narrowest set first: the names its
    error mentions, those a schema requires and those that look like what it needs to reach its service
    (keys, tokens, addresses); then every name its files read. A name a failed attempt mentions joins the
    next one. None when no attempt lists tools (the first error stands)."""
    from catalog import envvars

    mentioned = _mentioned(first)
    stages = [[*envvars.needed(launch.env_names), *launch.env_values], launch.env_names]
    tried: list[set[str]] = []
    stage = 0
    with tempfile.TemporaryDirectory(prefix="catalog-placeholders-") as folder:
        credentials = Path(folder) / "credentials.json"
        credentials.write_text(json.dumps(envvars.CREDENTIALS_JSON), encoding="utf-8")
        while stage < len(stages) and len(tried) < MAX_PLACEHOLDER_STARTS:
            filled = envvars.placeholders(
                [*mentioned, *stages[stage]], launch.env, launch.env_values, str(credentials)
            )
            if not filled or set(filled) in tried:
                stage += 1
                continue
            tried.append(set(filled))
            binds = [*launch.binds, folder] if str(credentials) in filled.values() else launch.binds
            configured = dataclasses.replace(launch, env={**filled, **launch.env}, binds=binds)
            try:
                listing = _list_in_forms(configured, timeout, max_tools, era)
            except CatalogError as error:
                new = [name for name in _mentioned(error) if name not in mentioned]
                mentioned = [*mentioned, *new]
                # The same set again with the newly named ones, while a start is left for the wider set.
                stage += 0 if new and len(tried) < MAX_PLACEHOLDER_STARTS - 1 else 1
                continue
            listing.placeholder_names = sorted(filled)
            listing.warnings.append(
                f"started with placeholder values for {', '.join(sorted(filled))} (without them: {first})"
            )
            return listing
    return None


# "Missing option '--client-id'" (click), "required option '--key <value>' not specified" (commander),
# "the following arguments are required: --client-id" (argparse).
MISSING_OPTION = re.compile(
    r"Missing option ['\"“]?(--[A-Za-z0-9][\w-]*)|required option ['\"]?(--[A-Za-z0-9][\w-]*)[^\n]*not specified"
    r"|arguments are required: (--[A-Za-z0-9][\w-]*)"
)
MAX_OPTION_PLACEHOLDERS = 4


def _with_option_placeholders(
    launch: Launch, first: CatalogError, timeout: float, max_tools: int, era: str
) -> LiveListing | None:
    """A server that refuses to start without some command-line options (credentials as flags) is started
    again with harmless placeholder values for the options it names, one at a time; None if that fails."""
    from catalog import envvars

    added: list[str] = []
    error: CatalogError = first
    attempt = launch
    for _ in range(MAX_OPTION_PLACEHOLDERS):
        found = MISSING_OPTION.search(str(error))
        option = found and next(group for group in found.groups() if group)
        if not option or option in added:
            return None
        added.append(option)
        name = option.lstrip("-").replace("-", "_").upper()
        value = envvars.placeholders([name], {}).get(name, "placeholder")
        attempt = dataclasses.replace(attempt, command=[*attempt.command, option, value], entry_forms=False)
        try:
            listing = _list_in_forms(attempt, timeout, max_tools, era)
        except CatalogError as next_error:
            error = next_error
            continue
        listing.started_with += [part for option in added for part in (option, "<placeholder>")]
        listing.warnings.append(
            f"started with placeholder values for the options {', '.join(added)} (without them: {first})"
        )
        return listing
    return None


def _list_in_forms(launch: Launch, timeout: float, max_tools: int, era: str) -> LiveListing:
    try:
        return _list_once(launch, timeout, max_tools, era)
    except _NotMcp as first:
        if not launch.entry_forms:
            raise first.error from None
        http_first = isinstance(first.error, StartFailure) and first.error.serves_http
        forms = sorted(ENTRY_FORMS, key=lambda form: form != ("--transport", "stdio")) if http_first else ENTRY_FORMS
        attempts: list[tuple[tuple[str, ...], CatalogError]] = []
        listing = _first_form_listing(launch, list(forms), attempts, timeout, max_tools, era)
        listed: list[subcommands.Subcommand] = []
        if listing is None:  # the subcommands its --help lists that say they start the server
            listed = subcommands.help_listing(
                launch.command, launch.env, launch.binds, launch.cwd, launch.sandbox
            )
            forms = subcommands.server_forms(listed, [form for form, _ in attempts])
            listing = _first_form_listing(launch, forms, attempts, timeout, max_tools, era)
        if listing is None:
            failure = subcommands.failure(first.error, attempts, listed)
            errors = [first.error, *(error for _, error in attempts)]
            mentioned = list(dict.fromkeys(name for error in errors for name in _mentioned(error)))
            raise StartFailure(str(failure), failure.kind, mentioned) from None
        without = "printed its help" if listed else f"did not speak MCP ({first.error})"
        listing.warnings.append(f"started as '{' '.join(listing.started_with)}': without it the command {without}")
        return listing


def _first_form_listing(
    launch: Launch,
    forms: list[tuple[str, ...]],
    attempts: list[tuple[tuple[str, ...], CatalogError]],
    timeout: float,
    max_tools: int,
    era: str,
) -> LiveListing | None:
    """The listing of the first form that speaks MCP; each failure is added to `attempts`. Once a subcommand
    got past the command line and failed (configuration, network), its other forms are not tried."""
    for form in forms:
        started = {tried[0] for tried, error in attempts if not subcommands.is_usage_error(error)}
        if not form[0].startswith("-") and form[0] in started:
            continue
        attempt = dataclasses.replace(launch, command=[*launch.command, *form], entry_forms=False)
        try:
            listing = _list_once(attempt, timeout, max_tools, era)
        except (_NotMcp, CatalogError) as error:
            failure = error.error if isinstance(error, _NotMcp) else error
            attempts.append((form, failure))
            continue
        listing.started_with = list(form)
        return listing
    return None


class _NotMcp(Exception):
    """A start that ended without an MCP answer in a way another entry form might fix."""

    def __init__(self, error: CatalogError) -> None:
        super().__init__(str(error))
        self.error = error


def _list_once(launch: Launch, timeout: float, max_tools: int, era: str) -> LiveListing:
    from catalog import rpc

    limits = sandbox.Limits(cpu_seconds=max(30, int(timeout) * 2))
    with (
        tempfile.TemporaryDirectory(prefix="catalog-scratch-") as scratch_dir,
        sandbox.sandboxed(
            launch.command,
            launch.env,
            launch.binds,
            launch.cwd,
            launch.sandbox,
            limits,
            **_scratch_binds(launch, Path(scratch_dir)),
        ) as box,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog,
    ):
        launch.phase(f"starting {Path(launch.command[0]).name}")
        try:
            peer = rpc.Peer.start(box.command, box.cwd, errlog)
        except OSError as error:
            raise CatalogError(f"cannot start {launch.command[0]}: {error}", kind="not_found") from None
        peer.give_up = _when_it_serves_http(peer, errlog)
        try:
            listing = _stdio_session(peer, time.monotonic() + timeout, max_tools, era, launch.phase)
        except (rpc.RpcError, rpc.PeerClosed, rpc.PeerTimeout, rpc.MessageTooLarge) as error:
            if box.breach:  # the watchdog killed the tree: that is the cause, not what it last printed
                raise _breach_failure(box.breach) from None
            tail = _stderr_tail(errlog)
            failure = _named_failure(_stdio_failure(error, tail, peer.noise, timeout), launch, errlog, peer.noise)
            fetching = fetchers.fetching_command(list(box.seen))  # a wrapper that runs `npx -y NAME`
            if fetching:
                raise fetchers.FetchesAtStart(failure, fetching) from None
            if _other_form_may_help(error, failure, peer.noise, errlog):
                raise _NotMcp(failure) from None
            raise failure from None
        finally:
            peer.close_input()
    _reap(peer.process)
    listing.warnings[:0] = box.warnings
    return listing


class _ScratchBinds(TypedDict, total=False):
    scratch: list[tuple[str, str]]
    originals: list[tuple[str, str]]


def _scratch_binds(launch: Launch, under: Path) -> _ScratchBinds:
    """The sandbox's throwaway writable places: views of shared folders holding a top-level module of the
    server (siteview), copies of its other folders."""
    from catalog import siteview

    if not launch.sandbox:
        return {}
    found = siteview.views(launch.scratch, under)
    return {"scratch": found.scratch + _scratch_copies(found.rest, under), "originals": found.originals}


def _scratch_copies(folders: list[str], under: Path) -> list[tuple[str, str]]:
    """Throwaway copies of the folders a server may write into (nested node_modules linked, not copied);
    a folder larger than siteview.MAX_COPY_BYTES stays read-only."""
    from catalog import siteview

    pairs: list[tuple[str, str]] = []
    for number, folder in enumerate(dict.fromkeys(folders)):
        if not os.path.isdir(folder) or siteview.tree_bytes(folder) > siteview.MAX_COPY_BYTES:
            continue
        copy = under / str(number)
        # dirs_exist_ok: the ignore callback may create `copy` first (its top-level node_modules link).
        shutil.copytree(folder, copy, symlinks=True, ignore=_link_node_modules(folder, copy), dirs_exist_ok=True)
        pairs.append((str(copy), folder))
    return pairs


def _link_node_modules(source: str, copy: Path) -> Callable[[str, list[str]], list[str]]:
    def ignore(directory: str, names: list[str]) -> list[str]:
        if "node_modules" not in names:
            return []
        target = copy / os.path.relpath(directory, source) / "node_modules"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.join(directory, "node_modules"), target)
        return ["node_modules"]

    return ignore


def _named_failure(failure: CatalogError, launch: Launch, errlog: IO[str], noise: list[str]) -> StartFailure:
    """The failure with the variable-like names the server's output mentions; an exit whose output names a
    variable the server's files read (and that was not given) is missing configuration."""
    from catalog import envvars

    output = _ANSI_ESCAPE.sub("", sandbox.tail(errlog, 20_000)) + "\n" + "\n".join(noise)
    mentioned = envvars.mentioned(output)
    kind = str(failure.kind)
    if kind == "crash" and any(name in launch.env_names and name not in launch.env for name in mentioned):
        kind = "needs_config"
    return StartFailure(str(failure), kind, mentioned, serves_http=kind == "timeout" and _serves_http(output))


def _other_form_may_help(error: Exception, failure: CatalogError, noise: list[str], errlog: IO[str]) -> bool:
    """It exited or wrote text instead of answering, not for want of configuration or network."""
    from catalog import rpc

    if isinstance(error, rpc.RpcError | rpc.MessageTooLarge):
        return False
    errlog.seek(0)
    text = errlog.read(20_000)
    if _COMMAND_LIST.search(text):  # a CLI listing its subcommands ("token" in one of them is no config error)
        return True
    if failure.kind in ("needs_config", "needs_network"):
        return False
    if isinstance(error, rpc.PeerClosed) or noise:
        return True
    return bool(_USAGE_HINT.search(text)) or (isinstance(error, rpc.PeerTimeout) and _serves_http(text))


_COMMAND_LIST = re.compile(r"^\s*Usage: .*\bCOMMAND\b|^Commands:\s*$", re.M)


# "Uvicorn running on http://0.0.0.0:8000", "Server listening on port 3000": it started an HTTP transport and
# waits there, so nothing comes back on stdio; `--transport stdio` is tried first then.
_SERVES_HTTP = re.compile(
    r"Uvicorn running on|\b(running|listening|serving|started|available) (on|at) (port \d|https?://|[\w.-]+:\d{2,5}\b)",
    re.I,
)


def _serves_http(text: str) -> bool:
    return bool(_SERVES_HTTP.search(text))


HTTP_GRACE_S = 5.0  # after it says it serves HTTP, how long a server that wrote nothing on stdout may still answer


def _when_it_serves_http(peer: rpc.Peer, errlog: IO[str]) -> Callable[[], bool]:
    """True once the server's stderr has said it serves HTTP, HTTP_GRACE_S ago, and it has written nothing
    on stdout: it will not answer on stdio, so waiting out the whole timeout would only cost time."""
    seen_at: list[float] = []

    def give_up() -> bool:
        if peer.bytes_read or peer.noise:
            return False
        if not seen_at:
            errlog.flush()
            fd = errlog.fileno()
            size = os.fstat(fd).st_size
            text = os.pread(fd, 20_000, max(0, size - 20_000)).decode("utf-8", "replace")  # the offset stays
            if not _serves_http(_ANSI_ESCAPE.sub("", text)):
                return False
            seen_at.append(time.monotonic())
        return time.monotonic() - seen_at[0] >= HTTP_GRACE_S

    return give_up


def list_url(
    url: str, headers: dict[str, str] | None = None, timeout: float = 60, max_tools: int = 5000
) -> LiveListing:
    """List a remote server over streamable HTTP, falling back to SSE when the endpoint does not speak it."""
    with _quiet_sdk_logs():
        try:
            return anyio.run(_url_listing, url, headers or {}, timeout, max_tools)
        except CatalogError:
            raise
        except Exception as error:
            raise _url_failure(_leaf(error), url, timeout) from None


def _reap(process: Any) -> None:
    """The sandbox killed the process group on exit; collect the child (kill it if it escaped)."""
    import subprocess

    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


CLIENT_INFO = {"name": "mcp-catalog", "version": "1"}
HANDSHAKE_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
_META_PREFIX = "io.modelcontextprotocol/"
MAX_LISTING_BYTES = 256 * 1024 * 1024


@dataclass
class _Session:
    """One stdio session in either protocol era: handshake (initialize) or per-request `_meta` (2026-07-28)."""

    peer: Any  # rpc.Peer
    deadline: float
    meta: dict[str, Any] | None = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self.meta is not None:
            params = {**(params or {}), "_meta": self.meta}
        return self.peer.request(method, params, self.deadline)

    def open(self, era: str = "auto") -> LiveListing:
        """Initialize (2024-11-05 to 2025-11-25); when the server refuses it, server/discover (2026-07-28)."""
        from catalog import rpc

        if era == "modern":
            return self._discover(None)
        try:
            result = self.call(
                "initialize",
                {"protocolVersion": HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
            )
        except rpc.RpcError as refused:
            if era == "legacy":
                raise
            return self._discover(refused)
        if not isinstance(result, dict):
            raise rpc.RpcError("initialize", None, "the answer is not a JSON object")
        self.peer.notify("notifications/initialized")
        return _new_listing(result.get("serverInfo"), result.get("protocolVersion"), result.get("capabilities"))

    def _discover(self, refused: Exception | None) -> LiveListing:
        from catalog import rpc

        self.meta = {
            f"{_META_PREFIX}protocolVersion": MODERN_VERSION,
            f"{_META_PREFIX}clientInfo": CLIENT_INFO,
            f"{_META_PREFIX}clientCapabilities": {},
        }
        try:
            result = self.call("server/discover")
        except rpc.RpcError as error:
            if refused is None:
                raise
            raise rpc.RpcError(
                "initialize", getattr(refused, "code", None), f"{getattr(refused, 'message', refused)}"
                f"; server/discover: {error.message}"
            ) from None
        if not isinstance(result, dict):
            raise rpc.RpcError("server/discover", None, "the answer is not a JSON object")
        versions = result.get("supportedVersions")
        if isinstance(versions, list) and versions and MODERN_VERSION not in versions:
            raise rpc.RpcError("server/discover", None, f"no protocol version in common (server: {versions})")
        meta = result.get("_meta")
        meta = meta if isinstance(meta, dict) else {}
        return _new_listing(meta.get(f"{_META_PREFIX}serverInfo"), MODERN_VERSION, result.get("capabilities"))

    def pages(self, kind: str, cap: int, listing: LiveListing) -> list[Any]:
        """Every item of a paginated list as raw JSON. A page, size, count or time cap, a repeated cursor
        or a failed later page ends the listing early and marks it incomplete; a failed first page raises."""
        from catalog import rpc

        items: list[Any] = []
        seen: set[str] = set()
        cursor: str | None = None
        for number in range(MAX_PAGES):
            try:
                result = self.call(f"{kind}/list", {"cursor": cursor} if cursor else None)
            except (rpc.RpcError, rpc.PeerClosed, rpc.PeerTimeout, rpc.MessageTooLarge) as error:
                if number == 0:
                    raise
                listing.cut(f"{kind}/list stopped after {number} page(s): {_rpc_reason(error)}")
                return items
            page = result.get(kind) if isinstance(result, dict) else None
            if not isinstance(page, list):
                raise rpc.RpcError(f"{kind}/list", None, f"the answer has no {kind!r} list")
            items.extend(page)
            if len(items) <= cap and self.peer.bytes_read > MAX_LISTING_BYTES:
                listing.cut(f"listing cut after {MAX_LISTING_BYTES // 2**20} MiB")
                return items
            cursor = _next_cursor(listing, kind, items, cap, result.get("nextCursor"), seen)
            if cursor is None:
                return items
        listing.cut(f"{kind}/list still had more pages after {MAX_PAGES}; stopped paging")
        return items


def _next_cursor(
    listing: LiveListing, kind: str, items: list[Any], cap: int, following: Any, seen: set[str]
) -> str | None:
    """The cursor of the page after this one, or None where the listing ends: no cursor, more than `cap`
    items (cut to `cap` in place) or a repeated cursor (both mark the listing incomplete)."""
    if len(items) > cap:
        listing.cut(f"listing cut at {cap} {kind} (raise the limit with --max-tools)")
        del items[cap:]
        return None
    cursor = following if isinstance(following, str) and following else None
    if cursor is None:
        return None
    if cursor in seen:
        listing.cut(f"{kind}/list repeated the cursor {cursor!r}; stopped paging")
        return None
    seen.add(cursor)
    return cursor


def _new_listing(server_info: Any, version: Any, capabilities: Any) -> LiveListing:
    listing = LiveListing(
        tools=[],
        prompts=[],
        resources=[],
        server_info=server_info if isinstance(server_info, dict) else {},
        protocol_version=str(version) if version is not None else None,
    )
    listing.capabilities = capabilities if isinstance(capabilities, dict) else {}
    return listing


def _stdio_session(
    peer: Any, deadline: float, max_tools: int, era: str = "auto", phase: Callable[[str], None] | None = None
) -> LiveListing:
    from catalog import rpc

    session = _Session(peer, deadline)
    listing = session.open(era)
    if phase is not None:
        phase("listing tools")
    _fill_tools(listing, session.pages("tools", max_tools, listing))
    for kind, convert in (("prompts", _prompt_from_raw), ("resources", _resource_from_raw)):
        if kind not in listing.capabilities:
            continue
        probe = LiveListing([], [], [], {}, None)
        try:
            raw = session.pages(kind, 100_000, probe)
        except (rpc.RpcError, rpc.PeerClosed, rpc.PeerTimeout, rpc.MessageTooLarge) as error:
            listing.warnings.append(f"{kind}/list failed ({_rpc_reason(error)}); the tool listing is kept")
            continue
        listing.warnings += [f"{kind}: {probe.incomplete_reason}"] if not probe.complete else []
        setattr(listing, kind, _convert_all(raw, convert, kind[:-1], listing.warnings))
    return listing


def _rpc_reason(error: Exception) -> str:
    from catalog import rpc

    if isinstance(error, rpc.RpcError):
        return f"the server answered with an error: {error.message}"
    if isinstance(error, rpc.PeerClosed):
        return "the server exited"
    if isinstance(error, rpc.MessageTooLarge):
        return f"an answer larger than {rpc.MAX_MESSAGE_BYTES // 2**20} MiB"
    return "no answer in time"


async def _url_listing(url: str, headers: dict[str, str], timeout: float, max_tools: int) -> LiveListing:
    import httpx
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    with anyio.fail_after(timeout):
        try:
            http = httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(timeout, read=timeout))
            async with http, streamable_http_client(url, http_client=http) as (read, write, _):
                return await _session_listing(read, write, timeout, max_tools)
        except Exception as error:
            if not _worth_trying_sse(_leaf(error)):
                raise
        async with sse_client(url, headers=headers, timeout=min(10, timeout), sse_read_timeout=timeout) as (
            read,
            write,
        ):
            listing = await _session_listing(read, write, timeout, max_tools)
            listing.warnings.append("streamable HTTP failed; listed over SSE")
            return listing


async def _session_listing(read: Any, write: Any, timeout: float, max_tools: int) -> LiveListing:
    from mcp import ClientSession

    async with ClientSession(read, write, read_timeout_seconds=timedelta(seconds=timeout)) as session:
        init = await session.initialize()
        listing = LiveListing(
            tools=[],
            prompts=[],
            resources=[],
            server_info=init.serverInfo.model_dump(mode="json", exclude_none=True),
            protocol_version=str(init.protocolVersion) if init.protocolVersion is not None else None,
        )
        raw_tools = await _raw_pages(session, "tools", max_tools, listing)
        _fill_tools(listing, raw_tools)
        capabilities = init.capabilities
        if capabilities.prompts is not None:
            raw = await _optional_pages(session, "prompts", listing.warnings)
            listing.prompts = _convert_all(raw, _prompt_from_raw, "prompt", listing.warnings)
        if capabilities.resources is not None:
            raw = await _optional_pages(session, "resources", listing.warnings)
            listing.resources = _convert_all(raw, _resource_from_raw, "resource", listing.warnings)
        return listing


async def _optional_pages(session: Any, kind: str, warnings: list[str]) -> list[Any]:
    probe = LiveListing([], [], [], {}, None)
    try:
        items = await _raw_pages(session, kind, 100_000, probe)
    except Exception as error:
        warnings.append(f"{kind}/list failed ({_one_line(_leaf(error))}); the tool listing is kept")
        return []
    warnings.extend(f"{kind}: {w}" for w in probe.warnings)
    return items


async def _raw_pages(session: Any, kind: str, cap: int, listing: LiveListing) -> list[Any]:
    """Every item of a paginated list, as raw JSON; a repeated cursor, MAX_PAGES pages or more than `cap`
    items end it early and mark the listing incomplete."""
    request_for, page_model = _list_request_types()
    items: list[Any] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await session.send_request(request_for(kind, cursor), page_model)
        items.extend(getattr(page, kind))
        cursor = _next_cursor(listing, kind, items, cap, page.nextCursor, seen)
        if cursor is None:
            return items
    listing.cut(f"{kind}/list still had more pages after {MAX_PAGES}; stopped paging")
    return items


def _list_request_types() -> tuple[Callable[[str, str | None], Any], type]:
    from mcp import types
    from pydantic import BaseModel, ConfigDict

    class LenientPage(BaseModel):
        """A list result taken as raw JSON: items are validated by us, one by one."""

        model_config = ConfigDict(extra="allow")
        tools: list[Any] = []
        prompts: list[Any] = []
        resources: list[Any] = []
        nextCursor: Any = None

    requests = {
        "tools": types.ListToolsRequest,
        "prompts": types.ListPromptsRequest,
        "resources": types.ListResourcesRequest,
    }

    def request_for(kind: str, cursor: str | None) -> Any:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        return types.ClientRequest(requests[kind](params=params))

    return request_for, LenientPage


def _fill_tools(listing: LiveListing, raw_tools: list[Any]) -> None:
    seen: set[str] = set()
    for position, raw in enumerate(raw_tools, start=1):
        tool = tool_from_raw(raw, position, listing.malformed, listing.warnings)
        if tool is None:
            continue
        if tool.name in seen:
            listing.duplicates.append(tool.name)
            continue
        seen.add(tool.name)
        listing.tools.append(tool)


def tool_from_raw(raw: Any, position: int, malformed: list[str], warnings: list[str]) -> Tool | None:
    """Our Tool from one listed tool's JSON (kept verbatim in .raw), or None with the reason in `malformed`."""
    if not isinstance(raw, dict):
        malformed.append(f"tool #{position}: not a JSON object ({type(raw).__name__})")
        return None
    from catalog import rpc

    name = raw.get("name")
    if not isinstance(name, str) or not name:
        malformed.append(f"tool #{position}: no string name")
        return None
    problem = rpc.item_problem(raw)
    if problem:
        malformed.append(f"{rpc.printable_name(name)}: {problem}")
        return None
    problem = _tool_problem(raw)
    if problem:
        malformed.append(f"{name}: {problem}")
        return None
    if "inputSchema" not in raw:
        warnings.append(f"tool {name!r} declares no inputSchema")
    return Tool(
        name=name,
        title=raw.get("title"),
        description=raw.get("description") or "",
        input_schema=raw.get("inputSchema"),
        annotations=dict(raw["annotations"]) if raw.get("annotations") is not None else None,
        origin="live",
        raw=raw,
    )


def _tool_problem(raw: dict[str, Any]) -> str | None:
    if raw.get("description") is not None and not isinstance(raw["description"], str):
        return "description is not a string"
    if raw.get("title") is not None and not isinstance(raw["title"], str):
        return "title is not a string"
    if "inputSchema" in raw and not isinstance(raw["inputSchema"], dict):
        return f"inputSchema is not an object ({type(raw['inputSchema']).__name__})"
    if raw.get("annotations") is not None and not isinstance(raw["annotations"], dict):
        return "annotations is not an object"
    return None


def _convert_all(
    raw_items: list[Any], convert: Callable[[dict], Any], kind: str, warnings: list[str]
) -> list:
    converted = []
    for position, raw in enumerate(raw_items, start=1):
        try:
            converted.append(convert(raw))
        except (TypeError, ValueError, KeyError, AttributeError):
            warnings.append(f"malformed {kind} #{position} skipped")
    return converted


def _prompt_from_raw(raw: dict[str, Any]) -> Prompt:
    arguments = raw.get("arguments") or []
    if not isinstance(raw["name"], str) or not isinstance(arguments, list):
        raise ValueError("prompt name or arguments")
    return Prompt(name=raw["name"], description=raw.get("description") or "", arguments=arguments)


def _resource_from_raw(raw: dict[str, Any]) -> Resource:
    if not isinstance(raw["uri"], str):
        raise ValueError("resource uri")
    return Resource(
        uri=raw["uri"],
        name=raw.get("name") or "",
        description=raw.get("description") or "",
        mime_type=raw.get("mimeType"),
    )


def _require_command(launch: Launch) -> None:
    if not launch.command:
        raise CatalogError("no command to run", kind="not_found")
    path = launch.env.get("PATH", os.environ.get("PATH", sandbox.DEFAULT_PATH))
    if shutil.which(launch.command[0], path=path) is None:
        raise CatalogError(f"command not found: {launch.command[0]}", kind="not_found")


def _breach_failure(breach: str) -> CatalogError:
    """The sandbox watchdog stopped the server's process tree (memory, processes or CPU time)."""
    return CatalogError(f"killed by the sandbox's limits: {breach.removeprefix('stopped: ')}", "resource_limit")


def _stdio_failure(error: Exception, stderr_tail: str, noise: list[str], timeout: float) -> CatalogError:
    """One line for a stdio session that produced no listing: the server's own error where it gave one."""
    from catalog import rpc

    garbage = f"the server wrote non-JSON-RPC text on stdout: {noise[0]!r}" if noise else ""
    if isinstance(error, rpc.RpcError):
        message = f"the server answered {error.method} with an error: {error.message[:300]}"
        kind = _kind_from_stderr(error.message)
        return CatalogError(message, kind="bad_protocol" if kind == "crash" else kind)
    if isinstance(error, rpc.MessageTooLarge):
        limit = rpc.MAX_MESSAGE_BYTES // 2**20
        return CatalogError(f"the answer to {error} was larger than {limit} MiB", kind="too_many_tools")
    if isinstance(error, rpc.PeerTimeout):
        if garbage:
            return CatalogError(f"no MCP answer within {timeout:g}s; {garbage}", kind="bad_protocol")
        detail = f" (last stderr line: {stderr_tail})" if stderr_tail else ""
        return CatalogError(f"timed out: no MCP answer within {timeout:g}s{detail}", kind="timeout")
    if stderr_tail:
        return CatalogError(f"server exited: {stderr_tail}", kind=_kind_from_stderr(stderr_tail))
    if garbage:
        return CatalogError(f"server exited; {garbage}", kind="bad_protocol")
    return CatalogError("server exited before answering (nothing on stderr)", kind="crash")


def _url_failure(error: BaseException, url: str, timeout: float) -> CatalogError:
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        if 300 <= status < 400:  # the SDK follows redirects only within the endpoint's origin
            from catalog.sources.url import shown_url

            location = error.response.headers.get("location") or "?"
            shown = shown_url(location) if "://" in location else location.split("?", 1)[0]
            return CatalogError(
                f"HTTP {status} from {url}: redirected to another host ({shown}); not followed", kind="unsafe_url"
            )
        if status in (401, 403):
            challenge = error.response.headers.get("www-authenticate")
            hint = f" (WWW-Authenticate: {challenge})" if challenge else ""
            return CatalogError(f"HTTP {status} from {url}: authentication required{hint}", kind="auth")
        return CatalogError(f"HTTP {status} from {url}: not an MCP endpoint", kind="bad_protocol")
    if isinstance(error, httpx.ConnectError):
        return CatalogError(
            f"cannot connect to {url} (connection refused or host unreachable)", kind="not_found"
        )
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return CatalogError(f"timed out: no MCP answer from {url} within {timeout:g}s", kind="timeout")
    return CatalogError(f"MCP error from {url}: {_one_line(error)}", kind="bad_protocol")


def _worth_trying_sse(error: BaseException) -> bool:
    import httpx
    from mcp.shared.exceptions import McpError

    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code not in (401, 403) and not 300 <= error.response.status_code < 400
    return isinstance(error, McpError)


MISSING_MODULE = re.compile(r"ModuleNotFoundError|No module named|Cannot find module|ERR_MODULE_NOT_FOUND")


def _kind_from_stderr(line: str) -> str:
    if MISSING_MODULE.search(line):  # a broken install ("No module named 'tokenizers'"), whatever it is named
        return "crash"
    if RUNTIME_HINT.search(line):
        return "needs_runtime"
    if CONFIG_HINT.search(line):
        return "needs_config"
    if NETWORK_HINT.search(line):
        return "needs_network"
    return "crash"


def _leaf(error: BaseException) -> BaseException:
    """The first real exception inside nested ExceptionGroups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


_ERROR_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b|^(error|fatal)\b", re.IGNORECASE)
_RUNTIME_FOOTER = re.compile(r"^Node\.js v\d")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)")
_BORDER = re.compile(r"^[\s\-=+|*#~_.:─━│┃┄┅┈┉┌┐└┘├┤┬┴┼╭╮╯╰═║╔╗╚╝╠╣╦╩╬▀▄█░▒▓]*$")
_BOXED = re.compile(r"^[│┃║|]\s?(.*?)\s?[│┃║|]?$")
_DANGLING = re.compile(r"[\[{(:]$")
_VALIDATION = re.compile(r"\d+ validation errors? for \w+$")
_PYDANTIC_TYPE = re.compile(r"\s*\[type=[^\]]*\]$")
_FAILURE_WORDS = re.compile(
    r"\b(could not|cannot|can't|couldn't|failed|failure|unable|not found|no such|denied|refused|invalid"
    r"|missing|required|not set|aborted|panic)\b",
    re.IGNORECASE,
)
_TRIVIAL = re.compile(r"^[\w./-]{1,12}$")  # a lone word ('stdio', a version): a banner's last line


def _stderr_tail(errlog: IO[str]) -> str:
    """The line of the server's stderr that best says why it stopped: the last error line (completed from
    what follows when it ends in '[' or ':', as a ZodError or pydantic ValidationError does), else the
    last line that is neither a border, a lone banner word nor a runtime's version footer."""
    text = _ANSI_ESCAPE.sub("", sandbox.tail(errlog, 20_000))
    lines = [_unboxed(line) for line in text.splitlines()]
    lines = [line for line in lines if line and not _BORDER.match(line)]
    errors = [number for number, line in enumerate(lines) if _ERROR_LINE.match(line)]
    if errors:
        return _completed(lines, errors[-1])[:300]
    lines = [line for line in lines if not _RUNTIME_FOOTER.match(line)]
    failing = [line for line in lines if _FAILURE_WORDS.search(line)]
    meaningful = [line for line in lines if not _TRIVIAL.match(line) and not line.endswith(":")]
    return (failing or meaningful or lines or [""])[-1][:300]


def _unboxed(line: str) -> str:
    line = line.strip()
    boxed = _BOXED.match(line)
    return boxed.group(1).strip() if boxed and line[0] in "│┃║" else line


def _completed(lines: list[str], number: int) -> str:
    """An error line that ends in '[', '{' or ':' with the details that follow it on one line: the
    messages of a ZodError's JSON, the fields of a pydantic ValidationError."""
    line = lines[number]
    following = lines[number + 1 : number + 60]
    if _VALIDATION.search(line):  # pydantic: the field, then its message
        fields = [_PYDANTIC_TYPE.sub("", part) for part in following[:6] if not part.startswith("For further")]
        return ": ".join([line, *fields[:2]])
    if not _DANGLING.search(line):
        return line
    zod = _zod_messages("\n".join(["[" if line.endswith("[") else "", *following]))
    if zod:
        return f"{line.rstrip('[ ').rstrip(':')}: {zod}"
    details = [part for part in following[:3] if not part.startswith(("For further information", "at "))]
    return " ".join([line.rstrip("[{( "), *details])


def _zod_messages(text: str) -> str:
    """'API_KEY: Required; ...' from the JSON array a ZodError prints."""
    start = text.find("[")
    if start < 0:
        return ""
    try:
        issues, _ = json.JSONDecoder().raw_decode(text, start)
    except (ValueError, RecursionError):
        return ""
    found = []
    for issue in issues if isinstance(issues, list) else []:
        if isinstance(issue, dict) and isinstance(issue.get("message"), str):
            path = ".".join(str(p) for p in issue.get("path") or [])
            found.append(f"{path}: {issue['message']}" if path else issue["message"])
    return "; ".join(found[:3])


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


@contextmanager
def _quiet_sdk_logs() -> Iterator[None]:
    """The SDK logs tracebacks for what we report as one line; silence it while we list."""
    logger = logging.getLogger("mcp")
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
