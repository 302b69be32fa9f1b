"""What a CI pipeline gates on: findings (risky tools, drift from a lock file, hidden instructions),
their severity, and the exit code `--fail-on` derives from them. Rendered as text, JSON or SARIF."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from catalog.models import CatalogError

RISKS = ("low", "medium", "high", "critical")
RANK = {level: number for number, level in enumerate(RISKS)}


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer should look at before this server's tools are used again."""

    rule: str  # a Rule id below
    severity: str  # low | medium | high | critical
    server: str
    tool: str | None
    message: str
    details: list[str] = field(default_factory=list)
    gate: bool = False  # fails the check whatever --fail-on says (drift from a lock, hidden instructions)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    text: str


RULES = {
    rule.id: rule
    for rule in (
        Rule("MCP001", "RiskyTool", "A tool whose risk is at or above the --fail-on level."),
        Rule("MCP100", "ToolAdded", "A tool the lock file does not list appeared."),
        Rule("MCP101", "ToolRemoved", "A tool the lock file lists disappeared."),
        Rule(
            "MCP102",
            "DefinitionChanged",
            "A tool's definition (description, parameters, annotations) changed.",
        ),
        Rule("MCP103", "LabelRose", "A tool's category or risk rose since it was pinned."),
        Rule("MCP200", "HiddenInstruction", "A tool description carries hidden or injected instructions."),
    )
}


def check_level(level: str, option: str = "--fail-on") -> str:
    if level not in RISKS:
        raise CatalogError(f"{option} must be one of {', '.join(RISKS)}, got {level!r}", kind="usage")
    return level


def at_least(risk: str, level: str) -> bool:
    return RANK.get(risk, RANK["critical"]) >= RANK[level]


def failing(findings: list[Finding], fail_on: str | None) -> list[Finding]:
    """The findings that fail the run: every gating one, and the others at or above `fail_on`."""
    return [f for f in findings if f.gate or (fail_on is not None and at_least(f.severity, fail_on))]


def render_text(findings: list[Finding], failed: list[Finding]) -> str:
    if not findings:
        return "no findings"
    lines = []
    for f in findings:
        where = f"{f.server}/{f.tool}" if f.tool else f.server
        mark = "FAIL" if f in failed else "note"
        lines.append(f"{mark} {f.severity:<8} {RULES[f.rule].name}: {where}: {f.message}")
        lines += [f"       - {d}" for d in f.details]
    lines.append(f"{len(findings)} findings, {len(failed)} failing")
    return "\n".join(lines)
