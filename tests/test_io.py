"""Decoding input and writing output safely."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cleaner.errors import InputError
from cleaner.io import TextInput, atomic_output, output_encoder


def decode(data: bytes, name: str = "x.txt", encoding: str = "utf-8", *,
           allow_binary: bool = False, pieces: int = 1) -> tuple[str, TextInput]:
    """``data`` decoded by a TextInput, fed in ``pieces`` pieces as reading would."""
    source = TextInput(name, encoding, allow_binary=allow_binary)
    step = max(1, -(-len(data) // pieces))
    text = "".join(source.decode(data[i:i + step]) for i in range(0, len(data), step))
    return text + source.decode(b"", final=True), source


def test_invalid_utf8_is_carried_through_and_counted() -> None:
    raw = b"Caf\xe9 ist geschlossen.\nGr\xfc\xdfe\n"
    text, source = decode(raw)
    assert source.undecodable == 3
    assert output_encoder()(text) == raw


@pytest.mark.parametrize("pieces", [1, 2, 3, 7, 40])
def test_decoding_in_pieces_is_decoding_at_once(pieces: int) -> None:
    raw = "\ufeffGrüße, ½ € 😀\n".encode() + b"\xe9\xff\xf0\x9f" + b"Ende."
    text, source = decode(raw, pieces=pieces)
    assert (text, source.undecodable, source.size) == \
        ("Grüße, ½ € 😀\n\udce9\udcff\udcf0\udc9fEnde.", 4, len(raw))


def test_bom_is_dropped_and_nul_bytes_mean_binary() -> None:
    assert decode(b"\xef\xbb\xbfHallo")[0] == "Hallo"
    assert decode(b"Hallo\xef\xbb\xbf", pieces=2)[0] == "Hallo\ufeff", "only at the start"
    with pytest.raises(InputError, match=r"x\.bin: looks binary.*--allow-binary"):
        decode(b"PK\x03\x04\x00\x00", "x.bin")
    assert decode(b"a\x00b", "x.bin", allow_binary=True)[0] == "a\x00b"


def test_legacy_encoding() -> None:
    assert decode("Grüße".encode("cp1252"), encoding="cp1252")[0] == "Grüße"


def test_atomic_output_leaves_original_untouched_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("original\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as f:
        f.write(b"half of the new cont")
        raise KeyboardInterrupt
    assert target.read_text(encoding="utf-8") == "original\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_output_into_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"), \
            atomic_output(tmp_path / "nope" / "out.txt"):
        pass


def run(*args: str, stdin: bytes = b"", model: bool = False) -> subprocess.CompletedProcess[bytes]:
    flags = [] if model else ["--no-model"]
    return subprocess.run([sys.executable, "-m", "cleaner", *flags, *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("model", [False, True], ids=["rules", "model"])
def test_cli_round_trips_undecodable_bytes_and_reports_them(model: bool) -> None:
    proc = run("--stats", stdin=b"Caf\xe9 ist geschlossen.\nAnzeige\n", model=model)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"Caf\xe9 ist geschlossen.\n"
    assert b"undecodable bytes carried through: 1" in proc.stderr


def test_cli_refuses_binary_file_but_cleans_the_others(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "b.txt").write_text("Ein Satz.\nWerbung\n", encoding="utf-8")
    proc = run(str(tmp_path / "a.bin"), str(tmp_path / "b.txt"))
    assert proc.returncode == 1
    assert proc.stdout == b"Ein Satz.\n"
    assert proc.stderr.decode().strip() == (f"cleaner: error: {tmp_path / 'a.bin'}: looks binary "
                                            "(it contains NUL bytes); pass --allow-binary to "
                                            "clean it anyway")


@pytest.mark.parametrize("stdin", [b"", b" \n\t\n\r\n"])
def test_empty_and_whitespace_input_give_empty_output(stdin: bytes) -> None:
    proc = run(stdin=stdin)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_in_place_failure_keeps_the_original(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes(b"\x00binary")
    proc = run("--in-place", str(src))
    assert proc.returncode == 1
    assert src.read_bytes() == b"\x00binary"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("jsonl", [False, True])
def test_truncated_gzip_input_is_an_input_error(tmp_path: Path, jsonl: bool) -> None:
    records = "".join(f'{{"text": "Satz {i} mit Inhalt."}}\n' for i in range(2000)).encode()
    data = gzip.compress(records)
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(data[:len(data) // 2])
    proc = run(*(["--jsonl"] if jsonl else []), str(src))
    assert proc.returncode == 1
    assert proc.stderr.decode() == (f"cleaner: error: {src}: cannot read: Compressed file ended "
                                    "before the end-of-stream marker was reached\n")


class _Stop(Exception):
    """Raised by the test's SIGTERM handler."""


def test_a_signal_just_after_the_temporary_file_exists_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def open_then_signal(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(name, flags, *args, **kwargs)
        if flags & os.O_EXCL:  # the temporary file: a kill lands the moment it exists
            os.kill(os.getpid(), signal.SIGTERM)
        return fd

    def stop(signum: int, frame: object) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, stop)
    monkeypatch.setattr(os, "open", open_then_signal)
    try:
        with pytest.raises(_Stop), atomic_output(tmp_path / "out.txt") as f:
            f.write(b"never complete")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(tmp_path.iterdir()) == []
