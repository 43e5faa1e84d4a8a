"""The ``cleaner`` command: a filter over text files, folders and JSON Lines batches; and
its ``report`` and ``index`` commands.

Exit codes: 0 success; 1 an input, output, rule or model error (every other input is
still processed); 2 a usage error; 130 interrupted (SIGINT), 143 terminated (SIGTERM).
Errors are one line on stderr, never a traceback. Options come from the flags, over those
of a config file (see :mod:`cleaner.configfile`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
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
from cleaner.indexing import Indexer
from cleaner.io import STDIO, check_encoding, plain_output, replayable_stdin
from cleaner.pipeline import Cleaner
from cleaner.removals import DEFAULT_SAMPLE, Removals
from cleaner.repeats import RepeatIndex
from cleaner.report import write_report
from cleaner.runner import (
    ON_ERROR,
    URL_FIELD,
    Job,
    Options,
    Runner,
    check_side_output,
    plan_jobs,
    read_jobs,
)

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
  cleaner --jsonl --doc-stats cleaning --drop-empty < in.jsonl > out.jsonl
  cleaner --explain article.txt            every line with its decision and why
  cleaner --rules my_rules.toml --stats article.txt
  cleaner report --jsonl shard.jsonl.gz -o report.html   what was removed, as a web page
  cleaner --jsonl in.jsonl -o out.jsonl --report report.html   ... beside a normal run
  cleaner --config cleaner.toml -v corpus/ -o cleaned/   options from a file, say what loaded
  cleaner --jsonl --repeats shard.jsonl.gz -o clean.jsonl.gz   weigh lines repeated across pages
  cleaner index --jsonl shard-*.jsonl.gz -o crawl.idx       ... counted once, over many shards
  cleaner --jsonl --repeat-index crawl.idx shard-0001.jsonl.gz -o clean-0001.jsonl.gz
  cleaner --print-completion bash > ~/.local/share/bash-completion/completions/cleaner

A first argument "report" starts the report command (cleaner report --help), "index" the
index command (cleaner index --help); a file of either name is ./report or ./index, or
follows --. Options also come from [tool.cleaner] in ./pyproject.toml (or --config FILE);
flags override them.

exit codes: 0 ok, 1 input/output/rule/model error, 2 usage error, 130 interrupted,
143 terminated
"""


REPORT_EPILOG = """\
examples:
  cleaner report corpus/ --glob '*.txt' -o report.html
  cleaner report --jsonl shard.jsonl.gz --text-field body -o report.html --sample 500
  cleaner report --no-model article.txt -o report.html    what the rules alone remove

exit codes: 0 ok, 1 input/output/rule/model error (no report is written), 2 usage error
"""


INDEX_EPILOG = """\
examples:
  cleaner index --jsonl shard.jsonl.gz -o shard.idx
  cleaner --jsonl --repeat-index shard.idx shard.jsonl.gz -o clean.jsonl.gz
  cleaner index --jsonl --url-field meta_url crawl/ --glob '*.jsonl.zst' -o crawl.idx
  cleaner index pages/ --glob '*.txt' -o pages.idx     text files: lines counted without sites

exit codes: 0 ok, 1 input/output error (no index is written), 2 usage error
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
    config = _add_talk_and_config_options(p)
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
    _add_run_options(out)
    out.add_argument("--report", metavar="FILE",
                     help="also write an HTML page of what was removed, as `cleaner report` "
                          "does")
    _add_page_options(out)
    fmt = p.add_argument_group("input")
    _add_input_options(fmt)
    fmt.add_argument("--removed-field", metavar="NAME",
                     help="with --jsonl: add the removed lines to each record in this field")
    fmt.add_argument("--doc-stats", metavar="NAME",
                     help="with --jsonl: add to each record, in this field, the fractions of "
                          "its lines and characters removed and the lines removed per reason")
    fmt.add_argument("--drop-empty", action="store_true",
                     help="write nothing for a document cleaned to nothing (no record, no "
                          "output file); counted in --stats")
    fmt.add_argument("--keep-partial", action="store_true",
                     help="with --jsonl, -o and --on-error fail: when a bad record stops "
                          "the run, keep the output file with every record before it "
                          "(default: no file)")
    _add_segment_options(fmt)
    rule_files, model = _add_rule_options(p.add_argument_group("rules and model"))
    repeat_index = _add_repeat_options(p.add_argument_group(
        "repetition", "the line model weighs how many other documents, and documents of the "
                      "same site, hold each line"))
    _add_completion(p, files=[inputs, output, rule_files, model, config, repeat_index])
    return p


def build_report_parser() -> argparse.ArgumentParser:
    """The parser of ``cleaner report``: the inputs and cleaning options of a normal run,
    one HTML page out."""
    p = _command_parser("report", REPORT_EPILOG,
                        "Clean the inputs and write one self-contained HTML page of what was "
                        "removed: a summary, then sampled documents with the removed lines "
                        "struck through. The cleaned text itself is not written.")
    _add_talk_and_config_options(p)
    page = p.add_argument_group("page")
    page.add_argument("-o", "--output", dest="report", required=True, metavar="FILE",
                      help="the HTML page to write (atomically)")
    _add_page_options(page)
    _add_run_options(page)
    fmt = p.add_argument_group("input")
    _add_input_options(fmt)
    _add_segment_options(fmt)
    _add_rule_options(p.add_argument_group("rules and model"))
    # What a normal run has and a report does not: so that one validation and one runner
    # serve both.
    p.set_defaults(output=None, in_place=False, explain=False, stats=False,
                   removed_field=None, doc_stats=None, drop_empty=False, keep_partial=False,
                   repeats=False, repeat_index=None, url_field=None)
    return p


def build_index_parser() -> argparse.ArgumentParser:
    """The parser of ``cleaner index``: the inputs of a normal run, one repetition index
    out."""
    p = _command_parser("index", INDEX_EPILOG,
                        "Count, for every line of the inputs, how many documents hold it, and "
                        "how many of each site (the host of a JSON Lines record's URL), and "
                        "write the counts as a repetition index for `cleaner --repeat-index`. "
                        "Nothing is cleaned; the input options are those of a cleaning run.")
    _add_talk_options(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the index to write (atomically); a one-line summary of it goes to "
                        "stderr unless -q")
    fmt = p.add_argument_group("input")
    _add_input_options(fmt)
    _add_url_field(fmt)
    return p


def _command_parser(name: str, epilog: str, description: str) -> argparse.ArgumentParser:
    """The parser of ``cleaner NAME``, with its inputs."""
    p = argparse.ArgumentParser(prog=f"cleaner {name}", epilog=epilog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="*", metavar="IN",
                   help="text files, folders or JSON Lines files, compressed or not; none or "
                        "'-' reads standard input")
    return p


def _add_talk_and_config_options(p: argparse.ArgumentParser) -> argparse.Action:
    """-q/-v and --config/--no-config; returns the --config action (it completes paths)."""
    _add_talk_options(p)
    conf = p.add_mutually_exclusive_group()
    config = conf.add_argument("--config", metavar="FILE",
                               help=f"read options from this TOML file instead of {TABLE} in "
                                    f"./{PYPROJECT}; flags override them")
    conf.add_argument("--no-config", action="store_true",
                      help=f"ignore {TABLE} in ./{PYPROJECT}")
    return config


def _add_talk_options(p: argparse.ArgumentParser) -> None:
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true",
                      help="report errors only: no warnings, and no progress bar unless "
                           "--progress")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="also say which options, rules and model were loaded, how long "
                           "that took, and how many inputs were planned")


def _add_run_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--progress", action="store_true",
                       help="show a progress bar on stderr (default: only when it is a "
                            "terminal)")
    group.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    group.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="worker processes (default: all cores); the output does not "
                            "depend on it")


def _add_page_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--sample", type=int, metavar="N",
                       help=f"show N documents on the report page, chosen at random "
                            f"(default: {DEFAULT_SAMPLE}); the summary counts all of them")
    group.add_argument("--seed", type=int, metavar="N",
                       help="the random seed of the sample (default: 0): the same input and "
                            "seed give the same page")


def _add_input_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--jsonl", action="store_true",
                       help="input and output are JSON Lines; only the text field is cleaned")
    group.add_argument("--text-field", default="text", metavar="NAME",
                       help="the JSON field holding the text (default: text)")
    group.add_argument("--on-error", choices=ON_ERROR, default="fail",
                       help="with --jsonl, a bad record: fail (stop with an error; default), "
                            "skip it, or keep it unchanged; skipped and kept records are "
                            "reported and counted in --stats")
    group.add_argument("--encoding", default="utf-8",
                       help="encoding of text input and output (default: utf-8)")
    group.add_argument("--allow-binary", action="store_true",
                       help="clean input that contains NUL bytes instead of refusing it")
    group.add_argument("--glob", default="*", metavar="PATTERN",
                       help="files to take from folder inputs, recursively (default: *)")


def _add_segment_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--segment-chars", type=int, metavar="N",
                       help="clean a document longer than N characters in segments of about "
                            "N, cut between paragraphs, so that memory stays bounded "
                            f"(default: {SEGMENT_CHARS}, 8 Mi)")
    group.add_argument("--segment-lines", type=int, metavar="N",
                       help="likewise for a document of more than N lines, which bounds "
                            f"memory for many short lines (default: {SEGMENT_LINES})")


def _add_rule_options(group: argparse._ArgumentGroup,
                      ) -> tuple[argparse.Action, argparse.Action]:
    """The rule and model options; returns the --rules and --model actions (they complete
    paths). Switches default to None: unset, so a config file's value stands."""
    rule_files = group.add_argument("--rules", action="append", metavar="FILE",
                                    help="an extra rule file (TOML); repeatable; replaces "
                                         "the rules of a config file")
    group.add_argument("--no-builtin-rules", action="store_true", default=None,
                       help="use only the rule files given with --rules")
    group.add_argument("--lang", metavar="CODE[,CODE]",
                       help="load only these languages' phrase lists (default: all)")
    group.add_argument("--no-model", action="store_true", default=None,
                       help="rules and whitespace only, no line classifier")
    model = group.add_argument("--model", metavar="PATH",
                               help="a model file of your own (.npz, with its .json manifest "
                                    "beside it)")
    group.add_argument("--trust-model", action="store_true",
                       help="deprecated, does nothing: loading a model runs no code")
    group.add_argument("--threshold", type=float, metavar="P",
                       help="remove lines whose boilerplate probability is above P "
                            "(default: the model's own)")
    return rule_files, model


def _add_repeat_options(group: argparse._ArgumentGroup) -> argparse.Action:
    """--repeats, --repeat-index and --url-field; returns the --repeat-index action (it
    completes paths)."""
    group.add_argument("--repeats", action="store_true",
                       help="two passes: count how many documents of the inputs hold each "
                            "line, then clean with those counts (standard input is copied to "
                            "a temporary file to be read twice); for shards of many pages of "
                            "the same sites")
    repeat_index = group.add_argument(
        "--repeat-index", metavar="FILE",
        help="clean with the counts of an index that `cleaner index` wrote (over these "
             "inputs, or a larger crawl that holds them)")
    _add_url_field(group)
    return repeat_index


def _add_url_field(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--url-field", metavar="NAME",
                       help=f"with --jsonl: the JSON field holding a record's URL, whose host "
                            f"is its site (default: {URL_FIELD}); a text file has no site")


def _add_completion(parser: argparse.ArgumentParser,
                    files: Sequence[argparse.Action]) -> None:
    """``--print-completion SHELL``: a completion script from shtab (the ``completion``
    extra), which completes the options and, for ``files``, paths. shtab is imported only
    then, so that it costs an ordinary run nothing."""
    parser.add_argument("--print-completion", metavar="SHELL", action=_PrintCompletion,
                        files=files,
                        help="print a shell completion script for SHELL (bash, zsh or tcsh) "
                             "and exit; needs shtab: pip install 'cleaner[completion]'")


class _PrintCompletion(argparse.Action):
    def __init__(self, *args: Any, files: Sequence[argparse.Action], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files = files

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        try:
            import shtab
        except ImportError:
            parser.error("--print-completion needs shtab: pip install 'cleaner[completion]' "
                         "(or pip install shtab)")
        if values not in shtab.SUPPORTED_SHELLS:
            parser.error(f"--print-completion: no completion for {values!r}; choose from "
                         f"{', '.join(shtab.SUPPORTED_SHELLS)}")
        for action in self.files:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        print(shtab.complete(parser, shell=values))
        parser.exit(0)


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
    return CleanerConfig.from_options(**options)


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
    if not args.jsonl and (args.removed_field or args.doc_stats or args.keep_partial
                           or args.on_error != "fail"):
        parser.error("--removed-field, --doc-stats, --on-error and --keep-partial go with "
                     "--jsonl")
    _check_added_fields(parser, args)
    if args.drop_empty and (args.explain or args.in_place):
        parser.error("--drop-empty does not go with --explain (which shows every line) or "
                     "--in-place (a file cleaned to nothing would stay as it was)")
    if args.keep_partial and (args.on_error != "fail" or not args.output):
        parser.error("--keep-partial goes with -o/--output and --on-error fail (with skip "
                     "or keep, no record stops the run)")
    if not args.report and (args.sample is not None or args.seed is not None):
        parser.error("--sample and --seed go with --report")
    if args.sample is not None and args.sample < 1:
        parser.error("--sample must be a positive number")
    if args.report and args.report == args.output:
        parser.error("--report needs a file of its own, not the -o output")
    _check_repeats(parser, args)
    _check_inputs(parser, args)


def _check_repeats(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.repeats and args.repeat_index:
        parser.error("--repeats and --repeat-index exclude each other: --repeats builds the "
                     "index of the inputs themselves")
    if (args.repeats or args.repeat_index) and args.no_model:
        parser.error("--repeats and --repeat-index do not go with --no-model: the line model "
                     "is what weighs the repetition")
    if args.url_field is not None and not (args.jsonl and (args.repeats or args.repeat_index)):
        parser.error("--url-field goes with --jsonl and --repeats or --repeat-index")


def _check_index_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.jsonl and (args.url_field is not None or args.on_error != "fail"):
        parser.error("--url-field and --on-error go with --jsonl")
    _check_inputs(parser, args)


def _check_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.inputs.count(STDIO) > 1:
        parser.error("standard input ('-') can be read only once")
    try:
        check_encoding(args.encoding)
    except InputError as e:
        parser.error(str(e))


def _check_added_fields(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The fields --removed-field and --doc-stats add must not replace the text or each
    other (a record's own field of that name is a bad record: see parse_record)."""
    added = [(flag, name) for flag, name in (("--removed-field", args.removed_field),
                                              ("--doc-stats", args.doc_stats))
             if name is not None]
    for flag, name in added:
        if name == args.text_field:
            parser.error(f"{flag} must differ from --text-field, or it would replace the "
                         "cleaned text")
    if len(added) == 2 and added[0][1] == added[1][1]:
        parser.error("--removed-field and --doc-stats must name different fields")


def options_from_args(args: argparse.Namespace) -> Options:
    """The runner's options from parsed flags."""
    progress = args.progress or (sys.stderr is not None and sys.stderr.isatty()
                                 and not args.no_progress and not args.quiet)
    return Options(jsonl=args.jsonl, text_field=args.text_field,
                   url_field=args.url_field or URL_FIELD,
                   removed_field=args.removed_field, doc_stats_field=args.doc_stats,
                   on_error=args.on_error, keep_partial=args.keep_partial,
                   drop_empty=args.drop_empty,
                   explain=args.explain, encoding=args.encoding,
                   allow_binary=args.allow_binary, n_jobs=worker_count(args.jobs),
                   progress=progress)


def _input_options(args: argparse.Namespace) -> Options:
    """The runner's options of ``cleaner index``, which only reads."""
    return Options(jsonl=args.jsonl, text_field=args.text_field,
                   url_field=args.url_field or URL_FIELD, on_error=args.on_error,
                   encoding=args.encoding, allow_binary=args.allow_binary)


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
    """Run the command line; returns the exit code. A first argument ``report`` runs
    ``cleaner report`` (see :func:`build_report_parser`), ``index`` runs ``cleaner index``
    (see :func:`build_index_parser`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv[:1] in (["report"], ["index"]) else None
    parser = (build_report_parser() if command == "report" else
              build_index_parser() if command == "index" else build_parser())
    try:
        args = parser.parse_args(argv[1:] if command else argv)
        (_check_index_usage if command == "index" else _check_usage)(parser, args)
    except SystemExit as e:  # argparse: --help, --version and usage errors
        return int(e.code or 0)
    except BrokenPipeError:  # `cleaner --print-completion bash | head` ends quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - else Python flushes again at exit
        return EXIT_OK
    report = Reporter(quiet=args.quiet, verbose=args.verbose)
    if command == "index":
        work = functools.partial(_index, args, report)
    else:
        try:
            settings = None if args.no_config else load_config(args.config, Path.cwd())
        except UsageError as e:
            report(f"error: {e}")
            return EXIT_USAGE
        _quiet_worker_tracker()
        work = functools.partial(_run, args, settings, report, command == "report")
    with _terminate_cleanly():
        try:
            return work()
        except KeyboardInterrupt:
            _report("error: interrupted")
            return EXIT_INTERRUPTED
        except _Terminated:
            _report("error: terminated")
            return EXIT_TERMINATED


def _run(args: argparse.Namespace, settings: ConfigFile | None, report: Reporter,
         report_only: bool = False) -> int:
    """Clean as the arguments say; ``report_only`` writes the report and no cleaned text."""
    if args.trust_model:
        report("warning: --trust-model is deprecated and does nothing: loading a model runs "
               "no code")
    if settings is not None:
        report.note(f"options from {settings.source}: "
                    f"{', '.join(sorted(settings.options)) or 'none'}")
    try:
        if report_only:
            jobs = read_jobs(args.inputs, args.glob, report)
        else:
            jobs = plan_jobs(args.inputs, args.output, args.in_place, args.glob, report)
        if sys.stdout is None and not report_only and any(job.target is None for job in jobs):
            raise InputError("standard output is closed; give -o PATH")
    except (CleanerError, ValueError) as e:
        return _failed(report, e)
    started = time.perf_counter()
    try:
        cleaner = Cleaner(config_from_args(args, settings))
    except (CleanerError, ValueError) as e:  # an option from a file is named by the file too
        return _failed(report, e, f" (with options from {settings.source})" if settings else "")
    loading = time.perf_counter() - started
    removals = None
    if args.report:
        try:
            check_side_output(args.report, jobs)
        except (CleanerError, ValueError) as e:
            return _failed(report, e)
        removals = Removals(cleaner.threshold if cleaner.model is not None else None,
                            args.sample or DEFAULT_SAMPLE, args.seed or 0)
    options = options_from_args(args)
    if options.n_jobs < args.jobs:
        report(f"warning: --jobs {args.jobs}: using {options.n_jobs} worker processes, "
               f"{MAX_WORKERS_PER_CORE} per core at most")
    if report.verbose:
        _describe(report, cleaner, loading, jobs, options)
    with contextlib.ExitStack() as files:
        try:
            repeats = _repetition(args, cleaner, jobs, options, report, files)
        except (CleanerError, ValueError) as e:
            return _failed(report, e)
        runner = Runner(cleaner, options, report, removals, repeats)
        runner.stats.loading_seconds = loading
        try:
            stdout = (files.enter_context(open(os.devnull, "wb")) if report_only
                      else sys.stdout.buffer if sys.stdout is not None else io.BytesIO())
            runner.run(jobs, stdout)
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
    if removals is not None:
        return _write_report(args, removals, cleaner, runner)
    return EXIT_ERROR if runner.failed else EXIT_OK


def _repetition(args: argparse.Namespace, cleaner: Cleaner, jobs: Sequence[Job],
                options: Options, report: Reporter,
                files: contextlib.ExitStack) -> RepeatIndex | None:
    """The repetition index the run weighs (``None`` without --repeats or --repeat-index):
    read from a file, or counted over the inputs first (--repeats). That first pass reports
    nothing of the inputs (the cleaning pass reports their errors and bad records as a run
    without it would); standard input is copied to a temporary file, which ``files``
    deletes when the run ends, so that the cleaning pass reads it again."""
    if not (args.repeats or args.repeat_index):
        return None
    flag = "--repeats" if args.repeats else "--repeat-index"
    try:
        cleaner.require_repetition()
    except UsageError as e:
        raise UsageError(f"{flag}: {e}") from None
    started = time.perf_counter()
    if args.repeat_index:
        index = RepeatIndex.load(args.repeat_index)
        origin = f"read from {args.repeat_index}"
    else:
        sources = [job.source for job in jobs]
        rewind = files.enter_context(replayable_stdin()) if STDIO in sources else None
        indexer = Indexer(options)
        index = indexer.add_inputs(sources)
        if rewind is not None:
            rewind()
        _index_warnings(report, indexer)
        origin = "counted over the inputs"
    report.note(f"repetition index: {_index_summary(index)}; {origin} in "
                f"{time.perf_counter() - started:.2f} s")
    return index


def _index(args: argparse.Namespace, report: Reporter) -> int:
    """``cleaner index``: count the inputs' lines and write the index atomically; nothing is
    written when an input failed, as the counts would miss it unseen."""
    try:
        jobs = read_jobs(args.inputs, args.glob, report)
        check_side_output(args.output, jobs, "the index")
    except (CleanerError, ValueError) as e:
        return _failed(report, e)
    report.note(f"{len(jobs)} input{'s' if len(jobs) != 1 else ''} planned "
                f"({'JSON Lines' if args.jsonl else 'text'})")
    indexer = Indexer(_input_options(args), report)
    index = indexer.add_inputs(job.source for job in jobs)
    if indexer.failed:
        _report(f"error: {args.output}: index not written, since an input failed")
        return EXIT_ERROR
    _index_warnings(report, indexer)
    try:
        with plain_output(args.output) as f:
            index.save(f)
    except OSError as e:
        return _failed(report, InputError(f"{args.output}: cannot write: {e.strerror or e}"))
    except CleanerError as e:
        return _failed(report, e)
    if not args.quiet:
        _report(f"{args.output}: {_index_summary(index)}")
    return EXIT_OK


def _index_summary(index: RepeatIndex) -> str:
    """Its documents, its distinct (line, site) pairs and their bytes (about the size of
    its file)."""
    return (f"{index.documents} documents, {index.pairs} distinct (line, site) pairs, "
            f"{index.nbytes} bytes")


def _index_warnings(report: Reporter, indexer: Indexer) -> None:
    """What makes an index weaker than it looks: records without a site, forgotten
    counts."""
    index = indexer.index
    if indexer.options.jsonl and index.documents and not indexer.with_site:
        report(f"warning: no record has a URL in field {indexer.options.url_field!r}: lines "
               "are counted without their sites (--url-field names the field)")
    if index.pruned:
        report(f"warning: more than {index.capacity} distinct (line, site) pairs: lines "
               f"held by one document only were forgotten {index.pruned} times, so some "
               "counts are one short")


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


def _write_report(args: argparse.Namespace, removals: Removals, cleaner: Cleaner,
                  runner: Runner) -> int:
    """Write the report of a run; none when an input failed, as it would leave that input's
    documents out of the counts unseen."""
    if runner.failed:
        _report(f"error: {args.report}: report not written, since an input failed")
        return EXIT_ERROR
    try:
        write_report(args.report, removals, cleaner, args.inputs or [STDIO], runner.stats)
    except CleanerError as e:
        _report(f"error: {e}")
        return EXIT_ERROR
    return EXIT_OK


def _report_stats(runner: Runner) -> None:
    if sys.stderr is not None:
        print(runner.stats.format(), file=sys.stderr)
