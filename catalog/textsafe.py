"""Untrusted text made inert for a terminal: escape sequences and control characters shown, never obeyed."""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST: titles, hyperlinks, OSC 52 clipboard), DCS/SOS/PM/APC
# strings, and any other two-byte ESC sequence; then the C0/C1 controls that remain.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|[\x9d\x90\x98\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b.?",
    re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: object, *, keep_newlines: bool = True) -> str:
    """`text` with every escape sequence removed and other control characters shown as `\\xNN`; tabs and
    (unless told otherwise) newlines kept. Safe to print to a terminal; not yet safe as Rich markup."""
    cleaned = _ESCAPE_SEQUENCE.sub("", str(text))
    if not keep_newlines:
        cleaned = cleaned.replace("\r\n", " ").replace("\n", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cleaned)


def inert_markup(text: object, *, keep_newlines: bool = True) -> str:
    """`inert(text)` with Rich markup escaped, for strings interpolated into markup or table cells."""
    from rich.markup import escape

    return escape(inert(text, keep_newlines=keep_newlines))
