"""Secrets never leave the process: one place that masks them in text and in whole crawl results.

Two layers. Known values: every value passed with `--env`, every `env`/`headers` value of a client config
and every value a secret-looking argument carries is remembered here and masked wherever it appears
(error lines, stderr tails, tool descriptions). Patterns: `--api-key=X`, `--token X`, `API_KEY=X`, URL
userinfo and secret query parameters, Authorization/bearer headers, for secrets nobody declared.
The crawl writer calls `redact_result` on every result before it is stored or printed; error lines on the
terminal go through `redact`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from catalog.models import CrawlResult

MASK = "***"
MIN_LITERAL = 4  # shorter values ("1", "on") would mask ordinary words everywhere
HARMLESS = frozenset({"true", "false", "none", "null", "yes", "no", "on", "off", "stdio", "debug", "info"})

_WORD = r"(?:key|token|secret|passw(?:or)?d|pwd|auth|credential|bearer|session|cookie|signature|private)"
SECRET_NAME = re.compile(_WORD, re.IGNORECASE)
# --api-key=VALUE, -token=VALUE
_FLAG_EQ = re.compile(rf"(?<![\w.-])(--?(?=[A-Za-z])[\w.-]*{_WORD}[\w.-]*)=(\S+)", re.IGNORECASE)
# --token VALUE (the next word, unless it is another flag)
_FLAG_SPACE = re.compile(rf"(?<![\w.-])(--?(?=[A-Za-z])[\w.-]*{_WORD}[\w.-]*)(\s+)(?!-)(\S+)", re.IGNORECASE)
# API_KEY=VALUE (environment style)
_ENV_EQ = re.compile(rf"(?<![\w.=/-])([A-Za-z_][A-Za-z0-9_]*{_WORD}[A-Za-z0-9_]*)=(?!=)(\S+)", re.IGNORECASE)
# scheme://user:password@host
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s@'\"]+@", re.IGNORECASE)
# ?api_key=VALUE&...
_QUERY = re.compile(rf"([?&;][^=&\s#]*{_WORD}[^=&\s#]*=)([^&\s#'\"]+)", re.IGNORECASE)
# Authorization: Bearer X, X-Api-Key: X
_HEADER = re.compile(
    r"\b((?:proxy-)?authorization|x-[\w-]*(?:key|token|secret|auth)[\w-]*|api[-_]?key)(\s*[:=]\s*)"
    r"(?:(bearer|basic|token)\s+)?(\S+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(bearer)\s+(?!\*\*\*)([A-Za-z0-9._~+/=-]{6,})", re.IGNORECASE)

_known: set[str] = set()
_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None


def remember(values: Iterable[str]) -> None:
    """Mask these literal values from now on, wherever they appear."""
    global _pattern
    new = {v for v in (str(v) for v in values) if _worth_masking(v)} - _known
    if not new:
        return
    with _lock:
        _known.update(new)
        ordered = sorted(_known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def remember_env(env: Mapping[str, str]) -> None:
    """Every value passed to a server's environment is a secret as far as we know."""
    remember(env.values())


def remember_headers(headers: Mapping[str, str]) -> None:
    values = [str(v) for v in headers.values()]
    remember(values + [v.split(None, 1)[1] for v in values if " " in v.strip()])


def remember_command(argv: Sequence[str]) -> None:
    """The values of secret-looking arguments in a command (`--api-key=X`, `--token X`, `KEY=X`, URLs)."""
    remember(secrets_in_command(argv))


def secrets_in_command(argv: Sequence[str]) -> list[str]:
    found: list[str] = []
    for index, word in enumerate(argv):
        name, sep, value = word.partition("=")
        if sep and value and SECRET_NAME.search(name) and not name.startswith("http"):
            found.append(value)
        elif word.startswith("-") and SECRET_NAME.search(word) and index + 1 < len(argv):
            following = argv[index + 1]
            if not following.startswith("-"):
                found.append(following)
        found.extend(secrets_in_url(word))
    return found


def secrets_in_url(text: str) -> list[str]:
    found = [m.group(2) for m in _QUERY.finditer(text)]
    for match in re.finditer(r"\b[a-z][a-z0-9+.-]*://([^/\s@'\"]+)@", text, re.IGNORECASE):
        user, _, password = match.group(1).partition(":")
        found.append(password or user)
    return found


def _worth_masking(value: str) -> bool:
    value = value.strip()
    return len(value) >= MIN_LITERAL and value.lower() not in HARMLESS and value != MASK


def redact(text: str | None) -> str:
    """`text` with every known secret and every secret-looking value masked."""
    if not text:
        return text or ""
    text = redact_known(text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _QUERY.sub(lambda m: m.group(1) + MASK, text)
    text = _HEADER.sub(lambda m: m.group(1) + m.group(2) + (f"{m.group(3)} " if m.group(3) else "") + MASK, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _FLAG_EQ.sub(lambda m: f"{m.group(1)}={MASK}", text)
    text = _FLAG_SPACE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _ENV_EQ.sub(lambda m: f"{m.group(1)}={MASK}", text)


def redact_known(text: str) -> str:
    """Only the literal values remembered so far (for tool texts, where patterns would mangle prose)."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


T = TypeVar("T")


def redact_data(value: T) -> T:
    """Known secrets masked in every string of a JSON-like value (schemas, raw listings, server info)."""
    if isinstance(value, str):
        return redact_known(value)  # type: ignore[return-value]
    if isinstance(value, list):
        return [redact_data(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}  # type: ignore[return-value]
    return value


def redact_result(result: CrawlResult) -> CrawlResult:
    """Mask secrets in everything a crawl result carries, in place; the writer calls this before storing."""
    server = result.server
    server.id = redact(server.id)
    server.source = redact(server.source)
    server.name = redact(server.name) if server.name else server.name
    result.route = redact(result.route)
    result.error = redact(result.error) if result.error else result.error
    result.warnings = [redact(w) for w in result.warnings]
    result.server_info = redact_data(result.server_info)
    for item in [*result.tools, *result.prompts, *result.resources]:
        _redact_record(item)
    for extra in ("problems", "differences"):
        if isinstance(getattr(result, extra, None), list):
            setattr(result, extra, [_redact_any(p) for p in getattr(result, extra)])
    return result


def _redact_record(record: Any) -> None:
    for f in fields(record):
        value = getattr(record, f.name)
        if f.name == "name" or value is None:
            continue  # a tool's name is its key; a secret there would also be in its description
        setattr(record, f.name, redact_data(value))


def _redact_any(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            current = getattr(value, f.name)
            if isinstance(current, str):
                setattr(value, f.name, redact(current))
        return value
    return redact(value) if isinstance(value, str) else redact_data(value)
