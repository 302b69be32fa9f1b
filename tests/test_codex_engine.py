"""The Codex export loaded by Codex itself: `codex mcp list --json` reads the generated config.toml (Codex
refuses a config it cannot parse or whose values it does not know) and shows the server as exported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from catalog.policies import render_policy
from tests.test_policies import MLFLOW

pytestmark = pytest.mark.integration
CODEX = "@openai/codex@0.171.0"  # its npm package carries the native binary (a platform sub-package)


@pytest.fixture(scope="module")
def codex(tmp_path_factory) -> list[str]:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    prefix = tmp_path_factory.mktemp("codex")
    done = subprocess.run(
        ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--ignore-scripts", CODEX],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return ["node", str(prefix / "node_modules" / "@openai" / "codex" / "bin" / "codex.js")]


def codex_list(codex: list[str], home: Path, config: str) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(config)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "CODEX_HOME": str(home)}
    return subprocess.run([*codex, "mcp", "list", "--json"], capture_output=True, text=True, env=env, timeout=300)


def test_codex_loads_the_exported_table_unchanged(codex, tmp_path):
    source = {"source": "pypi:mlflow-mcp", "kind": "pypi", "version": "0.4.1"}
    config = render_policy(MLFLOW, "codex", sources={"mlflow": source})
    done = codex_list(codex, tmp_path / "home", config)
    assert done.returncode == 0, done.stderr
    [server] = json.loads(done.stdout)
    assert server["name"] == "mlflow" and server["enabled"] is True
    assert server["transport"]["command"] == "uvx" and server["transport"]["args"] == ["mlflow-mcp==0.4.1"]


def test_codex_refuses_a_table_it_does_not_understand(codex, tmp_path):
    # The same export with one approval mode Codex does not know: proof that the check above is real.
    config = render_policy(MLFLOW, "codex", sources={"mlflow": {"source": "pypi:mlflow-mcp", "kind": "pypi"}})
    broken = config.replace('default_tools_approval_mode = "prompt"', 'default_tools_approval_mode = "maybe"')
    assert broken != config
    done = codex_list(codex, tmp_path / "home", broken)
    assert done.returncode != 0 and "maybe" in done.stderr
