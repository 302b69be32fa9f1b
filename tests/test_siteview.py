"""A server that is a single top-level module writes next to itself, into site-packages: it gets a throwaway
view of site-packages (its own files copied, the rest linked read-only), and the installed environment stays
as it was. A real wheel, installed and run in the sandbox."""

from __future__ import annotations

import os

import pytest

from catalog import live, sandbox, siteview
from tests.fixtures.servers.packages import installed_server, server_source

# Run at import: a log file next to the module, then a write into something else of site-packages (the
# distribution's .dist-info, linked read-only), whose outcome the tool's description reports (facts.json).
PROBE = """

def _probe():
    here = Path(__file__).parent
    (here / "catalog_toplog.log").write_text("started\\n")
    try:
        (here / "catalog_toplog-1.0.dist-info" / "probe").write_text("x")
        outcome = "dist-info writable"
    except OSError as error:
        outcome = f"dist-info refused: errno {error.errno}"
    FACTS.write_text(json.dumps(outcome))


_probe()
"""


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_a_top_level_module_writes_next_to_itself_in_a_throwaway_view(tmp_path):
    files = {"catalog_toplog.py": server_source() + PROBE}
    prepared = installed_server(tmp_path, "catalog-toplog", files, "catalog_toplog:main")
    site = os.path.dirname(next(path for path in prepared.scratch if path.endswith("catalog_toplog.py")))
    before = sorted(os.listdir(site))

    launch = live.Launch(prepared.command, {}, binds=prepared.binds, scratch=prepared.scratch)
    listing = live.list_stdio(launch, timeout=30)

    assert [(tool.name, tool.description) for tool in listing.tools] == [("echo", '"dist-info refused: errno 30"')]
    assert sorted(os.listdir(site)) == before  # no log, no facts.json: the view was thrown away


def test_the_view_copies_the_distributions_own_entries_and_links_the_rest(tmp_path):
    site = tmp_path / "site-packages"
    (site / "own_pkg").mkdir(parents=True)
    (site / "own_pkg" / "__init__.py").write_text("")
    (site / "own.py").write_text("# own\n")
    (site / "dependency").mkdir()
    (site / "other.pth").write_text("")
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()

    found = siteview.views([str(site / "own_pkg"), str(site / "own.py"), str(elsewhere)], tmp_path / "scratch")

    view = tmp_path / "scratch" / "view-0"
    assert found.scratch == [(str(view), str(site))]
    assert found.originals == [(str(site), f"{siteview.ORIGINALS}/0")]
    assert found.rest == [str(elsewhere)]  # not in a viewed folder: copied as a whole, as before
    assert (view / "own.py").read_text() == "# own\n" and not (view / "own.py").is_symlink()
    assert (view / "own_pkg" / "__init__.py").is_file() and not (view / "own_pkg").is_symlink()
    assert os.readlink(view / "dependency") == f"{siteview.ORIGINALS}/0/dependency"
    assert os.readlink(view / "other.pth") == f"{siteview.ORIGINALS}/0/other.pth"
