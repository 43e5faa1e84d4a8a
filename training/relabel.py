"""Write corpora with the corrected labels, and count what the corrections changed.

    python -m training.relabel ../shared/data/dev.jsonl.gz ... --out-dir corrected/

Each corpus is written again (same name, same records) with the labels that training and
the corrected evaluation use (see :mod:`training.dataset`): reviewed corrections applied,
and the unreviewed boilerplate labels of the distrusted tracks made unknown. The official
scorer then measures a cleaner against them::

    python ../shared/eval/score.py corrected/wcxb.jsonl.gz --jsonl-cmd "cleaner --jsonl"

The table printed per source and track counts the labelled lines before and after, the
lines reviewed, the labels changed (by kind) and corrections that no longer match their
line (stale).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cleaner.io import read_jsonl
from cleaner.rules import RuleSet
from training.dataset import Doc, load_jsonl
from training.overlay import FOLDER, TAG_OF_LABEL, Overlay


def input_labels(doc: Doc, count: int) -> list[int | None]:
    """The document's corrected labels per input line (None off the view: blank lines)."""
    out: list[int | None] = [None] * count
    for k, i in enumerate(doc.index):
        if i >= 0 and not np.isnan(doc.labels[k]):
            out[i] = int(doc.labels[k])
    return out


def relabel(path: Path, out_dir: Path, rules: RuleSet, overlay: Overlay,
            counts: dict[str, Counter[str]]) -> Path:
    """Write ``path`` again under ``out_dir`` with corrected labels; add to ``counts``."""
    docs = {d.id: d for d in load_jsonl(path, rules, overlay)}
    out = out_dir / path.name
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for rec in read_jsonl(path):
            doc = docs[str(rec["id"])]
            before: list[int | None] = rec["labels"]  # type: ignore[assignment]
            after = input_labels(doc, len(before))
            c = counts.setdefault(f"{doc.source}/{doc.track}", Counter())
            c["labelled before"] += sum(lab is not None for lab in before)
            c["labelled after"] += sum(lab is not None for lab in after)
            reviewed = {number: correction for number, correction
                        in overlay.reviewed(doc.id).items() if number in doc.reviewed}
            for correction in reviewed.values():
                c["reviewed"] += 1
                if correction.changed:
                    c[f"{correction.was}->{correction.label}"] += 1
            c["made unknown"] += sum(b == 1 and a is None and i not in reviewed
                                     for i, (b, a) in enumerate(zip(before, after)))
            f.write(json.dumps({**rec, "labels": after}, ensure_ascii=False) + "\n")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", type=Path, help="labelled JSONL corpora (.gz allowed)")
    ap.add_argument("--out-dir", type=Path, required=True, help="folder for the new corpora")
    ap.add_argument("--corrections", type=Path, default=FOLDER,
                    help=f"folder of the corrections files (default: {FOLDER})")
    args = ap.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    overlay = Overlay.load(args.corrections)
    rules = RuleSet.load()
    counts: dict[str, Counter[str]] = {}
    for path in args.data:
        if path.resolve().parent == args.out_dir.resolve():
            ap.error(f"{path}: --out-dir must not be the corpus's own folder")
        print(f"wrote {relabel(path, args.out_dir, rules, overlay, counts)}", file=sys.stderr)
    kinds = [f"{a}->{b}" for a in TAG_OF_LABEL.values() for b in TAG_OF_LABEL.values() if a != b]
    columns = ["labelled before", "labelled after", "reviewed", *kinds, "made unknown"]
    print("| source/track | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for key, c in sorted(counts.items()):
        print(f"| {key} | " + " | ".join(str(c[col]) for col in columns) + " |")
    stale = sum(overlay.stale.values())
    if stale:
        print(f"{stale} corrections no longer match their line and were skipped: "
              f"{dict(overlay.stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
