"""Typed records that flow between sources, extractors, the live client, the store and the reports."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

ANNOTATION_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
# MCP spec 2025-11-25: values a client must assume when a hint is absent.
SPEC_HINT_DEFAULTS = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}


@dataclass
class ServerRef:
    """Which server a crawl is about: its catalog id and the source string that found it."""

    id: str
    source: str
    kind: str  # github | pypi | npm | local | json | command | url | config
    name: str | None = None


@dataclass
class Tool:
    """One tool exactly as the server registers it (or as far as static reading could resolve it)."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None  # only the keys the author set
    title: str | None = None
    params: list[str] | None = None  # parameter names, where no full schema is known
    origin: str = ""  # file:line for static extraction, "live" for a listing
    unresolved: list[str] = field(default_factory=list)  # e.g. ["description: built at run time"]
    raw: dict[str, Any] | None = None  # the verbatim JSON of a live listing

    def parameter_names(self) -> list[str]:
        props = (self.input_schema or {}).get("properties")
        if isinstance(props, dict):
            return list(props)
        return list(self.params or [])

    def content(self) -> dict[str, Any]:
        """The fields that define a tool version (what is hashed and compared between crawls)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "input_schema": self.input_schema,
            "annotations": self.annotations,
            "params": None if self.input_schema is not None else self.params,
        }

    def content_hash(self) -> str:
        blob = json.dumps(self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tool:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        if "input_schema" not in known and isinstance(data.get("inputSchema"), dict):
            known["input_schema"] = data["inputSchema"]
        known.setdefault("description", "")
        if known.get("description") is None:
            known["description"] = ""
        return cls(**known)


@dataclass
class Prompt:
    name: str
    description: str = ""
    arguments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Resource:
    uri: str
    name: str = ""
    description: str = ""
    mime_type: str | None = None


@dataclass
class CrawlResult:
    """What one crawl of one server found (or why it failed)."""

    server: ServerRef
    method: str  # static | live
    route: str  # how the source was resolved, in words: "pypi mlflow-mcp==0.4.1 (wheel)"
    tools: list[Tool] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    version: str | None = None
    digest: str | None = None
    server_info: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | failed
    error: str | None = None
    error_kind: str | None = None  # timeout | crash | needs_config | not_found | ...
    env_names: list[str] = field(default_factory=list)  # names of variables passed, never values


@dataclass
class Classification:
    """The label of one tool: category, risk level, calibrated confidence and the reasons."""

    category: str  # read | write | destructive
    risk: str  # low | medium | high | critical
    confidence: float
    reasons: list[str]
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CatalogError(Exception):
    """A failure the user can fix: shown as one line, exit code 1."""

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind


@dataclass
class Override:
    """A reviewer's decision on one tool, kept apart from the classifier and never overwritten by it."""

    category: str
    note: str
    risk: str | None = None
    at: str = ""


@dataclass
class LabelledTool:
    """A stored tool with its classifier label and, where a reviewer set one, the override that wins."""

    tool: Tool
    classification: Classification
    override: Override | None = None

    @property
    def category(self) -> str:
        return self.override.category if self.override else self.classification.category

    @property
    def risk(self) -> str:
        if self.override is None:
            return self.classification.risk
        if self.override.risk:
            return self.override.risk
        return default_risk_for(self.override.category, self.classification)

    def top_reason(self) -> str:
        if self.override:
            return f"reviewer override: {self.override.note}"
        return self.classification.reasons[0] if self.classification.reasons else ""


def default_risk_for(category: str, classification: Classification) -> str:
    """The risk an overridden category implies, keeping the classifier's risk where it still fits."""
    allowed = {"read": ("low", "medium"), "write": ("medium",), "destructive": ("high", "critical")}[category]
    return classification.risk if classification.risk in allowed else allowed[0]
