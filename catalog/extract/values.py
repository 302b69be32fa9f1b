"""The value layer the language extractors share: what cannot be known statically (`Unresolved`),
folded strings with their run-time placeholders (`Folded`), the depth limit, and the table of
tool annotation keys in every spelling the SDKs accept.

A folded string is its text plus the placeholders left in it (`{expr}` or `${expr}` where a part
is only known at run time); a tool name with placeholders is not a name, a description with them
is kept and noted in the tool's `unresolved` list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from catalog.extract.budget import check_length

MAX_DEPTH = 40  # how deep a value may be followed through names, calls and nesting

Folded = tuple[str, list[str]]  # text, and the placeholders filled at run time


class Unresolved(Exception):
    """A value that static reading cannot determine; the message says why."""


def joined(parts: Iterable[Folded], separator: str = "") -> Folded:
    """Folded parts joined into one, within the length limit of the active budget."""
    parts = list(parts)
    check_length(sum(len(text) for text, _ in parts) + len(separator) * len(parts))
    return separator.join(text for text, _ in parts), [hole for _, holes in parts for hole in holes]


def noted(
    fold: Callable[[], Folded],
    label: str,
    unresolved: list[str],
    missing: str | None = "",
    partial: bool = True,
) -> str | None:
    """The folded text, or `missing` when it cannot be known (or, unless `partial`, when run-time
    placeholders are left in it); the reason is noted in `unresolved` under `label`."""
    try:
        text, holes = fold()
    except Unresolved as error:
        unresolved.append(f"{label}: {error}")
        return missing
    if holes and not partial:
        unresolved.append(f"{label}: built at run time ({', '.join(holes)})")
        return missing
    if holes:
        unresolved.append(f"{label}: placeholders filled at run time ({', '.join(holes)})")
    return text


def part_or_placeholder(fold: Callable[[], Folded], shown: Callable[[], str], opening: str = "{") -> Folded:
    """A part of a string being folded; when it cannot be known, a placeholder showing its source."""
    try:
        return fold()
    except Unresolved:
        placeholder = opening + shown() + "}"
        check_length(len(placeholder))
        return placeholder, [placeholder]


def whole(folded: Folded) -> str:
    """The text of a folded string that must be known entirely (a literal, a name)."""
    text, holes = folded
    if holes:
        raise Unresolved(f"placeholders filled at run time ({', '.join(holes)})")
    return text


def short(text: str) -> str:
    """Source text shown in a placeholder or a note: whitespace collapsed, at most 60 characters."""
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class AnnotationKey:
    """One tool annotation: its key on the wire and how each SDK spells it in source."""

    wire: str
    python: str  # keyword of ToolAnnotations(...) in the Python SDKs (wire spelling accepted too)
    go_field: str  # field of mcp.ToolAnnotations{...}
    go_option: str  # mcp-go's option function


ANNOTATIONS = (
    AnnotationKey("title", "title", "Title", "WithTitleAnnotation"),
    AnnotationKey("readOnlyHint", "read_only_hint", "ReadOnlyHint", "WithReadOnlyHintAnnotation"),
    AnnotationKey("destructiveHint", "destructive_hint", "DestructiveHint", "WithDestructiveHintAnnotation"),
    AnnotationKey("idempotentHint", "idempotent_hint", "IdempotentHint", "WithIdempotentHintAnnotation"),
    AnnotationKey("openWorldHint", "open_world_hint", "OpenWorldHint", "WithOpenWorldHintAnnotation"),
)
WIRE_ANNOTATION_KEYS = {a.wire for a in ANNOTATIONS}
PYTHON_ANNOTATION_KEYS = {a.wire: a.wire for a in ANNOTATIONS} | {a.python: a.wire for a in ANNOTATIONS}
GO_ANNOTATION_FIELDS = {a.go_field: a.wire for a in ANNOTATIONS}
GO_ANNOTATION_OPTIONS = {a.go_option: a.wire for a in ANNOTATIONS}
