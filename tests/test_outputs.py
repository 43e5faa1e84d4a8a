"""Outputs that fit the pipelines users already run: per-document figures, dropping documents
cleaned to nothing, a JSON text's own final-newline convention, missing texts passed
through, and a stopped JSONL run that keeps what it wrote.

The command line runs as a real subprocess (rules only unless a test needs the model), so
exit codes, streams and output files are the real thing.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cleaner import Cleaner, DocStats, Stage
from cleaner.config import SmoothingConfig

FRENCH = "Le gouvernement a répondu mardi aux critiques.\nPublicité\nArchivé sous :"
FRENCH_REMOVED = ["Publicité", "Archivé sous :"]
GERMAN = ("Die Regierung reagierte am Dienstag auf die Vorwürfe.\n\n"
          "Der Minister kündigte eine Untersuchung an.\nAnzeige\n")
RUSSIAN = "Правительство ответило во вторник на обвинения.\n"
ALL_JUNK = "Anzeige\nArchiviert unter:\n"


def run(*args: str, stdin: bytes | str = b"", model: bool = False,
        ) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    flags = [] if model else ["--no-model"]
    return subprocess.run([sys.executable, "-m", "cleaner", *flags, *args], input=data,
                          capture_output=True, timeout=120, check=False)


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def rows(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.splitlines()]


def error_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode()
    assert err.startswith("cleaner: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# 1. Per-document figures ----------------------------------------------------------------------

def test_doc_stats_count_the_removed_lines_and_characters(rules_only: Cleaner) -> None:
    figures = rules_only.explain(FRENCH).doc_stats
    lines = FRENCH.split("\n")
    assert (figures.lines, figures.lines_removed) == (len(lines), len(FRENCH_REMOVED))
    assert figures.chars == sum(map(len, lines))
    assert figures.chars_removed == sum(map(len, FRENCH_REMOVED))
    assert figures.line_fraction_removed == len(FRENCH_REMOVED) / len(lines)
    assert figures.char_fraction_removed == figures.chars_removed / figures.chars
    assert figures.removed_by_rule == {"ad": 1, "archive": 1}
    assert (figures.removed_by_model, figures.removed_by_repetition) == (0, 0)


def test_doc_stats_leave_blank_lines_out_and_are_zero_for_an_empty_document(
        rules_only: Cleaner) -> None:
    figures = rules_only.explain(GERMAN).doc_stats
    assert (figures.lines, figures.lines_removed) == (3, 1)  # the blank line is layout
    empty = rules_only.explain("\n \n").doc_stats
    assert empty == DocStats(0, 0, 0, 0)
    assert (empty.line_fraction_removed, empty.char_fraction_removed) == (0.0, 0.0)


class _Exclaiming:
    """A stand-in line model: a line with "!!" is junk, any other content."""

    threshold = 0.5
    smoothing = SmoothingConfig()

    def predict(self, docs: Any, memo: Any = None) -> list[Any]:
        return [np.array([np.nan if cat or not line else float("!!" in line)
                          for line, cat in zip(lines, cats)]) for lines, cats in docs]


def test_doc_stats_count_model_removals_apart_from_rule_categories() -> None:
    doc = ("Der Stadtrat beschloss am Mittwoch den neuen Haushalt.\n"
           "Jetzt zugreifen!! Nur heute 50 % Rabatt auf alle Abos!!\n"
           "Die Opposition stimmte dagegen.\nAnzeige\nTeilen auf Facebook\n")
    cleaner = Cleaner(model=_Exclaiming())
    full = cleaner.explain(doc)
    figures = full.doc_stats
    by_model = [d for d in full.removed if d.stage in (Stage.MODEL, Stage.SMOOTHING)]
    assert len(by_model) >= 1 and figures.removed_by_model == len(by_model)
    assert figures.removed_by_rule == Counter(d.category for d in full.removed
                                              if d.stage is Stage.RULE)
    assert sum(figures.removed_by_rule.values()) + figures.removed_by_model == len(full.removed)
    (brief,) = cleaner.explain_many([doc], brief=True)
    assert brief.doc_stats == figures  # the removed lines and the text are all it needs


def test_doc_stats_of_a_document_cleaned_in_segments_are_those_of_the_whole() -> None:
    doc = "\n\n".join(f"Absatz {i}: der Ausschuss tagte bis spät.\nAnzeige" for i in range(60))
    whole = Cleaner(use_model=False).explain(doc).doc_stats
    cut = Cleaner(use_model=False, segment_chars=300).explain(doc)
    assert cut.segments > 1
    assert cut.doc_stats == whole and whole.removed_by_rule == {"ad": 60}


def test_whitespace_only_lines_are_not_removed_lines_without_space_normalization() -> None:
    result = Cleaner(use_model=False, normalize_spaces=False).explain(
        "   \nDer Bericht erschien am Montag.\nAnzeige\n \t \n")
    assert [d.text for d in result.removed] == ["Anzeige"]
    assert result.doc_stats.lines == 2


def test_cli_doc_stats_field_holds_the_library_figures(rules_only: Cleaner) -> None:
    records = [{"id": "fr", "text": FRENCH}, {"id": "de", "text": GERMAN},
               {"id": "ru", "text": RUSSIAN}]
    proc = run("--jsonl", "--doc-stats", "cleaning", stdin=jsonl(*records))
    assert proc.returncode == 0, proc.stderr
    out = rows(proc.stdout)
    assert [r["id"] for r in out] == ["fr", "de", "ru"]
    for record, row in zip(records, out):
        assert row["cleaning"] == rules_only.explain(record["text"]).doc_stats.as_dict()
    assert out[0]["cleaning"]["lines_removed_by"] == {"rule": {"ad": 1, "archive": 1},
                                                       "model": 0, "repetition": 0}
    assert out[2]["cleaning"]["line_fraction_removed"] == 0.0


def test_doc_stats_field_goes_with_removed_field() -> None:
    proc = run("--jsonl", "--doc-stats", "cleaning", "--removed-field", "removed",
               stdin=jsonl({"text": FRENCH}))
    (row,) = rows(proc.stdout)
    assert row["removed"] == FRENCH_REMOVED
    assert row["cleaning"]["lines_removed"] == len(row["removed"])


@pytest.mark.parametrize(("args", "message"), [
    (["--jsonl", "--doc-stats", "text"], "--doc-stats must differ from --text-field"),
    (["--jsonl", "--text-field", "body", "--doc-stats", "body"],
     "--doc-stats must differ from --text-field"),
    (["--jsonl", "--doc-stats", "x", "--removed-field", "x"],
     "--removed-field and --doc-stats must name different fields"),
    (["--doc-stats", "x"], "go with --jsonl"),
    (["--drop-empty", "--explain"], "--drop-empty does not go with --explain"),
    (["--jsonl", "--keep-partial"], "--keep-partial goes with -o/--output"),
])
def test_conflicting_flags_are_usage_errors(args: list[str], message: str) -> None:
    proc = run(*args, stdin=jsonl({"text": FRENCH}))
    assert proc.returncode == 2
    assert message in proc.stderr.decode() and proc.stdout == b""


def test_a_record_that_has_the_doc_stats_field_is_a_bad_record() -> None:
    stdin = jsonl({"id": 1, "text": GERMAN}, {"id": 2, "text": FRENCH, "cleaning": "mine"})
    proc = run("--jsonl", "--doc-stats", "cleaning", stdin=stdin)
    assert proc.returncode == 1
    assert ("<stdin>:2: record already has a 'cleaning' field, which --doc-stats would "
            "overwrite") in error_line(proc)
    assert [r["id"] for r in rows(proc.stdout)] == [1]
    kept = run("--jsonl", "--doc-stats", "cleaning", "--on-error", "keep", stdin=stdin)
    assert kept.returncode == 0
    assert rows(kept.stdout)[1] == {"id": 2, "text": FRENCH, "cleaning": "mine"}


# 2. --drop-empty ------------------------------------------------------------------------------

def test_drop_empty_skips_records_cleaned_to_nothing_and_counts_them() -> None:
    stdin = jsonl({"id": 1, "text": GERMAN}, {"id": 2, "text": ALL_JUNK},
                  {"id": 3, "text": ""}, {"id": 4, "text": RUSSIAN})
    dropped = run("--jsonl", "--drop-empty", "--stats", stdin=stdin)
    assert dropped.returncode == 0, dropped.stderr
    assert [r["id"] for r in rows(dropped.stdout)] == [1, 4]
    err = dropped.stderr.decode()
    assert "documents dropped as empty: 2\n" in err
    assert ("records: 4 in, 2 cleaned, 2 dropped as empty, 0 passed through unchanged, "
            "0 skipped") in err
    default = run("--jsonl", "--stats", stdin=stdin)
    assert [(r["id"], r["text"]) for r in rows(default.stdout)][1:3] == [(2, ""), (3, "")]
    assert "dropped as empty" not in default.stderr.decode()


def test_drop_empty_writes_no_file_for_a_text_cleaned_to_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "de").mkdir(parents=True)
    (corpus / "de" / "artikel.txt").write_text(GERMAN, encoding="utf-8")
    (corpus / "de" / "leer.txt").write_text(ALL_JUNK, encoding="utf-8")
    (corpus / "ru.txt").write_text(RUSSIAN, encoding="utf-8")
    proc = run(str(corpus), "-o", str(tmp_path / "out"), "--drop-empty", "--stats")
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.relative_to(tmp_path / "out").as_posix()
                     for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == ["de/artikel.txt", "ru.txt"]
    assert "documents dropped as empty: 1\n" in proc.stderr.decode()
    default = run(str(corpus / "de" / "leer.txt"), "-o", str(tmp_path / "leer.txt"))
    assert default.returncode == 0 and (tmp_path / "leer.txt").read_bytes() == b""


def test_drop_empty_writes_no_file_for_a_long_text_cleaned_to_nothing(tmp_path: Path) -> None:
    src = tmp_path / "junk.txt"
    src.write_text("\n\n".join(["Anzeige\nArchiviert unter:"] * 200) + "\n", encoding="utf-8")
    proc = run(str(src), "-o", str(tmp_path / "out.txt"), "--drop-empty", "--stats",
               "--segment-chars", "500", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "out.txt").exists()
    err = proc.stderr.decode()
    assert "segmented documents: 1" in err and "documents dropped as empty: 1" in err


def test_drop_empty_on_standard_output_and_in_place(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ALL_JUNK, encoding="utf-8")
    (tmp_path / "b.txt").write_text(RUSSIAN, encoding="utf-8")
    proc = run(str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--drop-empty")
    assert proc.returncode == 0 and proc.stdout.decode() == RUSSIAN
    in_place = run("--in-place", "--drop-empty", str(tmp_path / "a.txt"))
    assert in_place.returncode == 2 and "--in-place" in in_place.stderr.decode()
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == ALL_JUNK


# 3. A JSON text keeps its final-newline convention --------------------------------------------

ENDINGS = [  # (input text, its cleaned text in the JSON output)
    (FRENCH, "Le gouvernement a répondu mardi aux critiques."),
    (FRENCH + "\n", "Le gouvernement a répondu mardi aux critiques.\n"),
    (FRENCH.replace("\n", "\r\n") + "\r\n", "Le gouvernement a répondu mardi aux critiques.\n"),
    ("Rząd odpowiedział we wtorek.\u2028Reklama", "Rząd odpowiedział we wtorek."),
    ("Rząd odpowiedział we wtorek.\u2028Reklama\u2029", "Rząd odpowiedział we wtorek.\n"),
    ("第一段内容。\n\n第二段内容。", "第一段内容。\n\n第二段内容。"),
    ("第一段内容。\n\n\n第二段内容。\n", "第一段内容。\n\n第二段内容。\n"),
    (ALL_JUNK.rstrip("\n"), ""),
]


def test_jsonl_text_ends_as_its_input_did() -> None:
    proc = run("--jsonl", stdin=jsonl(*({"id": i, "text": text}
                                        for i, (text, _) in enumerate(ENDINGS))))
    assert proc.returncode == 0, proc.stderr
    assert rows(proc.stdout) == [{"id": i, "text": cleaned}
                                 for i, (_, cleaned) in enumerate(ENDINGS)]


def test_plain_text_still_ends_with_one_newline(tmp_path: Path) -> None:
    (tmp_path / "fr.txt").write_text(FRENCH, encoding="utf-8")
    proc = run(str(tmp_path / "fr.txt"))
    assert proc.stdout.decode() == "Le gouvernement a répondu mardi aux critiques.\n"


def test_library_text_still_ends_with_one_newline(rules_only: Cleaner) -> None:
    assert rules_only.clean(FRENCH) == "Le gouvernement a répondu mardi aux critiques.\n"


def test_stats_count_a_last_line_without_newline() -> None:
    proc = run("--jsonl", "--stats", stdin=jsonl({"text": FRENCH}, {"text": RUSSIAN}))
    assert "lines: 5 in, 2 out" in proc.stderr.decode()  # 3 + 2 ("...\n" ends a line)
    cleaned = b"".join(json.loads(line)["text"].encode() for line in proc.stdout.splitlines())
    assert f"bytes: {len(FRENCH.encode()) + len(RUSSIAN.encode())} in, {len(cleaned)} out" \
        in proc.stderr.decode()


# 4. Missing texts -------------------------------------------------------------------------------

def test_null_text_passes_through_unchanged_and_is_counted() -> None:
    null_line = b'{"id": 2,  "text": null, "lang": "de"}\n'
    stdin = jsonl({"id": 1, "text": FRENCH}) + null_line + jsonl({"id": 3, "text": RUSSIAN})
    proc = run("--jsonl", "--stats", "--doc-stats", "cleaning", "--drop-empty", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines(keepends=True)[1] == null_line  # byte for byte
    assert ("records: 3 in, 2 cleaned, 0 dropped as empty, 1 passed through unchanged, "
            "0 skipped") in proc.stderr.decode()


def test_a_non_string_text_is_still_an_error() -> None:
    proc = run("--jsonl", stdin=jsonl({"id": 1, "text": FRENCH}, {"id": 2, "text": ["a"]}))
    assert proc.returncode == 1
    assert "<stdin>:2: field 'text' is list, not a string" in error_line(proc)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_clean_many_gives_none_back_for_a_missing_text_in_place(rules_only: Cleaner,
                                                                n_jobs: int) -> None:
    texts = [FRENCH, None, GERMAN, float("nan"), RUSSIAN] * 3
    cleaned = list(rules_only.clean_many(texts, n_jobs=n_jobs, batch_size=2))
    expected = [None if not isinstance(t, str) else rules_only.clean(t) for t in texts]
    assert cleaned == expected
    results = list(rules_only.explain_many(texts, n_jobs=n_jobs, batch_size=2, brief=True))
    assert [r is None for r in results] == [not isinstance(t, str) for t in texts]
    assert [r.text for r in results if r is not None] == [c for c in expected if c]


def test_pandas_missing_values_come_back_as_none(rules_only: Cleaner) -> None:
    pd = pytest.importorskip("pandas")
    column = pd.Series([GERMAN, None, RUSSIAN], dtype="string")  # missing is pandas.NA
    assert list(rules_only.clean_many(column.tolist())) == [
        rules_only.clean(GERMAN), None, RUSSIAN]
    frame = pd.DataFrame({"text": [FRENCH, float("nan")]})
    assert list(rules_only.clean_many(frame["text"])) == [rules_only.clean(FRENCH), None]


@pytest.mark.parametrize("value", [1.5, 7, b"Anzeige"])
def test_other_non_strings_still_raise(rules_only: Cleaner, value: object) -> None:
    with pytest.raises(TypeError, match="cleaner works on str"):
        list(rules_only.clean_many([GERMAN, value]))  # type: ignore[list-item]


def test_single_document_calls_still_want_a_string(rules_only: Cleaner) -> None:
    with pytest.raises(TypeError, match="not NoneType"):
        rules_only.clean(None)  # type: ignore[arg-type]


# 5. A bad record stops the run: what -o keeps -------------------------------------------------

def _shard_with_a_bad_record(good: int) -> bytes:
    records = [{"id": i, "text": f"Absatz {i}: der Ausschuss tagte bis spät.\nAnzeige"}
               for i in range(good)]
    return jsonl(*records) + b'{"id": "kaputt", "text": \n' + jsonl({"id": "after",
                                                                     "text": GERMAN})


def test_output_file_is_not_written_when_a_bad_record_stops_the_run(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("from an earlier run\n", encoding="utf-8")
    proc = run("--jsonl", "--jobs", "1", "-o", str(target),
               stdin=_shard_with_a_bad_record(300))
    assert proc.returncode == 1
    err = error_line(proc)
    assert "<stdin>:301: malformed JSON" in err
    assert f"({target} not written; --keep-partial keeps the records before it)" in err
    assert target.read_text(encoding="utf-8") == "from an earlier run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


@pytest.mark.parametrize(("suffix", "decompress", "jobs"), [("", bytes, "1"),
                                                           (".gz", gzip.decompress, "2")])
def test_keep_partial_keeps_every_record_before_the_bad_one(
        tmp_path: Path, suffix: str, decompress: Callable[[bytes], bytes], jobs: str) -> None:
    target = tmp_path / f"out.jsonl{suffix}"
    proc = run("--jsonl", "--jobs", jobs, "-o", str(target), "--keep-partial",
               stdin=_shard_with_a_bad_record(300))
    assert proc.returncode == 1
    err = error_line(proc)
    assert "<stdin>:301: malformed JSON" in err and f"({target} holds the records before it)" in err
    out = rows(decompress(target.read_bytes()))
    assert [r["id"] for r in out] == list(range(300))
    assert out[299]["text"] == "Absatz 299: der Ausschuss tagte bis spät."


def test_in_place_leaves_the_original_when_a_record_is_bad(tmp_path: Path) -> None:
    shard = tmp_path / "shard.jsonl"
    shard.write_bytes(_shard_with_a_bad_record(3))
    proc = run("--jsonl", "--in-place", str(shard))
    assert proc.returncode == 1
    assert f"({shard} left as it was)" in error_line(proc)
    assert shard.read_bytes() == _shard_with_a_bad_record(3)
    refused = run("--jsonl", "--in-place", "--keep-partial", str(shard))
    assert refused.returncode == 2


def test_a_truncated_gzip_shard_writes_every_complete_record_first(tmp_path: Path) -> None:
    records = [{"id": i, "text": f"Absatz {i}: der Ausschuss tagte bis spät.\nAnzeige\n"}
               for i in range(600)]
    packed = gzip.compress(jsonl(*records))
    cut = packed[:len(packed) * 3 // 4]
    complete = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
    assert 256 < complete < 600  # more than one batch of records before the cut
    proc = run("--jsonl", "--jobs", "1", stdin=cut)
    assert proc.returncode == 1
    assert "<stdin>: cannot read: Compressed file ended" in error_line(proc)
    assert [r["id"] for r in rows(proc.stdout)] == list(range(complete))
    (tmp_path / "cut.jsonl.gz").write_bytes(cut)
    kept = run("--jsonl", "--jobs", "1", str(tmp_path / "cut.jsonl.gz"),
               "-o", str(tmp_path / "out.jsonl"), "--keep-partial")
    assert kept.returncode == 1
    assert len(rows((tmp_path / "out.jsonl").read_bytes())) == complete


# 6. Compressed JSONL on standard input, with the new outputs ----------------------------------

@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress],
                         ids=["gzip", "bzip2", "xz"])
def test_compressed_jsonl_on_stdin_with_drop_empty_and_doc_stats(
        compress: Callable[[bytes], bytes]) -> None:
    stdin = jsonl({"id": "fr", "text": FRENCH}, {"id": "junk", "text": ALL_JUNK},
                  {"id": "ru", "text": RUSSIAN})
    proc = run("--jsonl", "--drop-empty", "--doc-stats", "cleaning", "--stats",
               stdin=compress(stdin))
    assert proc.returncode == 0, proc.stderr
    out = rows(proc.stdout)
    assert [r["id"] for r in out] == ["fr", "ru"]
    assert out[0]["text"] == "Le gouvernement a répondu mardi aux critiques."
    assert out[0]["cleaning"]["lines_removed"] == 2 and out[1]["cleaning"]["lines"] == 1
    assert "documents dropped as empty: 1" in proc.stderr.decode()


def test_brief_results_are_the_full_results_without_the_kept_lines(
        seed_pages: list[tuple[str, str]]) -> None:
    """A brief result builds only the removed lines' decisions; they are exactly the ones
    the full result has, with the same text."""
    cleaner = Cleaner()
    texts = [page for page, _ in seed_pages] + ["\n\nShare on Facebook\n\n\nA line.\n  \n"]
    full = list(cleaner.explain_many(texts))
    brief = list(cleaner.explain_many(texts, brief=True))
    assert [r.brief() for r in full] == brief
    assert sum(len(r.removed) for r in brief) > len(brief)
