"""Regressions found by a hostile battery: inputs, outputs and signals that lost data,
damaged the system or ended in a traceback. Each test failed before its fix.

The command line runs as a real subprocess (rules only unless a test needs the model), so
closed standard streams, signals, umasks and special files are the real thing.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cleaner import Cleaner
from cleaner.engine import MAX_WORKERS_PER_CORE, worker_count
from cleaner.io import is_special_target
from cleaner.segment import split_segments

DOC = "Die Regierung reagierte am Dienstag auf die Vorwürfe.\n\nAnzeige\nArchiviert unter:\n"
CLEAN = "Die Regierung reagierte am Dienstag auf die Vorwürfe.\n"
RECORD = {"id": 7, "text": DOC}


def run(*args: str, stdin: bytes | str = b"", cwd: Path | None = None, model: bool = False,
        preexec: Callable[[], None] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    flags = [] if model else ["--no-model"]
    return subprocess.run([sys.executable, "-m", "cleaner", *flags, *args], input=data,
                          capture_output=True, cwd=cwd, preexec_fn=preexec, timeout=timeout,
                          check=False)


def error_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The run's stderr, after checking that it is one error line and no traceback."""
    err = proc.stderr.decode()
    assert err.startswith("cleaner: error: ") and err.count("\n") == 1, err
    return err


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


# 1. Special output targets are written into, never replaced ---------------------------------

def test_a_fifo_given_to_output_stays_a_fifo_and_receives_the_text(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    proc = run(str(tmp_path / "a.txt"), "-o", str(fifo))
    reader.join(timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received == [CLEAN.encode()]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "pipe"]


def test_a_name_of_the_process_own_stream_is_written_into(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    proc = run(str(tmp_path / "a.txt"), "-o", "/proc/self/fd/1")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, CLEAN.encode(), b"")


@pytest.mark.parametrize("name", ["/dev/null", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_devices_and_stream_names_are_special_targets(name: str) -> None:
    assert is_special_target(name)


def test_regular_and_new_files_are_not_special_targets(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("x", encoding="utf-8")
    assert not is_special_target(tmp_path / "old.txt")
    assert not is_special_target(tmp_path / "new.txt")


# 2. An output folder that holds the input ----------------------------------------------------

def test_output_folder_holding_the_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    proc = run("a.txt", "-o", ".", cwd=tmp_path)
    assert proc.returncode == 1
    assert "is the input file; use --in-place" in error_line(proc)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == DOC


def test_folder_cleaned_into_itself_is_refused_before_anything_is_written(
        tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(DOC, encoding="utf-8")
    (corpus / "sub" / "b.txt").write_text(DOC, encoding="utf-8")
    proc = run(str(corpus), "-o", str(corpus))
    assert proc.returncode == 1
    assert "is the input file" in error_line(proc)
    assert (corpus / "a.txt").read_text(encoding="utf-8") == DOC
    assert (corpus / "sub" / "b.txt").read_text(encoding="utf-8") == DOC


# 3. --removed-field never replaces a field ---------------------------------------------------

def test_removed_field_equal_to_the_text_field_is_a_usage_error() -> None:
    proc = run("--jsonl", "--removed-field", "text", stdin=jsonl(RECORD))
    assert proc.returncode == 2
    assert b"--removed-field must differ from --text-field" in proc.stderr
    assert proc.stdout == b""


def test_removed_field_that_a_record_already_has_is_refused_per_on_error() -> None:
    stdin = jsonl({"text": DOC}, RECORD, {"text": DOC})
    proc = run("--jsonl", "--removed-field", "id", stdin=stdin)
    assert proc.returncode == 1
    assert "<stdin>:2: record already has a 'id' field" in error_line(proc)
    assert [json.loads(r) for r in proc.stdout.splitlines()] == [
        {"text": CLEAN, "id": ["Anzeige", "Archiviert unter:"]}]
    kept = run("--jsonl", "--removed-field", "id", "--on-error", "keep", stdin=stdin)
    assert kept.returncode == 0
    assert json.loads(kept.stdout.splitlines()[1]) == RECORD


# 4. --jobs is capped -------------------------------------------------------------------------

def test_worker_count_is_capped_per_core() -> None:
    cores = os.cpu_count() or 1
    assert worker_count(1) == 1
    assert worker_count(1000) <= MAX_WORKERS_PER_CORE * cores
    assert worker_count(-1) >= 1


def test_no_more_workers_than_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    import joblib

    asked: list[int] = []
    real = joblib.Parallel

    def recording(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["n_jobs"])
        return real(*args, **kwargs)

    monkeypatch.setattr(joblib, "Parallel", recording)
    monkeypatch.setattr("cleaner.engine.worker_count", lambda n_jobs: 16)
    texts = [f"Satz {i}.\nAnzeige\n" for i in range(30)]
    cleaned = list(Cleaner(use_model=False).clean_many(iter(texts), n_jobs=16, batch_size=10))
    assert cleaned == [f"Satz {i}.\n" for i in range(30)]
    assert asked == [3]


def test_cli_says_when_it_caps_jobs() -> None:
    proc = run("--jobs", "1000", stdin=DOC)
    assert proc.returncode == 0
    assert proc.stdout == CLEAN.encode()
    assert proc.stderr.decode().startswith("cleaner: warning: --jobs 1000: using ")


# 5. Lone surrogates in JSON ------------------------------------------------------------------

@pytest.mark.parametrize("model", [False, True], ids=["rules", "model"])
def test_lone_surrogate_escape_in_jsonl_round_trips(model: bool) -> None:
    stdin = b'{"id": 1, "text": "Gr\\ud800\\u00fc\\u00dfe aus Berlin.\\nAnzeige\\n"}\n'
    proc = run("--jsonl", "--stats", stdin=stdin, model=model)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"id": 1, "text": "Gr\ud800üße aus Berlin.\n"}
    assert b"records: 1 in, 1 cleaned" in proc.stderr


# 6. Memory per line --------------------------------------------------------------------------

@pytest.mark.parametrize("max_lines", [1, 2, 3, 7, 100])
def test_segments_are_bounded_in_lines_and_add_up_to_the_document(max_lines: int) -> None:
    text = "".join(f"Zeile {i}\n" + ("\n" if i % 5 == 0 else "") for i in range(40))
    segments = list(split_segments([text], max_lines=max_lines))
    # a document's final line break ends its last line; no cut can fall there
    assert all(len(s.text.splitlines()) <= max_lines for s in segments)
    assert "\n".join(s.text for s in segments) == text
    assert [s.first for s in segments] == [True] + [False] * (len(segments) - 1)
    assert [s.last for s in segments] == [False] * (len(segments) - 1) + [True]


def test_a_document_of_many_lines_is_cleaned_in_segments_as_if_whole() -> None:
    text = "".join(f"Meldung {i}: Der Rat tagte.\nAnzeige\n" for i in range(3000))
    whole = Cleaner(use_model=False).explain(text)
    cut = Cleaner(use_model=False, segment_lines=1000).explain(text)
    assert cut.segments >= 6 and whole.segments == 1
    assert cut.text == whole.text


def test_a_million_short_lines_run_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "lines.txt"
    big.write_bytes(b"a\n" * 1_000_000)
    proc = subprocess.run([sys.executable, "-m", "cleaner", "--jobs", "1", str(big)],
                          capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == big.read_bytes()
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 700, f"peak {peak_mib:.0f} MiB"  # 2.2 GB before lines bounded segments


# 7. Closed standard streams ------------------------------------------------------------------

@pytest.mark.parametrize("extra", [[], ["--jsonl"]])
def test_closed_standard_input_is_one_error_line(extra: list[str]) -> None:
    proc = run(*extra, preexec=lambda: os.close(0))
    assert proc.returncode == 1
    assert "<stdin>: cannot read: standard input is closed" in error_line(proc)


def test_closed_standard_output_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cleaner", "--no-model", "a.txt"],
                          cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          preexec_fn=lambda: os.close(1), timeout=120, check=False)
    assert proc.returncode == 1
    assert "standard output is closed" in error_line(proc)


# 8. UTF-16 and UTF-32 ------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
@pytest.mark.parametrize("segments", [[], ["--segment-chars", "60"]])
def test_utf16_and_utf32_input_and_output_with_one_byte_order_mark(
        tmp_path: Path, encoding: str, segments: list[str]) -> None:
    text = "".join(f"Absatz {i}: Grüße aus Köln.\n\nAnzeige\n\n" for i in range(6))
    source = tmp_path / "a.txt"
    source.write_bytes(text.encode(encoding))
    proc = run("--encoding", encoding, *segments, str(source))
    assert proc.returncode == 0, proc.stderr
    expected = "".join(f"Absatz {i}: Grüße aus Köln.\n" for i in range(6)).replace(
        ".\nA", ".\n\nA")
    assert proc.stdout == expected.encode(encoding)  # one BOM, at the start


def test_odd_byte_count_in_utf16_is_one_error_line(tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes("Hallo.\n".encode("utf-16") + b"x")
    proc = run("--encoding", "utf-16", str(source))
    assert proc.returncode == 1
    assert "cannot decode as utf-16" in error_line(proc)


# 9. SIGTERM during --in-place ----------------------------------------------------------------

def test_sigterm_during_in_place_keeps_the_original_and_leaves_no_temporary_file(
        tmp_path: Path) -> None:
    source = tmp_path / "big.txt"
    original = "".join(f"Absatz {i}: Der Rat tagte am Dienstag.\n\nAnzeige\n\n"
                       for i in range(300_000)).encode()
    source.write_bytes(original)
    proc = subprocess.Popen([sys.executable, "-m", "cleaner", "--no-model", "--jobs", "1",
                             "--segment-chars", "100000", "--in-place", str(source)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the temporary file beside the input exists
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err == b"cleaner: error: terminated\n"
    assert [p.name for p in tmp_path.iterdir()] == ["big.txt"]
    assert source.read_bytes() == original


# 10. --lang ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("codes", "named"), [("xx", "'xx'"), ("eng", "'eng'"),
                                              ("en,xx", "'xx'"), (",", "no language")])
def test_unknown_language_is_a_usage_error_naming_it(codes: str, named: str) -> None:
    proc = run("--lang", codes, stdin=DOC)
    assert proc.returncode == 2
    assert named in error_line(proc)
    assert proc.stdout == b""


# 11. --glob that matches nothing -------------------------------------------------------------

def test_glob_matching_nothing_is_an_error_when_nothing_is_left(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(DOC, encoding="utf-8")
    proc = run(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--glob", "*.md")
    assert proc.returncode == 1
    assert "no file in" in error_line(proc) and "'*.md'" in proc.stderr.decode()


def test_glob_matching_nothing_in_one_folder_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    proc = run(str(tmp_path / "a.txt"), str(tmp_path / "empty"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0
    warning = f"cleaner: warning: {tmp_path / 'empty'}: no file matches --glob '*'\n"
    assert proc.stderr.decode() == warning
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == CLEAN


# 12. Compressed input by its magic bytes -----------------------------------------------------

@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress],
                         ids=["gzip", "bzip2", "xz"])
def test_compressed_jsonl_on_stdin_and_in_files_without_extension(
        tmp_path: Path, compress: Callable[[bytes], bytes]) -> None:
    packed = compress(jsonl(RECORD, RECORD))
    expected = [{"id": 7, "text": CLEAN}] * 2
    piped = run("--jsonl", "--on-error", "skip", stdin=packed)
    assert piped.returncode == 0, piped.stderr
    assert [json.loads(r) for r in piped.stdout.splitlines()] == expected
    (tmp_path / "shard").write_bytes(packed)
    proc = run("--jsonl", str(tmp_path / "shard"))
    assert [json.loads(r) for r in proc.stdout.splitlines()] == expected
    text = run(stdin=compress(DOC.encode()))
    assert text.stdout == CLEAN.encode()


@pytest.mark.parametrize(("suffix", "decompress"), [(".bz2", bz2.decompress),
                                                    (".xz", lzma.decompress)])
def test_output_compressed_by_extension(tmp_path: Path, suffix: str,
                                        decompress: Callable[[bytes], bytes]) -> None:
    target = tmp_path / f"out.jsonl{suffix}"
    proc = run("--jsonl", "-o", str(target), stdin=jsonl(RECORD))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(decompress(target.read_bytes())) == {"id": 7, "text": CLEAN}


# 13. New files follow the umask --------------------------------------------------------------

@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_output_files_get_the_mode_the_umask_gives(tmp_path: Path, umask: int,
                                                       mode: int) -> None:
    target = tmp_path / "out.txt"

    def set_umask() -> None:
        os.umask(umask)

    proc = run("-o", str(target), stdin=DOC, preexec=set_umask)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == mode


# 14. --in-place through a symbolic link ------------------------------------------------------

def test_in_place_on_a_symlink_cleans_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text(DOC, encoding="utf-8")
    os.chmod(real, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    proc = run("--in-place", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text(encoding="utf-8") == CLEAN
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


# 15. --on-error fail writes every good record first ------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_on_error_fail_writes_every_record_before_the_bad_one(jobs: str) -> None:
    good = [{"id": i, "text": DOC} for i in range(300)]
    stdin = jsonl(*good) + b"{broken\n" + jsonl(RECORD)
    proc = run("--jsonl", "--jobs", jobs, stdin=stdin)
    assert proc.returncode == 1
    assert "<stdin>:301: malformed JSON" in error_line(proc)
    assert [json.loads(r)["id"] for r in proc.stdout.splitlines()] == list(range(300))


# 16. A missing model file is named -----------------------------------------------------------

def test_missing_model_file_names_the_model_not_its_manifest(tmp_path: Path) -> None:
    model = tmp_path / "mine.npz"
    proc = run("--model", str(model), stdin=DOC, model=True)
    assert proc.returncode == 1
    err = error_line(proc)
    assert f"{model}: model file not found" in err and "mine.json" not in err


def test_trust_model_is_a_deprecated_no_op(tmp_path: Path) -> None:
    proc = run("--trust-model", stdin=DOC, model=True)
    assert proc.returncode == 0
    assert proc.stderr.decode().startswith("cleaner: warning: --trust-model is deprecated")
