"""Live listing of an MCP server's tools, prompts and resources over stdio, streamable HTTP or SSE (mcp 1.x)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

import anyio

from catalog import sandbox
from catalog.models import CatalogError, Prompt, Resource, Tool

MAX_PAGES = 1000
CONFIG_HINT = re.compile(
    r"api[_ -]?key|token|secret|credential|env(ironment)? var|not set|is required|must be (set|provided)"
    r"|missing .*(key|variable|config)",
    re.IGNORECASE,
)
NETWORK_HINT = re.compile(
    r"ENOTFOUND|EAI_AGAIN|getaddrinfo|name or service not known|temporary failure in name resolution"
    r"|network is unreachable|ECONNREFUSED|connection refused|could not resolve host|ENETUNREACH",
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


@dataclass
class _StdoutProbe:
    """Lines on the server's stdout that were not JSON-RPC (a banner is fine; only garbage is not)."""

    lines: list[str] = field(default_factory=list)

    async def handle(self, message: Any) -> None:
        if isinstance(message, Exception) and len(self.lines) < 5:
            self.lines.append(_invalid_input(message))


def list_stdio(launch: Launch, timeout: float = 60, max_tools: int = 5000) -> LiveListing:
    """Start the server (sandboxed unless told otherwise), list everything it offers, and stop it."""
    _require_command(launch)
    limits = sandbox.Limits(cpu_seconds=max(30, int(timeout) * 2))
    with (
        sandbox.sandboxed(
            launch.command, launch.env, launch.binds, launch.cwd, launch.sandbox, limits
        ) as box,
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog,
        _quiet_sdk_logs(),
    ):
        probe = _StdoutProbe()
        try:
            listing = anyio.run(_stdio_listing, box, errlog, probe, timeout, max_tools)
        except CatalogError:
            raise
        except Exception as error:
            raise _stdio_failure(_leaf(error), _stderr_tail(errlog), probe, timeout) from None
    listing.warnings[:0] = box.warnings
    return listing


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


async def _stdio_listing(
    box: sandbox.Sandboxed, errlog: IO[str], probe: _StdoutProbe, timeout: float, max_tools: int
) -> LiveListing:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=box.command[0], args=box.command[1:], env={}, cwd=box.cwd)
    with anyio.fail_after(timeout):
        async with stdio_client(params, errlog=errlog) as (read, write):
            return await _session_listing(read, write, timeout, max_tools, probe.handle)


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


async def _session_listing(
    read: Any,
    write: Any,
    timeout: float,
    max_tools: int,
    on_message: Callable[[Any], Awaitable[None]] | None = None,
) -> LiveListing:
    from mcp import ClientSession

    async with ClientSession(
        read, write, read_timeout_seconds=timedelta(seconds=timeout), message_handler=on_message
    ) as session:
        init = await session.initialize()
        listing = LiveListing(
            tools=[],
            prompts=[],
            resources=[],
            server_info=init.serverInfo.model_dump(mode="json", exclude_none=True),
            protocol_version=str(init.protocolVersion) if init.protocolVersion is not None else None,
        )
        raw_tools = await _raw_pages(session, "tools", max_tools, listing.warnings)
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
    from mcp.shared.exceptions import McpError

    try:
        return await _raw_pages(session, kind, 100_000, warnings)
    except McpError as error:
        warnings.append(f"{kind}/list failed: {error}")
        return []


async def _raw_pages(session: Any, kind: str, cap: int, warnings: list[str]) -> list[Any]:
    """Every item of a paginated list, as raw JSON; stops on a repeated cursor or after MAX_PAGES pages."""
    request_for, page_model = _list_request_types()
    items: list[Any] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await session.send_request(request_for(kind, cursor), page_model)
        items.extend(getattr(page, kind))
        if len(items) > cap:
            raise CatalogError(
                f"server listed more than {cap} {kind} (raise the limit with --max-tools)",
                kind="too_many_tools",
            )
        cursor = page.nextCursor if isinstance(page.nextCursor, str) and page.nextCursor else None
        if cursor is None:
            return items
        if cursor in seen:
            warnings.append(f"{kind}/list repeated the cursor {cursor!r}; stopped paging")
            return items
        seen.add(cursor)
    warnings.append(f"{kind}/list still had more pages after {MAX_PAGES}; stopped paging")
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
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        malformed.append(f"tool #{position}: no string name")
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


def _stdio_failure(
    error: BaseException, stderr_tail: str, probe: _StdoutProbe, timeout: float
) -> CatalogError:
    garbage = f"the server wrote non-JSON-RPC text on stdout: {probe.lines[0]!r}" if probe.lines else ""
    if isinstance(error, TimeoutError):
        if garbage:
            return CatalogError(f"no MCP answer within {timeout:g}s; {garbage}", kind="bad_protocol")
        detail = f" (last stderr line: {stderr_tail})" if stderr_tail else ""
        return CatalogError(f"timed out: no MCP answer within {timeout:g}s{detail}", kind="timeout")
    if isinstance(error, FileNotFoundError):
        return CatalogError(f"command not found: {error.filename or error}", kind="not_found")
    if _is_connection_closed(error):
        if stderr_tail:
            return CatalogError(f"server exited: {stderr_tail}", kind=_kind_from_stderr(stderr_tail))
        if garbage:
            return CatalogError(f"server exited; {garbage}", kind="bad_protocol")
        return CatalogError("server exited before answering (nothing on stderr)", kind="crash")
    return CatalogError(f"MCP error: {_one_line(error)}", kind="bad_protocol")


def _url_failure(error: BaseException, url: str, timeout: float) -> CatalogError:
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
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
        return error.response.status_code not in (401, 403)
    return isinstance(error, McpError)


def _kind_from_stderr(line: str) -> str:
    if CONFIG_HINT.search(line):
        return "needs_config"
    if NETWORK_HINT.search(line):
        return "needs_network"
    return "crash"


def _is_connection_closed(error: BaseException) -> bool:
    from mcp.shared.exceptions import McpError

    closed = anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream | BrokenPipeError
    return isinstance(error, McpError | closed)


def _leaf(error: BaseException) -> BaseException:
    """The first real exception inside nested ExceptionGroups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


_ERROR_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception)\b|^(error|fatal)\b", re.IGNORECASE)
_RUNTIME_FOOTER = re.compile(r"^Node\.js v\d")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _stderr_tail(errlog: IO[str]) -> str:
    """The line of the server's stderr that best says why it stopped: the last error line, else the
    last line that is not a runtime's version footer."""
    errlog.seek(0)
    text = _ANSI_ESCAPE.sub("", errlog.read()[-20_000:])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.match(line)]
    if errors:
        return errors[-1][:300]
    lines = [line for line in lines if not _RUNTIME_FOOTER.match(line)]
    return lines[-1][:300] if lines else ""


def _invalid_input(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        try:
            found = errors()
            if found and isinstance(found[0].get("input"), str):
                return found[0]["input"][:120]
        except Exception:
            pass
    return _one_line(error)[:120]


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
