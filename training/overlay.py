"""Label corrections: judgements of single corpus lines, read in context, kept beside the data.

The corpora in ``../shared/data`` were labelled by automatic alignment and are wrong in
places. A person who reads a line in its document and finds its label wrong under the
labelling policy (``fixtures/README.md``) records a correction; a person who finds it right
records that too, so the line counts as reviewed. Corrections live in the repository, one
JSONL file per source (``training/corrections/<source>.jsonl``), one object per line::

    {"id": "fundus/ABC_2025_01_13/residual", "line": 12, "sha1": "…", "label": "C",
     "was": "B", "reason": "standfirst under the headline"}

``line`` indexes ``text.split("\\n")`` of the record, ``sha1`` is the SHA-1 of that line's
text, ``label`` is ``B`` (boilerplate), ``C`` (content) or ``?`` (unknown), and ``was`` the
label it had. A correction whose ``sha1`` no longer matches its line (the corpus changed) is
skipped and counted, never applied to another line.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cleaner.labels import BOILERPLATE, CONTENT, UNKNOWN

FOLDER = Path(__file__).resolve().parent / "corrections"
TAG_OF_LABEL: dict[int | None, str] = {0: CONTENT, 1: BOILERPLATE, None: UNKNOWN}
LABEL_OF_TAG: dict[str, int | None] = {tag: label for label, tag in TAG_OF_LABEL.items()}


def line_sha1(text: str) -> str:
    """The fingerprint that ties a correction to the text of its line."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Correction:
    """One reviewed line: its label after reading (which may equal the one it had)."""

    id: str
    line: int
    sha1: str
    label: str
    was: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.label not in LABEL_OF_TAG or self.was not in LABEL_OF_TAG:
            raise ValueError(f"{self.id}:{self.line}: labels are B, C or ?, not "
                             f"{self.label!r} / {self.was!r}")

    @property
    def changed(self) -> bool:
        return self.label != self.was


@dataclass
class Overlay:
    """All corrections by record id and line, and what applying them did."""

    by_record: dict[str, dict[int, Correction]] = field(default_factory=dict)
    applied: Counter[str] = field(default_factory=Counter)  # per source: lines reviewed
    changed: Counter[str] = field(default_factory=Counter)  # per source: labels changed
    stale: Counter[str] = field(default_factory=Counter)  # per source: sha1 mismatches

    @classmethod
    def load(cls, folder: str | Path = FOLDER) -> Overlay:
        """Every ``*.jsonl`` file of ``folder``; the last correction of a line wins."""
        overlay = cls()
        for path in sorted(Path(folder).glob("*.jsonl")):
            for correction in read_corrections(path):
                overlay.by_record.setdefault(correction.id, {})[correction.line] = correction
        return overlay

    def reviewed(self, record_id: str) -> dict[int, Correction]:
        """The corrections of one record, by line."""
        return self.by_record.get(record_id, {})

    def apply(self, record_id: str, source: str, lines: Sequence[str],
              labels: Sequence[int | None]) -> tuple[list[int | None], set[int]]:
        """``labels`` with the record's corrections applied, and the lines reviewed."""
        out = list(labels)
        reviewed: set[int] = set()
        for number, correction in self.reviewed(record_id).items():
            if number >= len(lines) or line_sha1(lines[number]) != correction.sha1:
                self.stale[source] += 1
                continue
            out[number] = LABEL_OF_TAG[correction.label]
            reviewed.add(number)
            self.applied[source] += 1
            self.changed[source] += correction.changed
        return out, reviewed


def read_corrections(path: str | Path) -> list[Correction]:
    """The corrections of one file; a malformed line is an error naming file and line."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, row in enumerate(f, 1):
            if not row.strip():
                continue
            try:
                out.append(Correction(**json.loads(row)))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path}:{number}: not a correction: {e}") from None
    return out


def append_corrections(corrections: Iterable[Correction], source: str,
                       folder: str | Path = FOLDER) -> int:
    """Add corrections to ``<folder>/<source>.jsonl``; returns how many were written."""
    rows = [json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in corrections]
    if rows:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with open(Path(folder) / f"{source}.jsonl", "a", encoding="utf-8") as f:
            f.writelines(rows)
    return len(rows)
