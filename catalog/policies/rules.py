"""Decide the rule for each tool from its category, risk, the profile and the caps (RUBRIC.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from catalog.models import CatalogError, LabelledTool

PROFILES = ("strict", "balanced", "permissive")
CAP_CATEGORIES = ("read", "write", "destructive")

# What each action means at a gateway: allow (with a cap), approve (a human must say yes; denied
# where the gateway has no approval step), deny (hidden and refused until the user opts in).
ALLOW, APPROVE, DENY = "allow", "approve", "deny"

# The classes a tool falls into, each with its default action and calls-per-minute cap by profile.
# balanced follows RUBRIC.md; strict asks for approval on writes and lowers caps; permissive caps
# destructive/high tools instead of asking, and still denies critical ones.
RULE_TABLE: dict[str, dict[str, tuple[str, int | None]]] = {
    "read-low": {"strict": (ALLOW, 30), "balanced": (ALLOW, 60), "permissive": (ALLOW, 120)},
    "read-medium": {"strict": (ALLOW, 10), "balanced": (ALLOW, 30), "permissive": (ALLOW, 60)},
    "write": {"strict": (APPROVE, 10), "balanced": (ALLOW, 30), "permissive": (ALLOW, 60)},
    "destructive-high": {"strict": (APPROVE, 2), "balanced": (APPROVE, 5), "permissive": (ALLOW, 10)},
    "critical": {"strict": (DENY, None), "balanced": (DENY, None), "permissive": (DENY, None)},
}
CLASS_CATEGORY = {
    "read-low": "read",
    "read-medium": "read",
    "write": "write",
    "destructive-high": "destructive",
    "critical": "destructive",
}
CLASS_WHY = {
    "read-low": "changes nothing",
    "read-medium": "changes nothing but may return sensitive data",
    "write": "changes state in a way that can be undone",
    "destructive-high": "can irreversibly remove data",
    "critical": "is in the critical class (code or SQL execution, money, permissions, bulk destruction)",
}


@dataclass(frozen=True)
class ToolRule:
    """The recommended rule for one tool, with the reason a reviewer can read and dispute."""

    server: str
    tool: str
    category: str
    risk: str
    rule_class: str  # read-low | read-medium | write | destructive-high | critical
    action: str  # allow | approve | deny
    cap: int | None  # calls per minute; None for denied tools
    grounds: str  # one line: the label, its evidence and why that matters
    overridden: bool = False

    @property
    def reason(self) -> str:
        """The grounds and what the rule does about them."""
        return f"{self.grounds}; {self.effect}."

    @property
    def counter(self) -> str:
        return f"{self.tool}_rate"

    @property
    def effect(self) -> str:
        if self.action == ALLOW and self.rule_class == "read-low":
            return f"allowed, capped at {self.cap} calls/minute only to stop retry loops"
        if self.action == ALLOW:
            return f"allowed, capped at {self.cap} calls/minute"
        if self.action == APPROVE:
            return f"needs human approval, then capped at {self.cap} calls/minute"
        return "denied and hidden until you opt in"

    def to_dict(self) -> dict[str, object]:
        return {
            "server": self.server,
            "tool": self.tool,
            "category": self.category,
            "risk": self.risk,
            "action": self.action,
            "cap_per_minute": self.cap,
            "reason": self.reason,
            "overridden": self.overridden,
        }


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace and control characters so hostile text cannot break a comment or a line."""
    flat = re.sub(r"[\x00-\x1f\x7f\u2028\u2029\s]+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def rule_class(category: str, risk: str) -> str:
    """Which row of RULE_TABLE a label falls into; unknown labels are treated as critical (cautious)."""
    if risk == "critical":
        return "critical"
    if category == "destructive":
        return "destructive-high"
    if category == "write":
        return "write"
    if category == "read":
        return "read-low" if risk == "low" else "read-medium"
    return "critical"


def check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise CatalogError(f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}", kind="usage")


def check_caps(caps: dict[str, int] | None) -> dict[str, int]:
    """Per-category cap overrides such as {"read": 120, "write": 10}, checked."""
    caps = dict(caps or {})
    for key, value in caps.items():
        if key not in CAP_CATEGORIES:
            raise CatalogError(f"unknown cap category {key!r}; use {', '.join(CAP_CATEGORIES)}", kind="usage")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CatalogError(
                f"cap for {key!r} must be a positive whole number, got {value!r}", kind="usage"
            )
    return caps


def evidence(labelled: LabelledTool, count: int = 2) -> str:
    """The signals behind a label: the reviewer's note when overridden, else the first classifier reasons."""
    if labelled.override is not None:
        return f"reviewer override: {labelled.override.note}"
    reasons = [r for r in labelled.classification.reasons if r][:count]
    return "; ".join(reasons) if reasons else "no classifier reasons recorded"


def decide(
    server: str,
    labelled: LabelledTool,
    profile: str = "balanced",
    caps: dict[str, int] | None = None,
    opt_in: Iterable[str] = (),
) -> ToolRule:
    """The rule for one tool. A critical tool the user opted in to is treated like a destructive one."""
    check_profile(profile)
    caps = check_caps(caps)
    category, risk = labelled.category, labelled.risk
    klass = rule_class(category, risk)
    caution = ""
    if labelled.override is None and labelled.classification.possibly_destructive and klass != "critical":
        # The label says read or write, but P(destructive) reached the threshold chosen on cross-validation
        # for 0.98 destructive recall: treated as destructive. A reviewer's override always wins.
        klass = "destructive-high"
        caution = f"possibly destructive (p = {labelled.classification.p_destructive:.2f}); "
    effective = "destructive-high" if klass == "critical" and labelled.tool.name in set(opt_in) else klass
    action, cap = RULE_TABLE[effective][profile]
    if action != DENY:
        cap = caps.get(CLASS_CATEGORY[effective], cap)
    opted = " (opted in)" if effective != klass else ""
    grounds = one_line(f"{caution}{category}/{risk}{opted}: {evidence(labelled)}. It {CLASS_WHY[klass]}")
    return ToolRule(
        server, labelled.tool.name, category, risk, klass, action, cap, grounds, labelled.override is not None
    )


def plan_rules(
    servers: list[tuple[str, list[LabelledTool]]],
    profile: str = "balanced",
    caps: dict[str, int] | None = None,
    opt_in: Iterable[str] = (),
) -> list[ToolRule]:
    """Rules for every tool of every server, in server order then tool name order."""
    check_profile(profile)
    caps = check_caps(caps)
    chosen = set(opt_in)
    rules = []
    for server, tools in servers:
        for labelled in sorted(tools, key=lambda t: t.tool.name):
            rules.append(decide(server, labelled, profile, caps, chosen))
    return rules
