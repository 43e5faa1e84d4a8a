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


def test_repetition_weights_are_fitted_out_of_fold_and_written_to_a_model(tmp_path: Path) -> None:
    """On the repetition shard labelled by its README (menu and footer boilerplate, the rest
    content), the weights learn that a line the site repeats is junk, and the figures come
    with and without the evidence."""
    records = [json.loads(line) for line in
               (ROOT / "fixtures" / "repeats" / "shard.jsonl").read_text("utf-8").splitlines()]
    first, second = (r["text"].split("\n") for r in records[:2])
    site_furniture = set(first) & set(second) - {"", "What happens next", "By Gazette staff"}
    corpus = tmp_path / "shard.jsonl"
    with open(corpus, "w", encoding="utf-8") as f:
        for r in records:
            lines = r["text"].split("\n")
            labels = [None if not line else int(line in site_furniture) for line in lines]
            f.write(json.dumps({**r, "source": "shard", "track": "fullpage", "lang": "en",
                                "labels": labels}) + "\n")
    model = tmp_path / "line-v1.npz"
    model.write_bytes((ROOT / "cleaner" / "models" / "line-v1.npz").read_bytes())
    manifest = json.loads((ROOT / "cleaner" / "models" / "line-v1.json").read_text("utf-8"))
    manifest.pop("repetition", None)
    (tmp_path / "line-v1.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "figures.json"
    proc = subprocess.run(
        [sys.executable, "-m", "training.repeats", "--data", str(corpus), "--corrections", "",
         "--model", str(model), "--write", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    written = json.loads((tmp_path / "line-v1.json").read_text("utf-8"))["repetition"]
    weights = dict(zip(written["features"], written["weights"]))
    assert weights["docs"] + weights["site_docs"] > 0, "a line of the site's pages is junk"
    figures = json.loads(out.read_text("utf-8"))["out_of_fold"]["fullpage"]
    assert set(figures) == {"without", "with"}
    assert figures["with"]["metrics"]["ALL"]["content_lines"] == \
        figures["without"]["metrics"]["ALL"]["content_lines"]
