"""Reading documents and JSON Lines records, and writing results atomically.

No cleaning happens here. Text input is read and decoded a chunk at a time, so a huge file
is never held whole, and so that nothing is lost: bytes that are not valid in the encoding
are carried through as lone surrogates (``surrogateescape``) and written back unchanged,
and they are counted so ``--stats`` can report them.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import gzip
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any, cast

import regex

from cleaner.errors import InputError

STDIO = "-"
CHUNK_BYTES = 1 << 20  # text input is read this much at a time
_ESCAPED_BYTE = regex.compile(r"[\udc80-\udcff]")


def display_name(name: str) -> str:
    """How an input is named in messages: standard input is ``<stdin>``."""
    return "<stdin>" if name == STDIO else name


def check_encoding(encoding: str) -> str:
    """Return the codec's canonical name, or raise InputError for an unknown encoding."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None


def open_input(name: str) -> IO[bytes]:
    """Open a file for reading bytes, decompressing ``.gz`` files on the fly."""
    try:
        if name.endswith(".gz"):
            return cast(IO[bytes], gzip.open(name, "rb"))
        return open(name, "rb")
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder (give -o OUTDIR to clean a folder)") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None


@contextlib.contextmanager
def _reading(name: str) -> Iterator[IO[bytes]]:
    """A file (decompressed if ``.gz``), or standard input for ``-``, open for reading; a
    read error (a truncated or corrupt ``.gz`` file too) is an InputError naming it."""
    with nullcontext(sys.stdin.buffer) if name == STDIO else open_input(name) as f:
        try:
            yield f
        except (OSError, EOFError) as e:
            raise InputError(f"{display_name(name)}: cannot read: "
                             f"{getattr(e, 'strerror', None) or e}") from None


def read_chunks(name: str, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The bytes of input ``name`` (see :func:`_reading`), ``size`` at a time."""
    with _reading(name) as f:
        while data := f.read(size):
            yield data


def read_lines(name: str) -> Iterator[bytes]:
    """The lines of input ``name`` (see :func:`_reading`)."""
    with _reading(name) as f:
        yield from f


class TextInput:
    """A text input (a file, or standard input for ``-``), read and decoded a chunk at a time;
    ``size`` counts the bytes so far and ``undecodable`` those carried through as surrogates.

    A UTF-8 byte-order mark at the start is dropped; NUL bytes mean binary input, which is
    refused unless ``allow_binary``.
    """

    def __init__(self, name: str, encoding: str = "utf-8", *, allow_binary: bool = False):
        self.name = name
        self.size = 0
        self.undecodable = 0
        self._allow_binary = allow_binary
        if codecs.lookup(encoding).name == "utf-8":
            encoding = "utf-8-sig"  # the same, without a byte-order mark at the start
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")

    def chunks(self) -> Iterator[str]:
        """The text, a chunk at a time (see :func:`read_chunks`)."""
        for data in read_chunks(self.name):
            yield self.decode(data)
        yield self.decode(b"", final=True)

    def decode(self, data: bytes, final: bool = False) -> str:
        """The text of the input's next ``data``; ``final`` for the end of the input."""
        if not self._allow_binary and b"\x00" in data:
            raise InputError(f"{display_name(self.name)}: looks binary (it contains NUL "
                             "bytes); pass --allow-binary to clean it anyway")
        self.size += len(data)
        text: str = self._decoder.decode(data, final)
        self.undecodable += len(_ESCAPED_BYTE.findall(text))
        return text


def write_all(sink: IO[bytes], data: bytes) -> None:
    """Write all of ``data``. A buffered write can take only part of it and keep quiet about
    the rest (a full disk, a file size limit): writing the rest raises the error."""
    view = memoryview(data)
    while view:
        written = sink.write(view)
        if not written:
            raise OSError(errno.EIO, "the output takes no more data")
        view = view[written:]


def encode(text: str, encoding: str = "utf-8") -> bytes:
    """Encode output text; surrogates from undecodable input become their original bytes."""
    return text.encode(encoding, errors="surrogateescape")


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any failure (including KeyboardInterrupt) the temporary file is deleted and an
    existing file at ``path`` is left as it was.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"{target}: output folder {str(folder)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise InputError(f"{target}: cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def open_output(path: str | Path) -> Iterator[IO[bytes]]:
    """:func:`atomic_output`, gzip-compressed when the name ends in ``.gz``."""
    with atomic_output(path) as raw:
        if not str(path).endswith(".gz"):
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
            yield packed  # type: ignore[misc]


def parse_record(line: bytes, name: str, line_no: int, text_field: str) -> dict[str, Any]:
    """One JSON Lines record whose ``text_field`` is a string; errors name file and line."""
    where = f"{name}:{line_no}"
    try:
        record = json.loads(line)
    except UnicodeDecodeError:
        raise InputError(f"{where}: record is not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: malformed JSON: {e.msg} (column {e.colno})") from None
    except (ValueError, RecursionError) as e:  # e.g. a 5000-digit number, deep nesting
        raise InputError(f"{where}: malformed JSON: {e}") from None
    if not isinstance(record, dict):
        raise InputError(f"{where}: record is not a JSON object")
    if text_field not in record:
        raise InputError(f"{where}: record has no {text_field!r} field")
    if not isinstance(record[text_field], str):
        raise InputError(f"{where}: field {text_field!r} is "
                         f"{type(record[text_field]).__name__}, not a string")
    return record


def dump_record(record: dict[str, Any]) -> bytes:
    """A record as one JSON line; lone surrogates are written as JSON escapes."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
