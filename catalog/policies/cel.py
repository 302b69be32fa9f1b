"""CEL text shared by the CEL-based gateways: string literals and list literals."""

from __future__ import annotations

import json


def literal(text: str) -> str:
    """A CEL double-quoted string: JSON's escapes (\\" \\\\ \\n \\uXXXX for controls) are CEL's too."""
    return json.dumps(text, ensure_ascii=False)


def names(items: list[str]) -> str:
    return "[" + ", ".join(literal(item) for item in items) + "]"


def yaml_item(value: str, indent: str) -> str:
    """One YAML sequence item holding `value`, quoted by the YAML library."""
    import yaml

    dumped = yaml.safe_dump([value], allow_unicode=True, width=10_000, default_style="'").rstrip("\n")
    return indent + dumped
