"""Hostile source shapes cannot stall static extraction: every file is read within a work budget
(steps that grow linearly with its size) and the package within a time budget; a file cut short is
named in `budget_hits`, the result says it may be incomplete, and tools from other files are kept.

No assertion here depends on timing: each test checks the budget that was hit, or that the work
counted for an input twice as large is at most about twice as much."""

from __future__ import annotations

import pytest

from catalog.extract import Extraction, SourceFile, extract_tree, go, python, typescript
from catalog.extract.budget import Budget, Limits

GO_HEAD = 'package main\n\nimport "github.com/mark3labs/mcp-go/mcp"\n\n'
GOOD = {
    "py": (
        "good.py",
        "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('x')\n\n@mcp.tool()\ndef good() -> str:\n    return ''\n",
    ),
    "ts": ("good.ts", "server.tool('good', 'A good tool', async () => ({ content: [] }));\n"),
    "go": ("good.go", GO_HEAD + 'func good() { _ = mcp.NewTool("good", mcp.WithDescription("d")) }\n'),
}


def run(language: str, text: str, limits: Limits | None = None) -> tuple[Extraction, Budget]:
    """Extract one hostile file next to one good file, within a budget of these limits."""
    suffix = {"py": ".py", "ts": ".ts", "go": ".go"}[language]
    files = [SourceFile("hostile" + suffix, text), SourceFile(*GOOD[language])]
    budget = Budget(limits or Limits(package_seconds=3600, file_seconds=3600))
    if language == "py":
        found = python.extract(files, (), budget)
    elif language == "ts":
        found = typescript.extract(files, budget)
    else:
        found = go.extract(files, budget)
    return found, budget


def doubling_chain(language: str, n: int) -> str:
    """Each constant is the previous one twice: the folded name is 2**n characters long."""
    if language == "py":
        lines = ["A0 = 'x'"] + [f"A{i} = A{i - 1} + A{i - 1}" for i in range(1, n)]
        return "\n".join(lines) + f"\n\n@mcp.tool(name=A{n - 1})\ndef t():\n    pass\n"
    if language == "ts":
        lines = ["const a0 = 'x';"] + [f"const a{i} = a{i - 1} + a{i - 1};" for i in range(1, n)]
        return "\n".join(lines) + f"\nserver.tool(a{n - 1}, 'd', async () => ({{}}));\n"
    lines = ['const A0 = "x"'] + [f"const A{i} = A{i - 1} + A{i - 1}" for i in range(1, n)]
    return GO_HEAD + "\n".join(lines) + f"\nfunc f() {{ _ = mcp.NewTool(A{n - 1}) }}\n"


@pytest.mark.parametrize("language", ["py", "ts", "go"])
def test_doubling_constant_chain_stops_at_the_work_budget_and_keeps_other_files(language):
    # 2**60 steps without a budget: this would never finish.
    found, budget = run(language, doubling_chain(language, 60))
    assert [hit.path for hit in found.budget_hits] == [
        "hostile." + {"py": "py", "ts": "ts", "go": "go"}[language]
    ]
    assert found.may_be_incomplete
    assert "budget" in found.budget_hits[0].reason or "longer than" in found.budget_hits[0].reason
    assert any("tools may be missing" in warning for warning in found.warnings)
    assert [tool.name for tool in found.tools] == ["good"]
    assert budget.total_steps <= 2 * max(Limits().min_file_steps, 40 * len(doubling_chain(language, 60)))


def test_go_sprintf_doubling_chain_stops_at_the_work_budget():
    lines = ['const A0 = "x"'] + [f'var A{i} = fmt.Sprintf("%s%s", A{i - 1}, A{i - 1})' for i in range(1, 60)]
    found, _ = run("go", GO_HEAD + "\n".join(lines) + "\nfunc f() { _ = mcp.NewTool(A59) }\n")
    assert [hit.path for hit in found.budget_hits] == ["hostile.go"]
    assert [tool.name for tool in found.tools] == ["good"]


@pytest.mark.parametrize("language", ["py", "ts", "go"])
def test_folded_strings_are_capped_in_length(language):
    found, _ = run(language, doubling_chain(language, 12), Limits(max_string_chars=1000))
    assert [hit.reason for hit in found.budget_hits] == [
        "reading stopped: string longer than 1000 characters"
    ]
    assert [tool.name for tool in found.tools] == ["good"]


def test_package_time_budget_used_up_skips_files_and_says_so():
    found, _ = run("ts", "server.tool('t', 'd', async () => ({}));\n", Limits(package_seconds=0))
    assert {hit.path for hit in found.budget_hits} == {"hostile.ts", "good.ts"}
    assert all("package time budget of 0 s used up" in hit.reason for hit in found.budget_hits)
    assert found.tools == [] and found.may_be_incomplete


def test_extract_tree_shares_one_budget_and_reports_the_files(tmp_path):
    (tmp_path / "hostile.ts").write_text(doubling_chain("ts", 60))
    (tmp_path / "good.py").write_text(GOOD["py"][1])
    found = extract_tree(tmp_path, Limits(package_seconds=3600, file_seconds=3600))
    assert [tool.name for tool in found.tools] == ["good"]
    assert [hit.path for hit in found.budget_hits] == ["hostile.ts"]
    assert found.incomplete_reasons[0].startswith("hostile.ts: reading stopped: ")


# Shapes whose reading costs more than linear work (mutually recursive helpers fold an exponential
# number of calls; each identifier in deeply nested code looks through every enclosing scope): the
# budget, linear in the file's size, stops them, and the other files are still read.


@pytest.mark.parametrize("shape", ["recursive_helpers", "deep_nesting"])
def test_superlinear_typescript_shapes_stop_at_the_budget(shape):
    text = {"recursive_helpers": recursive_helpers, "deep_nesting": deep_nesting}[shape]("ts", 400)
    found, budget = run("ts", text, Limits(package_seconds=3600, file_seconds=3600, steps_per_byte=20))
    assert [hit.path for hit in found.budget_hits] == ["hostile.ts"]
    assert [tool.name for tool in found.tools] == ["good"]
    assert budget.total_steps <= 20 * len(text) + Limits().min_file_steps + 1000


def test_registration_nested_beyond_the_recursion_limit_is_a_budget_hit():
    found, _ = run("ts", deep_nesting("ts", 3000))
    assert [hit.path for hit in found.budget_hits] == ["hostile.ts"]
    assert "too deeply nested" in found.budget_hits[0].reason
    assert [tool.name for tool in found.tools] == ["good"]


# Shapes the extractors read in time linear in their size: the work counted for an input twice as
# large is at most about twice as much, and no budget is hit.


def nested_calls(language: str, n: int) -> str:
    inner = "f(" * n + '"x"' + ")" * n
    if language == "py":
        return "@mcp.tool(name=" + "f(" * min(n, 90) + "'x'" + ")" * min(n, 90) + ")\ndef t():\n    pass\n"
    if language == "ts":
        return f"server.tool({inner}, 'd', async () => ({{}}));\n"
    return GO_HEAD + f"func f() {{ _ = mcp.NewTool({inner}) }}\n"


def concatenation(language: str, n: int) -> str:
    quote = "'" if language != "go" else '"'
    chain = " + ".join([f"{quote}a{quote}"] * n)
    if language == "py":
        return f"@mcp.tool(name={chain})\ndef t():\n    pass\n"
    if language == "ts":
        return f"server.tool({chain}, 'd', async () => ({{}}));\n"
    return GO_HEAD + f"func f() {{ _ = mcp.NewTool({chain}) }}\n"


def recursive_helpers(language: str, n: int) -> str:
    if language == "py":
        helpers = "".join(f"def h{i}():\n    return h{(i + 1) % n}()\n" for i in range(n))
        return "from mcp.types import Tool\n" + helpers + "Tool(name='t', inputSchema=h0())\n"
    if language == "ts":
        helpers = "".join(
            f"function h{i}(x) {{ return h{(i + 1) % n}(x) + h{(i + 2) % n}(x); }}\n" for i in range(n)
        )
        return helpers + "server.tool(h0('a'), 'd', async () => ({}));\n"
    helpers = "".join(
        f"func h{i}() string {{ return h{(i + 1) % n}() + h{(i + 2) % n}() }}\n" for i in range(n)
    )
    return GO_HEAD + helpers + "func f() { _ = mcp.NewTool(h0()) }\n"


def array_literal(language: str, n: int) -> str:
    if language == "py":
        items = ",\n".join(
            f"    Tool(name='t{i}', description='d', inputSchema={{'type': 'object'}})" for i in range(n)
        )
        return f"from mcp.types import Tool\nTOOLS = [\n{items}\n]\n"
    if language == "ts":
        items = ",\n".join(
            f"  {{ name: 't{i}', description: 'd', inputSchema: {{ type: 'object' }} }}" for i in range(n)
        )
        return (
            f"const TOOLS = [\n{items}\n];\n"
            "server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));\n"
        )
    items = "".join(f'\ts.AddTool(mcp.NewTool("t{i}", mcp.WithDescription("d")), h)\n' for i in range(n))
    return GO_HEAD + "func f() {\n" + items + "}\n"


def deep_nesting(language: str, n: int) -> str:
    if language == "py":
        depth = min(n, 90)  # deeper is refused by Python's own parser
        return (
            "from mcp.types import Tool\nTool(name='t', inputSchema="
            + "{'a': " * depth
            + "1"
            + "}" * depth
            + ")\n"
        )
    if language == "ts":
        return (
            "server.tool('t', {a: "
            + "z.object({b: " * n
            + "z.string()"
            + "})" * n
            + "}, async () => ({}));\n"
        )
    return (
        GO_HEAD
        + 'var S = mcp.Tool{Name: "t", InputSchema: mcp.ToolInputSchema{Properties: '
        + 'map[string]any{"a": ' * n
        + "1"
        + "}" * n
        + "}}\n"
    )


def zod_chain(language: str, n: int) -> str:
    return "server.tool('t', {a: z.string()" + ".optional().describe('x')" * n + "}, async () => ({}));\n"


LINEAR_SHAPES = [
    *[
        (shape, language)
        for shape in (nested_calls, concatenation, array_literal)
        for language in ("py", "ts", "go")
    ],
    (recursive_helpers, "py"),
    (recursive_helpers, "go"),
    (deep_nesting, "py"),
    (deep_nesting, "go"),
    (zod_chain, "ts"),
]


@pytest.mark.parametrize(("shape", "language"), LINEAR_SHAPES, ids=lambda v: getattr(v, "__name__", v))
def test_work_grows_linearly_with_input_size(shape, language):
    small, small_budget = run(language, shape(language, 150))
    large, large_budget = run(language, shape(language, 300))
    assert not small.budget_hits and not large.budget_hits
    assert "good" in {tool.name for tool in large.tools}
    assert large_budget.total_steps <= 2.5 * small_budget.total_steps
