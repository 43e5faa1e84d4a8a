"""Labelled documents for training and evaluation, seen exactly as the pipeline shows them.

Sources: JSONL corpora (``{"id", "text", "labels", ...}`` per line, ``.gz`` allowed; the
dev corpus and ``fixtures/seeds/seeds.jsonl``) and labelled fixtures
(``fixtures/docs/**/*.txt``, :mod:`cleaner.labels` format).

Each document becomes the *view* the pipeline hands the model: normalized lines
(:func:`cleaner.normalize.normalize_text`), blank runs collapsed to one blank line, no
leading or trailing blank lines, with the rule category of every line
(:meth:`cleaner.rules.RuleSet.match`). Training on anything else would teach the model
features it never sees at inference.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cleaner.labels import read_labelled
from cleaner.normalize import normalize_text
from cleaner.rules import RuleSet

_DOMAIN = re.compile(
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|de|org|net|pl|fr|es|cl|pe|at|ch|co\.uk|uk|it|info|eu"
    r"|io|ru|br|mx|ar|tv|fm|be|nl|us|ca|au|in|jp|cn|gov|edu)(?=$|[^a-z0-9])")


@dataclass
class Doc:
    """One labelled document in the model's view.

    ``labels`` holds 0 (content), 1 (boilerplate) or NaN (unknown, blank) per view line;
    ``index`` maps view lines to input lines (-1 for a collapsed blank line).
    """

    id: str
    page: str  # both tracks of a page share it: cross-validation groups
    site: str  # the site a page comes from: stricter cross-validation groups
    source: str
    track: str
    lang: str
    original: list[str]  # the input lines, as given
    lines: list[str]
    cats: list[str | None]
    labels: np.ndarray
    index: list[int]


def page_of(record_id: str) -> str:
    """The page a record shows: its id without the ``/residual`` or ``/fullpage`` track."""
    head, _, tail = record_id.rpartition("/")
    return head if head and tail in ("residual", "fullpage") else record_id


def site_of(source: str, page: str) -> str:
    """A best guess at the site of a page, from its name (domain, else the name stripped of
    trailing numbers), so one site's template never serves to train its own test fold."""
    name = page.rpartition("/")[2].lower()
    found = _DOMAIN.findall(name)
    if found:
        host = found[-1] if " - " in name else found[0]
        return f"{source}/{host.removeprefix('www.')}"
    return f"{source}/{re.sub(r'[-_]?[0-9]+$', '', name)}"


def view(lines: Sequence[str]) -> list[int]:
    """Input line index of each view line (-1: one blank line standing for a blank run)."""
    alive = [i for i, line in enumerate(lines) if line.strip()]
    out: list[int] = []
    for prev, i in zip([None, *alive], alive):
        if prev is not None and i > prev + 1:
            out.append(-1)
        out.append(i)
    return out


def make_doc(rules: RuleSet, *, id: str, text: str, labels: Sequence[int | None], source: str,
             track: str, lang: str | None, page: str | None = None) -> Doc:
    """Build the view of one labelled document; labels are per input line."""
    original = text.split("\n")
    normalized = normalize_text(text)
    if len(normalized) != len(original) or len(labels) != len(original):
        raise ValueError(f"{id}: {len(labels)} labels for {len(original)} lines "
                         f"({len(normalized)} after normalization)")
    index = view(normalized)
    lines = [normalized[i] if i >= 0 else "" for i in index]
    hits = rules.match(lines)
    lab = np.array([np.nan if i < 0 or labels[i] is None else float(labels[i]) for i in index])
    page = page or page_of(id)
    return Doc(id=id, page=page, site=site_of(source, page), source=source, track=track,
               lang=lang or "unknown", original=original, lines=lines,
               cats=[h.rule.category if h else None for h in hits], labels=lab, index=index)


def read_jsonl(path: str | Path) -> Iterator[dict[str, object]]:
    """Records of a JSONL file, gzip-compressed or not."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rt", encoding="utf-8") if gz
          else open(path, encoding="utf-8")) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_jsonl(path: str | Path, rules: RuleSet) -> list[Doc]:
    """Documents of a labelled JSONL corpus."""
    docs = []
    for rec in read_jsonl(path):
        docs.append(make_doc(
            rules, id=str(rec["id"]), text=str(rec["text"]), labels=rec["labels"],  # type: ignore[arg-type]
            source=str(rec.get("source") or Path(path).stem),
            track=str(rec.get("track") or "residual"), lang=rec.get("lang")))  # type: ignore[arg-type]
    return docs


def load_fixtures(folder: str | Path, rules: RuleSet) -> list[Doc]:
    """Labelled fixture documents (``**/*.txt``) plus ``seeds/seeds.jsonl`` if present."""
    root = Path(folder)
    docs = []
    for path in sorted(root.glob("docs/**/*.txt")):
        ld = read_labelled(path)
        name = path.relative_to(root).as_posix()
        docs.append(make_doc(rules, id=name, text=ld.text, labels=ld.labels(),
                             source="fixtures", track=ld.meta.get("track", "residual"),
                             lang=ld.meta.get("lang") or path.parent.name, page=name))
    seeds = root / "seeds" / "seeds.jsonl"
    if seeds.exists():
        docs += load_jsonl(seeds, rules)
    return docs


def digest(paths: Iterable[str | Path]) -> dict[str, str]:
    """SHA-256 of each training file, for the manifest."""
    out = {}
    for p in paths:
        out[str(p)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return out


def fixture_files(folder: str | Path) -> list[Path]:
    """The files :func:`load_fixtures` reads, in order."""
    root = Path(folder)
    files = sorted(root.glob("docs/**/*.txt"))
    seeds = root / "seeds" / "seeds.jsonl"
    return files + ([seeds] if seeds.exists() else [])


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--data`` and ``--fixtures`` options that training and evaluation share."""
    parser.add_argument("--data", action="append", default=[],
                        help="labelled JSONL corpus (repeatable), e.g. ../shared/data/dev.jsonl.gz")
    parser.add_argument("--fixtures", default="fixtures",
                        help="folder with docs/**/*.txt and seeds/seeds.jsonl ('' for none)")
