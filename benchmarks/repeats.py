"""What cross-document repetition costs: index memory and the two-pass throughput.

Run from the repository root::

    python benchmarks/repeats.py --corpus ../shared/data/dev.jsonl.gz \\
        --corpus ../shared/data/wcxb.jsonl.gz --corpus ../shared/data/fundus.jsonl.gz

Memory: one :class:`~cleaner.repeats.RepeatIndex` over every record of the corpora (URLs
as sites): documents, lines, distinct (line, site) pairs, the bytes its counts take and per
pair, and the peak RSS of a fresh child that only reads the corpus and builds the index,
next to that of a child that only reads it.

Throughput, side by side in one run: cleaning every record (``clean_many``) against
indexing them and cleaning with the index (``RepeatIndex.build`` + ``clean_many(...,
repeats=index)``, what ``--repeats`` does), one core, alternating the two ``--repeat``
times; medians and their ratio. MB = 10**6 UTF-8 bytes of the texts. This is a benchmark,
not a test: it reports numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy: one core means one thread
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def read_records(paths: list[str]) -> tuple[list[str], list[str | None]]:
    from cleaner.io import read_jsonl

    texts, urls = [], []
    for path in paths:
        for record in read_jsonl(path):
            texts.append(str(record["text"]))
            urls.append(record.get("url"))  # type: ignore[arg-type]
    return texts, urls


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(paths: list[str], build: bool) -> None:
    """Read the corpora (and build the index): print the peak RSS in MiB."""
    texts, urls = read_records(paths)
    if build:
        from cleaner.repeats import RepeatIndex

        RepeatIndex.build(texts, urls)
    print(f"{_peak_mib():.0f}")


def peak_of(paths: list[str], build: bool) -> float:
    args = [sys.executable, __file__, "--child", "build" if build else "read"]
    for path in paths:
        args += ["--corpus", path]
    return float(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="append", required=True, help="JSONL with text and url")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each (default 3)")
    ap.add_argument("--child", choices=("read", "build"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.corpus, args.child == "build")
        return 0
    from cleaner import Cleaner
    from cleaner.repeats import RepeatIndex

    texts, urls = read_records(args.corpus)
    mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    lines = sum(t.count("\n") + 1 for t in texts)
    index = RepeatIndex.build(texts, urls)
    read_peak, build_peak = peak_of(args.corpus, False), peak_of(args.corpus, True)
    print(f"{len(texts)} documents, {lines} lines, {mb:.1f} MB")
    print(f"index: {index.pairs} distinct (line, site) pairs, {index.nbytes / 2**20:.1f} MiB "
          f"of counts, {index.nbytes / max(index.pairs, 1):.0f} bytes per pair; peak RSS "
          f"{build_peak:.0f} MiB building it against {read_peak:.0f} MiB only reading")

    cleaner = Cleaner()
    list(cleaner.clean_many(texts[:32]))  # warm up

    def single() -> None:
        for _ in cleaner.clean_many(texts):
            pass

    def two_pass() -> None:
        shard = RepeatIndex.build(texts, urls)
        for _ in cleaner.clean_many(texts, repeats=shard, sites=urls):
            pass

    times: dict[str, list[float]] = {"single pass": [], "index + clean": []}
    for _ in range(args.repeat):
        for name, run in (("single pass", single), ("index + clean", two_pass)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["single pass"])
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:<14} {mb / median:6.2f} MB/s  (median of {len(runs)}; "
              f"{base / median:.2f}x the single pass)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
