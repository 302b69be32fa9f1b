"""The project's own wheel: what a non-editable install gets must classify, so the rule vocabulary and the model
ship inside the classifier package (a wheel once left them out, and every crawl ended in an internal error)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_the_lexicon_and_model_and_classifies_from_them(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    wheel = next(tmp_path.glob("mcp_catalog-*.whl"))
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"classifier/lexicon.json", "classifier/model.npz"} <= names
        archive.extractall(unpacked)
    code = (
        "import json, classifier\n"
        "label = classifier.classify([{'server': 's', 'name': 'delete_run', 'description': 'Delete a run.'}])[0]\n"
        "print(json.dumps([classifier.__file__, label['category']]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=unpacked,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    where, category = json.loads(done.stdout)
    assert Path(where).is_relative_to(unpacked)  # the unpacked wheel's package, not the checkout
    assert category == "destructive"
