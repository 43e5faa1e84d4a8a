"""The report page (``cleaner report``, ``--report``): read back with html.parser, as a
browser would see it, and checked against the cleaner's own decisions."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cleaner import Cleaner, CleanResult
from cleaner import removals as removals_module
from cleaner.config import SmoothingConfig
from cleaner.removals import Removals
from cleaner.report import render, settings_of

ARTICLE = (
    "Stadtwerke senken den Strompreis zum Jahreswechsel\n"
    "Die Stadtwerke Lindau senken den Arbeitspreis für Haushaltsstrom um 2,1 Cent.\n"
    "Anzeige\n"
    "\n"
    "Der Stadtrat berät am Dienstag über den Haushalt für das kommende Jahr.\n"
    "Jetzt unser Webinar zur Energiewende buchen und zehn Prozent sparen!\n"
    "Die Opposition verlangt eine Sondersitzung vor der Abstimmung im März.\n"
    "Teilen auf Facebook\n"
    "Archiviert unter: Energie, Lindau\n"
)
PROMO = "Jetzt unser Webinar zur Energiewende buchen und zehn Prozent sparen!"
DOUBT = "Die Opposition verlangt eine Sondersitzung vor der Abstimmung im März."
XSS = ("Polizei ermittelt nach Einbruch in der Altstadt\n"
       "<script>alert(1)</script>\n"
       '<img src="https://evil.example/x.png" onerror="alert(2)">\n'
       "Der Schaden wird auf mehrere tausend Euro geschätzt.\n"
       "Anzeige\n")


class _Scores:
    """A stand-in line model: a fixed P(boilerplate) for some lines, 0.05 for the rest;
    smoothing without switch costs, so each line keeps its own decision."""

    threshold = 0.5
    smoothing = SmoothingConfig(switch_cost=0.0)

    def __init__(self, probs: dict[str, float]) -> None:
        self.probs = probs

    def predict(self, docs: Any, memo: Any = None) -> list[Any]:
        import numpy as np

        return [np.array([np.nan if cat or not line else self.probs.get(line, 0.05)
                          for line, cat in zip(lines, cats)]) for lines, cats in docs]


@pytest.fixture(scope="module")
def scored() -> Cleaner:
    """The rules with the stand-in model: the promotion line is the model's (0.97), the
    opposition's demand is kept but close to the threshold (0.45)."""
    return Cleaner(model=_Scores({PROMO: 0.97, DOUBT: 0.45}))


@dataclass
class Line:
    tag: str
    classes: set[str]
    title: str
    text: str = ""


class Page(HTMLParser):
    """The parts of a report page that the tests read: each document's attributes and
    lines, every attribute and tag, the text outside lines, and the styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.docs: list[tuple[dict[str, str], list[Line]]] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._line: Line | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.attributes += [(tag, k, v) for k, v in values.items()]
        classes = set(values.get("class", "").split())
        if tag == "article":
            self.docs.append((values, []))
        elif "l" in classes and self.docs:
            self._line = Line(tag, classes, values.get("title", ""))
            self.docs[-1][1].append(self._line)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if self._line is not None and tag == self._line.tag:
            self._line = None
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._line is not None:
            self._line.text += data
        elif self._in_style:
            self.styles.append(data)
        else:
            self.text.append(data)

    def struck(self, doc: int) -> list[str]:
        return [line.text for line in self.docs[doc][1] if line.tag == "del"]

    def kept(self, doc: int) -> list[str]:
        return [line.text for line in self.docs[doc][1] if line.tag != "del" and line.text]


def parse(page: bytes) -> Page:
    parser = Page()
    parser.feed(page.decode("utf-8"))
    parser.close()
    return parser


def report(cleaner: Cleaner, texts: Sequence[str],
           records: Sequence[dict[str, Any]] | None = None, *, sample: int = 200,
           seed: int = 0) -> tuple[Page, Removals, list[CleanResult]]:
    """The page of ``texts`` cleaned by ``cleaner``, as the command line builds it."""
    removals = Removals(cleaner.threshold if cleaner.model is not None else None,
                        sample, seed)
    results = list(cleaner.explain_many(texts))
    for i, result in enumerate(results):
        removals.add(f"doc-{i}.txt", records[i] if records else None, result, 0)
    return parse(render(removals, settings_of(cleaner), ["corpus"])), removals, results


def test_struck_lines_are_exactly_the_removed_ones(scored: Cleaner) -> None:
    texts = [ARTICLE, XSS, "Nur ein sauberer Satz ohne Werbung.\n"]
    page, _, results = report(scored, texts)
    assert len(page.docs) == 3
    for i, result in enumerate(results):
        assert page.struck(i) == [d.text for d in result.removed]
        assert page.kept(i) == [d.text for d in result.decisions if d.kept and d.normalized]
    assert PROMO in page.struck(0) and "Anzeige" in page.struck(0)
    assert page.struck(2) == []


def test_lines_carry_their_reason_and_the_audit_filters(scored: Cleaner) -> None:
    page, removals, _ = report(scored, [ARTICLE])
    flags, lines = page.docs[0]
    by_text = {line.text: line for line in lines}
    promo, doubt, ad = by_text[PROMO], by_text[DOUBT], by_text["Anzeige"]
    assert "m" in promo.classes and "score 0.970 (threshold 0.500)" in promo.title
    assert "m" not in ad.classes and "rule: ad.marker" in ad.title and "score" not in ad.title
    assert promo.classes & ad.classes - {"l", "r"} == set(), "a colour per rule family"
    assert doubt.tag == "div" and "n" in doubt.classes and "kept" in doubt.title
    assert [line.text for line in lines if "n" in line.classes] == [DOUBT]
    assert set(flags["data-flags"]) == {"r", "m", "n"}
    assert (removals.model_removed, removals.near) == (1, 1)
    filters = [v for tag, k, v in page.attributes if tag == "input" and k == "value"]
    assert filters == ["r", "m", "n"]


def test_document_text_is_escaped(scored: Cleaner) -> None:
    page, _, _ = report(scored, [XSS])
    assert page.tags.count("script") == 1, "only the page's own script"
    assert "img" not in page.tags
    assert "<script>alert(1)</script>" in page.kept(0)
    assert '<img src="https://evil.example/x.png" onerror="alert(2)">' in page.kept(0)
    assert not any(k.startswith("on") for _, k, _ in page.attributes)


def test_the_page_loads_nothing_from_anywhere(scored: Cleaner) -> None:
    page, _, _ = report(scored, [XSS, ARTICLE],
                        [{"url": "https://news.example/a", "lang": "de"}, {"lang": "de"}])
    linked = [(tag, k, v) for tag, k, v in page.attributes if k in ("src", "href")]
    assert linked == []
    assert "link" not in page.tags and "iframe" not in page.tags
    assert page.styles and not any("url(" in s or "@import" in s for s in page.styles)
    assert "https://news.example/a" in "".join(page.text), "shown as text, not a link"


def test_summary_counts_every_document_and_shows_a_seeded_sample(scored: Cleaner) -> None:
    texts = [ARTICLE.replace("Lindau", f"Lindau {i}") for i in range(30)]
    page, removals, results = report(scored, texts, sample=5, seed=1)
    shown = [attrs["id"] for attrs, _ in page.docs]
    assert len(shown) == 5 and shown == sorted(shown, key=lambda s: int(s.split("-")[1]))
    assert any(int(s.split("-")[1]) > 5 for s in shown), "not just the first five"
    assert [attrs["id"] for attrs, _ in report(scored, texts, sample=5, seed=1)[0].docs] == shown
    assert [attrs["id"] for attrs, _ in report(scored, texts, sample=5, seed=2)[0].docs] != shown
    summary = " ".join(" ".join(page.text).split())
    assert "Showing 5 of 30 documents" in summary
    removed = sum(len(r.removed) for r in results)
    lines = sum(1 for r in results for d in r.decisions if d.normalized)
    assert removals.total.removed_lines == removed
    assert f"lines removed {removed} of {lines} non-blank lines" in summary
    assert "Removed lines by rule family" in summary and "Settings" in summary
    assert "threshold 0.500" in summary


def test_language_and_source_charts_come_from_record_fields(scored: Cleaner) -> None:
    records = [{"lang": "de", "source": "cc-2024"}, {"lang": "de", "source": "wiki"},
               {"lang": "en"}]
    texts = [ARTICLE, "Nur ein sauberer Satz ohne Werbung.\n", "A clean English sentence.\n"]
    page, removals, results = report(scored, texts, records)
    summary = " ".join(" ".join(page.text).split())
    assert "Removed per language" in summary and "Removed per source" in summary
    de = removals.groups["lang"]["de"]
    assert de.documents == 2 and de.removed_lines == len(results[0].removed)
    assert removals.groups["source"]["(none)"].documents == 1
    plain = " ".join(report(scored, texts)[0].text)
    assert "Removed per language" not in plain and "Removed per source" not in plain


def test_long_documents_are_cut_on_the_page_but_counted_whole(
        scored: Cleaner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(removals_module, "SHOWN_LINES", 4)
    page, removals, results = report(scored, [ARTICLE])
    assert len(page.docs[0][1]) == 4
    assert f"{results[0].line_count - 4} more lines not shown" in " ".join(page.text)
    assert removals.total.removed_lines == len(results[0].removed)


def test_settings_name_the_model_or_say_rules_only(scored: Cleaner,
                                                   rules_only: Cleaner) -> None:
    assert dict(settings_of(rules_only))["model"] == "none (rules only)"
    settings = dict(settings_of(scored))
    assert settings["model"] == "_Scores" and settings["threshold"].startswith("0.500")
    assert "switch cost 0.0" in settings["smoothing"]


# The command line, as a subprocess (rules only, for speed).

def cli(*args: str, cwd: Path | None = None,
        stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The command (``report`` too, when the first argument) with the rules only."""
    command = ["report", "--no-model", *args[1:]] if args[:1] == ("report",) else [
        "--no-model", *args]
    return subprocess.run([sys.executable, "-m", "cleaner", *command], input=stdin,
                          capture_output=True, cwd=cwd, timeout=120, check=False)


def test_report_command_reads_compressed_json_lines(tmp_path: Path,
                                                    rules_only: Cleaner) -> None:
    texts = [ARTICLE, XSS, "Ein Satz.\n"]
    shard = tmp_path / "shard.jsonl.gz"
    shard.write_bytes(gzip.compress("".join(
        json.dumps({"id": i, "body": t, "lang": "de"}) + "\n" for i, t in enumerate(texts)
    ).encode()))
    out = tmp_path / "report.html"
    proc = cli("report", "--jsonl", "--text-field", "body", str(shard), "-o", str(out))
    assert (proc.returncode, proc.stderr) == (0, b"")
    page = parse(out.read_bytes())
    assert [attrs["id"] for attrs, _ in page.docs] == ["doc-1", "doc-2", "doc-3"]
    for i, text in enumerate(texts):
        assert page.struck(i) == [d.text for d in rules_only.explain(text).removed]
    assert f"{shard}:2" in " ".join(page.text)


def test_bad_records_left_out_are_counted_on_the_page(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": ARTICLE}) + '\n{"text": 5}\n', encoding="utf-8")
    out = tmp_path / "report.html"
    proc = cli("report", "--jsonl", "--on-error", "skip", str(src), "-o", str(out))
    assert proc.returncode == 0 and b"record skipped" in proc.stderr
    page = parse(out.read_bytes())
    assert len(page.docs) == 1
    assert "bad records left out: 1 skipped, 0 passed through unchanged" in page.text


def test_report_command_reads_a_folder_with_glob(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text(XSS, encoding="utf-8")
    (corpus / "notes.md").write_text("Anzeige\n", encoding="utf-8")
    out = tmp_path / "report.html"
    assert cli("report", str(corpus), "--glob", "*.txt", "-o", str(out)).returncode == 0
    names = " ".join(parse(out.read_bytes()).text)
    assert "a.txt" in names and "b.txt" in names and "notes.md" not in names


def test_report_beside_a_normal_run_changes_nothing_else(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in (ARTICLE, XSS)),
                   encoding="utf-8")
    plain, with_page = tmp_path / "plain.jsonl", tmp_path / "out.jsonl"
    assert cli("--jsonl", str(src), "-o", str(plain)).returncode == 0
    proc = cli("--jsonl", str(src), "-o", str(with_page), "--report",
               str(tmp_path / "a.html"), "--jobs", "2")
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert with_page.read_bytes() == plain.read_bytes()
    assert cli("report", "--jsonl", str(src), "-o", str(tmp_path / "b.html")).returncode == 0
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()


def test_a_file_named_report_is_still_cleaned(tmp_path: Path) -> None:
    (tmp_path / "report").write_text("Ein Satz.\nAnzeige\n", encoding="utf-8")
    for args in (["./report"], ["--", "report"]):
        proc = cli(*args, cwd=tmp_path)
        assert (proc.returncode, proc.stdout) == (0, b"Ein Satz.\n"), args
    assert cli("report", cwd=tmp_path).returncode == 2  # the report command wants -o


def test_a_failed_input_leaves_no_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    out.write_text("yesterday's report\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    proc = cli("report", str(tmp_path / "a.txt"), str(tmp_path / "missing.txt"), "-o",
               str(out))
    assert proc.returncode == 1
    errors = proc.stderr.decode().splitlines()
    assert errors == [f"cleaner: error: {tmp_path / 'missing.txt'}: cannot read: No such "
                      "file or directory",
                      f"cleaner: error: {out}: report not written, since an input failed"]
    assert out.read_text(encoding="utf-8") == "yesterday's report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "report.html"]


@pytest.mark.parametrize("target, message", [
    ("nowhere/report.html", "output folder 'nowhere' does not exist"),
    ("a_folder", "is a folder; give a file name"),
    ("a.txt", "is an input file; the report needs a file of its own"),
])
def test_a_report_that_cannot_be_written_fails_before_cleaning(
        tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    proc = cli("report", "a.txt", "-o", target, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.decode() == f"cleaner: error: {target}: {message}\n"
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == ARTICLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "a_folder"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    proc = cli("report", "-o", str(locked / "r.html"), stdin=ARTICLE.encode())
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(f"cleaner: error: {locked / 'r.html'}: cannot "
                                           "write: Permission denied")


@pytest.mark.parametrize("args, message", [
    (["report", "a.txt", "-o", "r.html", "--sample", "0"], "--sample must be a positive"),
    (["a.txt", "--sample", "5"], "--sample and --seed go with --report"),
    (["a.txt", "-o", "r.html", "--report", "r.html"], "--report needs a file of its own"),
])
def test_report_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr.decode().splitlines()[-1]
    assert not (tmp_path / "r.html").exists()


CHROMIUM = next((path for name in ("chromium", "chromium-browser", "google-chrome",
                                   "google-chrome-stable") if (path := shutil.which(name))),
                None)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def chromium(page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Headless Chromium on ``page``, with a profile of its own under the page's folder."""
    proc = subprocess.run(
        [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={page.parent / 'profile'}", *args, page.as_uri()],
        capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture
def small_page(tmp_path: Path) -> Path:
    """A report on two documents with removed lines and one without."""
    src = tmp_path / "in.jsonl"
    texts = ((ARTICLE, "de"), (XSS, "de"), ("A clean English sentence.\n", "en"))
    src.write_text("".join(json.dumps({"text": t, "lang": lang}) + "\n" for t, lang in texts),
                   encoding="utf-8")
    page = tmp_path / "report.html"
    assert cli("report", "--jsonl", str(src), "-o", str(page)).returncode == 0
    return page


@needs_chromium
def test_the_page_renders_in_a_headless_browser(small_page: Path) -> None:
    shot = small_page.parent / "report.png"
    chromium(small_page, "--window-size=1200,1600", f"--screenshot={shot}")
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 20_000, "a blank page compresses to far less"


@needs_chromium
def test_a_filter_shows_only_the_documents_with_such_lines(small_page: Path) -> None:
    """The page's script, run by a browser with the "removed lines" filter checked."""
    html = small_page.read_text(encoding="utf-8")
    checked = html.replace('<input type="checkbox" value="r">',
                           '<input type="checkbox" value="r" checked>')
    assert checked != html
    small_page.write_text(checked, encoding="utf-8")
    dom = parse(chromium(small_page, "--dump-dom").stdout)
    hidden = {attrs["id"]: "hidden" in attrs for attrs, _ in dom.docs}
    assert hidden == {"doc-1": False, "doc-2": False, "doc-3": True}
    assert "2 of 3 documents" in dom.text
