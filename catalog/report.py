"""Reports on a server's labelled tools, and on the whole catalog: terminal table, Markdown, HTML, JSON."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from collections import Counter
from typing import Any

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


def tool_record(labelled: LabelledTool, suggestion: dict[str, Any]) -> dict[str, Any]:
    tool, label = labelled.tool, labelled.classification
    override = labelled.override
    return {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "category": labelled.category,
        "risk": labelled.risk,
        "confidence": label.confidence,
        "reasons": label.reasons,
        "top_reason": labelled.top_reason(),
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


def records(tools: list[LabelledTool]) -> list[dict[str, Any]]:
    sorted_tools = ordered(tools)
    return [tool_record(t, s) for t, s in zip(sorted_tools, suggest_annotations(sorted_tools), strict=True)]


def render_report(
    server_id: str,
    tools: list[LabelledTool],
    format: str = "table",
    policy_text: str | None = None,
    console: Any = None,
) -> str:
    """One server's tools with labels, reasons, annotations and the recommended policy, as text."""
    check_format(format)
    rows = records(tools)
    summary = summary_line(tools)
    if format == "json":
        counts = Counter(t.category for t in tools)
        document = {
            "server": server_id,
            "summary": {
                "tools": len(tools),
                **{c: counts.get(c, 0) for c in ("read", "write", "destructive")},
            },
            "summary_line": summary,
            "tools": rows,
            "policy": policy_text,
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if format == "markdown":
        return markdown_report(server_id, rows, summary, policy_text)
    if format == "html":
        return html_report(server_id, rows, summary, policy_text)
    return terminal_report(server_id, rows, summary, console)


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


def terminal_report(server_id: str, rows: list[dict[str, Any]], summary: str, console: Any) -> str:
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = [Text(f"{server_id}: {summary}", style="bold")]
    for category in CATEGORIES:
        group = [r for r in rows if r["category"] == category]
        if not group:
            continue
        table = Table(title=f"{category} ({len(group)})", title_justify="left", expand=False)
        table.add_column("tool", overflow="fold")
        table.add_column("risk")
        table.add_column("conf.", justify="right")
        table.add_column("top reason", overflow="fold", max_width=70)
        for row in group:
            name = Text(row["name"])
            if row["override"]:
                name.append(" [override]", style="bold magenta")
            if row["contradictions"]:
                name.append(" !hints", style="bold yellow")
            table.add_row(
                name,
                Text(row["risk"], style=RISK_STYLE.get(row["risk"], "")),
                f"{row['confidence']:.2f}",
                Text(row["top_reason"]),
            )
        parts.append(table)
    flagged = [r for r in rows if r["contradictions"]]
    if flagged:
        parts.append(
            Text(f"{len(flagged)} tools whose own annotations disagree (!hints):", style="bold yellow")
        )
        parts += [Text(f"  {r['name']}: {'; '.join(r['contradictions'])}") for r in flagged]
    return render_rich(parts, console)


# -- markdown ------------------------------------------------------------------------------------------


def md(text: Any) -> str:
    """Table-cell safe Markdown: no raw HTML, no pipes or newlines breaking the row."""
    flat = re.sub(r"\s+", " ", str(text or "")).strip()
    return html.escape(flat, quote=False).replace("|", "\\|")


def fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown_report(server_id: str, rows: list[dict[str, Any]], summary: str, policy_text: str | None) -> str:
    lines = [f"# MCP tool report: {md(server_id)}", "", f"**{md(summary)}**", ""]
    for category in CATEGORIES:
        group = [r for r in rows if r["category"] == category]
        if not group:
            continue
        lines += [
            f"## {category} ({len(group)})",
            "",
            "| tool | risk | confidence | top reason |",
            "| --- | --- | ---: | --- |",
        ]
        for row in group:
            mark = " *(override)*" if row["override"] else ""
            lines.append(
                f"| `{md(row['name'])}`{mark} | {row['risk']} | {row['confidence']:.2f} | {md(row['top_reason'])} |"
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


def esc(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


def bar_chart(title: str, counts: dict[str, int], order: tuple[str, ...], y: int, total: int) -> str:
    """One labelled horizontal stacked bar in SVG units (width 600)."""
    parts = [f'<text x="0" y="{y + 15}" class="axis">{esc(title)}</text>']
    x = 110.0
    for key in order:
        n = counts.get(key, 0)
        if not n:
            continue
        width = 480 * n / total
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="22" fill="{COLORS[key]}" rx="3">'
            f"<title>{esc(key)}: {n}</title></rect>"
        )
        if width > 28:
            parts.append(f'<text x="{x + width / 2:.1f}" y="{y + 15}" class="barlabel">{n}</text>')
        x += width
    return "".join(parts)


def legend(order: tuple[str, ...], counts: dict[str, int], y: int) -> str:
    parts, x = [], 110
    for key in order:
        parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLORS[key]}" rx="2"/>')
        parts.append(
            f'<text x="{x + 14}" y="{y + 9}" class="legend">{esc(key)} ({counts.get(key, 0)})</text>'
        )
        x += 110
    return "".join(parts)


def summary_svg(rows: list[dict[str, Any]]) -> str:
    total = max(len(rows), 1)
    categories = Counter(r["category"] for r in rows)
    risks = Counter(r["risk"] for r in rows)
    cat_order, risk_order = ("read", "write", "destructive"), ("low", "medium", "high", "critical")
    return (
        '<svg id="summary-chart" role="img" aria-label="tools by category and risk" viewBox="0 0 600 120">'
        + bar_chart("category", categories, cat_order, 4, total)
        + legend(cat_order, categories, 32)
        + bar_chart("risk", risks, risk_order, 62, total)
        + legend(risk_order, risks, 90)
        + "</svg>"
    )


def json_block(value: Any) -> str:
    return esc(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def tool_row(row: dict[str, Any]) -> str:
    haystack = " ".join(
        [row["name"], row["description"] or "", " ".join(row["reasons"]), row["top_reason"]]
    ).lower()
    override = (
        f'<p class="override">Reviewer override ({esc(row["override"]["category"])}): {esc(row["override"]["note"])}'
        f" &mdash; the classifier said {esc(row['classifier']['category'])}/{esc(row['classifier']['risk'])}.</p>"
        if row["override"]
        else ""
    )
    contradictions = (
        '<div class="contra"><b>Annotation contradictions</b><ul>'
        + "".join(f"<li>{esc(c)}</li>" for c in row["contradictions"])
        + "</ul></div>"
        if row["contradictions"]
        else ""
    )
    suggested = "".join(
        f"<li><code>{esc(hint)}: {str(value).lower()}</code> &mdash; {esc(row['annotation_reasons'][hint])}</li>"
        for hint, value in row["suggested_annotations"].items()
    )
    schema = row["input_schema"] if row["input_schema"] is not None else {"params": row["params"]}
    flags = ('<span class="flag ov" title="reviewer override">override</span>' if row["override"] else "") + (
        '<span class="flag hint" title="annotation contradiction">hints</span>'
        if row["contradictions"]
        else ""
    )
    return (
        f'<tr data-category="{esc(row["category"])}" data-risk="{esc(row["risk"])}" data-text="{esc(haystack)}">'
        f'<td data-value="{esc(row["name"].lower())}"><details><summary><code>{esc(row["name"])}</code>{flags}</summary>'
        f'<div class="more"><p class="desc">{esc(row["description"]) or "<i>no description</i>"}</p>{override}'
        f"{contradictions}<b>Reasons</b><ul>{''.join(f'<li>{esc(r)}</li>' for r in row['reasons'])}</ul>"
        f"<b>Suggested annotations</b><ul>{suggested}</ul>"
        f"<b>Author&rsquo;s annotations</b><pre>{json_block(row['annotations'])}</pre>"
        f"<b>Input schema</b><pre>{json_block(schema)}</pre></div></details></td>"
        f'<td data-value="{CATEGORY_RANK.get(row["category"], 9)}"><span class="badge {esc(row["category"])}">'
        f"{esc(row['category'])}</span></td>"
        f'<td data-value="{RISK_RANK.get(row["risk"], 9)}"><span class="badge {esc(row["risk"])}">{esc(row["risk"])}'
        f"</span></td>"
        f'<td data-value="{row["confidence"]:.4f}" class="num">{row["confidence"]:.2f}</td>'
        f'<td data-value="{esc(row["top_reason"].lower())}">{esc(row["top_reason"])}</td></tr>'
    )


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


def page(title: str, body: str, script: str = "") -> str:
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>{body}</main>"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>\n"
    )


def options(values: tuple[str, ...], label: str) -> str:
    return f'<option value="">{esc(label)}</option>' + "".join(
        f'<option value="{v}">{v}</option>' for v in values
    )


def html_report(server_id: str, rows: list[dict[str, Any]], summary: str, policy_text: str | None) -> str:
    flagged = [r for r in rows if r["contradictions"]]
    contra = (
        '<h2>Annotation contradictions</h2><div class="card"><ul class="contras">'
        + "".join(
            f"<li><code>{esc(r['name'])}</code>: {esc('; '.join(r['contradictions']))}</li>" for r in flagged
        )
        + "</ul></div>"
        if flagged
        else ""
    )
    policy = (
        '<h2>Recommended policy</h2><div class="card"><p class="sub">PolicyLayer gateway JSON, default deny; <code>catalog policy</code> writes it and the other formats.</p>'
        f'<pre class="policy">{esc(policy_text)}</pre></div>'
        if policy_text
        else ""
    )
    body = (
        f'<h1>{esc(server_id)}</h1><p class="sub">{esc(summary)}</p>'
        f'<div class="card">{summary_svg(rows)}</div>'
        '<h2>Tools</h2><div class="card"><div class="controls">'
        '<input id="filter" type="search" placeholder="Filter by name, description or reason" aria-label="filter">'
        f'<select id="category" aria-label="category">{options(("read", "write", "destructive"), "all categories")}</select>'
        f'<select id="risk" aria-label="risk">{options(("low", "medium", "high", "critical"), "all risks")}</select>'
        '<span id="count"></span></div>'
        '<table id="tools"><thead><tr><th data-type="text">Tool</th><th data-type="number">Category</th>'
        '<th data-type="number">Risk</th><th data-type="number">Confidence</th><th data-type="text">Top reason</th>'
        "</tr></thead><tbody>"
        + "".join(tool_row(r) for r in rows)
        + "</tbody></table></div>"
        + contra
        + policy
    )
    return page(f"MCP tool report: {server_id}", body, SCRIPT)


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


CATALOG_COLUMNS = ("id", "tools", "read", "write", "destructive", "riskiest", "last_crawl")
NUMERIC_COLUMNS = ("tools", "read", "write", "destructive", "riskiest")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def catalog_cell(column: str, value: str) -> str:
    if column == "riskiest":
        badge = f'<span class="badge {esc(value)}">{esc(value)}</span>' if value else ""
        return f'<td data-value="{RISK_RANK.get(value, 0)}">{badge}</td>'
    css = ' class="num"' if column in NUMERIC_COLUMNS else ""
    sort_value = value.lower() if column not in NUMERIC_COLUMNS else (value or "0")
    return f'<td data-value="{esc(sort_value)}"{css}>{esc(value)}</td>'


def catalog_html(rows: list[dict[str, Any]], cells: list[list[str]]) -> str:
    """A sortable one-page table of every server (click a header to sort)."""
    head = "".join(
        f'<th data-type="{"number" if c in NUMERIC_COLUMNS else "text"}">{esc(c)}</th>'
        for c in CATALOG_COLUMNS
    )
    body_rows = "".join(
        "<tr>" + "".join(catalog_cell(c, v) for c, v in zip(CATALOG_COLUMNS, values, strict=True)) + "</tr>"
        for values in cells
    )
    title = f"{plural(len(rows), 'server')}, riskiest first"
    body = (
        f'<h1>MCP catalog</h1><p class="sub">{esc(title)}.</p>'
        f'<div class="card">{catalog_svg(rows)}</div>'
        f'<div class="card"><table id="tools"><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table></div>'
    )
    return page("MCP catalog", body, SCRIPT)


def catalog_svg(rows: list[dict[str, Any]]) -> str:
    """Tools of the whole catalog by category, and servers by their riskiest tool."""
    categories = {c: sum(r.get(c) or 0 for r in rows) for c in ("read", "write", "destructive")}
    risks = Counter(r.get("riskiest") for r in rows if r.get("riskiest"))
    cat_order, risk_order = ("read", "write", "destructive"), ("low", "medium", "high", "critical")
    return (
        '<svg id="summary-chart" role="img" aria-label="tools by category, servers by riskiest tool" '
        'viewBox="0 0 600 120">'
        + bar_chart("tools", categories, cat_order, 4, max(sum(categories.values()), 1))
        + legend(cat_order, categories, 32)
        + bar_chart("servers", risks, risk_order, 62, max(sum(risks.values()), 1))
        + legend(risk_order, risks, 90)
        + "</svg>"
    )


def render_catalog(rows: list[dict[str, Any]], format: str = "table", console: Any = None) -> str:
    """The whole catalog, one row per server: id, tool counts, riskiest level and last crawl."""
    check_format(format)
    rows = catalog_rows(rows)
    if format == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n"
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in CATALOG_COLUMNS] for r in rows]
    if format == "markdown":
        lines = ["# MCP catalog", "", f"{plural(len(rows), 'server')}, riskiest first.", ""]
        lines += ["| " + " | ".join(CATALOG_COLUMNS) + " |", "|" + " --- |" * len(CATALOG_COLUMNS)]
        lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if format == "html":
        return catalog_html(rows, cells)
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"MCP catalog: {plural(len(rows), 'server')}, riskiest first", title_justify="left")
    for column in CATALOG_COLUMNS:
        table.add_column(
            column, justify="right" if column in ("tools", "read", "write", "destructive") else "left"
        )
    for row, values in zip(rows, cells, strict=True):
        style = RISK_STYLE.get(row.get("riskiest") or "", "")
        table.add_row(
            *[
                Text(v, style=style if c == "riskiest" else "")
                for c, v in zip(CATALOG_COLUMNS, values, strict=True)
            ]
        )
    return render_rich([table], console)
