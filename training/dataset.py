"""Labelled documents for training and evaluation, seen exactly as the pipeline shows them.

Sources: JSONL corpora (``{"id", "text", "labels", ...}`` per line, ``.gz`` allowed; the
dev corpus and ``fixtures/seeds/seeds.jsonl``) and labelled fixtures
(``fixtures/docs/**/*.txt``, :mod:`cleaner.labels` format).

Each document becomes the *view* the pipeline hands the model: normalized lines
(:func:`cleaner.normalize.normalize_text`), blank runs collapsed to one blank line, no
leading or trailing blank lines, with the rule category of every line
(:meth:`cleaner.rules.RuleSet.match`). Training on anything else would teach the model
features it never sees at inference.

Labels come in two versions. ``original`` is what the corpus says. ``labels`` is what
training and the corrected evaluation use: the corpus labels with the reviewed corrections
of :mod:`training.overlay` applied, and, in the tracks of :data:`DISTRUSTED` (whose
boilerplate labels were measured to be wrong a third of the time), every boilerplate label
that no one reviewed made unknown, unless a rule of ours fires on the line or the line is
one of the record's ``without`` snippets.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from cleaner.assemble import blank_counts, paragraph_view
from cleaner.io import file_sha256, read_jsonl
from cleaner.labels import read_labelled
from cleaner.normalize import normalize_text
from cleaner.rules import RuleSet
from training.overlay import FOLDER as CORRECTIONS
from training.overlay import Overlay

# (source, track) whose unreviewed boilerplate labels are not to be believed: in a sample
# read against the policy, 40 % (wcxb) and 32 % (fundus) of them were real content.
DISTRUSTED = frozenset({("wcxb", "residual"), ("fundus", "residual")})
_SPACES = re.compile(r"\s+")

_DOMAIN = re.compile(
    r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|de|org|net|pl|fr|es|cl|pe|at|ch|co\.uk|uk|it|info|eu"
    r"|io|ru|br|mx|ar|tv|fm|be|nl|us|ca|au|in|jp|cn|gov|edu)(?=$|[^a-z0-9])")


@dataclass
class Doc:
    """One labelled document in the model's view.

    ``labels`` holds 0 (content), 1 (boilerplate) or NaN (unknown, blank) per view line,
    as corrected (see the module's docstring); ``original`` the corpus's own labels the same
    way; ``index`` maps view lines to input lines (-1 for a collapsed blank line).
    """

    id: str
    page: str  # both tracks of a page share it: cross-validation groups
    site: str  # the site a page comes from: stricter cross-validation groups
    source: str
    track: str
    lang: str
    text_lines: list[str]  # the input lines, as given
    lines: list[str]
    cats: list[str | None]
    labels: np.ndarray
    index: list[int]
    original: np.ndarray
    reviewed: frozenset[int] = frozenset()  # input lines whose label a person judged
    url: str | None = None  # the page's address, if the corpus gives it


def _view_labels(labels: Sequence[int | None], index: Sequence[int]) -> np.ndarray:
    values = [np.nan if lab is None else float(lab) for lab in labels]
    return np.array([values[i] if i >= 0 else np.nan for i in index])


def page_of(record_id: str) -> str:
    """The page a record shows: its id without the ``/residual`` or ``/fullpage`` track."""
    head, _, tail = record_id.rpartition("/")
    return head if head and tail in ("residual", "fullpage") else record_id


def site_of(source: str, page: str, url: str | None = None) -> str:
    """The site of a page, so one site's template never serves to train its own test fold:
    the host of its URL when it has one, else a guess from its name (a domain in it, else
    the name stripped of trailing numbers)."""
    host = (urlsplit(url).hostname or "") if url else ""
    if host:
        return f"{source}/{host.removeprefix('www.')}"
    name = page.rpartition("/")[2].lower()
    found = _DOMAIN.findall(name)
    if found:
        host = found[-1] if " - " in name else found[0]
        return f"{source}/{host.removeprefix('www.')}"
    return f"{source}/{re.sub(r'[-_]?[0-9]+$', '', name)}"


def view(lines: Sequence[str]) -> list[int]:
    """Input line index of each view line (-1: one blank line standing for a blank run),
    as the pipeline shows a document to the model."""
    index: list[int] = paragraph_view(*blank_counts(lines)).tolist()
    return index


def _holds_snippet(line: str, snippets: Sequence[str]) -> bool:
    """Whether a snippet that must go makes up at least half of ``line``: a short one
    inside a long line ("Home" in a paragraph) proves nothing about the rest of it."""
    text = _SPACES.sub(" ", line).strip()
    return any(s and s in text and 2 * len(s) >= len(text) for s in snippets)


def make_doc(rules: RuleSet, *, id: str, text: str, labels: Sequence[int | None], source: str,
             track: str, lang: str | None, page: str | None = None, url: str | None = None,
             corrected: Sequence[int | None] | None = None, reviewed: Collection[int] = (),
             without: Sequence[str] = ()) -> Doc:
    """Build the view of one labelled document; labels are per input line, ``corrected``
    (default: ``labels``) with the corrections of the ``reviewed`` lines applied."""
    text_lines = text.split("\n")
    normalized = normalize_text(text)
    if len(normalized) != len(text_lines) or len(labels) != len(text_lines):
        raise ValueError(f"{id}: {len(labels)} labels for {len(text_lines)} lines "
                         f"({len(normalized)} after normalization)")
    index = view(normalized)
    lines = [normalized[i] if i >= 0 else "" for i in index]
    cats = [h.rule.category if h else None for h in rules.match(lines)]
    trusted = list(labels if corrected is None else corrected)
    if (source, track) in DISTRUSTED:
        snippets = [_SPACES.sub(" ", s).strip() for s in without]
        for k, i in enumerate(index):
            if (i >= 0 and trusted[i] == 1 and i not in reviewed and cats[k] is None
                    and not _holds_snippet(text_lines[i], snippets)):
                trusted[i] = None
    page = page or page_of(id)
    return Doc(id=id, page=page, site=site_of(source, page, url), source=source, track=track,
               lang=lang or "unknown", text_lines=text_lines, lines=lines, cats=cats,
               labels=_view_labels(trusted, index), index=index,
               original=_view_labels(labels, index), reviewed=frozenset(reviewed), url=url)


def load_jsonl(path: str | Path, rules: RuleSet, overlay: Overlay | None = None) -> list[Doc]:
    """Documents of a labelled JSONL corpus, with the corrections of ``overlay`` (none by
    default) applied."""
    docs = []
    for rec in read_jsonl(path):
        record_id, text = str(rec["id"]), str(rec["text"])
        source = str(rec.get("source") or Path(path).stem)
        labels: list[int | None] = rec["labels"]  # type: ignore[assignment]
        corrected, reviewed = (overlay.apply(record_id, source, text.split("\n"), labels)
                               if overlay is not None else (labels, set()))
        docs.append(make_doc(
            rules, id=record_id, text=text, labels=labels, source=source,
            track=str(rec.get("track") or "residual"), lang=rec.get("lang"),  # type: ignore[arg-type]
            url=rec.get("url"), corrected=corrected, reviewed=reviewed,  # type: ignore[arg-type]
            without=rec.get("without") or ()))  # type: ignore[arg-type]
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
    return {str(p): file_sha256(p) for p in paths}


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
    parser.add_argument("--corrections", default=str(CORRECTIONS),
                        help="folder of label corrections to apply ('' for none: the "
                             "corpora's own labels)")
    parser.add_argument("--fixtures", default="fixtures",
                        help="folder with docs/**/*.txt and seeds/seeds.jsonl ('' for none)")
