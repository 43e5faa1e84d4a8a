"""The command line, run as a real subprocess."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cleaner import Cleaner
from cleaner.labels import EXPLAIN_HEADER, parse_labelled

DOC = "Die Regierung reagierte am Dienstag auf die Vorwürfe.\n\n\nAnzeige\nArchiviert unter:\n"
CLEAN = "Die Regierung reagierte am Dienstag auf die Vorwürfe.\n"


def run(*args: str, stdin: bytes | str = b"", cwd: Path | None = None,
        model: bool = False) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    flags = [] if model else ["--no-model"]
    return subprocess.run([sys.executable, "-m", "cleaner", *flags, *args], input=data,
                          capture_output=True, cwd=cwd, timeout=120, check=False)


def test_filter_from_stdin_to_stdout() -> None:
    proc = run(stdin=DOC)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == CLEAN
    assert proc.stderr == b""


def test_dash_means_stdin_and_files_are_concatenated(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    proc = run(str(tmp_path / "a.txt"), "-", stdin="Zweites Dokument.\r\nTags:\r\n")
    assert proc.stdout.decode() == CLEAN + "Zweites Dokument.\n"


def test_output_file_and_in_place(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(DOC, encoding="utf-8")
    out = tmp_path / "out.txt"
    assert run(str(src), "-o", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == CLEAN
    assert src.read_text(encoding="utf-8") == DOC
    assert run("--in-place", str(src)).returncode == 0
    assert src.read_text(encoding="utf-8") == CLEAN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out.txt"], "no temp files"


def test_output_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(DOC, encoding="utf-8")
    proc = run(str(src), "-o", str(src))
    assert proc.returncode == 1
    assert b"--in-place" in proc.stderr
    assert src.read_text(encoding="utf-8") == DOC


def test_folder_tree_is_mirrored(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "a.txt").write_text(DOC, encoding="utf-8")
    (tmp_path / "in" / "sub" / "b.txt").write_text("Noch ein Satz.\nWerbung\n", encoding="utf-8")
    (tmp_path / "in" / "sub" / "skip.md").write_text("# x\n", encoding="utf-8")
    proc = run(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--glob", "*.txt")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == CLEAN
    assert (tmp_path / "out" / "sub" / "b.txt").read_text(encoding="utf-8") == "Noch ein Satz.\n"
    assert not (tmp_path / "out" / "sub" / "skip.md").exists()


def test_explain_lists_every_line_and_reads_back_as_labels() -> None:
    proc = run("--explain", stdin=DOC)
    table = proc.stdout.decode()
    rows = table.splitlines()
    assert rows[0] == EXPLAIN_HEADER
    assert len(rows) == 1 + len(DOC.split("\n"))
    assert rows[4].split("\t")[:4] == ["4", "B", "rule", rows[4].split("\t")[3]]
    assert rows[4].split("\t")[3].startswith("ad.")
    doc = parse_labelled(table)
    assert doc.tags[:1] == ["C"] and doc.tags[3:5] == ["B", "B"]


def test_stats_go_to_stderr() -> None:
    proc = run("--stats", stdin=DOC)
    assert proc.stdout.decode() == CLEAN
    err = proc.stderr.decode()
    assert "documents: 1" in err
    assert "lines: 6 in, 1 out" in err
    assert "removed lines by category: " in err and "ad 1" in err and "archive 1" in err


def test_jsonl_cleans_only_the_text_field_and_keeps_order() -> None:
    records = [{"id": i, "body": DOC, "meta": {"x": [1, 2]}, "text": "untouched\n\n"}
               for i in range(300)]
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    proc = run("--jsonl", "--text-field", "body", stdin=payload)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert out == [{**r, "body": CLEAN} for r in records]


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "malformed JSON"),
    ("[1, 2]", "record is not a JSON object"),
    ('{"id": 1}', "record has no 'text' field"),
    ('{"text": 5}', "field 'text' is int, not a string"),
])
def test_bad_jsonl_record_names_its_line(line: str, message: str) -> None:
    proc = run("--jsonl", stdin=f'{{"text": "ok"}}\n{line}\n')
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.startswith(f"cleaner: error: <stdin>:2: {message}") and err.count("\n") == 1
    assert "Traceback" not in err


def test_exit_codes_and_one_line_errors(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "absent.txt"))
    assert missing.returncode == 1
    assert missing.stderr.decode().count("\n") == 1 and b"cannot read" in missing.stderr
    usage = run("--threshold", "2")
    assert usage.returncode == 2
    assert run("--in-place").returncode == 2
    assert run("--version").stdout.startswith(b"cleaner ")
    helped = run("--help")
    assert helped.returncode == 0 and b"examples:" in helped.stdout


def test_other_files_are_processed_when_one_fails(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(DOC, encoding="utf-8")
    proc = run(str(tmp_path / "absent.txt"), str(good))
    assert proc.returncode == 1
    assert proc.stdout.decode() == CLEAN


def test_user_rules_file_and_bad_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "mine.toml"
    rule = '[[rule]]\nid = "mine.{}"\ncategory = "promo"\npattern = "{}"\n'
    rules.write_text(rule.format("promo", "Jetzt testen!?"), encoding="utf-8")
    proc = run("--rules", str(rules), stdin="Ein Satz.\nJetzt testen!\n")
    assert proc.stdout.decode() == "Ein Satz.\n"
    rules.write_text(rule.format("bad", "(("), encoding="utf-8")
    proc = run("--rules", str(rules), stdin="Ein Satz.\n")
    assert proc.returncode == 1
    assert str(rules).encode() in proc.stderr and b"mine.bad" in proc.stderr


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    line = "Ein ganz normaler Satz mit einigen Wörtern darin.\n"
    big.write_text(line * 200_000, encoding="utf-8")
    cmd = f'"{sys.executable}" -m cleaner --no-model "{big}" | head -n 1'
    proc = subprocess.run(cmd, shell=True, capture_output=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout.decode() == line
    assert proc.stderr == b""


def _records(n: int) -> str:
    return "".join(json.dumps({"id": i, "text": f"Satz {i} mit Inhalt, der bleibt.\nWerbung\n"},
                              ensure_ascii=False) + "\n" for i in range(n))


def test_jobs_do_not_change_the_output() -> None:
    payload = _records(1200)
    one = run("--jsonl", "--jobs", "1", stdin=payload)
    two = run("--jsonl", "--jobs", "2", stdin=payload)
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout
    assert len(one.stdout.splitlines()) == 1200


def test_gzip_by_extension_and_removed_field(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(gzip.compress(_records(3).encode("utf-8")))
    out = tmp_path / "out.jsonl.gz"
    proc = run("--jsonl", str(src), "-o", str(out), "--removed-field", "removed")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    assert rows[2] == {"id": 2, "text": "Satz 2 mit Inhalt, der bleibt.\n",
                       "removed": ["Werbung"]}


@pytest.mark.parametrize(("policy", "kept_ids"), [("skip", [0, 2]), ("keep", [0, "bad", 2])])
def test_on_error_skip_or_keep_accounts_for_every_record(policy: str, kept_ids: list) -> None:
    payload = _records(1) + '{"id": "bad", "text": 7}\n' + _records(3).splitlines(True)[2]
    proc = run("--jsonl", "--on-error", policy, "--stats", stdin=payload)
    assert proc.returncode == 0
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == kept_ids
    err = proc.stderr.decode()
    assert "warning: <stdin>:2: field 'text' is int" in err
    skipped = 1 if policy == "skip" else 0
    assert (f"records: 3 in, 2 cleaned, {1 - skipped} passed through unchanged, "
            f"{skipped} skipped") in err


def test_no_progress_bar_in_pipes_unless_asked() -> None:
    assert run("--jsonl", stdin=_records(3)).stderr == b""
    assert b"doc" in run("--jsonl", "--progress", stdin=_records(3)).stderr


def test_long_document_is_read_and_cleaned_in_segments(tmp_path: Path) -> None:
    paragraphs = [f"Absatz {i} mit einem Satz, der Inhalt ist.\nAnzeige" for i in range(400)]
    text = "\n\n".join(["Menü", *paragraphs, "Tags:\nPolitik"]) + "\n"
    src = tmp_path / "long.txt"
    src.write_text(text, encoding="utf-8")
    expected = Cleaner(use_model=False, segment_chars=3000).clean(text)
    assert expected == Cleaner(use_model=False).clean(text)  # no positional junk at the cuts
    proc = run("--segment-chars", "3000", "--stats", "--jobs", "1", stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == expected
    assert "documents: 1\nsegmented documents: 1\n" in proc.stderr.decode()
    assert run(str(src), "--segment-chars", "3000", "-o", str(tmp_path / "out.txt"),
               "--jobs", "2").returncode == 0
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == expected
    table = run(str(src), "--segment-chars", "3000", "--explain").stdout.decode()
    rows = table.splitlines()
    assert rows.count(EXPLAIN_HEADER) == 1
    assert [int(r.split("\t")[0]) for r in rows[1:]] == list(range(1, text.count("\n") + 2))
