"""The ``cleaner`` command: a filter over text files, folders and JSON Lines batches.

Exit codes: 0 success; 1 an input, rule or model error (every other input is still
processed); 2 a usage error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cleaner import __version__
from cleaner.config import CleanerConfig
from cleaner.errors import CleanerError, InputError
from cleaner.io import (
    STDIO,
    atomic_output,
    check_encoding,
    decode,
    display_name,
    dump_record,
    encode,
    parse_record,
    read_bytes,
)
from cleaner.labels import BOILERPLATE, CONTENT, EXPLAIN_HEADER
from cleaner.pipeline import Cleaner
from cleaner.stats import Stats
from cleaner.types import CleanResult

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
JSONL_BATCH = 256

EPILOG = """\
examples:
  cleaner article.txt > clean.txt          clean one file
  cleaner < in.txt > out.txt               as a filter
  cleaner --in-place a.txt b.txt           rewrite files (atomically)
  cleaner corpus/ -o cleaned/ --glob '*.txt'   mirror a folder tree
  cleaner --jsonl --text-field body < in.jsonl > out.jsonl
  cleaner --explain article.txt            every line with its decision and why
  cleaner --rules my_rules.toml --stats article.txt

exit codes: 0 ok, 1 input/rule/model error, 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; kept separate from :func:`main` so tests can inspect it."""
    p = argparse.ArgumentParser(
        prog="cleaner", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Remove ads, promotional blocks, archive/tag footers and stray whitespace "
                    "from plain-text documents.")
    p.add_argument("inputs", nargs="*", metavar="FILE",
                   help="text files or folders; none or '-' reads standard input")
    p.add_argument("--version", action="version", version=f"cleaner {__version__}")
    out = p.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="PATH",
                     help="write here instead of standard output (atomically); a folder when "
                          "there are several inputs or a folder input")
    out.add_argument("--in-place", action="store_true",
                     help="replace each input file with its cleaned text (atomically)")
    out.add_argument("--explain", action="store_true",
                     help="print every input line with its decision, stage, rule id or score")
    out.add_argument("--stats", action="store_true",
                     help="print counts of lines, bytes and removed lines to stderr at the end")
    fmt = p.add_argument_group("input")
    fmt.add_argument("--jsonl", action="store_true",
                     help="input and output are JSON Lines; only the text field is cleaned")
    fmt.add_argument("--text-field", default="text", metavar="NAME",
                     help="the JSON field holding the text (default: text)")
    fmt.add_argument("--encoding", default="utf-8",
                     help="encoding of text input and output (default: utf-8)")
    fmt.add_argument("--allow-binary", action="store_true",
                     help="clean input that contains NUL bytes instead of refusing it")
    fmt.add_argument("--glob", default="*", metavar="PATTERN",
                     help="files to take from folder inputs, recursively (default: *)")
    rules = p.add_argument_group("rules and model")
    rules.add_argument("--rules", action="append", default=[], metavar="FILE",
                       help="an extra rule file (TOML); repeatable")
    rules.add_argument("--no-builtin-rules", action="store_true",
                       help="use only the rule files given with --rules")
    rules.add_argument("--lang", metavar="CODE[,CODE]",
                       help="load only these languages' phrase lists (default: all)")
    rules.add_argument("--no-model", action="store_true",
                       help="rules and whitespace only, no line classifier")
    rules.add_argument("--model", metavar="PATH", help="a model file of your own")
    rules.add_argument("--trust-model", action="store_true",
                       help="allow loading --model (model files can run code when loaded)")
    rules.add_argument("--threshold", type=float, metavar="P",
                       help="remove lines whose boilerplate probability is above P "
                            "(default: the model's own)")
    return p


def config_from_args(args: argparse.Namespace) -> CleanerConfig:
    """Turn parsed flags into a :class:`CleanerConfig`."""
    langs = tuple(c.strip() for c in args.lang.split(",") if c.strip()) if args.lang else None
    return CleanerConfig(
        rules=tuple(args.rules), builtin_rules=not args.no_builtin_rules, langs=langs,
        use_model=not args.no_model, model_path=args.model, trust_model=args.trust_model,
        threshold=args.threshold)


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    stdin_only = not args.inputs or args.inputs == [STDIO]
    if args.in_place and (stdin_only or STDIO in args.inputs):
        parser.error("--in-place needs files, not standard input")
    if args.in_place and args.output:
        parser.error("--in-place and -o/--output exclude each other")
    if args.explain and args.jsonl:
        parser.error("--explain works on text input, not --jsonl")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error("--threshold must be between 0 and 1")
    if args.model and args.no_model:
        parser.error("--model and --no-model exclude each other")
    if args.inputs.count(STDIO) > 1:
        parser.error("standard input ('-') can be read only once")
    try:
        check_encoding(args.encoding)
    except InputError as e:
        parser.error(str(e))


@dataclass(frozen=True)
class Job:
    """One input and where its output goes (``None``: standard output)."""

    source: str
    target: Path | None


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
    """Cleans every job of one invocation, counting into :class:`Stats`."""

    def __init__(self, cleaner: Cleaner, args: argparse.Namespace) -> None:
        self.cleaner = cleaner
        self.args = args
        self.stats = Stats()

    def run(self, job: Job, stdout: IO[bytes]) -> None:
        """Clean one input and write its output (atomically unless to stdout)."""
        if job.target is not None:
            job.target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(job.target) if job.target else nullcontext(stdout) as sink:
            if self.args.jsonl:
                self._jsonl(job.source, sink)
            else:
                self._text(job.source, sink)

    def _text(self, name: str, sink: IO[bytes]) -> None:
        doc = decode(read_bytes(name), display_name(name), self.args.encoding,
                     allow_binary=self.args.allow_binary)
        result = self.cleaner.explain(doc.text)
        self.stats.add(result, doc.size, doc.undecodable)
        out = format_explain(result) if self.args.explain else result.text
        sink.write(encode(out, self.args.encoding))

    def _jsonl(self, name: str, sink: IO[bytes]) -> None:
        field = self.args.text_field
        for batch in _batches(_records(name, field), JSONL_BATCH):
            texts = [record[field] for record in batch]
            for record, result in zip(batch, self.cleaner.explain_many(texts)):
                self.stats.add(result, len(encode(record[field])))
                sink.write(dump_record({**record, field: result.text}))


def _records(name: str, field: str) -> Iterator[dict[str, Any]]:
    with nullcontext(sys.stdin.buffer) if name == STDIO else _open(name) as stream:
        for line_no, raw in enumerate(stream, 1):
            if raw.strip():
                yield parse_record(raw, display_name(name), line_no, field)


def _open(name: str) -> IO[bytes]:
    try:
        return open(name, "rb")
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _error(message: str) -> None:
    print(f"cleaner: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    if hasattr(signal, "SIGPIPE"):  # `cleaner big.txt | head` ends quietly, like cat
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_usage(parser, args)
    except SystemExit as e:  # argparse: --help, --version and usage errors
        return int(e.code or 0)
    try:
        jobs = plan_jobs(args.inputs, args.output, args.in_place, args.glob)
        runner = Runner(Cleaner(config_from_args(args)), args)
    except (CleanerError, ValueError) as e:
        _error(str(e))
        return EXIT_ERROR
    failed = False
    try:
        for job in jobs:
            try:
                runner.run(job, sys.stdout.buffer)
            except CleanerError as e:
                _error(str(e))
                failed = True
            except BrokenPipeError:
                raise
            except OSError as e:
                _error(f"{job.target or 'standard output'}: cannot write: {e.strerror or e}")
                failed = True
        sys.stdout.flush()
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    if args.stats:
        print(runner.stats.format(), file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK
