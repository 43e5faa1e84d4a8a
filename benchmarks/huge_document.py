"""Time and peak memory of the CLI on one huge plain-text document (reliability issue).

Run from the repository root::

    python benchmarks/huge_document.py --mb 100 [--mb 200 ...] [--line-mb 50 ...]
        [--jobs N] [--no-model]

For each size, a document of about that many MB (10**6 bytes) is written to a temporary
file: the seed inputs of ``fixtures/seeds/input`` (articles with their promotion blocks,
share bars and footers) one after another, again and again, with a counter in every
sentence so that the text does not repeat exactly and an ad marker and a share line after
each; with ``--line-mb``, a single line of sentences; with ``--short-lines-mb``, lines of
one character each (the most lines, and so the most per-line memory, per MB).
``cleaner FILE -o OUT --stats`` then runs as a subprocess of a fresh child of this script,
which reads the CLI's peak RSS with ``RUSAGE_CHILDREN`` (with ``--jobs`` above 1: the
largest of the CLI and its workers). Wall time includes start-up and model loading. This
is a benchmark, not a test: it reports numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fixtures" / "seeds" / "input"
_SENTENCE_END = re.compile(r"\.$", re.MULTILINE)
JUNK = "Anzeige\nTeilen auf Facebook\n\n"  # removed by rules anywhere in a document


def write_document(path: Path, size: int, kind: str = "document") -> None:
    """Write a document of at least ``size`` bytes to ``path``: articles, one line, or
    lines of one character (``kind`` "document", "line" or "short lines")."""
    seeds = [p.read_text(encoding="utf-8").strip("\n") + "\n\n" for p in sorted(SEEDS.iterdir())]
    written, k = 0, 0
    with path.open("w", encoding="utf-8") as out:
        if kind == "short lines":
            out.write("a\n" * (size // 2))
            return
        while written < size:  # the seeds are nearly all ASCII: characters ~ bytes
            if kind == "line":
                written += out.write(f"Die Regierung reagierte am Dienstag ({k}). ")
            else:
                written += out.write(_SENTENCE_END.sub(f" ({k}).", seeds[k % len(seeds)]) + JUNK)
            k += 1
        out.write("\n")


def cli_child(path: Path, jobs: int, use_model: bool) -> dict[str, float]:
    """Run the CLI on ``path`` as this process's only child; its time, peak RSS and stats."""
    out = path.with_suffix(".out")
    cmd = [sys.executable, "-m", "cleaner", str(path), "-o", str(out), "--stats",
           "--jobs", str(jobs), "--no-progress", *([] if use_model else ["--no-model"])]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed:\n{proc.stderr.strip()}")
    stats = dict(line.split(": ", 1) for line in proc.stderr.splitlines() if ": " in line)
    return {"seconds": seconds, "bytes": path.stat().st_size, "bytes_out": out.stat().st_size,
            "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            "segmented": int(stats.get("segmented documents", "0"))}


def main(argv: list[str] | None = None) -> int:
    """As parent: for each size, write the document and measure the CLI in a fresh child."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--mb", type=float, action="append", help="document size in MB; repeatable "
                   "(default: 100 and 200, unless another size is given)")
    p.add_argument("--line-mb", type=float, action="append", default=[],
                   help="size in MB of a document that is one line; repeatable")
    p.add_argument("--short-lines-mb", type=float, action="append", default=[],
                   help="size in MB of a document of one-character lines; repeatable")
    p.add_argument("--jobs", type=int, default=1, help="cleaner --jobs (default: 1)")
    p.add_argument("--no-model", action="store_true", help="rules only")
    p.add_argument("--cli-child", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    use_model = not args.no_model
    if args.cli_child:
        print(json.dumps(cli_child(args.cli_child, args.jobs, use_model)))
        return 0

    print(f"$ {shlex.join(sys.orig_argv)}")
    common = ["--jobs", str(args.jobs), *([] if use_model else ["--no-model"])]
    default = [] if args.line_mb or args.short_lines_mb else [100, 200]
    sizes = ([(mb, "document") for mb in args.mb or default]
             + [(mb, "line") for mb in args.line_mb]
             + [(mb, "short lines") for mb in args.short_lines_mb])
    for mb, kind in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "huge.txt"
            write_document(path, int(mb * 1e6), kind)
            proc = subprocess.run([sys.executable, __file__, *common, "--cli-child", str(path)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.exit(proc.stderr.strip())
            r = json.loads(proc.stdout.strip().splitlines()[-1])
        what = {"document": "one document", "line": "one line",
                "short lines": "one-character lines"}[kind]
        print(f"{r['bytes'] / 1e6:.0f} MB in {what} -> {r['bytes_out'] / 1e6:.0f} MB: "
              f"{r['seconds']:.0f} s wall ({r['bytes'] / 1e6 / r['seconds']:.2f} MB/s), "
              f"peak RSS {r['rss_kib'] / 1024:.0f} MiB, segmented: {r['segmented']}, "
              f"model {'on' if use_model else 'off'}, --jobs {args.jobs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
