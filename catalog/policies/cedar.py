"""Cedar text shared by the two Cedar dialects: string literals, annotations and one policy per tool."""

from __future__ import annotations

from catalog.policies.rules import one_line


def literal(text: str) -> str:
    """A Cedar string literal: quotes and backslashes escaped, control characters as \\u{...}."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F or char in "\u2028\u2029":
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def annotation(name: str, value: str) -> str:
    return f"@{name}({literal(one_line(value, 400))})"
