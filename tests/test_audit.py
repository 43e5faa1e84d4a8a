"""Label corrections: the overlay, the distrusted tracks, the audit worksheet and relabelling."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from cleaner.rules import RuleSet
from training import audit, relabel
from training.dataset import load_jsonl, site_of
from training.overlay import Correction, Overlay, append_corrections, line_sha1

PAGE = [
    "Stadtwerke senken den Strompreis zum Jahreswechsel",
    "Die Stadtwerke Lindau senken den Arbeitspreis für Haushaltsstrom um 2,1 Cent.",
    "Neue Radwege für die Innenstadt geplant",
    "Der Stadtrat berät am Dienstag über den Haushalt für das kommende Jahr.",
    "Archiviert unter: Energie, Lindau",
    "Home",
]
LABELS = [0, 0, 1, 1, 1, 1]


def write_corpus(folder: Path, source: str = "fundus", track: str = "residual") -> Path:
    record = {"id": f"{source}/lindau/{track}", "source": source, "track": track, "lang": "de",
              "text": "\n".join(PAGE), "labels": LABELS, "without": ["Home"],
              "url": "https://www.lindauer-bote.de/strom"}
    path = folder / f"{source}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return path


def correction(line: int, label: str, was: str = "B", text: str | None = None) -> Correction:
    return Correction(id="fundus/lindau/residual", line=line,
                      sha1=line_sha1(PAGE[line] if text is None else text), label=label,
                      was=was, reason="read in context")


def test_unreviewed_boilerplate_of_a_distrusted_track_is_unknown_unless_evidenced(
        tmp_path: Path) -> None:
    doc, = load_jsonl(write_corpus(tmp_path), RuleSet.load(), Overlay())
    labels = dict(zip(doc.index, doc.labels.tolist()))
    assert labels[4] == 1  # a rule of ours removes the archive footer
    assert labels[5] == 1  # the line is a snippet the record says must go
    assert np.isnan(labels[2]) and np.isnan(labels[3])  # nobody confirmed these
    assert labels[0] == labels[1] == 0  # content labels are believed
    assert dict(zip(doc.index, doc.original.tolist()))[3] == 1


def test_trusted_tracks_keep_their_labels(tmp_path: Path) -> None:
    doc, = load_jsonl(write_corpus(tmp_path, track="fullpage"), RuleSet.load(), Overlay())
    assert doc.labels.tolist() == [float(x) for x in LABELS]


def test_corrections_apply_and_a_stale_one_is_skipped_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "corrections"
    append_corrections([correction(3, "C"), correction(2, "B"),
                        correction(1, "B", was="C", text="Eine ganz andere Zeile.")],
                       "fundus", folder)
    overlay = Overlay.load(folder)
    doc, = load_jsonl(write_corpus(tmp_path), RuleSet.load(), overlay)
    labels = dict(zip(doc.index, doc.labels.tolist()))
    assert labels[3] == 0  # judged content
    assert labels[2] == 1  # judged boilerplate: confirmed, so believed
    assert labels[1] == 0  # the correction no longer matches its line
    assert overlay.stale["fundus"] == 1 and overlay.applied["fundus"] == 2
    assert overlay.changed["fundus"] == 1
    assert doc.reviewed == {2, 3}


def test_worksheet_decisions_become_corrections(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    scores = tmp_path / "scores.jsonl"
    scores.write_text(json.dumps({"id": "fundus/lindau/residual",
                                  "scores": [0.1, 0.2, 0.3, 0.05, 0.99, 0.9]}) + "\n",
                      encoding="utf-8")
    sheet, folder = tmp_path / "sheet.txt", tmp_path / "corrections"
    assert audit.main([str(corpus), "--label", "B", "--scores", str(scores),
                       "--corrections", str(folder), "--worksheet", str(sheet)]) == 0
    text = sheet.read_text(encoding="utf-8")
    # most doubtful first: the model thinks line 3 is content (0.05), then line 2 (0.3)
    assert text.index("| 3 |") < text.index("| 2 |") < text.index("| 5 |")
    assert ">>    3 B  Der Stadtrat berät am Dienstag" in text
    decisions = tmp_path / "mine.tsv"
    decisions.write_text("1\tC\tparagraph of the second story\n2\t=\tteaser title\n",
                         encoding="utf-8")
    assert audit.main(["--apply", str(sheet), "--decisions", str(decisions),
                       "--corrections", str(folder)]) == 0
    written = [json.loads(r) for r in (folder / "fundus.jsonl").read_text().splitlines()]
    assert [(c["line"], c["label"], c["was"]) for c in written] == [(3, "C", "B"),
                                                                    (2, "B", "B")]
    # reviewed lines are not offered again
    assert audit.main([str(corpus), "--label", "B", "--scores", str(scores),
                       "--corrections", str(folder), "--worksheet", str(sheet)]) == 0
    assert "| 3 |" not in sheet.read_text(encoding="utf-8")


def test_a_decision_that_is_no_label_is_an_error(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.txt"
    sheet.write_text("=== item 1 of 1 ===\nkey: fundus | x/residual | 3 | abc\n"
                     "label: B   model: 0.30   rule: -\ndecision: maybe\nreason: \n",
                     encoding="utf-8")
    with pytest.raises(ValueError, match="'maybe' is not B, C"):
        list(audit.read_worksheet(sheet))


def test_relabel_writes_the_labels_training_uses(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path)
    folder = tmp_path / "corrections"
    append_corrections([correction(2, "C")], "fundus", folder)
    out = tmp_path / "out"
    assert relabel.main([str(corpus), "--out-dir", str(out), "--corrections", str(folder)]) == 0
    with gzip.open(out / corpus.name, "rt", encoding="utf-8") as f:
        record = json.loads(f.read())
    assert record["labels"] == [0, 0, 0, None, 1, 1]
    assert record["text"] == "\n".join(PAGE)


def test_site_is_the_url_host_when_there_is_one() -> None:
    assert site_of("wcxb", "wcxb/0001", "https://www.example.org/a/b") == "wcxb/example.org"
    assert site_of("dev", "dev/heise.de-artikel.html") == "dev/heise.de"
