"""The command line when writing fails: a full disk, a file size limit, no permission, no
folder. Every case must end with a non-zero exit code, one line on stderr naming the
output, and no partial or temporary file, an existing file or original left as it was.

Real failures run the CLI as a subprocess (``/dev/full``, ``RLIMIT_FSIZE``, a read-only
folder); failures that need help to happen (ENOSPC on a file, EACCES as root) run it
in-process with the write or the temporary file creation patched.
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from cleaner import cli

DOC = "Die Regierung reagierte am Dienstag auf die Vorwürfe.\nAnzeige\n"
LONG = "".join(f"Absatz {i}: die Regierung reagierte am Dienstag.\n\n" for i in range(400))
ORIGINAL = "original content\n"
ENOSPC = "No space left on device"


def run(*args: str, stdout: IO[bytes] | int = subprocess.PIPE, buffered: bool = True,
        size_limit: int | None = None) -> subprocess.CompletedProcess[bytes]:
    """The CLI as a subprocess (rules only); ``buffered``: standard output as usual, not as
    under PYTHONUNBUFFERED; ``size_limit``: RLIMIT_FSIZE in bytes, so writes past it fail."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED" or not buffered}

    def limit() -> None:
        if size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (size_limit, size_limit))

    return subprocess.run([sys.executable, "-m", "cleaner", "--no-model", "--jobs", "1", *args],
                          stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                          env=env, preexec_fn=limit, timeout=120, check=False)


def one_error(stderr: bytes | str, *names: object, lines: int = 1) -> str:
    """stderr, after checking that it is one error line (or ``lines``) and names every one
    of ``names``."""
    err = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert err.startswith("cleaner: error: ") and err.count("\n") == lines, err
    assert err.count("cleaner: error: ") == lines and "Traceback" not in err
    for name in names:
        assert str(name) in err
    return err


def listing(folder: Path) -> list[str]:
    """Every file under ``folder``, temporary ones included, relative to it."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """``in/a.txt`` (short), ``in/b.txt`` (long) and an existing ``out/a.txt``."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(DOC, encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(LONG, encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text(ORIGINAL, encoding="utf-8")
    return tmp_path


# Standard output ---------------------------------------------------------------------------

@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize(("extra", "name"), [([], "a.txt"), (["--jsonl"], "a.jsonl"),
                                             (["--segment-chars", "2000"], "b.txt")])
def test_full_disk_on_standard_output(files: Path, buffered: bool, extra: list[str],
                                      name: str) -> None:
    (files / "in" / "a.jsonl").write_text('{"text": "Ein Satz."}\n', encoding="utf-8")
    with open("/dev/full", "wb") as full:
        proc = run(*extra, str(files / "in" / name), str(files / "in" / name), stdout=full,
                   buffered=buffered)
    assert proc.returncode == 1
    assert one_error(proc.stderr, "standard output", ENOSPC)


@pytest.mark.parametrize("buffered", [True, False])
def test_file_size_limit_on_standard_output_is_not_a_silent_truncation(
        files: Path, buffered: bool) -> None:
    """A write past the limit is partial and succeeds; only the next one fails."""
    with open(files / "redirected.txt", "wb") as out:
        proc = run(str(files / "in" / "b.txt"), stdout=out, buffered=buffered, size_limit=4096)
    assert proc.returncode == 1
    assert one_error(proc.stderr, "standard output", "File too large")


# Output files: real failures ---------------------------------------------------------------

@pytest.mark.parametrize("segments", [[], ["--segment-chars", "2000"]])
def test_file_size_limit_leaves_no_partial_file(files: Path, segments: list[str]) -> None:
    out, src = files / "out", files / "in" / "b.txt"
    proc = run(*segments, str(src), "-o", str(out / "a.txt"), size_limit=4096)
    assert proc.returncode == 1
    one_error(proc.stderr, out / "a.txt", "File too large")
    assert (out / "a.txt").read_text(encoding="utf-8") == ORIGINAL
    proc = run(*segments, "--in-place", str(src), size_limit=4096)
    assert proc.returncode == 1
    one_error(proc.stderr, src, "File too large")
    assert src.read_text(encoding="utf-8") == LONG
    proc = run(*segments, str(files / "in"), "-o", str(out), size_limit=4096)
    assert proc.returncode == 1
    one_error(proc.stderr, out / "b.txt", "File too large")
    assert (out / "a.txt").read_text(encoding="utf-8") == "Die Regierung reagierte am " \
        "Dienstag auf die Vorwürfe.\n", "the other input is still cleaned"
    assert listing(files) == ["in/a.txt", "in/b.txt", "out/a.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(files: Path) -> None:
    out, src = files / "out", files / "in" / "a.txt"
    os.chmod(out, 0o500)
    os.chmod(files / "in", 0o500)
    try:
        proc = run(str(src), "-o", str(out / "a.txt"))
        assert proc.returncode == 1
        one_error(proc.stderr, out / "a.txt", "Permission denied")
        proc = run("--in-place", str(src))
        assert proc.returncode == 1
        one_error(proc.stderr, src, "Permission denied")
        proc = run(str(files / "in"), "-o", str(out / "sub"))
        assert proc.returncode == 1
        one_error(proc.stderr, out / "sub" / "a.txt", out / "sub" / "b.txt", lines=2)
    finally:
        os.chmod(out, 0o700)
        os.chmod(files / "in", 0o700)
    assert (out / "a.txt").read_text(encoding="utf-8") == ORIGINAL
    assert src.read_text(encoding="utf-8") == DOC
    assert listing(files) == ["in/a.txt", "in/b.txt", "out/a.txt"]


def test_missing_output_folder(files: Path) -> None:
    target = files / "missing" / "dir" / "out.txt"
    proc = run(str(files / "in" / "a.txt"), "-o", str(target))
    assert proc.returncode == 1
    one_error(proc.stderr, target, "does not exist")
    assert not (files / "missing").exists()


def test_failed_read_in_the_middle_of_a_long_document_leaves_no_file(files: Path) -> None:
    src = files / "in" / "b.txt"
    src.write_bytes(LONG.encode() * 60 + b"\x00")  # the NUL comes after the first chunks
    proc = run("--segment-chars", "20000", str(src), "-o", str(files / "out" / "a.txt"))
    assert proc.returncode == 1
    one_error(proc.stderr, src, "looks binary")
    assert (files / "out" / "a.txt").read_text(encoding="utf-8") == ORIGINAL
    assert listing(files) == ["in/a.txt", "in/b.txt", "out/a.txt"]


# Output files: simulated failures, in-process -----------------------------------------------

@pytest.fixture
def main(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """``cleaner.cli.main`` in this process: returns (exit code, stderr)."""
    def call(*args: str) -> tuple[int, str]:
        code = cli.main(["--no-model", "--jobs", "1", *args])
        return code, capsys.readouterr().err

    return call


class FillingDisk:
    """A file that takes ``room`` more bytes, then fails with ENOSPC, part of a write
    written, like a disk that fills up."""

    def __init__(self, file: IO[bytes], room: int) -> None:
        self.file = file
        self.room = room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.file.write(bytes(data[:self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, ENOSPC)
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __enter__(self) -> FillingDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


@pytest.fixture
def disk_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file opened with os.fdopen (the temporary output files) takes 1000 bytes."""
    fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FillingDisk(fdopen(fd, mode), 1000))


@pytest.mark.usefixtures("disk_room")
@pytest.mark.parametrize("segments", [[], ["--segment-chars", "300"]])
def test_full_disk_leaves_no_partial_file(files: Path, main: Any, segments: list[str]) -> None:
    out, src = files / "out", files / "in" / "b.txt"
    code, err = main(*segments, str(src), "-o", str(out / "a.txt"))
    assert code == 1
    one_error(err, out / "a.txt", ENOSPC)
    assert (out / "a.txt").read_text(encoding="utf-8") == ORIGINAL
    code, err = main(*segments, "--in-place", str(src))
    assert code == 1
    one_error(err, src, ENOSPC)
    assert src.read_text(encoding="utf-8") == LONG
    code, err = main(*segments, str(files / "in"), "-o", str(out))
    assert code == 1
    one_error(err, out / "b.txt", ENOSPC)
    assert (out / "a.txt").read_text(encoding="utf-8") != ORIGINAL, "a.txt fits and is written"
    assert listing(files) == ["in/a.txt", "in/b.txt", "out/a.txt"]


def test_permission_denied_leaves_no_file(files: Path, main: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refuse_new_files(name: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(name, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_new_files)
    out, src = files / "out", files / "in" / "a.txt"
    code, err = main(str(src), "-o", str(out / "a.txt"))
    assert code == 1
    one_error(err, out / "a.txt", "Permission denied")
    code, err = main("--in-place", str(src))
    assert code == 1
    one_error(err, src, "Permission denied")
    code, err = main(str(files / "in"), "-o", str(out))
    assert code == 1
    one_error(err, out / "a.txt", out / "b.txt", "Permission denied", lines=2)
    assert (out / "a.txt").read_text(encoding="utf-8") == ORIGINAL
    assert src.read_text(encoding="utf-8") == DOC


def test_interrupt_in_the_middle_of_a_long_document_leaves_no_file(
        files: Path, main: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fdopen = os.fdopen

    class Interrupted(FillingDisk):
        def write(self, data: bytes) -> int:
            if self.room < len(data):
                raise KeyboardInterrupt
            return super().write(data)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Interrupted(fdopen(fd, mode), 1000))
    src = files / "in" / "b.txt"
    code, err = main("--segment-chars", "300", "--in-place", str(src))
    assert code == 130
    assert err == "cleaner: error: interrupted\n"
    assert src.read_text(encoding="utf-8") == LONG
    assert listing(files) == ["in/a.txt", "in/b.txt", "out/a.txt"]
