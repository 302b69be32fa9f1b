"""Findings as a SARIF 2.1.0 log, for code-scanning dashboards (GitHub and others)."""

from __future__ import annotations

import hashlib
from typing import Any

from catalog.ci import RULES, Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"low": "2.0", "medium": "5.0", "high": "7.5", "critical": "9.5"}


def level(finding: Finding, failed: list[Finding]) -> str:
    if finding in failed:
        return "error"
    return "warning" if finding.severity in ("high", "critical") else "note"


def to_sarif(findings: list[Finding], failed: list[Finding], artifact: str, version: str) -> dict[str, Any]:
    """One run of the `mcp-catalog` driver; every result points at `artifact` (the lock file or the
    server id) and names the tool as a logical location."""
    rule_ids = list(RULES)
    results = []
    for f in findings:
        where = f"{f.server}/{f.tool}" if f.tool else f.server
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": artifact}}}
        location["logicalLocations"] = [
            {
                "name": f.tool or f.server,
                "fullyQualifiedName": where,
                "kind": "function" if f.tool else "module",
            }
        ]
        fingerprint = hashlib.sha256(f"{f.rule}|{where}|{f.message}".encode()).hexdigest()
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule),
                "level": level(f, failed),
                "message": {"text": f"{where}: {f.message}"},
                "locations": [location],
                "partialFingerprints": {"mcpCatalogFinding/v1": fingerprint},
                "properties": {
                    "severity": f.severity,
                    "details": f.details,
                    "security-severity": SECURITY_SEVERITY[f.severity],
                },
            }
        )
    rules = [
        {
            "id": rule.id,
            "name": rule.name,
            "shortDescription": {"text": rule.text},
            "fullDescription": {"text": rule.text},
            "defaultConfiguration": {"level": "error" if rule.id != "MCP001" else "warning"},
        }
        for rule in RULES.values()
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mcp-catalog", "version": version, "rules": rules}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
