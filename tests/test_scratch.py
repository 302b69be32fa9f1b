"""Servers that write next to their own code, in HOME or in their working directory: a throwaway writable
copy, the installed package unchanged. Real wheels, real installs, real sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import envs, live, sandbox
from catalog.models import CatalogError
from tests.fixtures.servers.packages import server_source, wheel_bytes

WRITES_LOGS = '''

def logging_main():
    import os
    from pathlib import Path
    Path(__file__).with_name("server.log").write_text("started\\n")  # next to its own code
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "catalog-logger"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "state.json").write_text("{}")
    main()
'''


def logger_wheel(links: Path) -> None:
    links.mkdir(parents=True, exist_ok=True)
    files = {"catalog_logger/__init__.py": server_source() + WRITES_LOGS}
    data = wheel_bytes("catalog-logger", "1.0", files, {"catalog-logger": "catalog_logger:logging_main"})
    (links / "catalog_logger-1.0-py3-none-any.whl").write_bytes(data)


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_a_server_writing_a_log_next_to_its_code_runs_and_the_package_stays_unchanged(tmp_path):
    logger_wheel(tmp_path / "links")
    prepared = envs.python_env("catalog-logger", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    code = Path(prepared.scratch[0])
    assert code.name == "catalog_logger"
    launch = live.Launch(prepared.command, {}, binds=prepared.binds, scratch=prepared.scratch)
    listing = live.list_stdio(launch, timeout=20)
    assert [tool.name for tool in listing.tools] == ["echo"]
    assert not (code / "server.log").exists()
    assert sorted(p.name for p in code.iterdir() if p.name != "__pycache__") == ["__init__.py"]


@pytest.mark.skipif(sandbox.bwrap_usable() is not None, reason="needs bubblewrap")
def test_without_scratch_the_same_server_fails_on_its_read_only_code(tmp_path):
    logger_wheel(tmp_path / "links")
    prepared = envs.python_env("catalog-logger", "1.0", tmp_path / "envs", find_links=tmp_path / "links")
    with pytest.raises(CatalogError) as failure:
        live.list_stdio(live.Launch(prepared.command, {}, binds=prepared.binds), timeout=20)
    assert "Read-only file system" in str(failure.value)


PROJECT_SERVER = """
import json, sys
from pathlib import Path
Path("server.log").write_text("started")  # in its working directory
notes = Path(sys.argv[1]).read_text().strip()
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "project", "version": "1"}}
    else:
        result = {"tools": [{"name": "project_tool", "description": notes, "inputSchema": {"type": "object"}}]}
    print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}), flush=True)
"""


def test_a_cmd_runs_in_the_callers_directory_with_its_argument_files_visible(tmp_path):
    import json
    import os
    import subprocess
    import sys

    project, data = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    data.mkdir()
    (project / "server.py").write_text(PROJECT_SERVER)
    (data / "notes.txt").write_text("notes from an argument path")
    env = {**os.environ, "CATALOG_CACHE": str(tmp_path / "cache"), "CATALOG_DB": str(tmp_path / "c.db")}
    command = f"{sys.executable} server.py {data / 'notes.txt'}"
    done = subprocess.run([sys.executable, "-m", "catalog.cli", "crawl", "--cmd", command, "--name", "proj"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    tools = subprocess.run([sys.executable, "-m", "catalog.cli", "tools", "proj", "--json"], cwd=project,
                           env=env, capture_output=True, text=True, timeout=120)
    listed = json.loads(tools.stdout)
    assert [(t["name"], t["description"]) for t in listed] == [("project_tool", "notes from an argument path")]
    assert sorted(os.listdir(project)) == ["server.py"]  # its log went to a throwaway copy
