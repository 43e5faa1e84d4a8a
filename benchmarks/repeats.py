"""What cross-document repetition costs: index memory and the two-pass throughput.

Run from the repository root::

    python benchmarks/repeats.py --corpus ../shared/data/dev.jsonl.gz \\
        --corpus ../shared/data/wcxb.jsonl.gz --corpus ../shared/data/fundus.jsonl.gz \\
        [--copies 2] [--repeat 3]

Memory: ``cleaner index`` (a child process, streaming the JSON Lines) over the corpora's
records (URLs as sites), written ``--copies`` times to a temporary file, each copy after
the first with its lines marked so that they are new lines (the index grows as on a crawl
that much larger); its peak RSS next to that of the same command on an empty file, and the
index's distinct (line, site) pairs and bytes per pair.

Throughput, side by side in one run: cleaning every record (``clean_many``) against
indexing them and cleaning with the index (``RepeatIndex.build`` + ``clean_many(...,
repeats=index)``, what ``--repeats`` does), one core, alternating the two ``--repeat``
times; medians and their ratio. MB = 10**6 UTF-8 bytes of the texts. This is a benchmark,
not a test: it reports numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def write_copies(texts: list[str], urls: list[str | None], copies: int, path: Path) -> int:
    """The records ``copies`` times, copy k's lines marked with its own word; returns the
    number of lines written."""
    lines = 0
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
        for k in range(copies):
            mark = "" if k == 0 else f"copy{chr(96 + k)} "
            for text, url in zip(texts, urls):
                body = text if not mark else "\n".join(mark + line for line in text.split("\n"))
                lines += body.count("\n") + 1
                f.write(json.dumps({"text": body, "url": url}) + "\n")
    return lines


def index_peak(jsonl: Path, out: Path) -> float:
    """Peak RSS in MiB of ``cleaner index`` over ``jsonl``."""
    proc = subprocess.Popen([sys.executable, "-m", "cleaner", "index", "-q", "--jsonl",
                             str(jsonl), "-o", str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise SystemExit(f"cleaner index failed on {jsonl}")
    return usage.ru_maxrss / 1024


def memory(texts: list[str], urls: list[str | None], copies: int) -> None:
    from cleaner.repeats import RepeatIndex

    with tempfile.TemporaryDirectory() as folder:
        shard, empty = Path(folder) / "shard.jsonl", Path(folder) / "empty.jsonl"
        lines = write_copies(texts, urls, copies, shard)
        empty.write_text("", encoding="utf-8")
        peak, idle = index_peak(shard, Path(folder) / "shard.idx"), index_peak(
            empty, Path(folder) / "empty.idx")
        index = RepeatIndex.load(Path(folder) / "shard.idx")
    print(f"cleaner index over {index.documents} documents, {lines} lines: "
          f"{index.pairs} distinct (line, site) pairs, {index.nbytes / 2**20:.1f} MiB of "
          f"counts ({index.nbytes / max(index.pairs, 1):.0f} bytes per pair); peak RSS "
          f"{peak:.0f} MiB, {idle:.0f} MiB on an empty input")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="append", required=True, help="JSONL with text and url")
    ap.add_argument("--copies", type=int, default=1,
                    help="index the records this many times, as new lines (default 1)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs of each (default 3; 0: memory only)")
    args = ap.parse_args()
    texts, urls = read_records(args.corpus)
    mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    memory(texts, urls, args.copies)
    if args.repeat > 0:
        throughput(texts, urls, mb, args.repeat)
    return 0


def throughput(texts: list[str], urls: list[str | None], mb: float, repeat: int) -> None:
    from cleaner import Cleaner
    from cleaner.repeats import RepeatIndex

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
    for _ in range(repeat):
        for name, run in (("single pass", single), ("index + clean", two_pass)):
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["single pass"])
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:<14} {mb / median:6.2f} MB/s  (median of {len(runs)}; "
              f"{base / median:.2f}x the single pass)")


if __name__ == "__main__":
    sys.exit(main())
