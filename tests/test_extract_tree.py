"""extract_tree over whole unpacked packages: declared requirements, folder filters, bundle sizes."""

from __future__ import annotations

import shutil
from pathlib import Path

from catalog.extract import declared_requirements, extract_tree, iter_source_files

FIXTURES = Path(__file__).parent / "fixtures" / "extract"


def unpacked_wheel(tmp_path: Path, requirement: str) -> Path:
    root = tmp_path / "src"
    shutil.copytree(FIXTURES / "python" / "fastmcp_docstrings", root / "library_server")
    info = root / "library_server-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: library-server\nVersion: 1.0\nRequires-Dist: {requirement}\n"
    )
    return root


def test_wheel_metadata_decides_the_fastmcp_docstring_rule(tmp_path):
    newer = extract_tree(unpacked_wheel(tmp_path / "new", "fastmcp>=3.4"))
    older = extract_tree(unpacked_wheel(tmp_path / "old", "fastmcp<3"))
    assert {t.name: t.description for t in newer.tools}["find_book"] == "Find books by title."
    assert {t.name: t.description for t in older.tools}["find_book"].startswith(
        "Find books by title.\n\nArgs:"
    )


def test_pyproject_dependencies_are_read_from_a_checkout(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["fastmcp==3.4.7", "httpx"]\n'
    )
    assert declared_requirements(tmp_path) == ["fastmcp==3.4.7", "httpx"]
    (tmp_path / "pyproject.toml").write_text("not = [toml")
    assert declared_requirements(tmp_path) == []


def test_docs_folders_are_skipped_at_the_top_but_not_inside_the_build(tmp_path):
    for rel in ("package/docs/guide.js", "package/dist/tools/docs/search.js", "package/tests/t.js"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("export const x = 1;\n")
    found = {f.path for f in iter_source_files(tmp_path, (".js",))}
    assert found == {"package/dist/tools/docs/search.js"}


def test_a_large_javascript_bundle_is_read_but_a_large_python_file_is_not(tmp_path):
    (tmp_path / "bundle.js").write_text("// x\n" * 700_000)  # 3.5 MB
    (tmp_path / "huge.py").write_text("# x\n" * 700_000)
    assert [f.path for f in iter_source_files(tmp_path, (".js", ".py"))] == ["bundle.js"]
