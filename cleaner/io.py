"""Reading documents and JSON Lines records, and writing results atomically.

No cleaning happens here. Text input is read and decoded a chunk at a time, so a huge file
is never held whole, and so that nothing is lost: bytes that are not valid in the encoding
are carried through as lone surrogates (``surrogateescape``) and written back unchanged,
and they are counted so ``--stats`` can report them.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import errno
import functools
import gzip
import hashlib
import io
import json
import lzma
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
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


# Compressed input is recognised by its first bytes, whatever its name: the magic numbers of
# gzip (with its deflate method byte), bzip2 (with the first block's magic) and xz.
_GZIP_MAGIC = b"\x1f\x8b\x08"
_BZIP2_MAGIC = regex.compile(rb"BZh[1-9]\x31\x41\x59\x26\x53\x59")
_XZ_MAGIC = b"\xfd7zXZ\x00"


def _decompressing(raw: io.BufferedReader) -> IO[bytes] | None:
    """A reader that decompresses ``raw`` when it starts as a gzip, bzip2 or xz stream does
    (closing it leaves ``raw`` open), else ``None``."""
    if not hasattr(raw, "peek"):  # a stand-in for standard input, as in tests
        return None
    head = raw.peek(10)[:10]
    if head.startswith(_GZIP_MAGIC):
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if _BZIP2_MAGIC.match(head):
        return cast(IO[bytes], bz2.BZ2File(raw, "rb"))
    if head.startswith(_XZ_MAGIC):
        return cast(IO[bytes], lzma.LZMAFile(raw, "rb"))
    return None


def _open_raw(name: str) -> io.BufferedReader:
    """The file ``name``, or standard input for ``-``, as buffered bytes."""
    if name == STDIO:
        if sys.stdin is None:
            raise InputError("<stdin>: cannot read: standard input is closed")
        return cast(io.BufferedReader, sys.stdin.buffer)
    try:
        return open(name, "rb")
    except IsADirectoryError:
        raise InputError(f"{name}: is a folder (give -o OUTDIR to clean a folder)") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None


@contextlib.contextmanager
def _reading(name: str) -> Iterator[IO[bytes]]:
    """A file, or standard input for ``-``, open for reading and decompressed when it is
    compressed (whatever its name); a read error (a truncated or corrupt compressed input
    too) is an InputError naming it."""
    with contextlib.ExitStack() as files:
        try:
            raw = _open_raw(name)
            if name != STDIO:
                files.enter_context(raw)
            unpacked = _decompressing(raw)
            yield raw if unpacked is None else files.enter_context(unpacked)
        except (OSError, EOFError, lzma.LZMAError) as e:
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


def read_records(name: str, text_field: str, *,
                 added_fields: Mapping[str, str] | None = None,
                 ) -> Iterator[tuple[int, bytes, dict[str, Any] | InputError]]:
    """The records of JSON Lines input ``name`` (blank lines skipped), each with its line
    number, its line and the record, or the InputError that makes it a bad one (see
    :func:`parse_record`): what to do with a bad record is the caller's policy."""
    shown = display_name(name)
    for line_no, raw in enumerate(read_lines(name), 1):
        if not raw.strip():
            continue
        try:
            record: dict[str, Any] | InputError = parse_record(
                raw, shown, line_no, text_field, added_fields=added_fields)
        except InputError as e:
            record = e
        yield line_no, raw, record


@contextlib.contextmanager
def replayable_stdin() -> Iterator[Callable[[], object]]:
    """Standard input copied to a temporary file that stands in for it until the block ends,
    so that it can be read more than once: the function this yields starts it over. The
    copy is as it came (compressed input stays compressed), in the system's temporary
    folder (``TMPDIR``), and has no name there (it is deleted as soon as it is made where
    the system allows), so nothing is left behind, even after a crash."""
    source = _open_raw(STDIO)
    with tempfile.TemporaryFile(prefix="cleaner-stdin-") as copy:
        try:
            shutil.copyfileobj(source, copy, CHUNK_BYTES)
            copy.seek(0)
        except OSError as e:
            raise InputError(f"<stdin>: cannot copy it to a temporary file to read it twice: "
                             f"{e.strerror or e} (TMPDIR names the folder)") from None
        real = sys.stdin
        sys.stdin = io.TextIOWrapper(cast(IO[bytes], copy))  # only its buffer is read
        try:
            yield functools.partial(copy.seek, 0)
        finally:
            sys.stdin.detach()
            sys.stdin = real


def read_jsonl(name: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of a JSON Lines input, compressed or not (blank lines skipped); for
    trusted files such as corpora, where a malformed line may simply raise. The command
    line checks each record instead (:func:`parse_record`)."""
    for line in read_lines(os.fspath(name)):
        if line.strip():
            yield json.loads(line)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        self.encoding = codecs.lookup(encoding).name
        if self.encoding == "utf-8":
            encoding = "utf-8-sig"  # the same, without a byte-order mark at the start
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")

    def chunks(self) -> Iterator[str]:
        """The text, a chunk at a time (see :func:`read_chunks`)."""
        for data in read_chunks(self.name):
            yield self.decode(data)
        yield self.decode(b"", final=True)

    def decode(self, data: bytes, final: bool = False) -> str:
        """The text of the input's next ``data``; ``final`` for the end of the input.

        Binary input is told by NUL characters in the decoded text, so that UTF-16 and
        UTF-32 text (whose bytes are full of NULs) is not taken for it.
        """
        self.size += len(data)
        try:
            text: str = self._decoder.decode(data, final)
        except UnicodeDecodeError as e:  # what surrogateescape cannot carry: a cut-off unit
            raise InputError(f"{display_name(self.name)}: cannot decode as {self.encoding}: "
                             f"{e.reason}") from None
        if not self._allow_binary and "\x00" in text:
            raise InputError(f"{display_name(self.name)}: looks binary (it contains NUL "
                             "bytes); pass --allow-binary to clean it anyway")
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


def output_encoder(encoding: str = "utf-8") -> Callable[[str], bytes]:
    """The encoder of one output stream, given its text piece by piece: surrogates from
    undecodable input become their original bytes, and an encoding that writes a byte-order
    mark (UTF-16, UTF-32) writes it once, at the stream's start."""
    return codecs.getincrementalencoder(encoding)(errors="surrogateescape").encode


def utf8_size(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes, for counting: a byte carried through from
    undecodable input counts as one, a lone surrogate (valid in JSON: ``"\\ud800"``) as
    three."""
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return len(text.encode("utf-8", "surrogatepass"))


@functools.cache
def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any failure (including KeyboardInterrupt) the temporary file is deleted and an
    existing file at ``path`` is left as it was. A symbolic link stays a link: the file it
    points to is the one replaced. A new file gets the mode the umask gives, an existing
    one keeps its mode.
    """
    target = Path(os.path.realpath(path))
    tmp = _temporary_name(path, target)
    try:
        # Named before it exists, so that an interrupt arriving right after it is made
        # finds it here and deletes it.
        fd = _create(tmp)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else _new_file_mode()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except _NotCreated as e:
        raise InputError(f"{path}: cannot write: {e}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _NotCreated(Exception):
    """The temporary file could not be made (its message says why): there is nothing of
    ours to delete."""


def _temporary_name(path: str | Path, target: Path) -> str:
    """A fresh name for a temporary file beside ``target`` (``path`` resolved); InputError
    when its folder does not exist."""
    if not target.parent.is_dir():
        raise InputError(f"{path}: output folder {str(Path(path).parent)!r} does not exist")
    return str(target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp")


def _create(name: str) -> int:
    """Make the file ``name`` (only if it does not exist, readable by its owner alone) and
    open it for writing."""
    try:
        return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                       0o600)
    except OSError as e:
        raise _NotCreated(e.strerror or e) from None


def check_output_file(path: str | Path) -> None:
    """Raise InputError now if the file ``path`` cannot be written through
    :func:`open_output`, before a long run finds out at its end; nothing is left behind."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    if is_special_target(path):
        return
    tmp = _temporary_name(path, target)
    try:
        os.close(_create(tmp))
    except _NotCreated as e:
        raise InputError(f"{path}: cannot write: {e}") from None
    os.unlink(tmp)


def is_special_target(path: str | Path) -> bool:
    """Whether output to ``path`` must go straight into it, not through a renamed temporary
    file: a device, FIFO or socket (renaming over ``/dev/null`` would replace the device),
    or any name under ``/dev`` or ``/proc``, such as ``/dev/stdout``, which stand for a
    process's open streams."""
    if str(Path(path).absolute()).startswith(("/dev/", "/proc/")):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # a new file
        return False


@contextlib.contextmanager
def _direct_output(path: str | Path) -> Iterator[IO[bytes]]:
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None
    with f:
        yield f


_COMPRESSORS: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    ".gz": lambda raw: cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)),
    ".bz2": lambda raw: cast(IO[bytes], bz2.BZ2File(raw, "wb")),
    ".xz": lambda raw: cast(IO[bytes], lzma.LZMAFile(raw, "wb")),  # noqa: SIM115
}


def plain_output(path: str | Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """Output to ``path``, never compressed: a regular file (new, existing, or behind a
    symbolic link) through :func:`atomic_output`; a special target (see
    :func:`is_special_target`) straight, since it cannot be replaced."""
    return _direct_output(path) if is_special_target(path) else atomic_output(path)


@contextlib.contextmanager
def open_output(path: str | Path) -> Iterator[IO[bytes]]:
    """Output to ``path`` (see :func:`plain_output`), compressed when the name ends in
    ``.gz``, ``.bz2`` or ``.xz``."""
    compress = _COMPRESSORS.get(Path(path).suffix.lower())
    with plain_output(path) as raw:
        if compress is None:
            yield raw
            return
        with compress(raw) as packed:
            yield packed


def parse_record(line: bytes, name: str, line_no: int, text_field: str, *,
                 added_fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One JSON Lines record whose ``text_field`` is a string or ``null`` (a missing text,
    passed through as it is); errors name file and line. ``added_fields`` maps each field
    the output adds to the flag that asks for it: a record to be cleaned must not have one
    already, which the output would overwrite."""
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
    text = record[text_field]
    if text is None:
        return record
    if not isinstance(text, str):
        raise InputError(f"{where}: field {text_field!r} is {type(text).__name__}, "
                         "not a string")
    for field, flag in (added_fields or {}).items():
        if field in record:
            raise InputError(f"{where}: record already has a {field!r} field, which "
                             f"{flag} would overwrite")
    return record


def dump_record(record: dict[str, Any]) -> bytes:
    """A record as one JSON line; lone surrogates are written as JSON escapes."""
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
