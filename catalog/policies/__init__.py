"""Policy exporters: one module per gateway or client format, all fed the same per-tool rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec, Protocol

from catalog.models import CatalogError, LabelledTool
from catalog.policies.rules import PROFILES, ToolRule, plan_rules

P = ParamSpec("P")

FORMATS = (
    "policylayer",
    "intercept",
    "claude-code",
    "codex",
    "cursor",
    "cedar-toolhive",
    "cedar-docker",
    "cel-agentgateway",
    "envoy-mcproute",
)
# Format name -> module under catalog.policies (imported only when used).
MODULES = {
    "policylayer": "policylayer",
    "intercept": "intercept",
    "claude-code": "claude_code",
    "codex": "codex",
    "cursor": "cursor",
    "cedar-toolhive": "cedar_toolhive",
    "cedar-docker": "cedar_docker",
    "cel-agentgateway": "cel_agentgateway",
    "envoy-mcproute": "envoy_mcproute",
}


@dataclass
class PolicyPlan:
    """Everything a format needs: the servers, the profile and one rule per tool."""

    servers: list[str]
    profile: str
    rules: list[ToolRule]
    # Per server: how the crawl found it ({"kind", "source", "route", "version"}), for formats that
    # must say how to start the server (Codex). Empty when unknown.
    sources: dict[str, dict[str, object]] = field(default_factory=dict)

    def server_rules(self, server: str) -> list[ToolRule]:
        return [r for r in self.rules if r.server == server]


@dataclass
class PolicyResult:
    """A rendered policy; after a merge, which tools were added and which the user's file already had."""

    text: str
    format: str
    rules: list[ToolRule]
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reasons(self) -> dict[str, dict[str, object]]:
        """The reason behind every rule, keyed `server/tool`: a sidecar for formats with no comment field."""
        return {f"{r.server}/{r.tool}": r.to_dict() for r in self.rules}


class PolicyFormat(Protocol):
    """What a format module provides. `merge` returns the merged text, the tools added, and notes."""

    def render(self, plan: PolicyPlan) -> str: ...

    def merge(self, existing: str, plan: PolicyPlan) -> tuple[str, list[str], list[str]]: ...


def format_module(name: str) -> ModuleType:
    import importlib

    if name not in MODULES:
        raise CatalogError(f"unknown policy format {name!r}; use one of {', '.join(FORMATS)}", kind="usage")
    return importlib.import_module(f"catalog.policies.{MODULES[name]}")


def build_policy(
    servers: list[tuple[str, list[LabelledTool]]],
    format: str,
    profile: str = "balanced",
    caps: dict[str, int] | None = None,
    merge_with: str | Path | None = None,
    opt_in: Iterable[str] = (),
    sources: dict[str, dict[str, object]] | None = None,
) -> PolicyResult:
    """Render (or merge into the file at `merge_with`) the policy for these servers in one format."""
    module = format_module(format)
    if not servers:
        raise CatalogError("no servers given to write a policy for", kind="usage")
    rules = plan_rules(servers, profile, caps, opt_in)
    plan = PolicyPlan([name for name, _ in servers], profile, rules, dict(sources or {}))
    if merge_with is None:
        if hasattr(module, "render_with_notes"):
            text, notes = module.render_with_notes(plan)
            return PolicyResult(text, format, rules, notes=notes)
        return PolicyResult(module.render(plan), format, rules)
    path = Path(merge_with)
    try:
        existing = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(
            f"cannot read the policy to merge with, {path}: {exc.strerror}", kind="usage"
        ) from None
    text, added, notes = module.merge(existing, plan)
    names = {r.tool for r in rules}
    kept = sorted(names - set(added))
    return PolicyResult(text, format, rules, added=added, kept=kept, notes=notes)


def _text_only(build: Callable[P, PolicyResult]) -> Callable[P, str]:
    def text(*args: P.args, **kwargs: P.kwargs) -> str:
        return build(*args, **kwargs).text

    return text


render_policy = _text_only(build_policy)
render_policy.__doc__ = "The policy text for these servers in one format (see build_policy for what a merge added)."


def parse_json_policy(text: str, what: str, key: str, shape: type, missing: str, note: str = "") -> dict[str, Any]:
    """The user's JSON file to merge with: an object whose `key`, where present, is a `shape` (dict or list).
    Otherwise a usage error naming the file by `what` ("the settings file") and saying what is `missing`."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{what} to merge with is not JSON{note}: {exc}", kind="usage") from None
    if not isinstance(data, dict) or not isinstance(data.get(key, shape()), shape):
        raise CatalogError(f"{what} to merge with {missing}", kind="usage")
    return data


def refuse_merge(format: str) -> CatalogError:
    """For formats whose files we do not merge into: say how to proceed instead of overwriting."""
    return CatalogError(
        f"{format} policies are not merged into an existing file; write to a new file, or pass --force "
        "to overwrite it",
        kind="usage",
    )


def unique_tool_names(plan: PolicyPlan, format: str) -> None:
    """Gateways that key rules by bare tool name can hold several servers only when no names collide."""
    seen: dict[str, str] = {}
    for rule in plan.rules:
        other = seen.setdefault(rule.tool, rule.server)
        if other != rule.server:
            raise CatalogError(
                f"{format} keys rules by the bare tool name, and {rule.tool!r} exists on both {other!r} and "
                f"{rule.server!r}; write one {format} policy per server",
                kind="usage",
            )


__all__ = [
    "FORMATS",
    "PROFILES",
    "PolicyPlan",
    "PolicyResult",
    "ToolRule",
    "build_policy",
    "plan_rules",
    "render_policy",
]
