"""Running one command-line invocation: pair inputs with outputs, clean, write, count.

Text inputs are one document each; JSON Lines inputs are one document per record. Either
way the documents stream through :meth:`Cleaner.explain_many`, in order, on as many
processes as asked, and each result is written as soon as it is back.
"""

from __future__ import annotations

import collections
import functools
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cleaner.errors import CleanerError, InputError
from cleaner.io import (
    STDIO,
    decode,
    display_name,
    dump_record,
    encode,
    open_input,
    open_output,
    parse_record,
    read_bytes,
)
from cleaner.labels import BOILERPLATE, CONTENT, EXPLAIN_HEADER
from cleaner.pipeline import Cleaner
from cleaner.stats import Stats
from cleaner.types import CleanResult

ON_ERROR = ("fail", "skip", "keep")


@dataclass(frozen=True)
class Job:
    """One input and where its output goes (``None``: standard output)."""

    source: str
    target: Path | None


@dataclass(frozen=True)
class Options:
    """What the runner needs from the command line besides the cleaner itself."""

    jsonl: bool = False
    text_field: str = "text"
    removed_field: str | None = None
    on_error: str = "fail"
    explain: bool = False
    encoding: str = "utf-8"
    allow_binary: bool = False
    n_jobs: int = 1
    progress: bool = False


def plan_jobs(inputs: Sequence[str], output: str | None, in_place: bool,
              glob: str) -> list[Job]:
    """Expand folders and pair every input file with its output path."""
    inputs = list(inputs) or [STDIO]
    folders = [name for name in inputs if name != STDIO and Path(name).is_dir()]
    if folders and not (output or in_place):
        raise InputError(f"{folders[0]}: is a folder; give -o OUTDIR or --in-place")
    if in_place:
        return [Job(src, Path(src)) for src in _expand(inputs, glob)]
    if output is None:
        return [Job(src, None) for src in inputs]
    out = Path(output)
    if len(inputs) == 1 and not folders and not out.is_dir():
        if inputs[0] != STDIO and _same_file(inputs[0], out):
            raise InputError(f"{output}: is the input file; use --in-place to rewrite it")
        return [Job(inputs[0], out)]
    if STDIO in inputs:
        raise InputError("standard input cannot be combined with an output folder")
    jobs = []
    for name in inputs:
        root = Path(name)
        if root.is_dir():
            jobs += [Job(str(f), out / f.relative_to(root)) for f in _walk(root, glob)]
        else:
            jobs.append(Job(name, out / root.name))
    return jobs


def _walk(root: Path, glob: str) -> list[Path]:
    return sorted(f for f in root.rglob(glob) if f.is_file()
                  and not any(part.startswith(".") for part in f.relative_to(root).parts))


def _expand(inputs: Sequence[str], glob: str) -> list[str]:
    return [str(f) for name in inputs
            for f in (_walk(Path(name), glob) if Path(name).is_dir() else [Path(name)])]


def _same_file(a: str, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def format_explain(result: CleanResult) -> str:
    """The ``--explain`` table: a header, then one tab-separated row per input line."""
    rows = [EXPLAIN_HEADER]
    for d in result.decisions:
        tag = "" if not d.normalized.strip() else CONTENT if d.kept else BOILERPLATE
        score = "" if d.score is None else f"{d.score:.3f}"
        rows.append(f"{d.line_no}\t{tag}\t{d.stage.value}\t{d.reason}\t{score}\t{d.text}")
    return "\n".join(rows) + "\n"


class Runner:
    """Cleans the jobs of one invocation.

    ``report`` receives one line per problem, starting with "error:" (the input failed;
    the run will exit non-zero) or "warning:" (a bad record handled by ``on_error``).
    """

    def __init__(self, cleaner: Cleaner, options: Options,
                 report: Callable[[str], None]) -> None:
        self.cleaner = cleaner
        self.options = options
        self.report = report
        self.stats = Stats()
        self.failed = False

    def run(self, jobs: Sequence[Job], stdout: IO[bytes]) -> None:
        """Clean every job; a failing input is reported and the others go on."""
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
        except BrokenPipeError:
            raise
        except OSError as e:
            self._fail(f"{job.target or 'standard output'}: cannot write: {e.strerror or e}")

    def _results(self, texts: Iterator[str]) -> Iterator[CleanResult]:
        results = self.cleaner.explain_many(texts, n_jobs=self.options.n_jobs,
                                            brief=not self.options.explain)
        if not self.options.progress:
            return results
        from tqdm import tqdm

        return iter(tqdm(results, unit="doc", file=sys.stderr, mininterval=0.5))

    def _texts(self, jobs: Sequence[Job], stdout: IO[bytes]) -> None:
        opts = self.options
        read: collections.deque[tuple[Job, Any]] = collections.deque()

        def texts() -> Iterator[str]:
            for job in jobs:
                try:
                    doc = decode(read_bytes(job.source), display_name(job.source),
                                 opts.encoding, allow_binary=opts.allow_binary)
                except CleanerError as e:
                    self._fail(str(e))
                    continue
                read.append((job, doc))
                yield doc.text

        for result in self._results(texts()):
            job, doc = read.popleft()
            self.stats.add(result, doc.size, doc.undecodable)
            out = format_explain(result) if opts.explain else result.text
            data = encode(out, opts.encoding)
            self._guard(job, functools.partial(self._write, job, stdout, data))

    def _write(self, job: Job, stdout: IO[bytes], data: bytes) -> None:
        if job.target is None:
            stdout.write(data)
            return
        job.target.parent.mkdir(parents=True, exist_ok=True)
        with open_output(job.target) as sink:
            sink.write(data)

    def _jsonl(self, job: Job, stdout: IO[bytes]) -> None:
        if job.target is not None:
            job.target.parent.mkdir(parents=True, exist_ok=True)
        with open_output(job.target) if job.target else nullcontext(stdout) as sink:
            self._jsonl_stream(job.source, sink)

    def _jsonl_stream(self, name: str, sink: IO[bytes]) -> None:
        """Records in, records out, in order; bad records follow the ``on_error`` policy."""
        opts = self.options
        field = opts.text_field
        queue: collections.deque[tuple[bytes, dict[str, Any] | None]] = collections.deque()

        def texts() -> Iterator[str]:
            with nullcontext(sys.stdin.buffer) if name == STDIO else open_input(name) as src:
                for line_no, raw in enumerate(src, 1):
                    if not raw.strip():
                        continue
                    self.stats.records_in += 1
                    try:
                        record = parse_record(raw, display_name(name), line_no, field)
                    except InputError as e:
                        if opts.on_error == "fail":
                            raise
                        action = "skipped" if opts.on_error == "skip" else "passed through"
                        self.report(f"warning: {e} (record {action})")
                        queue.append((raw, None))
                        continue
                    queue.append((raw, record))
                    yield record[field]

        def flush_bad() -> None:
            while queue and queue[0][1] is None:
                raw, _ = queue.popleft()
                if opts.on_error == "keep":
                    sink.write(raw if raw.endswith(b"\n") else raw + b"\n")
                    self.stats.records_unchanged += 1
                else:
                    self.stats.records_skipped += 1

        for result in self._results(texts()):
            flush_bad()
            record = queue.popleft()[1] or {}  # flush_bad left a good record in front
            self.stats.add(result, len(encode(record[field])))
            cleaned = {**record, field: result.text}
            if opts.removed_field:
                cleaned[opts.removed_field] = [d.text for d in result.removed]
            sink.write(dump_record(cleaned))
            self.stats.records_out += 1
        flush_bad()
