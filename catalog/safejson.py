"""Read JSON that others wrote (manifests, tools/list dumps, server.json, client configs, registry
pages) as hostile input: too large, nested too deep, lone surrogates, NUL characters and duplicate
keys each end in one line naming the cause (a `CatalogError`), never a `RecursionError`.

`parse` reads a document and leaves the checks of its parts to the caller, so a listing can keep
its good tools and report the bad ones by name (`Document.problem_in(tool)`); `loads` and `load`
refuse a document with any such problem anywhere in it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.models import CatalogError

MAX_BYTES = 50_000_000
MAX_DEPTH = 100  # deeper than any real schema, well inside Python's own recursion limit
TOO_DEEP = "\0nested too deep\0"  # stands in for a container nested deeper than the limit
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Document:
    """A parsed JSON document, with what was wrong in it remembered per object."""

    value: Any
    max_depth: int = MAX_DEPTH
    duplicates: dict[int, str] = field(default_factory=dict)  # id(object) -> first repeated key

    def problem_in(self, value: Any) -> str | None:
        """The first problem inside this part of the document, in words, or None when it is clean."""
        stack = [value]
        while stack:
            current = stack.pop()
            if isinstance(current, str):
                problem = _string_problem(current, self.max_depth)
                if problem:
                    return problem
            elif isinstance(current, dict):
                if id(current) in self.duplicates:
                    return f"duplicate key {self.duplicates[id(current)]!r} in an object"
                stack.extend(current.keys())
                stack.extend(current.values())
            elif isinstance(current, list):
                stack.extend(current)
        return None


def _string_problem(text: str, max_depth: int) -> str | None:
    if text == TOO_DEEP:
        return f"nested deeper than {max_depth} levels"
    if "\0" in text:
        return "NUL character in a string"
    if _SURROGATE.search(text):
        return "lone surrogate (\\ud800-\\udfff) in a string"
    return None


def parse(
    data: str | bytes,
    source: str,
    kind: str = "usage",
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
) -> Document:
    """Parse JSON text; containers nested deeper than `max_depth` are kept as a marker that
    `problem_in` reports. Raises CatalogError(kind) when the text is too large or not JSON."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise CatalogError(f"{source}: JSON larger than {max_bytes} bytes; refusing it", kind=kind)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise CatalogError(
                f"{source}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
                kind=kind,
            ) from None
    document = Document(None, max_depth)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        built: dict[str, Any] = {}
        repeated = None
        for key, value in items:
            if key in built and repeated is None:
                repeated = key
            built[key] = value
        if repeated is not None:
            document.duplicates[id(built)] = repeated
        return built

    try:
        document.value = json.loads(_flatten_deep(data, max_depth), object_pairs_hook=pairs)
    except json.JSONDecodeError as error:
        raise CatalogError(f"{source}: not valid JSON ({error})", kind=kind) from None
    except RecursionError:  # not expected after flattening; kept as a last guard
        raise CatalogError(f"{source}: JSON nested too deeply to read", kind=kind) from None
    return document


def loads(data: str | bytes, source: str, kind: str = "usage", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text and refuse it when any part of it has a problem (one line naming the cause)."""
    return loads_checked(parse(data, source, kind, max_depth), source, kind)


def loads_checked(document: Document, source: str, kind: str = "usage") -> Any:
    """The value of a parsed document, refused when any part of it has a problem."""
    problem = document.problem_in(document.value)
    if problem:
        raise CatalogError(f"{source}: JSON {problem}; refusing it", kind=kind)
    return document.value


def load(path: Path, kind: str = "usage", max_depth: int = MAX_DEPTH) -> Any:
    """`loads` of a file, checking its size before reading it."""
    return loads(_read(path, kind), str(path), kind, max_depth)


def parse_file(path: Path, kind: str = "usage", max_depth: int = MAX_DEPTH) -> Document:
    """`parse` of a file, checking its size before reading it."""
    return parse(_read(path, kind), str(path), kind, max_depth)


def _read(path: Path, kind: str) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CatalogError(f"{path}: JSON larger than {MAX_BYTES} bytes; refusing it", kind=kind)
        return path.read_bytes()
    except OSError as error:
        raise CatalogError(f"{path}: cannot read ({error.strerror or error})", kind=kind) from None


def _flatten_deep(text: str, max_depth: int) -> str:
    """The text with every container opened below `max_depth` levels replaced by the TOO_DEEP
    marker string, found in one pass that skips string literals (linear in the text's size)."""
    if text.count("[") + text.count("{") <= max_depth:
        return text
    pieces: list[str] = []
    kept_from = 0
    depth = 0
    cut_at = -1  # where the container being cut starts; its depth is max_depth + 1
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark[0] == '"':
            continue
        if mark in "[{":
            depth += 1
            if depth == max_depth + 1 and cut_at < 0:
                cut_at = token.start()
        else:
            if depth == max_depth + 1 and cut_at >= 0:
                pieces.append(text[kept_from:cut_at])
                pieces.append(json.dumps(TOO_DEEP))
                kept_from = token.end()
                cut_at = -1
            depth -= 1
    if cut_at >= 0:  # unbalanced: leave it to the JSON reader to say where
        return text
    pieces.append(text[kept_from:])
    return "".join(pieces)
