"""Reports on a server's labelled tools, and on the whole catalog: terminal table, Markdown, HTML, JSON."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from catalog.annotate import suggest_annotations
from catalog.models import CatalogError, LabelledTool

REPORT_FORMATS = ("table", "markdown", "html", "json")
CATEGORIES = ("destructive", "write", "read")
RISK_RANK = {"low": 1, "medium": 2, "high": 3, "critical": 4}
CATEGORY_RANK = {"read": 1, "write": 2, "destructive": 3}
RISK_STYLE = {"low": "green", "medium": "yellow", "high": "red", "critical": "bold white on red"}
COLORS = {
    "read": "#2f6fdf",
    "write": "#d98a00",
    "destructive": "#c62828",
    "low": "#3a9d5d",
    "medium": "#e0a800",
    "high": "#e65100",
    "critical": "#8e0000",
}


def check_format(format: str) -> None:
    if format not in REPORT_FORMATS:
        raise CatalogError(
            f"unknown report format {format!r}; use one of {', '.join(REPORT_FORMATS)}", kind="usage"
        )


def ordered(tools: list[LabelledTool]) -> list[LabelledTool]:
    """Riskiest first, then by name."""
    return sorted(
        tools, key=lambda t: (-CATEGORY_RANK.get(t.category, 9), -RISK_RANK.get(t.risk, 9), t.tool.name)
    )


def summary_line(tools: list[LabelledTool]) -> str:
    counts = Counter(t.category for t in tools)
    parts = [f"{counts.get(c, 0)} {c}" for c in ("read", "write", "destructive")]
    line = f"{len(tools)} tools: {', '.join(parts)}"
    critical = sum(t.risk == "critical" for t in tools)
    overridden = sum(t.override is not None for t in tools)
    extras = [f"{critical} critical"] if critical else []
    extras += [f"{overridden} overridden by a reviewer"] if overridden else []
    return line + (f" ({'; '.join(extras)})" if extras else "")


def actions(server_id: str, tools: list[LabelledTool]) -> dict[str, Any]:
    """What the recommended (balanced) policy does with each tool: allow (with a cap), approval, deny."""
    from catalog.policies.rules import plan_rules

    return {rule.tool: rule for rule in plan_rules([(server_id, tools)])}


def action_text(rule: Any) -> str:
    if rule.action == "allow":
        return f"allow ≤{rule.cap}/min"
    if rule.action == "approve":
        return f"approval, ≤{rule.cap}/min"
    return "deny"


def action_summary(rows: list[dict[str, Any]]) -> str:
    """`deny N, approval for N, allow N (capped A-B calls/minute)`: what to do, first."""
    counts = Counter(r["action"] for r in rows)
    caps = sorted({r["cap"] for r in rows if r["action"] == "allow" and r["cap"]})
    capped = ""
    if caps:
        capped = f" (capped at {caps[0]}" + (f"-{caps[-1]}" if len(caps) > 1 else "") + " calls/minute)"
    return (
        f"deny {counts.get('deny', 0)}, approval for {counts.get('approve', 0)}, "
        f"allow {counts.get('allow', 0)}{capped}"
    )


def crawl_facts(crawl: dict[str, Any] | None, tools: list[LabelledTool]) -> dict[str, Any]:
    """When and how the tools were listed, and by which classifier: the report's provenance."""
    versions = Counter(t.classification.version for t in tools if t.classification.version)
    crawl = crawl or {}
    return {
        "crawled_at": crawl.get("finished_at"),
        "status": crawl.get("status"),
        "error": crawl.get("error"),
        "version": crawl.get("version"),
        "route": crawl.get("route"),
        "method": crawl.get("method"),
        "classifier_version": versions.most_common(1)[0][0] if versions else None,
    }


def facts_line(facts: dict[str, Any]) -> str:
    parts = []
    if facts.get("crawled_at"):
        parts.append(f"crawled {str(facts['crawled_at'])[:16].replace('T', ' ')}")
    if facts.get("status") and facts["status"] != "ok":
        parts.append(f"status {facts['status']}" + (f" ({facts['error']})" if facts.get("error") else ""))
    if facts.get("version"):
        parts.append(f"version {facts['version']}")
    if facts.get("route"):
        parts.append(f"route: {facts['route']}")
    if facts.get("classifier_version"):
        parts.append(f"classifier version {facts['classifier_version']}")
    return " · ".join(parts)


def labelled_json(labelled: LabelledTool) -> dict[str, Any]:
    """What every JSON view of a labelled tool starts with: the tool, its effective label and the reasons."""
    tool, label = labelled.tool, labelled.classification
    return {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "category": labelled.category,
        "risk": labelled.risk,
        "confidence": label.confidence,
        "reasons": label.reasons,
    }


def tool_record(labelled: LabelledTool, suggestion: dict[str, Any], rule: Any = None) -> dict[str, Any]:
    tool, label = labelled.tool, labelled.classification
    override = labelled.override
    return {
        **labelled_json(labelled),
        "top_reason": labelled.top_reason(),
        "action": rule.action if rule is not None else None,
        "cap": rule.cap if rule is not None else None,
        "action_text": action_text(rule) if rule is not None else "",
        "classifier": {"category": label.category, "risk": label.risk, "version": label.version},
        "override": None
        if override is None
        else {"category": override.category, "risk": override.risk, "note": override.note, "at": override.at},
        "annotations": tool.annotations,
        "suggested_annotations": suggestion["annotations"],
        "annotation_reasons": suggestion["reasons"],
        "contradictions": suggestion["contradictions"],
        "input_schema": tool.input_schema,
        "params": None if tool.input_schema is not None else tool.params,
    }


def records(tools: list[LabelledTool], server_id: str = "server") -> list[dict[str, Any]]:
    sorted_tools = ordered(tools)
    rules = actions(server_id, tools)
    return [
        tool_record(t, s, rules.get(t.tool.name))
        for t, s in zip(sorted_tools, suggest_annotations(sorted_tools), strict=True)
    ]


@dataclass(frozen=True)
class ServerReport:
    """What every format of one server's report shows: its tool records (see `records`), the summary line,
    what to do, the crawl's provenance (see `crawl_facts`) and the recommended policy, if any."""

    server_id: str
    rows: list[dict[str, Any]]
    summary: str
    todo: str = ""
    facts: dict[str, Any] | None = None
    policy_text: str | None = None

    @property
    def facts_line(self) -> str:
        return facts_line(self.facts or {})


def render_report(
    server_id: str,
    tools: list[LabelledTool],
    format: str = "table",
    policy_text: str | None = None,
    console: Any = None,
    crawl: dict[str, Any] | None = None,
    limit: int | None = None,
) -> str:
    """One server's tools with labels, reasons, annotations and the recommended policy, as text.
    `crawl` is the stored crawl the tools come from; `limit` caps the terminal table (riskiest first)."""
    check_format(format)
    rows = records(tools, server_id)
    report = ServerReport(
        server_id, rows, summary_line(tools), action_summary(rows), crawl_facts(crawl, tools), policy_text
    )
    if format == "json":
        counts = Counter(t.category for t in tools)
        document = {
            "server": server_id,
            "summary": {
                "tools": len(tools),
                **{c: counts.get(c, 0) for c in ("read", "write", "destructive")},
            },
            "summary_line": report.summary,
            "actions": {a: sum(r["action"] == a for r in rows) for a in ("deny", "approve", "allow")},
            "action_summary": report.todo,
            "crawl": report.facts,
            "tools": rows,
            "policy": policy_text,
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if format == "markdown":
        return markdown_report(report)
    if format == "html":
        return html_report(report)
    return terminal_report(report, console, limit)


# -- terminal ------------------------------------------------------------------------------------------


def render_rich(renderables: list[Any], console: Any = None) -> str:
    """Print to the given console (with colour) and return the same output as plain text."""
    from rich.console import Console

    width = console.width if console is not None else shutil.get_terminal_size((120, 24)).columns
    buffer = io.StringIO()
    plain = Console(file=buffer, width=width, color_system=None, highlight=False)
    for renderable in renderables:
        plain.print(renderable)
        if console is not None:
            console.print(renderable)
    return buffer.getvalue()


def terminal_report(report: ServerReport, console: Any, limit: int | None = None) -> str:
    """Grouped by category, riskiest first; every untrusted string made inert; at most `limit` tools."""
    from rich.table import Table
    from rich.text import Text

    from catalog.textsafe import inert_markup

    def safe(text: Any) -> str:
        return inert_markup(text, keep_newlines=False)

    rows = report.rows
    parts: list[Any] = [f"[bold]{safe(report.server_id)}: {safe(report.summary)}[/]"]
    if report.todo:
        parts.append(f"[bold]What to do:[/] {safe(report.todo)}")
    if report.facts_line:
        parts.append(f"[dim]{safe(report.facts_line)}[/]")
    shown = rows if limit is None else rows[:limit]
    for category in CATEGORIES:
        group = [r for r in shown if r["category"] == category]
        if not group:
            continue
        total = sum(r["category"] == category for r in rows)
        title = (
            f"{category} ({len(group)})" if len(group) == total else f"{category} ({len(group)} of {total})"
        )
        table = Table(title=title, title_justify="left", expand=False)
        table.add_column("tool", overflow="fold")
        table.add_column("action", no_wrap=True)
        table.add_column("risk", no_wrap=True)
        table.add_column("conf.", justify="right")
        table.add_column("top reason", overflow="fold", max_width=70)
        for row in group:
            name = safe(row["name"])
            if row["override"]:
                name += " [bold magenta]\\[override][/]"
            if row["contradictions"]:
                name += " [bold yellow]!hints[/]"
            style = RISK_STYLE.get(row["risk"], "")
            table.add_row(
                name,
                f"[{ACTION_STYLE.get(row['action'] or '', 'default')}]{safe(row['action_text'])}[/]",
                f"[{style}]{safe(row['risk'])}[/]" if style else safe(row["risk"]),
                f"{row['confidence']:.2f}",
                safe(row["top_reason"]),
            )
        parts.append(table)
    hidden = len(rows) - len(shown)
    if hidden > 0:
        parts.append(
            f"… and {hidden} more lower-risk tools not shown; the full list: --all, --format json or --format html"
        )
    flagged = [r for r in shown if r["contradictions"]]
    if flagged:
        parts.append(
            Text(f"{len(flagged)} tools whose own annotations disagree (!hints):", style="bold yellow")
        )
        parts += [f"  {safe(r['name'])}: {safe('; '.join(r['contradictions']))}" for r in flagged]
    return render_rich(parts, console)


ACTION_STYLE = {"allow": "green", "approve": "yellow", "deny": "bold red"}


# -- markdown ------------------------------------------------------------------------------------------


def md(text: Any) -> str:
    """Table-cell safe Markdown: no raw HTML, no pipes or newlines breaking the row."""
    flat = re.sub(r"\s+", " ", str(text or "")).strip()
    return html.escape(flat, quote=False).replace("|", "\\|")


def fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown_report(report: ServerReport) -> str:
    rows, policy_text = report.rows, report.policy_text
    lines = [f"# MCP tool report: {md(report.server_id)}", ""]
    if report.todo:
        lines += [f"**What to do: {md(report.todo)}**", ""]
    lines += [f"**{md(report.summary)}**", ""]
    if report.facts_line:
        lines += [md(report.facts_line), ""]
    for category in CATEGORIES:
        group = [r for r in rows if r["category"] == category]
        if not group:
            continue
        lines += [
            f"## {category} ({len(group)})",
            "",
            "| tool | action | risk | confidence | top reason |",
            "| --- | --- | --- | ---: | --- |",
        ]
        for row in group:
            mark = " *(override)*" if row["override"] else ""
            lines.append(
                f"| `{md(row['name'])}`{mark} | {md(row['action_text'])} | {row['risk']} | {row['confidence']:.2f} "
                f"| {md(row['top_reason'])} |"
            )
        lines.append("")
    flagged = [r for r in rows if r["contradictions"]]
    if flagged:
        lines += ["## Annotation contradictions", ""]
        lines += [f"- `{md(r['name'])}`: {md('; '.join(r['contradictions']))}" for r in flagged]
        lines.append("")
    if policy_text:
        marker = fence(policy_text)
        lines += ["## Recommended policy", "", marker, policy_text.rstrip("\n"), marker, ""]
    return "\n".join(lines)


# -- html ----------------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def bars(counts: dict[str, int], order: tuple[str, ...], total: int) -> list[dict[str, Any]]:
    """The segments of one horizontal stacked bar, in SVG units (bar from x=110, 480 wide)."""
    out, x = [], 110.0
    for key in order:
        n = counts.get(key, 0)
        if not n:
            continue
        width = 480 * n / total
        out.append({"key": key, "n": n, "x": f"{x:.1f}", "width": f"{width:.1f}", "mid": f"{x + width / 2:.1f}",
                    "label": width > 28, "color": COLORS[key]})  # fmt: skip
        x += width
    return out


def chart(title_a: str, a: dict[str, int], order_a: tuple[str, ...], title_b: str, b: dict[str, int],
          order_b: tuple[str, ...], label: str) -> dict[str, Any]:  # fmt: skip
    return {
        "label": label,
        "rows": [
            {"title": title_a, "y": 4, "bars": bars(a, order_a, max(sum(a.values()), 1)),
             "legend": [(k, COLORS[k], a.get(k, 0), 110 + 110 * i) for i, k in enumerate(order_a)]},
            {"title": title_b, "y": 62, "bars": bars(b, order_b, max(sum(b.values()), 1)),
             "legend": [(k, COLORS[k], b.get(k, 0), 110 + 110 * i) for i, k in enumerate(order_b)]},
        ],
    }  # fmt: skip


def summary_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    categories = Counter(r["category"] for r in rows)
    risks = Counter(r["risk"] for r in rows)
    return chart("category", categories, ("read", "write", "destructive"), "risk", risks,
                 ("low", "medium", "high", "critical"), "tools by category and risk")  # fmt: skip


def haystack(row: dict[str, Any]) -> str:
    return " ".join(
        [row["name"], row["description"] or "", " ".join(row["reasons"]), row["top_reason"]]
    ).lower()


STYLE = """
:root{--fg:#1d2430;--muted:#5b6474;--line:#e3e7ee;--bg:#f6f8fb;--card:#fff}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}main{max-width:1180px;margin:0 auto;padding:28px 24px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 10px}.sub{color:var(--muted);margin:0 0 18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin-bottom:16px}
svg text{font:12px system-ui,sans-serif}svg .axis{fill:var(--muted);font-weight:600}svg .barlabel{fill:#fff;
text-anchor:middle;font-weight:700}svg .legend{fill:var(--fg)}#summary-chart{width:100%;max-width:720px}
.controls{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin-bottom:10px}
.controls input,.controls select{font:inherit;padding:7px 10px;border:1px solid var(--line);border-radius:7px;
background:#fff}.controls input{flex:1;min-width:220px}#count{color:var(--muted);margin-left:auto}
table{width:100%;border-collapse:collapse}th{text-align:left;font-size:12px;text-transform:uppercase;
letter-spacing:.04em;color:var(--muted);border-bottom:2px solid var(--line);padding:8px;cursor:pointer;
user-select:none;white-space:nowrap}th:hover{color:var(--fg)}th.asc:after{content:" \\25B2"}th.desc:after{content:" \\25BC"}
td{border-bottom:1px solid var(--line);padding:8px;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:hover{background:#fafbfd}summary{cursor:pointer}summary code{font-weight:600}
.more{padding:8px 4px 4px 14px;max-width:760px}.more pre{background:#f3f5f9;border-radius:6px;padding:8px;
overflow:auto;max-height:260px;font-size:12px}.more ul{margin:4px 0 10px;padding-left:18px}.desc{margin:6px 0}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;color:#fff;font-size:12px;font-weight:600}
.read{background:#2f6fdf}.write{background:#d98a00}.destructive{background:#c62828}.low{background:#3a9d5d}
.medium{background:#e0a800;color:#222}.high{background:#e65100}.critical{background:#8e0000}
.flag{margin-left:6px;font-size:11px;padding:0 6px;border-radius:4px;font-weight:600}.flag.ov{background:#efe3ff;
color:#5b2a9b}.flag.hint{background:#fff3cd;color:#7a5600}.override{color:#5b2a9b}.contra{background:#fff8e1;
border-left:3px solid #e0a800;padding:6px 10px;margin:6px 0}.contra ul{margin:4px 0}
pre.policy{background:#0f1720;color:#dbe4ee;padding:14px;border-radius:8px;overflow:auto;max-height:480px;font-size:12px}
ul.contras li{margin:3px 0}
"""

SCRIPT = """
(function(){
  var table=document.getElementById('tools'),body=table.tBodies[0];
  var rows=Array.prototype.slice.call(body.rows);
  var text=document.getElementById('filter'),cat=document.getElementById('category'),risk=document.getElementById('risk');
  var count=document.getElementById('count');
  function apply(){
    if(!text){return;}
    var q=text.value.trim().toLowerCase(),c=cat.value,r=risk.value,shown=0;
    rows.forEach(function(row){
      var ok=(!q||row.getAttribute('data-text').indexOf(q)>=0)
        &&(!c||row.getAttribute('data-category')===c)&&(!r||row.getAttribute('data-risk')===r);
      row.style.display=ok?'':'none';if(ok){shown++;}
    });
    count.textContent='Showing '+shown+' of '+rows.length+' tools';
  }
  [text,cat,risk].forEach(function(el){if(el){el.addEventListener('input',apply);el.addEventListener('change',apply);}});
  var headers=table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers,function(th,index){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc');
      Array.prototype.forEach.call(headers,function(h){h.classList.remove('asc','desc');});
      th.classList.add(asc?'asc':'desc');
      var numeric=th.getAttribute('data-type')==='number';
      rows.sort(function(a,b){
        var x=a.cells[index].getAttribute('data-value'),y=b.cells[index].getAttribute('data-value');
        var d=numeric?parseFloat(x)-parseFloat(y):(x<y?-1:x>y?1:0);
        return asc?d:-d;
      });
      rows.forEach(function(row){body.appendChild(row);});
    });
  });
  apply();
})();
"""


TEMPLATES = {
    "page.html": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><style>{{ style }}</style></head><body><main>{% block body %}{% endblock %}</main>
<script>{{ script }}</script></body></html>
""",
    "chart.html": """{% macro svg(c) -%}
<svg id="summary-chart" role="img" aria-label="{{ c.label }}" viewBox="0 0 600 120">
{%- for row in c.rows %}<text x="0" y="{{ row.y + 15 }}" class="axis">{{ row.title }}</text>
{%- for b in row.bars %}<rect x="{{ b.x }}" y="{{ row.y }}" width="{{ b.width }}" height="22" fill="{{ b.color }}" rx="3"><title>{{ b.key }}: {{ b.n }}</title></rect>
{%- if b.label %}<text x="{{ b.mid }}" y="{{ row.y + 15 }}" class="barlabel">{{ b.n }}</text>{% endif %}{% endfor %}
{%- for key, color, n, x in row.legend %}<rect x="{{ x }}" y="{{ row.y + 28 }}" width="10" height="10" fill="{{ color }}" rx="2"/><text x="{{ x + 14 }}" y="{{ row.y + 37 }}" class="legend">{{ key }} ({{ n }})</text>{% endfor %}
{%- endfor %}</svg>
{%- endmacro %}""",
    "report.html": """{% extends "page.html" %}{% from "chart.html" import svg %}{% block body %}
<h1>{{ server }}</h1>
<p class="todo"><b>What to do:</b> {{ todo }}</p>
<p class="sub">{{ summary }}</p>
{% if facts %}<p class="sub facts">{{ facts }}</p>{% endif %}
<div class="card">{{ svg(chart) }}</div>
<h2>Tools</h2><div class="card"><div class="controls">
<input id="filter" type="search" placeholder="Filter by name, description or reason" aria-label="filter">
<select id="category" aria-label="category"><option value="">all categories</option>{% for v in ("read", "write", "destructive") %}<option value="{{ v }}">{{ v }}</option>{% endfor %}</select>
<select id="risk" aria-label="risk"><option value="">all risks</option>{% for v in ("low", "medium", "high", "critical") %}<option value="{{ v }}">{{ v }}</option>{% endfor %}</select>
<span id="count"></span></div>
<table id="tools"><thead><tr><th data-type="text">Tool</th><th data-type="text">Action</th><th data-type="number">Category</th><th data-type="number">Risk</th><th data-type="number">Confidence</th><th data-type="text">Top reason</th></tr></thead><tbody>
{% for row in rows -%}
<tr data-category="{{ row.category }}" data-risk="{{ row.risk }}" data-text="{{ row.haystack }}">
<td data-value="{{ row.name | lower }}"><details><summary><code>{{ row.name }}</code>
{%- if row.override %}<span class="flag ov" title="reviewer override">override</span>{% endif %}
{%- if row.contradictions %}<span class="flag hint" title="annotation contradiction">hints</span>{% endif %}</summary>
<div class="more"><p class="desc">{% if row.description %}{{ row.description }}{% else %}<i>no description</i>{% endif %}</p>
{%- if row.override %}<p class="override">Reviewer override ({{ row.override.category }}): {{ row.override.note }} &mdash; the classifier said {{ row.classifier.category }}/{{ row.classifier.risk }}.</p>{% endif %}
{%- if row.contradictions %}<div class="contra"><b>Annotation contradictions</b><ul>{% for c in row.contradictions %}<li>{{ c }}</li>{% endfor %}</ul></div>{% endif %}
<b>Reasons</b><ul>{% for r in row.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
<b>Suggested annotations</b><ul>{% for hint, value in row.suggested_annotations.items() %}<li><code>{{ hint }}: {{ value | string | lower }}</code> &mdash; {{ row.annotation_reasons[hint] }}</li>{% endfor %}</ul>
<b>Author&rsquo;s annotations</b><pre>{{ row.annotations_json }}</pre>
<b>Input schema</b><pre>{{ row.schema_json }}</pre></div></details></td>
<td data-value="{{ row.action }}"><span class="action {{ row.action }}">{{ row.action_text }}</span></td>
<td data-value="{{ category_rank[row.category] }}"><span class="badge {{ row.category }}">{{ row.category }}</span></td>
<td data-value="{{ risk_rank[row.risk] }}"><span class="badge {{ row.risk }}">{{ row.risk }}</span></td>
<td data-value="{{ '%.4f' | format(row.confidence) }}" class="num">{{ '%.2f' | format(row.confidence) }}</td>
<td data-value="{{ row.top_reason | lower }}">{{ row.top_reason }}</td></tr>
{% endfor %}</tbody></table></div>
{% if flagged %}<h2>Annotation contradictions</h2><div class="card"><ul class="contras">{% for r in flagged %}<li><code>{{ r.name }}</code>: {{ r.contradictions | join("; ") }}</li>{% endfor %}</ul></div>{% endif %}
{% if policy %}<h2>Recommended policy</h2><div class="card"><p class="sub">PolicyLayer gateway JSON, default deny; <code>catalog policy</code> writes it and the other formats.</p><pre class="policy">{{ policy }}</pre></div>{% endif %}
{% endblock %}""",
    "catalog.html": """{% extends "page.html" %}{% from "chart.html" import svg %}{% block body %}
<h1>MCP catalog</h1><p class="sub">{{ title }}.</p>
<div class="card">{{ svg(chart) }}</div>
<div class="card"><table id="tools"><thead><tr>{% for c in columns %}<th data-type="{{ 'number' if c in numeric else 'text' }}">{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for cells in rows %}<tr>{% for column, value, sort in cells %}
{%- if column == "riskiest" %}<td data-value="{{ sort }}">{% if value %}<span class="badge {{ value }}">{{ value }}</span>{% endif %}</td>
{%- else %}<td data-value="{{ sort }}"{% if column in numeric %} class="num"{% endif %}>{{ value }}</td>{% endif %}
{%- endfor %}</tr>
{% endfor %}</tbody></table></div>
{% endblock %}""",
}


def template(name: str) -> Any:
    """A Jinja2 template from TEMPLATES, with HTML autoescaping on (every value is untrusted)."""
    from jinja2 import DictLoader, Environment, StrictUndefined

    global _ENV
    if _ENV is None:
        _ENV = Environment(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    return _ENV.get_template(name)


_ENV: Any = None


def html_report(report: ServerReport) -> str:
    rows = report.rows
    view = [
        {
            **row,
            "haystack": haystack(row),
            "annotations_json": json_text(row["annotations"]),
            "schema_json": json_text(
                row["input_schema"] if row["input_schema"] is not None else {"params": row["params"]}
            ),
        }
        for row in rows
    ]
    return (
        template("report.html").render(
            title=f"MCP tool report: {report.server_id}",
            style=Markup(STYLE),
            script=Markup(SCRIPT),
            server=report.server_id,
            todo=report.todo or action_summary(rows),
            summary=report.summary,
            facts=report.facts_line,
            chart=summary_chart(rows),
            rows=view,
            flagged=[r for r in rows if r["contradictions"]],
            policy=report.policy_text,
            category_rank=CATEGORY_RANK,
            risk_rank=RISK_RANK,
        )
        + "\n"
    )


# -- catalog -------------------------------------------------------------------------------------------


def catalog_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per server, riskiest first (then most destructive tools, then id)."""
    return sorted(
        rows,
        key=lambda r: (
            -RISK_RANK.get(r.get("riskiest") or "", 0),
            -(r.get("destructive") or 0),
            str(r.get("id")),
        ),
    )


CATALOG_COLUMNS = ("id", "status", "tools", "read", "write", "destructive", "riskiest", "last_crawl")
NUMERIC_COLUMNS = ("tools", "read", "write", "destructive", "riskiest")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def catalog_html(rows: list[dict[str, Any]], cells: list[list[str]]) -> str:
    """A sortable one-page table of every server (click a header to sort)."""
    view = []
    for values in cells:
        row = []
        for column, value in zip(CATALOG_COLUMNS, values, strict=True):
            if column == "riskiest":
                sort: Any = RISK_RANK.get(value, 0)
            elif column in NUMERIC_COLUMNS:
                sort = value or "0"
            else:
                sort = value.lower()
            row.append((column, value, sort))
        view.append(row)
    categories = {c: sum(r.get(c) or 0 for r in rows) for c in ("read", "write", "destructive")}
    risks: Counter[str] = Counter(r["riskiest"] for r in rows if r.get("riskiest"))
    return (
        template("catalog.html").render(
            title=f"{plural(len(rows), 'server')}, riskiest first",
            style=Markup(STYLE),
            script=Markup(SCRIPT),
            chart=chart(
                "tools",
                categories,
                ("read", "write", "destructive"),
                "servers",
                dict(risks),
                ("low", "medium", "high", "critical"),
                "tools by category, servers by riskiest tool",
            ),  # fmt: skip
            columns=CATALOG_COLUMNS,
            numeric=NUMERIC_COLUMNS,
            rows=view,
        )
        + "\n"
    )


def catalog_value(row: dict[str, Any], column: str) -> str:
    """One cell of the catalog table: a failed server shows its status and reason, not 0 tools."""
    status = row.get("last_status") or "never crawled"
    if column == "status":
        reason = row.get("last_error")
        text = status if status == "ok" or not reason else f"{status}: {reason}"
        return text if len(text) <= 120 else text[:119] + "…"
    if column == "last_crawl":
        return str(row.get("last_crawl") or "")[:16].replace("T", " ")
    if column in ("tools", "read", "write", "destructive") and status == "failed" and not row.get("tools"):
        return "-"
    value = row.get(column)
    return "" if value is None else str(value)


def render_catalog(rows: list[dict[str, Any]], format: str = "table", console: Any = None) -> str:
    """The whole catalog, one row per server: id, tool counts, riskiest level and last crawl."""
    check_format(format)
    rows = catalog_rows(rows)
    if format == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"
    cells = [[catalog_value(r, c) for c in CATALOG_COLUMNS] for r in rows]
    if format == "markdown":
        lines = ["# MCP catalog", "", f"{plural(len(rows), 'server')}, riskiest first.", ""]
        lines += ["| " + " | ".join(CATALOG_COLUMNS) + " |", "|" + " --- |" * len(CATALOG_COLUMNS)]
        lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if format == "html":
        return catalog_html(rows, cells)
    from rich.table import Table
    from rich.text import Text

    from catalog.textsafe import inert

    table = Table(title=f"MCP catalog: {plural(len(rows), 'server')}, riskiest first", title_justify="left")
    longest_id = max((len(values[0]) for values in cells), default=2)
    for column in CATALOG_COLUMNS:
        numeric = column in ("tools", "read", "write", "destructive")
        # The id is never cut (folded onto a second line only past 60 columns): a cut id is ambiguous.
        table.add_column(
            column,
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric or column in ("riskiest", "last_crawl"),
            min_width=min(longest_id, 60) if column == "id" else 12 if column == "status" else None,
        )
    for row, values in zip(rows, cells, strict=True):
        style = RISK_STYLE.get(row.get("riskiest") or "", "")
        status_style = "" if row.get("last_status") == "ok" else "yellow"
        table.add_row(
            *[
                Text(
                    inert(v, keep_newlines=False),
                    style=style if c == "riskiest" else status_style if c == "status" else "",
                )
                for c, v in zip(CATALOG_COLUMNS, values, strict=True)
            ]
        )
    return render_rich([table], console)
