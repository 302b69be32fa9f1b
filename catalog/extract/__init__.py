"""Static extraction: read a source tree and find the tools it registers, never executing it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from catalog.extract.budget import Budget, BudgetHit, Limits
from catalog.models import Tool

MAX_FILE_BYTES = 2_000_000
MAX_BUNDLE_BYTES = 10_000_000  # compiled JavaScript is often one bundle holding every tool
BUNDLE_SUFFIXES = (".js", ".cjs", ".mjs")
MAX_FILES = 20_000
# Documentation and examples are skipped only near the top of a tree: a package may keep real tools
# in a folder called docs (dist/tools/docs/), while tests are never the server's own registrations.
TOP_ONLY_DIRS = {"docs", "examples", "example"}
SKIP_DIRS = {
    ".git",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    "site-packages",
    ".tox",
    "test",
    "tests",
    "__tests__",
    "testdata",
    ".github",
}


@dataclass
class SourceFile:
    """One readable source file of a tree: its path relative to the root, and its text."""

    path: str
    text: str


@dataclass
class Extraction:
    """The tools found in a tree, plus what could not be resolved or read."""

    tools: list[Tool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_scanned: int = 0
    budget_hits: list[BudgetHit] = field(default_factory=list)  # files whose reading stopped early
    run_time: list[str] = field(default_factory=list)  # registrations whose tools are made at run time

    @property
    def may_be_incomplete(self) -> bool:
        """True when tools may be missing: a file was cut short by a work or time budget, or the
        server makes some tools at run time (names, lists or generators not known statically)."""
        return bool(self.budget_hits or self.run_time)

    @property
    def incomplete_reasons(self) -> list[str]:
        return [str(hit) for hit in self.budget_hits] + self.run_time

    def not_static(self, note: str) -> None:
        """Record a registration whose tools cannot all be known without running the server."""
        self.warnings.append(note)
        self.run_time.append(note)

    def record_budget(self, budget: Budget, first_hit: int) -> None:
        """Take the budget hits recorded since `first_hit` onto this result (and its warnings)."""
        hits = budget.hits[first_hit:]
        self.budget_hits.extend(hits)
        self.warnings.extend(str(hit) for hit in hits)


# An extractor takes every file of its language in the tree (so it can resolve names across
# files) and the package's budget, and returns the tools found plus warnings.
ExtractFn = Callable[..., Extraction]


# The language extractors, in the order their tools win, by the file suffixes they read. Each module is
# imported only when the tree has files of its language.
LANGUAGES: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".py",), "python"),
    ((".ts", ".mts", ".cts", ".js", ".mjs", ".cjs", ".tsx", ".jsx"), "typescript"),
    ((".go",), "go"),
)
SKIPPED_NAMES = (".d.ts", ".min.js", ".map", "_test.go", ".test.ts", ".spec.ts", ".test.js")


def _extractor(module: str) -> ExtractFn:
    import importlib

    extract: ExtractFn = importlib.import_module(f"catalog.extract.{module}").extract
    return extract


def _extractors() -> dict[tuple[str, ...], ExtractFn]:
    return {suffixes: _extractor(module) for suffixes, module in LANGUAGES}


def tree_files(root: Path) -> list[Path]:
    """Every regular file under root (sorted) that may be source: not under a skipped folder, not a
    symlink, not a test, minified or map file. One walk; skipped folders are not descended into."""
    found = []
    for folder, dirs, names in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = [d for d in dirs if not _skipped_dir_name(d, depth)]
        for name in names:
            path = Path(folder, name)
            if not name.endswith(SKIPPED_NAMES) and not path.is_symlink() and path.is_file():
                found.append(path)
    return sorted(found)


def iter_source_files(
    root: Path, suffixes: tuple[str, ...], files: list[Path] | None = None
) -> Iterator[SourceFile]:
    """Yield text files under root with these suffixes, skipping symlinks, huge files and test dirs
    (`files`: the tree's `tree_files`, when the caller has walked it already)."""
    count = 0
    for path in tree_files(root) if files is None else files:
        if path.suffix not in suffixes:
            continue
        if path.stat().st_size > (MAX_BUNDLE_BYTES if path.suffix in BUNDLE_SUFFIXES else MAX_FILE_BYTES):
            continue
        count += 1
        if count > MAX_FILES:
            return
        yield SourceFile(str(path.relative_to(root)), path.read_text(encoding="utf-8", errors="replace"))


def _skipped_dir_name(name: str, depth: int) -> bool:
    """A folder at this depth (0: directly under the root) that is never read."""
    return name in SKIP_DIRS or (name in TOP_ONLY_DIRS and depth <= 1)


def declared_requirements(root: Path) -> list[str]:
    """The package's declared dependencies: Requires-Dist of an unpacked wheel, or pyproject's list."""
    import email.parser
    import tomllib

    for metadata in sorted(root.glob("*.dist-info/METADATA")):
        message = email.parser.Parser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        return [str(line) for line in message.get_all("Requires-Dist") or []]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace")).get(
                "project", {}
            )
        except tomllib.TOMLDecodeError:
            return []
        return [str(line) for line in project.get("dependencies", []) if isinstance(line, str)]
    return []


def entry_modules(root: Path) -> list[str]:
    """The modules a Python package's console scripts start in (`module:function` of the wheel's
    entry_points.txt, or of pyproject's [project.scripts])."""
    import configparser
    import tomllib

    targets: list[str] = []
    for entry_points in sorted(root.glob("*.dist-info/entry_points.txt")):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(entry_points.read_text(encoding="utf-8", errors="replace"))
        except configparser.Error:
            continue
        if parser.has_section("console_scripts"):
            targets += [value for _, value in parser.items("console_scripts")]
    pyproject = root / "pyproject.toml"
    if not targets and pyproject.is_file():
        try:
            scripts = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
        except tomllib.TOMLDecodeError:
            scripts = {}
        scripts = scripts.get("project", {}).get("scripts", {})
        targets += (
            [value for value in scripts.values() if isinstance(value, str)]
            if isinstance(scripts, dict)
            else []
        )
    return sorted({target.split(":")[0].strip() for target in targets if target.split(":")[0].strip()})


def extract_tree(root: Path, limits: Limits | None = None) -> Extraction:
    """Run every language extractor over the tree and merge their tools by name (first wins).
    All of them share one package budget (`limits`, default from the environment); files cut
    short are listed in `budget_hits` and make the result `may_be_incomplete`."""
    budget = Budget(limits)
    merged = Extraction()
    seen: dict[str, Tool] = {}
    candidates = tree_files(root)
    for suffixes, module in LANGUAGES:
        files = list(iter_source_files(root, suffixes, candidates))
        if not files:
            continue
        extract = _extractor(module)
        found = (
            extract(files, declared_requirements(root), budget, entry_modules(root))
            if module == "python"
            else extract(files, budget)
        )
        merged.files_scanned += len(files)
        merged.warnings.extend(found.warnings)
        merged.budget_hits.extend(found.budget_hits)
        merged.run_time.extend(found.run_time)
        for tool in found.tools:
            if tool.name in seen:
                continue
            seen[tool.name] = tool
            merged.tools.append(tool)
    return merged
