"""The MCP annotations each tool should carry, with reasons, and where the author's own hints disagree."""

from __future__ import annotations

import re
from typing import Any

from catalog.models import ANNOTATION_HINTS, SPEC_HINT_DEFAULTS, LabelledTool

# Repeating these leaves the same state as doing it once (set X to V, delete X).
IDEMPOTENT_VERBS = {
    "set", "put", "update", "upsert", "replace", "rename", "enable", "disable", "assign", "unassign",
    "tag", "untag", "transition", "mark", "configure", "label", "move", "archive", "restore", "save",
    "delete", "remove", "drop", "purge", "destroy", "revoke", "truncate", "unset", "clear", "detach",
    "stop", "cancel", "close", "lock", "unlock", "pin", "unpin", "star", "unstar", "approve",
}  # fmt: skip
# Repeating these does more each time (another row, another message, another run).
REPEATING_VERBS = {
    "create", "add", "append", "insert", "send", "post", "log", "register", "upload", "start", "run",
    "execute", "exec", "trigger", "copy", "clone", "fork", "push", "submit", "comment", "reply",
    "publish", "invite", "increment", "generate", "transfer", "pay", "refund", "charge", "deploy",
    "spawn", "launch", "import", "enqueue", "schedule", "duplicate", "write", "notify", "email",
}  # fmt: skip
OPEN_WORLD_VERBS = {"send", "email", "notify", "post", "publish", "tweet", "browse", "navigate", "fetch", "crawl",
                    "scrape", "webhook", "call", "message", "sms", "invite", "share", "download"}  # fmt: skip
OPEN_WORLD_PARAMS = {"url", "uri", "urls", "endpoint", "host", "hostname", "webhook", "webhook_url", "email",
                     "to", "recipient", "recipients", "channel", "phone", "address", "domain"}  # fmt: skip
ANYTHING_PARAMS = {"command", "cmd", "script", "code", "sql", "statement", "shell"}
OPEN_WORLD_WORDS = re.compile(
    r"https?://|\b(web|internet|website|web ?page|e-?mail|slack|sms|third[- ]party|external|browser|"
    r"public url|any url|remote url)\b",
    re.IGNORECASE,
)
CATEGORY_DOES = {"read": "only reads", "write": "changes state", "destructive": "can destroy data"}


def name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def leading_verb(tokens: list[str]) -> str | None:
    """The verb that says what a call does: the first known one (`delete_run` deletes; `run` is its object)."""
    return next((t for t in tokens if t in REPEATING_VERBS or t in IDEMPOTENT_VERBS), None)


def author_hints(labelled: LabelledTool) -> dict[str, bool]:
    """The hints the author set explicitly (booleans only; anything else is not a hint)."""
    annotations = labelled.tool.annotations or {}
    return {k: v for k, v in annotations.items() if k in ANNOTATION_HINTS and isinstance(v, bool)}


def idempotent(labelled: LabelledTool) -> tuple[bool, str]:
    if labelled.category == "read":
        return True, "it only reads, so repeating a call changes nothing"
    params = {p.lower() for p in labelled.tool.parameter_names()}
    if params & ANYTHING_PARAMS:
        found = sorted(params & ANYTHING_PARAMS)[0]
        return False, f"it runs what the `{found}` parameter says; repeating may do more each time"
    verb = leading_verb(name_tokens(labelled.tool.name))
    if verb in REPEATING_VERBS:
        return False, f"verb `{verb}`: each call adds or sends something more"
    if verb in IDEMPOTENT_VERBS:
        return True, f"verb `{verb}`: a second identical call leaves the same state"
    return False, "no verb shows that repeating it is harmless, so keep the spec default (false)"


def open_world(labelled: LabelledTool) -> tuple[bool, str]:
    params = {p.lower() for p in labelled.tool.parameter_names()}
    if params & ANYTHING_PARAMS:
        return True, f"it runs arbitrary `{sorted(params & ANYTHING_PARAMS)[0]}`, which can reach anything"
    if params & OPEN_WORLD_PARAMS:
        return True, f"the `{sorted(params & OPEN_WORLD_PARAMS)[0]}` parameter points outside the server"
    verbs = [t for t in name_tokens(labelled.tool.name) if t in OPEN_WORLD_VERBS]
    if verbs:
        return True, f"verb `{verbs[0]}` reaches people or systems outside the server"
    match = OPEN_WORLD_WORDS.search(labelled.tool.description or "")
    if match:
        return True, f"its description mentions {match.group(0).strip()!r}"
    return (
        False,
        "no URL, web, email or messaging parameter or wording: it stays within the server's own system",
    )


def suggest(labelled: LabelledTool) -> tuple[dict[str, bool], dict[str, str]]:
    category, evidence = labelled.category, labelled.top_reason()
    idem, idem_why = idempotent(labelled)
    world, world_why = open_world(labelled)
    hints = {
        "readOnlyHint": category == "read",
        "destructiveHint": category == "destructive",
        "idempotentHint": idem,
        "openWorldHint": world,
    }
    why = {
        "readOnlyHint": f"labelled {category} ({evidence})",
        "destructiveHint": f"labelled {category}: it {CATEGORY_DOES[category]} ({evidence})",
        "idempotentHint": idem_why,
        "openWorldHint": world_why,
    }
    return hints, why


def contradictions(labelled: LabelledTool, suggested: dict[str, bool], why: dict[str, str]) -> list[str]:
    """Where the author's hints (absent ones read at their spec defaults) disagree with the label."""
    author = author_hints(labelled)
    if not author:
        return []
    effective = {**SPEC_HINT_DEFAULTS, **author}
    category, evidence = labelled.category, labelled.top_reason()
    found = []
    if effective["readOnlyHint"] and category != "read":
        found.append(f"marked readOnlyHint but it {CATEGORY_DOES[category]} ({evidence})")
    if not effective["readOnlyHint"]:
        if category == "read" and "destructiveHint" in author and author["destructiveHint"]:
            found.append(f"marked destructiveHint but it only reads ({evidence})")
        elif category == "read":
            found.append(
                f"readOnlyHint is {'false' if 'readOnlyHint' in author else 'absent (default false)'}, "
                f"so clients assume it writes, but it only reads ({evidence})"
            )
        elif category == "write" and effective["destructiveHint"]:
            stated = (
                "marked destructiveHint"
                if "destructiveHint" in author
                else "destructiveHint absent (default true)"
            )
            found.append(f"{stated}, but its changes are additive or undoable ({evidence})")
        elif category == "destructive" and not effective["destructiveHint"]:
            found.append(f"marked destructiveHint: false but it can destroy data ({evidence})")
    if author.get("idempotentHint") and not suggested["idempotentHint"]:
        found.append(f"marked idempotentHint but repeating it does more: {why['idempotentHint']}")
    if author.get("openWorldHint") is False and suggested["openWorldHint"]:
        found.append(f"marked openWorldHint: false but it reaches outside: {why['openWorldHint']}")
    return found


AUTHOR, CONFIRMED, OURS = "author", "confirmed", "ours"
# Hints where our label is the stronger evidence; for the others an author's explicit value stands
# unless we found a concrete sign against it (our fallback reasons, "no ...", are absence of evidence).
LABEL_HINTS = ("readOnlyHint", "destructiveHint")
EXPORT_FORMATS = ("toolhive", "server-json", "tools-list")


def provenance(
    labelled: LabelledTool, suggested: dict[str, bool], why: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per hint: the value to publish, whose it is (the author's, confirmed by us, or ours) and why."""
    author = author_hints(labelled)
    out: dict[str, dict[str, Any]] = {}
    for hint in ANNOTATION_HINTS:
        ours, reason = suggested[hint], why[hint]
        if hint not in author:
            default = SPEC_HINT_DEFAULTS[hint]
            note = "" if ours != default else f"; the spec default ({str(default).lower()}) agrees"
            out[hint] = {"value": ours, "source": OURS, "why": f"the author did not set it; {reason}{note}"}
        elif author[hint] == ours:
            out[hint] = {
                "value": ours,
                "source": CONFIRMED,
                "why": f"the author set it and we agree: {reason}",
            }
        elif hint in LABEL_HINTS or not reason.startswith("no "):  # our reason is evidence, not absence
            out[hint] = {
                "value": ours,
                "source": OURS,
                "why": f"corrected: the author set {str(author[hint]).lower()}, but {reason}",
            }
        else:
            out[hint] = {
                "value": author[hint],
                "source": AUTHOR,
                "why": f"kept the author's value: we have no concrete evidence against it (we would say: {reason})",
            }
    return out


def suggest_annotations(tools: list[LabelledTool]) -> list[dict[str, Any]]:
    """Per tool: all four hints set explicitly with a reason each, the author's hints, and contradictions."""
    result = []
    for labelled in tools:
        hints, why = suggest(labelled)
        author = author_hints(labelled)
        published = provenance(labelled, hints, why)
        result.append(
            {
                "name": labelled.tool.name,
                "category": labelled.category,
                "risk": labelled.risk,
                "annotations": hints,
                "reasons": why,
                "author": author,
                "changed": sorted(
                    h for h in ANNOTATION_HINTS if author.get(h, SPEC_HINT_DEFAULTS[h]) != hints[h]
                ),
                "contradictions": contradictions(labelled, hints, why),
                "published": published,
            }
        )
    return result


def render_annotations(server_id: str, suggestions: list[dict[str, Any]]) -> str:
    """A terminal table of the suggested hints per tool (changed ones marked *), then the contradictions."""
    import io
    import shutil

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from catalog.textsafe import inert, inert_markup

    flagged = [s for s in suggestions if s["contradictions"]]
    title = f"{inert_markup(server_id, keep_newlines=False)}: suggested annotations for {len(suggestions)} tools ({len(flagged)} contradict the author)"
    table = Table(title=title, title_justify="left")
    table.add_column("tool", overflow="fold")
    table.add_column("category")
    for hint in ANNOTATION_HINTS:
        table.add_column(hint, justify="center")
    for row in suggestions:
        cells = [
            f"{str(row['annotations'][h]).lower()}{'*' if h in row['changed'] else ''}"
            for h in ANNOTATION_HINTS
        ]
        table.add_row(inert_markup(row["name"], keep_newlines=False), row["category"], *cells)
    parts: list[Any] = [
        table,
        Text("* differs from what the author declares (absent hints at spec defaults)"),
    ]
    if flagged:
        parts.append(Text("\nWhere the author's own hints disagree:", style="bold"))
        parts += [
            Text(inert(f"  {row['name']}: {message}", keep_newlines=False))
            for row in flagged
            for message in row["contradictions"]
        ]
    buffer = io.StringIO()
    width = shutil.get_terminal_size((120, 24)).columns
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    for part in parts:
        console.print(part)
    return buffer.getvalue().rstrip("\n")


def published_hints(row: dict[str, Any]) -> dict[str, bool]:
    return {hint: entry["value"] for hint, entry in row["published"].items()}


def export_annotations(server_id: str, tools: list[LabelledTool], format: str) -> str:
    """Corrected hints in a format a gateway or registry reads: a ToolHive MCPToolConfig (YAML), a
    server.json `_meta` publisher extension, or a `tools/list` result, each hint with its provenance."""
    import json

    import yaml

    from catalog.models import CatalogError
    from catalog.policies.rules import one_line

    if format not in EXPORT_FORMATS:
        raise CatalogError(
            f"unknown annotate format {format!r}; use {', '.join(EXPORT_FORMATS)}", kind="usage"
        )
    rows = {row["name"]: row for row in suggest_annotations(tools)}
    if format == "toolhive":
        config = {
            "apiVersion": "toolhive.stacklok.dev/v1alpha1",
            "kind": "MCPToolConfig",
            "metadata": {"name": _k8s_name(server_id) + "-annotations"},
            "spec": {
                "toolsOverride": {name: {"annotations": published_hints(row)} for name, row in rows.items()}
            },
        }
        lines = [f"# Corrected MCP tool annotations for {one_line(server_id)}, written by mcp-catalog."]
        for name, row in rows.items():
            for hint, fact in row["published"].items():
                lines.append(
                    f"#   {one_line(name, 120)}.{hint} = {str(fact['value']).lower()} "
                    f"({fact['source']}): {one_line(fact['why'], 300)}"
                )
        return "\n".join(lines) + "\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    listed = []
    for labelled in tools:
        row = rows[labelled.tool.name]
        entry: dict[str, Any] = {"name": labelled.tool.name}
        if labelled.tool.title:
            entry["title"] = labelled.tool.title
        entry["description"] = labelled.tool.description
        entry["inputSchema"] = labelled.tool.input_schema or {"type": "object"}
        entry["annotations"] = {**(labelled.tool.annotations or {}), **published_hints(row)}
        entry["_meta"] = {
            META_KEY: {"category": row["category"], "risk": row["risk"], "hints": row["published"]}
        }
        listed.append(entry)
    if format == "tools-list":
        return json.dumps({"tools": listed}, indent=2, ensure_ascii=False) + "\n"
    extension = {"io.modelcontextprotocol.registry/publisher-provided": {META_KEY: {"tools": listed}}}
    return json.dumps({"_meta": extension}, indent=2, ensure_ascii=False) + "\n"


META_KEY = "dev.mcp-catalog/annotations"


def _k8s_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return (name or "server")[:40].rstrip("-")
