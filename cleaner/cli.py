"""The ``cleaner`` command: a filter over text files, folders and JSON Lines batches.

Exit codes: 0 success; 1 an input, output, rule or model error (every other input is
still processed); 2 a usage error; 130 interrupted (SIGINT), 143 terminated (SIGTERM).
Errors are one line on stderr, never a traceback. Options come from the flags, over those
of a config file (see :mod:`cleaner.configfile`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner.config import SEGMENT_CHARS, SEGMENT_LINES, CleanerConfig
from cleaner.configfile import PYPROJECT, TABLE, ConfigFile, load_config
from cleaner.engine import MAX_WORKERS_PER_CORE, worker_count
from cleaner.errors import CleanerError, InputError, UsageError
from cleaner.io import STDIO, check_encoding
from cleaner.pipeline import Cleaner
from cleaner.runner import ON_ERROR, Job, Options, Runner, plan_jobs

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2  # argparse exits with 2 on usage errors too
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM

EPILOG = """\
examples:
  cleaner article.txt > clean.txt          clean one file
  cleaner < in.txt > out.txt               as a filter
  cleaner --in-place a.txt b.txt           rewrite files (atomically)
  cleaner corpus/ -o cleaned/ --glob '*.txt'   mirror a folder tree
  cleaner --jsonl --text-field body < in.jsonl > out.jsonl
  cleaner --jsonl shard.jsonl.gz -o clean.jsonl.gz --jobs 8 --stats
  cleaner --explain article.txt            every line with its decision and why
  cleaner --rules my_rules.toml --stats article.txt
  cleaner --config cleaner.toml -v corpus/ -o cleaned/   options from a file, say what loaded
  cleaner --print-completion bash > ~/.local/share/bash-completion/completions/cleaner

options also come from [tool.cleaner] in ./pyproject.toml (or --config FILE); flags
override them

exit codes: 0 ok, 1 input/output/rule/model error, 2 usage error, 130 interrupted,
143 terminated
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; kept separate from :func:`main` so tests can inspect it."""
    p = argparse.ArgumentParser(
        prog="cleaner", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Remove ads, promotional blocks, archive/tag footers and stray whitespace "
                    "from plain-text documents.")
    inputs = p.add_argument("inputs", nargs="*", metavar="FILE",
                            help="text files or folders; none or '-' reads standard input")
    p.add_argument("-V", "--version", action="version", version=f"cleaner {__version__}")
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true",
                      help="report errors only: no warnings, and no progress bar unless "
                           "--progress")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="also say which options, rules and model were loaded, how long "
                           "that took, and how many inputs were planned")
    conf = p.add_mutually_exclusive_group()
    config = conf.add_argument("--config", metavar="FILE",
                               help=f"read options from this TOML file instead of {TABLE} in "
                                    f"./{PYPROJECT}; flags override them")
    conf.add_argument("--no-config", action="store_true",
                      help=f"ignore {TABLE} in ./{PYPROJECT}")
    out = p.add_argument_group("output")
    output = out.add_argument("-o", "--output", metavar="PATH",
                              help="write here instead of standard output (atomically); a "
                                   "folder when there are several inputs or a folder input")
    out.add_argument("--in-place", action="store_true",
                     help="replace each input file with its cleaned text (atomically)")
    out.add_argument("--explain", action="store_true",
                     help="print every input line with its decision, stage, rule id or score")
    out.add_argument("--stats", action="store_true",
                     help="print counts of lines, bytes and removed lines to stderr at the end")
    out.add_argument("--progress", action="store_true",
                     help="show a progress bar on stderr (default: only when it is a terminal)")
    out.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    out.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                     help="worker processes (default: all cores); the output does not "
                          "depend on it")
    fmt = p.add_argument_group("input")
    fmt.add_argument("--jsonl", action="store_true",
                     help="input and output are JSON Lines; only the text field is cleaned")
    fmt.add_argument("--text-field", default="text", metavar="NAME",
                     help="the JSON field holding the text (default: text)")
    fmt.add_argument("--removed-field", metavar="NAME",
                     help="with --jsonl: add the removed lines to each record in this field")
    fmt.add_argument("--on-error", choices=ON_ERROR, default="fail",
                     help="with --jsonl, a bad record: fail (stop with an error; default), "
                          "skip it, or keep it unchanged; skipped and kept records are "
                          "reported and counted in --stats")
    fmt.add_argument("--encoding", default="utf-8",
                     help="encoding of text input and output (default: utf-8)")
    fmt.add_argument("--allow-binary", action="store_true",
                     help="clean input that contains NUL bytes instead of refusing it")
    fmt.add_argument("--glob", default="*", metavar="PATTERN",
                     help="files to take from folder inputs, recursively (default: *)")
    fmt.add_argument("--segment-chars", type=int, metavar="N",
                     help="clean a document longer than N characters in segments of about N, "
                          "cut between paragraphs, so that memory stays bounded (default: "
                          f"{SEGMENT_CHARS}, 8 Mi)")
    fmt.add_argument("--segment-lines", type=int, metavar="N",
                     help="likewise for a document of more than N lines, which bounds memory "
                          f"for many short lines (default: {SEGMENT_LINES})")
    rules = p.add_argument_group("rules and model")
    rule_files = rules.add_argument("--rules", action="append", metavar="FILE",
                                    help="an extra rule file (TOML); repeatable; replaces "
                                         "the rules of a config file")
    rules.add_argument("--no-builtin-rules", action="store_true", default=None,
                       help="use only the rule files given with --rules")
    rules.add_argument("--lang", metavar="CODE[,CODE]",
                       help="load only these languages' phrase lists (default: all)")
    rules.add_argument("--no-model", action="store_true", default=None,
                       help="rules and whitespace only, no line classifier")
    model = rules.add_argument("--model", metavar="PATH", help="a model file of your own")
    rules.add_argument("--trust-model", action="store_true",
                       help="allow loading --model (model files can run code when loaded)")
    rules.add_argument("--threshold", type=float, metavar="P",
                       help="remove lines whose boilerplate probability is above P "
                            "(default: the model's own)")
    _add_completion(p, files=[inputs, output, rule_files, model, config])
    return p


def _add_completion(parser: argparse.ArgumentParser,
                    files: Sequence[argparse.Action]) -> None:
    """``--print-completion SHELL``: a completion script from shtab (the ``completion``
    extra), which completes the options and, for ``files``, paths. Without shtab the
    option is still there and says what to install."""
    try:
        import shtab
    except ImportError:
        parser.add_argument("--print-completion", metavar="SHELL",
                            action=_CompletionUnavailable,
                            help="print a shell completion script (needs shtab: "
                                 "pip install 'cleaner[completion]')")
        return
    for action in files:
        action.complete = shtab.FILE  # type: ignore[attr-defined]
    shtab.add_argument_to(parser, ["--print-completion"],
                          help="print a shell completion script for SHELL and exit")


class _CompletionUnavailable(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        parser.error("--print-completion needs shtab: pip install 'cleaner[completion]' "
                     "(or pip install shtab)")


def config_from_args(args: argparse.Namespace,
                     settings: ConfigFile | None = None) -> CleanerConfig:
    """Turn parsed flags into a :class:`CleanerConfig`, over the options of a config file:
    a flag given on the command line overrides the file's value."""
    langs = tuple(c.strip() for c in args.lang.split(",") if c.strip()) if args.lang else None
    flags = {"rules": None if args.rules is None else tuple(args.rules),
             "builtin_rules": False if args.no_builtin_rules else None,
             "langs": langs,
             "use_model": False if args.no_model else True if args.model else None,
             "model_path": args.model, "threshold": args.threshold,
             "segment_chars": args.segment_chars, "segment_lines": args.segment_lines}
    options = {**(settings.options if settings else {}),
               **{k: v for k, v in flags.items() if v is not None}}
    return CleanerConfig.from_options(trust_model=args.trust_model, **options)


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
    if args.jobs == 0 or args.jobs < -1:
        parser.error("--jobs must be a positive number, or -1 for all cores")
    if any(n is not None and n < 1 for n in (args.segment_chars, args.segment_lines)):
        parser.error("--segment-chars and --segment-lines must be positive numbers")
    if (args.removed_field or args.on_error != "fail") and not args.jsonl:
        parser.error("--removed-field and --on-error go with --jsonl")
    if args.removed_field is not None and args.removed_field == args.text_field:
        parser.error("--removed-field must differ from --text-field, or it would replace "
                     "the cleaned text")
    if args.inputs.count(STDIO) > 1:
        parser.error("standard input ('-') can be read only once")
    try:
        check_encoding(args.encoding)
    except InputError as e:
        parser.error(str(e))


def options_from_args(args: argparse.Namespace) -> Options:
    """The runner's options from parsed flags."""
    progress = args.progress or (sys.stderr is not None and sys.stderr.isatty()
                                 and not args.no_progress and not args.quiet)
    return Options(jsonl=args.jsonl, text_field=args.text_field,
                   removed_field=args.removed_field, on_error=args.on_error,
                   explain=args.explain, encoding=args.encoding,
                   allow_binary=args.allow_binary, n_jobs=worker_count(args.jobs),
                   progress=progress)


def _report(message: str) -> None:
    if sys.stderr is not None:  # started with standard error closed: nowhere to say it
        print(f"cleaner: {message}", file=sys.stderr)


@dataclass(frozen=True)
class Reporter:
    """Messages for stderr, one line each: "error: ..." always, "warning: ..." unless
    ``quiet``, and :meth:`note` (what was loaded and planned) only when ``verbose``."""

    quiet: bool = False
    verbose: bool = False

    def __call__(self, message: str) -> None:
        if not (self.quiet and message.startswith("warning:")):
            _report(message)

    def note(self, message: str) -> None:
        if self.verbose:
            _report(f"note: {message}")


_TRACKER = "ignore::UserWarning:joblib.externals.loky.backend.resource_tracker"


def _quiet_worker_tracker() -> None:
    """Keep joblib's resource tracker process from warning on our stderr.

    When the reader stops early (`cleaner big.txt | head`), the workers are stopped
    mid-batch and the tracker, a separate process that inherits stderr, sometimes reports
    a semaphore it had already seen removed. Nothing is left behind and the user can do
    nothing about it; the tracker reads this filter from its environment.
    """
    filters = os.environ.get("PYTHONWARNINGS", "")
    if _TRACKER not in filters.split(","):
        os.environ["PYTHONWARNINGS"] = f"{filters},{_TRACKER}" if filters else _TRACKER


class _Terminated(BaseException):
    """SIGTERM arrived: unwound like KeyboardInterrupt, so that no temporary file stays."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """While the run lasts, SIGTERM raises :class:`_Terminated` (in the main thread only,
    where Python delivers signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_usage(parser, args)
    except SystemExit as e:  # argparse: --help, --version and usage errors
        return int(e.code or 0)
    except BrokenPipeError:  # `cleaner --print-completion bash | head` ends quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - else Python flushes again at exit
        return EXIT_OK
    report = Reporter(quiet=args.quiet, verbose=args.verbose)
    try:
        settings = None if args.no_config else load_config(args.config, Path.cwd())
    except UsageError as e:
        report(f"error: {e}")
        return EXIT_USAGE
    _quiet_worker_tracker()
    with _terminate_cleanly():
        try:
            return _run(args, settings, report)
        except KeyboardInterrupt:
            _report("error: interrupted")
            return EXIT_INTERRUPTED
        except _Terminated:
            _report("error: terminated")
            return EXIT_TERMINATED


def _run(args: argparse.Namespace, settings: ConfigFile | None, report: Reporter) -> int:
    if settings is not None:
        report.note(f"options from {settings.source}: "
                    f"{', '.join(sorted(settings.options)) or 'none'}")
    try:
        jobs = plan_jobs(args.inputs, args.output, args.in_place, args.glob, report)
        if sys.stdout is None and any(job.target is None for job in jobs):
            raise InputError("standard output is closed; give -o PATH")
    except (CleanerError, ValueError) as e:
        return _failed(report, e)
    started = time.perf_counter()
    try:
        cleaner = Cleaner(config_from_args(args, settings))
    except (CleanerError, ValueError) as e:  # an option from a file is named by the file too
        return _failed(report, e, f" (with options from {settings.source})" if settings else "")
    loading = time.perf_counter() - started
    options = options_from_args(args)
    if options.n_jobs < args.jobs:
        report(f"warning: --jobs {args.jobs}: using {options.n_jobs} worker processes, "
               f"{MAX_WORKERS_PER_CORE} per core at most")
    if report.verbose:
        _describe(report, cleaner, loading, jobs, options)
    runner = Runner(cleaner, options, report)
    runner.stats.loading_seconds = loading
    try:
        runner.run(jobs, sys.stdout.buffer if sys.stdout is not None else io.BytesIO())
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as e:  # standard output failed (the runner handles output files)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - else Python flushes again at exit
        if isinstance(e, BrokenPipeError):  # `cleaner big.txt | head` ends quietly
            return EXIT_OK
        _report(f"error: standard output: cannot write: {e.strerror or e}")
        return EXIT_ERROR
    if args.stats:
        _report_stats(runner)
    return EXIT_ERROR if runner.failed else EXIT_OK


def _failed(report: Reporter, error: Exception, origin: str = "") -> int:
    """Report an error that stops the run before cleaning; its exit code."""
    report(f"error: {error}{origin}")
    return EXIT_USAGE if isinstance(error, UsageError) else EXIT_ERROR


def _describe(report: Reporter, cleaner: Cleaner, loading: float, jobs: Sequence[Job],
              options: Options) -> None:
    """The ``--verbose`` account of what was loaded and what will be cleaned."""
    cfg = cleaner.config
    sources = (["shipped"] if cfg.builtin_rules else []) + list(cfg.rules)
    langs = ", ".join(cfg.langs) if cfg.langs is not None else "all"
    report.note(f"rules: {len(cleaner.rules.rules)} ({' + '.join(sources) or 'no file'}); "
                f"languages: {langs}")
    if cleaner.model is None:
        report.note("model: none (rules only)")
    else:
        name = getattr(cleaner.model, "name", type(cleaner.model).__name__)
        where = cfg.model_path or "bundled"
        report.note(f"model: {name} ({where}), threshold {cleaner.threshold:g}")
    report.note(f"rules and model loaded in {loading:.2f} s")
    kind = "JSON Lines" if options.jsonl else "text"
    count = f"{len(jobs)} input{'s' if len(jobs) != 1 else ''}"
    report.note(f"{count} planned ({kind}), {options.n_jobs} worker "
                f"process{'es' if options.n_jobs != 1 else ''}")


def _report_stats(runner: Runner) -> None:
    if sys.stderr is not None:
        print(runner.stats.format(), file=sys.stderr)
