"""Imports that fail part-way at the file-system level leave nothing: sav/ is a small tmpfs (in a private mount
namespace made with `unshare`), too small in bytes or in inodes, so the import runs out of space at every step in
turn: while writing the first image, between conversations, while claiming the folders. Each run either imports
everything or says the disk is full, and leaves sav/ and the search index as they were."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.search_index import SearchIndex
from tests.fixtures.exports import chatgpt_conversation, chatgpt_zip

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, logging, os, sys
from pathlib import Path
from config import Settings
from core.errors import ImportRefused
from core.session_manager import SessionManager

logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
sm = SessionManager(Settings(home=Path(os.environ["IA_HOME"])))
out = {"error": None, "imported": []}
try:
    out["imported"] = [c.slug for c in sm.import_file(Path(sys.argv[1])).conversations]
except ImportRefused as exc:
    out["error"] = str(exc)
out["sav"] = sorted(str(p.relative_to(sm.sav_dir)) for p in sm.sav_dir.rglob("*"))
out["search"] = [h.slug for h in sm.search("zebrafish")]
out["list"] = [i.slug for i in sm.list()]
sm.close()
print(json.dumps(out))
"""


def _noisy_png(seed: int) -> bytes:
    """A PNG of about 40 KB that does not compress, so each image fills several tmpfs pages."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (120, 110), bytes(rng.randrange(256) for _ in range(120 * 110 * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _mount_works(tmp_path: Path) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    run = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{probe}'"], capture_output=True
    )
    return run.returncode == 0


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    """A ChatGPT .zip with three conversations, each with an image of its own."""
    conversations, images = [], {}
    for n in range(3):
        conv = chatgpt_conversation(f"Zebrafish {n}", conv_id=f"c{n}", image_id=f"file-Img{n}")
        conversations.append(conv)
        images[f"file-Img{n}-photo.png"] = _noisy_png(n)
    path = tmp_path / "export.zip"
    path.write_bytes(chatgpt_zip(conversations, images))
    return path


def _run(home: Path, export: Path, mount_options: str) -> tuple[dict, str]:
    """The import in a child whose sav/ is a fresh tmpfs with these limits; its report and its log."""
    sav = home / "sav"
    sav.mkdir(parents=True, exist_ok=True)
    script = f'mount -t tmpfs -o {mount_options} tmpfs "$IA_HOME/sav" && exec "$0" -c "$1" "$2"'
    env = dict(os.environ, IA_HOME=str(home), PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, sys.executable, CHILD, str(export)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def _check(report: dict, log: str, home: Path) -> str:
    """Either everything was imported, or the disk-full sentence and nothing left; returns which."""
    rows = SearchIndex(home / "data" / "index.sqlite").rows()
    if report["error"] is None:
        assert len(report["imported"]) == 3
        assert sorted(report["list"]) == sorted(report["imported"]) == sorted(r.slug for r in rows)
        assert sorted(report["search"]) == sorted(report["imported"])
        assert not [p for p in report["sav"] if p.startswith(".")]
        return "ok"
    assert report["error"].startswith(f"Cannot import {home.parent / 'export.zip'}: writing into ")
    assert "failed (the disk is full). Nothing was imported; free some disk space" in report["error"]
    assert report["sav"] == [] and report["list"] == [] and report["search"] == [] and rows == []
    assert "taking everything back" in log
    return "failed"


def test_running_out_of_space_at_any_point_leaves_nothing(tmp_path: Path, export_file: Path) -> None:
    if not _mount_works(tmp_path):
        pytest.skip("this machine cannot mount a tmpfs in a user namespace (unshare -rm)")
    outcomes, logs = [], []
    for kib in range(4, 200, 12):
        home = tmp_path / f"size{kib}"
        report, log = _run(home, export_file, f"size={kib}k")
        outcomes.append(_check(report, log, home))
        logs.append(log)
    assert outcomes[0] == "failed" and outcomes[-1] == "ok"
    # Some runs failed after files had been written (the first conversations complete, the next cut short).
    written = [line for line in logs if "failed after" in line and "failed after 0 files" not in line]
    assert written, logs


def test_running_out_of_inodes_while_claiming_folders_takes_back_the_claimed_ones(
    tmp_path: Path, export_file: Path
) -> None:
    if not _mount_works(tmp_path):
        pytest.skip("this machine cannot mount a tmpfs in a user namespace (unshare -rm)")
    outcomes, logs = [], []
    for inodes in range(2, 24):
        home = tmp_path / f"inodes{inodes}"
        report, log = _run(home, export_file, f"size=4m,nr_inodes={inodes}")
        outcomes.append(_check(report, log, home))
        logs.append(log)
    assert "ok" in outcomes and "failed" in outcomes
    # Failures came at each stage: while staging, and after 1 and 2 of the 3 folders were claimed in sav/.
    for claimed in (0, 1, 2):
        assert any(f"and {claimed} of 3 folders claimed" in log for log in logs), logs
