"""Typed records that flow between sources, extractors, the live client, the store and the reports."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

ANNOTATION_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
# MCP spec 2025-11-25: values a client must assume when a hint is absent.
SPEC_HINT_DEFAULTS = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}

# The fields of a Tool that define a version of it: hashed, compared between crawls, kept in tool_versions.
TOOL_CONTENT_FIELDS = ("name", "title", "description", "input_schema", "annotations", "params")


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
        """The fields that define a tool version (what is hashed and compared between crawls); `params`
        only counts where no full schema is known."""
        content = {key: getattr(self, key) for key in TOOL_CONTENT_FIELDS}
        if self.input_schema is not None:
            content["params"] = None
        return content

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


class CrawlStatus(StrEnum):
    """How far a stored crawl can be trusted. Only `ok` prints ✓ and exits 0."""

    OK = "ok"  # the inventory from the strongest route available, nothing signals it is partial
    INCOMPLETE = "incomplete"  # tools kept, but the list may miss some (static only with run-time tools, cut)
    PARTIAL = "partial"  # tools kept, but the listing had malformed or duplicate tools
    FAILED = "failed"  # no listing; the previous inventory stays


class ProblemKind(StrEnum):
    MALFORMED = "malformed"
    DUPLICATE = "duplicate"


@dataclass
class Problem:
    """One bad tool in a listing: kept out of the inventory, named in the crawl's error."""

    kind: ProblemKind
    detail: str  # "tool #3: no string name", "'search'"

    def __str__(self) -> str:
        return f"{self.kind} tool: {self.detail}"  # a StrEnum, or its plain value after redaction


@dataclass
class CrawlResult:
    """What one crawl of one server found (or why it failed)."""

    server: ServerRef
    method: str  # static | live | static+live
    route: str  # how the source was resolved, in words: "pypi mlflow-mcp==0.4.1 (wheel)"
    tools: list[Tool] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    version: str | None = None
    digest: str | None = None
    server_info: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    status: CrawlStatus = CrawlStatus.OK
    error: str | None = None
    error_kind: str | None = None  # a FailureKind value (stored as its string)
    env_names: list[str] = field(default_factory=list)  # names of variables passed, never values
    problems: list[Problem] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)  # static vs live, see crawl.reconcile

    def fail(self, error: CatalogError) -> None:
        """No listing: the crawl is stored as failed with the error's kind, and no tools."""
        self.status, self.error, self.error_kind = CrawlStatus.FAILED, str(error), str(error.kind)
        self.tools = []

    def degrade(self, status: CrawlStatus, why: str, kind: FailureKind) -> None:
        """Tools kept, but the crawl is not `ok`: the first reason wins, later ones are warnings."""
        if self.status == CrawlStatus.OK:
            self.status, self.error, self.error_kind = status, why, kind.value
        elif self.status != CrawlStatus.FAILED:
            self.warnings.append(why)


@dataclass
class Classification:
    """The label of one tool: category, risk level, calibrated confidence and the reasons."""

    category: str  # read | write | destructive
    risk: str  # low | medium | high | critical
    confidence: float
    reasons: list[str]
    version: str = ""
    p_destructive: float | None = None  # P(destructive) behind the label (classifier.caution)
    caution_threshold: float | None = None  # at or above it a read/write label is treated as destructive

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def possibly_destructive(self) -> bool:
        """Labelled read or write, but P(destructive) reaches the cautious threshold chosen on cross-validation."""
        p, threshold = self.p_destructive, self.caution_threshold
        return self.category != "destructive" and p is not None and threshold is not None and p >= threshold


class Family(StrEnum):
    """Who has to act: the user (bad input, exit 2), the source (cannot be fetched or read) or the server."""

    USAGE = "usage"
    SOURCE = "source"
    SERVER = "server"
    INTERNAL = "internal"


class FailureKind(StrEnum):
    """Why something failed. The values are what `crawls.error_kind` stores (unchanged from before)."""

    USAGE = "usage"
    # the source: fetching, unpacking, reading
    NOT_FOUND = "not_found"
    NEEDS_NETWORK = "needs_network"
    DOWNLOAD_FAILED = "download_failed"
    BAD_ARCHIVE = "bad_archive"
    BAD_CACHE = "bad_cache"
    BAD_PACKAGE = "bad_package"
    NO_ENTRY_POINT = "no_entry_point"
    NO_TOOLS = "no_tools"
    UNSUPPORTED = "unsupported"
    REGISTRY = "registry"
    INSTALL_FAILED = "install_failed"
    NEEDS_RUNTIME = "needs_runtime"
    NEEDS_SANDBOX = "needs_sandbox"
    NEEDS_TOOL = "needs_tool"
    SANDBOX = "sandbox"
    # the server: starting, answering, listing
    NEEDS_CONFIG = "needs_config"
    CRASH = "crash"
    TIMEOUT = "timeout"
    BAD_PROTOCOL = "bad_protocol"
    TOO_MANY_TOOLS = "too_many_tools"
    AUTH = "auth"
    BAD_TOOLS = "bad_tools"
    INCOMPLETE = "incomplete"
    RESOURCE_LIMIT = "resource_limit"  # the sandbox watchdog killed it (memory, processes, CPU)
    # remote endpoints
    UNSAFE_URL = "unsafe_url"  # link-local, metadata, or private without permission; or a cross-host redirect
    NOT_CONTACTED = "not_contacted"  # a registry's or config's remote endpoint, listed only with --live
    # the catalog itself
    BAD_DATABASE = "bad_database"
    MISSING_EXTRA = "missing_extra"
    NO_DATA = "no_data"
    INTERNAL = "internal"
    ERROR = "error"

    @classmethod
    def _missing_(cls, value: object) -> FailureKind | None:
        if value == "bad_usage":
            return cls.USAGE
        if isinstance(value, str):  # a kind another module added before it was listed here: kept as is
            member = str.__new__(cls, value)
            member._name_ = value.upper()
            member._value_ = value
            return member
        return None

    @property
    def family(self) -> Family:
        if self is FailureKind.USAGE:
            return Family.USAGE
        if self in _SERVER_KINDS:
            return Family.SERVER
        if self in (FailureKind.INTERNAL, FailureKind.ERROR, FailureKind.BAD_DATABASE):
            return Family.INTERNAL
        return Family.SOURCE

    @property
    def exit_code(self) -> int:
        return 2 if self is FailureKind.USAGE else 1


_SERVER_KINDS = frozenset(
    {
        FailureKind.NEEDS_CONFIG,
        FailureKind.CRASH,
        FailureKind.TIMEOUT,
        FailureKind.BAD_PROTOCOL,
        FailureKind.TOO_MANY_TOOLS,
        FailureKind.AUTH,
        FailureKind.BAD_TOOLS,
        FailureKind.INCOMPLETE,
        FailureKind.RESOURCE_LIMIT,
    }
)


class CatalogError(Exception):
    """A failure shown as one line: exit code 2 for usage errors, 1 otherwise."""

    default_kind = FailureKind.ERROR

    def __init__(self, message: str, kind: FailureKind | str | None = None):
        super().__init__(message)
        self.kind = FailureKind(kind) if kind is not None else self.default_kind

    @property
    def family(self) -> Family:
        return self.kind.family

    @property
    def exit_code(self) -> int:
        return self.kind.exit_code


class UsageError(CatalogError):
    """The user's input is wrong (a flag, a source string, a file): nothing is stored, exit code 2."""

    default_kind = FailureKind.USAGE


class SourceError(CatalogError):
    """The source cannot be fetched, unpacked or read (stored as a failed crawl)."""

    default_kind = FailureKind.NOT_FOUND


class ServerError(CatalogError):
    """The server would not start, answer or list (stored as a failed crawl)."""

    default_kind = FailureKind.CRASH


@dataclass
class Override:
    """A reviewer's decision on one tool, kept apart from the classifier and never overwritten by it."""

    category: str
    note: str
    risk: str | None = None
    at: str = ""


# The effective label of a tool, written once, in SQL, over `classifications c` and `overrides o`: the
# store's `labelled_tools` view uses it for search, reports and Datasette, and LabelledTool evaluates the
# same expressions (effective_label below), so no second copy of the rule exists. A reviewer's override
# sets the category; the risk is the reviewer's explicit risk, else the classifier's risk when the
# category is unchanged, else the classifier's risk raised to the rubric's floor for the new category
# (read: low, write: medium, destructive: high): confirming or changing a category never lowers the
# risk, only an explicit `--risk` does. A tool not classified yet counts as destructive / high.
EFFECTIVE_CATEGORY_SQL = "coalesce(o.category, c.category, 'destructive')"
EFFECTIVE_RISK_SQL = """CASE
      WHEN o.risk IS NOT NULL THEN o.risk
      WHEN o.category IS NULL OR o.category = coalesce(c.category, 'destructive') THEN coalesce(c.risk, 'high')
      WHEN o.category = 'destructive' AND coalesce(c.risk, 'high') IN ('low', 'medium') THEN 'high'
      WHEN o.category = 'write' AND coalesce(c.risk, 'high') = 'low' THEN 'medium'
      ELSE coalesce(c.risk, 'high')
    END"""
UNCLASSIFIED = Classification("destructive", "high", 0.0, ["not classified yet"], "")

_label_lock = threading.Lock()
_label_db: sqlite3.Connection | None = None


@functools.lru_cache(maxsize=512)
def effective_label(
    category: str | None, risk: str | None, override_category: str | None, override_risk: str | None
) -> tuple[str, str]:
    """(category, risk) of a tool from its classifier label and override, by the SQL rule above."""
    global _label_db
    sql = (
        f"SELECT {EFFECTIVE_CATEGORY_SQL}, {EFFECTIVE_RISK_SQL}"
        " FROM (SELECT ? AS category, ? AS risk) c, (SELECT ? AS category, ? AS risk) o"
    )
    with _label_lock:
        if _label_db is None:
            _label_db = sqlite3.connect(":memory:", check_same_thread=False)
        row = _label_db.execute(sql, (category, risk, override_category, override_risk)).fetchone()
    return row[0], row[1]


@dataclass
class LabelledTool:
    """A stored tool with its classifier label and, where a reviewer set one, the override that wins."""

    tool: Tool
    classification: Classification
    override: Override | None = None

    def _effective(self) -> tuple[str, str]:
        o = self.override
        return effective_label(
            self.classification.category,
            self.classification.risk,
            o.category if o else None,
            o.risk if o else None,
        )

    @property
    def category(self) -> str:
        return self._effective()[0]

    @property
    def risk(self) -> str:
        return self._effective()[1]

    def top_reason(self) -> str:
        if self.override:
            return f"reviewer override: {self.override.note}"
        return self.classification.reasons[0] if self.classification.reasons else ""
