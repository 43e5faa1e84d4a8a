"""Running one command-line invocation: pair inputs with outputs, clean, write, count.

Text inputs are one document each, read a chunk at a time and cleaned in segments when
they are long (see :mod:`cleaner.segment`), so that memory does not grow with them; JSON
Lines inputs are one document per record. Either way the documents stream through the
cleaner in order, on as many processes as asked, and each result is written as soon as it
is back; an output file is renamed into place once its document is complete.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, cast

from cleaner.errors import CleanerError, InputError
from cleaner.io import (
    STDIO,
    TextInput,
    check_output_file,
    display_name,
    dump_record,
    open_output,
    output_encoder,
    read_records,
    utf8_size,
    write_all,
)
from cleaner.labels import BOILERPLATE, CONTENT, EXPLAIN_HEADER
from cleaner.normalize import LINE_BREAK
from cleaner.pipeline import Cleaner
from cleaner.repeats import RepeatIndex
from cleaner.segment import Segment, split_segments
from cleaner.stats import Stats
from cleaner.types import CleanResult, Decision

ON_ERROR = ("fail", "skip", "keep")
URL_FIELD = "url"  # the JSON field that gives a record's site to the repetition evidence


@dataclass(frozen=True)
class Job:
    """One input and where its output goes (``None``: standard output). ``make_folder``:
    the target's folder is created if missing (in an output folder); a single output file
    needs its folder to exist. ``in_place``: the target is the input itself."""

    source: str
    target: Path | None
    make_folder: bool = False
    in_place: bool = False

    def open_output(self, stdout: IO[bytes]) -> contextlib.AbstractContextManager[IO[bytes]]:
        """Where to write: ``stdout``, or the target, atomically (see
        :func:`cleaner.io.open_output`)."""
        if self.target is None:
            return nullcontext(stdout)
        if self.make_folder:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        return open_output(self.target)


@dataclass(frozen=True)
class Options:
    """What the runner needs from the command line besides the cleaner itself."""

    jsonl: bool = False
    text_field: str = "text"
    url_field: str = URL_FIELD
    removed_field: str | None = None
    doc_stats_field: str | None = None
    on_error: str = "fail"
    keep_partial: bool = False
    drop_empty: bool = False
    explain: bool = False
    encoding: str = "utf-8"
    allow_binary: bool = False
    n_jobs: int = 1
    progress: bool = False


def plan_jobs(inputs: Sequence[str], output: str | None, in_place: bool, glob: str,
              warn: Callable[[str], None] = lambda message: None) -> list[Job]:
    """Expand folders and pair every input file with its output path.

    A folder without a file that ``glob`` matches is reported to ``warn``, and an error
    when nothing is left to clean. An output that is one of the inputs is an error (that is
    ``--in-place``), checked before anything is written.
    """
    inputs = list(inputs) or [STDIO]
    folders = _folders(inputs)
    if folders and not (output or in_place):
        raise InputError(f"{folders[0]}: is a folder; give -o OUTDIR or --in-place")
    files = _expand(inputs, folders, glob, warn)
    if in_place:
        return [Job(str(f), f, in_place=True) for name in inputs
                for f in (files[name] if name in files else [Path(name)])]
    if output is None:
        return [Job(src, None) for src in inputs]
    out = Path(output)
    if len(inputs) == 1 and not folders and not out.is_dir():
        jobs = [Job(inputs[0], out)]
    elif STDIO in inputs:
        raise InputError("standard input cannot be combined with an output folder")
    else:
        jobs = []
        for name in inputs:
            root = Path(name)
            if name in files:
                jobs += [Job(str(f), out / f.relative_to(root), make_folder=True)
                         for f in files[name]]
            else:
                jobs.append(Job(name, out / root.name, make_folder=True))
    for job in jobs:
        if job.source != STDIO and job.target is not None and _same_file(job.source,
                                                                            job.target):
            raise InputError(f"{job.target}: is the input file; use --in-place to rewrite it")
    return jobs


def read_jobs(inputs: Sequence[str], glob: str,
              warn: Callable[[str], None] = lambda message: None) -> list[Job]:
    """Every input file, folders expanded as :func:`plan_jobs` does, with no output: for a
    run that only looks at the results (``cleaner report``)."""
    inputs = list(inputs) or [STDIO]
    files = _expand(inputs, _folders(inputs), glob, warn)
    return [Job(str(f), None) for name in inputs
            for f in files.get(name, [Path(name)])]


def _folders(inputs: Sequence[str]) -> list[str]:
    return [name for name in inputs if name != STDIO and Path(name).is_dir()]


def _expand(inputs: Sequence[str], folders: Sequence[str], glob: str,
            warn: Callable[[str], None]) -> dict[str, list[Path]]:
    """The files ``glob`` matches in each folder; a folder without any is reported to
    ``warn``, and an error when no input is left."""
    files = {name: _walk(Path(name), glob) for name in folders}
    if folders and not any(files.values()) and len(folders) == len(inputs):
        raise InputError(f"no input file: no file in {', '.join(folders)} matches "
                         f"--glob {glob!r}")
    for name in folders:
        if not files[name]:
            warn(f"warning: {name}: no file matches --glob {glob!r}")
    return files


def _walk(root: Path, glob: str) -> list[Path]:
    return sorted(f for f in root.rglob(glob) if f.is_file()
                  and not any(part.startswith(".") for part in f.relative_to(root).parts))


def check_side_output(path: str, jobs: Sequence[Job], what: str = "the report") -> None:
    """An output written beside the jobs' own (``--report``; ``what`` names it) must be
    none of their inputs or outputs, and writable: checked before anything is read."""
    where = Path(path).resolve()
    for job in jobs:
        if job.source != STDIO and _same_file(job.source, Path(path)):
            raise InputError(f"{path}: is an input file; {what} needs a file of its own")
        if job.target is not None and job.target.resolve() == where:
            raise InputError(f"{path}: is also the cleaned output; {what} needs a file of "
                             "its own")
    check_output_file(path)


def _same_file(a: str, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def format_explain(result: CleanResult, *, header: bool = True) -> str:
    """The ``--explain`` table: a header, then one tab-separated row per input line."""
    rows = [EXPLAIN_HEADER] if header else []
    for d in result.decisions:
        tag = "" if not d.normalized.strip() else CONTENT if d.kept else BOILERPLATE
        score = "" if d.score is None else f"{d.score:.3f}"
        rows.append(f"{d.line_no}\t{tag}\t{d.stage.value}\t{_reason(d)}\t{score}\t{d.text}")
    return "\n".join(rows) + "\n"


def _reason(decision: Decision) -> str:
    """The reason column: the decision's reason, then the repetition evidence it weighed,
    if other documents hold the line (``repeats=site:12,docs:40,sites:3``: documents of
    the same site, documents, other sites)."""
    if decision.repeats is None:
        return decision.reason
    site, docs, sites = decision.repeats
    evidence = f"repeats=site:{site},docs:{docs},sites:{sites}"
    return f"{decision.reason} {evidence}" if decision.reason else evidence


@dataclass(eq=False)
class _TextDoc:
    """A text input on its way: read ahead a segment at a time, written as its segments'
    results come back. An output file stays open from the first segment to the last, and a
    failure discards it and stops the reading."""

    job: Job
    source: TextInput
    # Standard output and its encoder, which all its documents share; open() replaces them
    # with the output file's own, if any.
    sink: IO[bytes]
    encode: Callable[[str], bytes]
    opened: bool = False
    failed: bool = False
    _files: contextlib.ExitStack = dataclasses.field(default_factory=contextlib.ExitStack)

    def open(self) -> None:
        """Start the output: standard output as it is, or a temporary file by the target."""
        self.sink = self._files.enter_context(self.job.open_output(self.sink))
        self.opened = True
        if self.job.target is not None:
            self.encode = output_encoder(self.source.encoding)

    def close(self) -> None:
        """Complete the output: the file takes the target's place."""
        self._files.close()

    def fail(self, error: BaseException) -> None:
        """Give up on this input: stop reading it and discard its output file."""
        self.failed = True
        self._files.__exit__(type(error), error, error.__traceback__)


T = TypeVar("T")


@dataclass(frozen=True)
class _Piece:
    """A segment sent to be cleaned (index within its document), or a failed read."""

    doc: _TextDoc
    index: int
    last: bool
    error: CleanerError | None = None


class Recorder(Protocol):
    """What sees every result of a run besides its output, such as ``--report``."""

    def add(self, name: str, record: Mapping[str, Any] | None, result: CleanResult,
            segment: int) -> None:
        """One document's result with every line's decision (or one segment's: ``segment``
        is its index in the document); ``name`` says where it came from, ``record`` is its
        JSON Lines record (``None`` for text input)."""


def _counted(results: Iterator[T], completes: Callable[[T], bool]) -> Iterator[T]:
    from tqdm import tqdm

    with tqdm(unit="doc", file=sys.stderr, mininterval=0.5) as bar:
        for result in results:
            yield result
            if completes(result):
                bar.update()


class Runner:
    """Cleans the jobs of one invocation.

    ``report`` receives one line per problem, starting with "error:" (the input failed;
    the run will exit non-zero) or "warning:" (a bad record handled by ``on_error``). An
    output file that cannot be written is such an error, and the other inputs go on; when
    standard output cannot be written (a full disk), the run ends with that OSError.
    A ``recorder`` gets every result as it is written. With a ``repeats`` index, the
    cleaner weighs how often each line recurs (see :mod:`cleaner.repeats`); a JSON Lines
    record's site is its ``url_field``, a text input has none.
    """

    def __init__(self, cleaner: Cleaner, options: Options, report: Callable[[str], None],
                 recorder: Recorder | None = None, repeats: RepeatIndex | None = None) -> None:
        self.cleaner = cleaner
        self.options = options
        self.report = report
        self.recorder = recorder
        self.repeats = repeats
        self.stats = Stats(drop_empty=options.drop_empty)
        self.failed = False
        # Workers send back only the removed lines' decisions unless every line is wanted.
        self._brief = not (options.explain or recorder is not None)

    def run(self, jobs: Sequence[Job], stdout: IO[bytes]) -> None:
        """Clean every job; a failing input is reported and the others go on."""
        self.stats.started = time.perf_counter()
        if self.options.jsonl:
            for job in jobs:
                self._guard(job, functools.partial(self._jsonl, job, stdout))
        else:
            self._texts(jobs, stdout)

    def _fail(self, message: str) -> None:
        self.report(f"error: {message}")
        self.failed = True

    def _guard(self, job: Job, work: Callable[[], None]) -> None:
        try:
            work()
        except CleanerError as e:
            self._fail(str(e))
        except OSError as e:
            if job.target is None:  # standard output failed: the run cannot go on
                raise
            self._fail(f"{job.target}: cannot write: {e.strerror or e}")

    def _progress(self, results: Iterator[T],
                  completes: Callable[[T], bool] = lambda result: True) -> Iterator[T]:
        """``results`` as they are, with a bar on stderr when asked that counts documents:
        it moves on each result that ``completes`` one (a long text comes back in
        segments, and only its last one does)."""
        if not self.options.progress:
            return results
        return _counted(results, completes)

    def _texts(self, jobs: Sequence[Job], stdout: IO[bytes]) -> None:
        """Each text input read in segments ahead of the results, which are written in order;
        a failed read is reported in its place, when the results before it are written."""
        opts = self.options
        cfg = self.cleaner.config
        encode_stdout = output_encoder(opts.encoding)

        def pieces() -> Iterator[tuple[_Piece, Segment | None]]:
            for job in jobs:
                doc = _TextDoc(job, TextInput(job.source, opts.encoding,
                                              allow_binary=opts.allow_binary),
                               stdout, encode_stdout)
                try:
                    segments = split_segments(doc.source.chunks(), cfg.segment_chars,
                                              cfg.segment_lines)
                    for index, segment in enumerate(segments):
                        if doc.failed:
                            break
                        yield _Piece(doc, index, segment.last), segment
                except CleanerError as e:
                    yield _Piece(doc, -1, True, e), None

        results = self.cleaner.explain_tagged(pieces(), n_jobs=opts.n_jobs,
                                              brief=self._brief, repeats=self.repeats)
        current: _TextDoc | None = None  # the document being written
        try:
            for piece, result in self._progress(results, lambda pair: pair[0].last):
                current = piece.doc
                if result is None:  # the input failed to read: only that comes back
                    error = cast(CleanerError, piece.error)
                    self._fail(str(error))
                    current.fail(error)
                    continue
                self._guard(current.job, functools.partial(self._write, piece, result))
        except BaseException as e:
            if current is not None:
                current.fail(e)
            raise

    def _write(self, piece: _Piece, result: CleanResult) -> None:
        """Write one segment's result, opening the output at the document's first segment
        (with ``drop_empty``, at its first segment with text, so that a document cleaned to
        nothing has no output) and completing it at the last."""
        doc = piece.doc
        if doc.failed:
            return
        try:
            last = piece.last
            self.stats.add(result, doc.source.size if last else 0,
                           doc.source.undecodable if last else 0, segment=piece.index)
            if self.recorder is not None:
                self.recorder.add(display_name(doc.job.source), None, result, piece.index)
            out = (format_explain(result, header=piece.index == 0) if self.options.explain
                   else result.text)
            if not doc.opened and (out or not self.options.drop_empty):
                doc.open()
            if doc.opened:
                write_all(doc.sink, doc.encode(out))
            if last and doc.opened:
                doc.close()
            elif last:
                self.stats.dropped_empty += 1
        except BaseException as e:
            doc.fail(e)
            raise

    def _jsonl(self, job: Job, stdout: IO[bytes]) -> None:
        """One JSON Lines input. A bad record that stops the run (``on_error`` fail) comes
        after every record before it is written; an output file holding those is discarded
        like any failed output, or, with ``keep_partial``, renamed into place."""
        keep = self.options.keep_partial and job.target is not None
        with job.open_output(stdout) as sink:
            failure = self._jsonl_stream(job.source, sink)
            if failure is not None and not keep:
                if job.in_place:
                    raise InputError(f"{failure} ({job.target} left as it was)")
                if job.target is not None:
                    raise InputError(f"{failure} ({job.target} not written; --keep-partial "
                                     "keeps the records before it)")
                raise failure
        if failure is not None:
            raise InputError(f"{failure} ({job.target} holds the records before it)")

    def _jsonl_stream(self, name: str, sink: IO[bytes]) -> InputError | None:
        """Records in, records out, in order; bad records follow the ``on_error`` policy, and
        a record whose text is ``null`` passes through unchanged. Returns the error that
        stopped the input (``fail``, or a read error), once every record before it is
        written."""
        opts = self.options
        field = opts.text_field
        added = {added_field: flag for added_field, flag in (
            (opts.removed_field, "--removed-field"), (opts.doc_stats_field, "--doc-stats"))
            if added_field is not None}
        failure: list[InputError] = []

        def records() -> Iterator[tuple[tuple[bytes, dict[str, Any] | None, int],
                                        str | None]]:
            """(raw line, record, line number) with the text to clean: ``None`` for a bad
            record (which has no record either) and for a ``null`` text."""
            try:
                for line_no, raw, record in read_records(name, field, added_fields=added):
                    self.stats.records_in += 1
                    if isinstance(record, InputError):
                        if opts.on_error == "fail":
                            failure.append(record)
                            return
                        action = "skipped" if opts.on_error == "skip" else "passed through"
                        self.report(f"warning: {record} (record {action})")
                        yield (raw, None, line_no), None
                        continue
                    yield (raw, record, line_no), record[field]
            except InputError as e:  # the input cannot be read on: a truncated .gz
                failure.append(e)

        def site(tag: tuple[bytes, dict[str, Any] | None, int]) -> Any:
            """The record's URL, as it is: a value that is not a URL gives no site."""
            record = tag[1]
            return None if record is None else record.get(opts.url_field)

        results = self.cleaner.explain_tagged(records(), n_jobs=opts.n_jobs,
                                              brief=self._brief, repeats=self.repeats,
                                              site=site)
        for (raw, record, line_no), result in self._progress(results):
            if record is None or result is None:
                self._pass_or_skip(sink, raw, skip=record is None and opts.on_error == "skip")
                continue
            original = record[field]
            result = dataclasses.replace(result, text=final_newline_as_in(original,
                                                                          result.text))
            self.stats.add(result, utf8_size(original))
            if self.recorder is not None:
                self.recorder.add(f"{display_name(name)}:{line_no}", record, result, 0)
            if opts.drop_empty and not result.text:
                self.stats.dropped_empty += 1
                continue
            cleaned = {**record, field: result.text}
            if opts.removed_field:
                cleaned[opts.removed_field] = [d.text for d in result.removed]
            if opts.doc_stats_field:
                cleaned[opts.doc_stats_field] = result.doc_stats.as_dict()
            write_all(sink, dump_record(cleaned))
            self.stats.records_out += 1
        return failure[0] if failure else None

    def _pass_or_skip(self, sink: IO[bytes], raw: bytes, *, skip: bool) -> None:
        """A record that is not cleaned (a bad one, or one whose text is ``null``): dropped
        when ``skip``, else copied to the output as it came."""
        if skip:
            self.stats.records_skipped += 1
            return
        write_all(sink, raw if raw.endswith(b"\n") else raw + b"\n")
        self.stats.records_unchanged += 1


def final_newline_as_in(original: str, cleaned: str) -> str:
    """``cleaned`` ending as ``original`` does: with its final line break when the original
    ends with one (of any convention), else without. The cleaner always ends a text with
    one; a JSON field that had none keeps that, so its text changes only where lines went.

    >>> final_newline_as_in("A.\\nAnzeige", "A.\\n"), final_newline_as_in("A.\\r\\n", "A.\\n")
    ('A.', 'A.\\n')
    """
    if LINE_BREAK.fullmatch(original[-1:]) or not cleaned.endswith("\n"):
        return cleaned
    return cleaned[:-1]
