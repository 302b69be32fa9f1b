"""Throwaway writable copies of a server's own folders (live listings)."""

import os

from catalog.live import _scratch_copies


def test_a_package_folder_with_its_own_node_modules_is_copied_and_links_them(tmp_path):
    package = tmp_path / "pkg"
    (package / "node_modules" / "dep").mkdir(parents=True)
    (package / "dist").mkdir()
    (package / "dist" / "server.js").write_text("// server")
    [(copy, original)] = _scratch_copies([str(package)], tmp_path / "scratch")
    assert original == str(package)
    assert (tmp_path / "scratch" / "0" / "dist" / "server.js").read_text() == "// server"
    link = tmp_path / "scratch" / "0" / "node_modules"
    assert link.is_symlink() and os.readlink(link) == str(package / "node_modules")
