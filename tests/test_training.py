"""The training tools run from the repository on the shipped fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_evaluate_reports_held_out_and_fixed_threshold_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "training.evaluate", "--group", "page", "--at", "0.3",
         "--at", "0.95", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "fixed threshold 0.3" in proc.stdout
    page = json.loads(out.read_text(encoding="utf-8"))["page"]
    assert len(page["fold_thresholds"]) == 5
    assert all(0.3 <= t <= 0.995 for t in page["fold_thresholds"])
    low, high = page["at 0.3"]["track=residual"], page["at 0.95"]["track=residual"]
    # A lower threshold removes more: more of the junk, and never more of the content kept.
    assert low["bp_recall"] > high["bp_recall"]
    assert low["content_kept"] <= high["content_kept"]
    assert page["metrics"]["ALL"]["content_lines"] == high["content_lines"]
