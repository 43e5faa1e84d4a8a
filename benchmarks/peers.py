"""Peer line cleaners to compare ``cleaner`` against, scored with ``/work/shared/eval/score.py``.

Each peer is a plain ``str -> str`` function: the input is split on ``"\\n"`` (the scorer splits
lines the same way) and the output is the kept input lines, unchanged and in order, joined by
``"\\n"``. Nothing is rewritten, so the scorer's alignment is exact.

``justext_lines`` -- jusText (Pomikalek 2011; package ``justext``) with one paragraph per line.
    jusText classifies HTML blocks, so each non-blank line is HTML-escaped and wrapped in its
    own ``<p>``; paragraphs that jusText does not mark as boilerplate are kept. With every line
    a ``<p>`` there are no headings and no links, so jusText's heading rule and link density do
    not act; length, stopword density and its context revision (short/near-good paragraphs
    between good ones) do, with jusText's default thresholds.

    jusText needs a stoplist, and the corpus is multilingual (mostly German and English). The
    stoplist is chosen per document from ``CANDIDATE_LANGUAGES`` (the European languages of the
    corpus and their neighbours, plus Russian, Arabic and Indonesian) as the one with the most
    hits among the document's tokens, counted the way jusText counts them (whitespace tokens,
    lower-cased, punctuation attached). That is the stoplist under which jusText's own stopword
    density of the document is highest, i.e. the most favourable choice for the peer, and it
    costs one set lookup per distinct token and candidate. On the DEV corpus it agrees with the
    labelled language for 1312 of the 1320 documents in candidate languages; the misses are
    pages with little running text or mixed languages. Scripts written without spaces (Han,
    kana, Thai) have no usable whitespace tokens, so when most of a document's letters are in
    such scripts, or no candidate stoplist matches at all, jusText runs in its own
    language-independent mode (empty stoplist, both stopword thresholds 0, as its command line
    does for ``--stoplist=None``): paragraphs are then judged by length and context only.

``c4_lines`` -- the line-level rules of C4 (Raffel et al. 2020, "Exploring the Limits of
    Transfer Learning with a Unified Text-to-Text Transformer", section 2.2), as in the
    reference implementation ``clean_page`` of TensorFlow Datasets
    (``tensorflow_datasets/text/c4_utils.py``). A line (stripped) is kept only if

    * no whitespace token is longer than 1000 characters;
    * after removing Wikipedia-style citation marks (``[1]``, ``[edit]``,
      ``[citation needed]``) it ends in a terminal punctuation mark ``. ! ? "`` and not in an
      ellipsis ``...``;
    * it has at least 5 whitespace-separated words (TFDS ``_MIN_WORDS_PER_LINE = 5``, the
      paper's "at least 5 words"; datatrove's ``C4QualityFilter`` defaults to 3 words and also
      accepts ``'`` as an end mark -- that variant is not the paper's);
    * it does not contain "javascript" (case-insensitive);
    * it does not contain one of the cookie/terms-of-use policy phrases of TFDS.

    The page-level rules are NOT applied: dropping the whole page for "lorem ipsum", a curly
    bracket or a bad word, for having fewer than 3 sentences, for its language or its length,
    and the corpus-wide deduplication of lines. They decide whether a page enters the corpus,
    not which of its lines are boilerplate, and here every document must be cleaned. The lines
    are split on ``"\\n"`` rather than with ``str.splitlines`` so they are the scorer's lines.

Run ``python benchmarks/peers.py [--corpus PATH]`` for the scoring commands.
"""

from __future__ import annotations

import argparse
import html
import re
import shlex
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import justext

# --------------------------------------------------------------------------------------------
# jusText, one paragraph per line
# --------------------------------------------------------------------------------------------

#: jusText stoplists tried for each document (names as in ``justext.get_stoplists()``).
CANDIDATE_LANGUAGES: tuple[str, ...] = (
    "English", "German", "Spanish", "French", "Italian", "Portuguese", "Dutch", "Polish",
    "Czech", "Slovak", "Finnish", "Hungarian", "Swedish", "Danish", "Norwegian_Bokmal",
    "Romanian", "Turkish", "Russian", "Arabic", "Indonesian",
)

#: Unicode script name prefixes of writing systems without spaces between words.
_UNSPACED_SCRIPTS: tuple[str, ...] = ("CJK", "HIRAGANA", "KATAKANA", "THAI")

#: Characters lxml refuses in text (C0 controls other than tab, LF and CR; non-characters).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

#: The paragraph index in a jusText xpath such as ``/html[1]/body[1]/p[12]``.
_P_INDEX = re.compile(r"/p\[(\d+)\]$")


@cache
def _stoplist(language: str) -> frozenset[str]:
    """jusText's stoplist for ``language``, lower-cased as jusText compares it."""
    return frozenset(word.lower() for word in justext.get_stoplist(language))


def _unspaced_share(text: str) -> float:
    """Share of the letters of ``text`` that belong to scripts written without spaces."""
    letters = unspaced = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            if unicodedata.name(ch, "").startswith(_UNSPACED_SCRIPTS):
                unspaced += 1
    return unspaced / letters if letters else 0.0


def pick_stoplist(text: str) -> frozenset[str]:
    """The candidate stoplist with most hits in ``text``, or an empty one (no language fits).

    Tokens are counted as jusText counts them (``str.split`` and ``lower``), so the winner is
    the stoplist that gives the document its highest jusText stopword density. The empty set
    selects jusText's language-independent mode (see ``justext_lines``)."""
    if _unspaced_share(text) > 0.5:
        return frozenset()
    tokens = Counter(word.lower() for word in text.split())
    best: frozenset[str] = frozenset()
    best_hits = 0
    for language in CANDIDATE_LANGUAGES:
        stoplist = _stoplist(language)
        hits = sum(n for word, n in tokens.items() if word in stoplist)
        if hits > best_hits:
            best, best_hits = stoplist, hits
    return best


def _lines_as_html(lines: Iterable[str]) -> tuple[str, list[int]]:
    """An HTML page with one ``<p>`` per non-blank line, and the line number of each ``<p>``."""
    parts: list[str] = []
    line_of_p: list[int] = []
    for i, line in enumerate(lines):
        if line.strip():
            parts.append(f"<p>{html.escape(_XML_INVALID.sub(' ', line), quote=False)}</p>")
            line_of_p.append(i)
    return "<html><body>\n" + "\n".join(parts) + "\n</body></html>", line_of_p


def justext_lines(text: str) -> str:
    """Keep the lines that jusText classifies as content, each line being one paragraph.

    Paragraphs are mapped back to lines through their xpath (``.../p[k]`` is the k-th
    non-blank line), so a line that yields no paragraph (e.g. only control characters) is
    dropped without shifting the others. jusText's defaults are kept for every threshold;
    with an empty stoplist both stopword thresholds are 0, jusText's language-independent
    mode."""
    lines = text.split("\n")
    page, line_of_p = _lines_as_html(lines)
    if not line_of_p:
        return ""
    stoplist = pick_stoplist(text)
    extra: dict[str, float] = {} if stoplist else {"stopwords_low": 0.0, "stopwords_high": 0.0}
    keep: set[int] = set()
    for paragraph in justext.justext(page, stoplist, **extra):
        match = _P_INDEX.search(paragraph.xpath)
        if match and not paragraph.is_boilerplate:
            keep.add(line_of_p[int(match.group(1)) - 1])
    return "\n".join(line for i, line in enumerate(lines) if i in keep)


# --------------------------------------------------------------------------------------------
# C4 line rules
# --------------------------------------------------------------------------------------------

C4_MIN_WORDS_PER_LINE = 5
C4_MAX_WORD_LENGTH = 1000
C4_END_MARKS: tuple[str, ...] = (".", "?", "!", '"')
C4_ELLIPSIS = "..."
C4_POLICY_SUBSTRINGS: tuple[str, ...] = (
    "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
    "use cookies",
)
_C4_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")


def c4_keeps(line: str) -> bool:
    """True when the line-level rules of TFDS ``clean_page`` keep ``line`` (in its order)."""
    line = line.strip()
    if any(len(word) > C4_MAX_WORD_LENGTH for word in line.split()):
        return False
    line = _C4_CITATION.sub("", line)
    if not line.endswith(C4_END_MARKS) or line.endswith(C4_ELLIPSIS):
        return False
    if len(line.split()) < C4_MIN_WORDS_PER_LINE:
        return False
    lower = line.lower()
    return "javascript" not in lower and not any(p in lower for p in C4_POLICY_SUBSTRINGS)


def c4_lines(text: str) -> str:
    """Keep the lines that pass C4's line-level rules; page-level rules are not applied.

    The kept lines are returned as they are in the input (TFDS outputs them stripped and with
    citation marks removed, which the scorer's alignment would treat as the same lines)."""
    return "\n".join(line for line in text.split("\n") if c4_keeps(line))


# --------------------------------------------------------------------------------------------
# scoring commands
# --------------------------------------------------------------------------------------------

PEERS: tuple[str, ...] = ("justext_lines", "c4_lines")
DEFAULT_CORPUS = "/work/shared/data/dev.jsonl.gz"
DEFAULT_SCORER = "/work/shared/eval/score.py"


def main(argv: list[str] | None = None) -> int:
    """Print the score.py command for each peer (run them from the repository root)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="labelled JSONL(.gz) corpus")
    parser.add_argument("--scorer", default=DEFAULT_SCORER, help="path of score.py")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    for name in PEERS:
        cmd = [sys.executable, args.scorer, args.corpus,
               "--func", f"benchmarks.peers:{name}", "--path", str(root)]
        print(shlex.join(cmd))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
