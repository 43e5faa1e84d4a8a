"""Throughput of ``cleaner`` against its peers and a pure-Python floor (issue 5, section 3).

Run from the repository root::

    python benchmarks/throughput.py --corpus ../shared/data/dev.jsonl.gz [--jobs N]
        [--no-model] [--repeat K]

Each timed run is a fresh subprocess of this Python, so its peak RSS is its own and nothing
cached by one run (the rules' answers per line, the model's features) helps the next. The
configurations run in turn, ``--repeat`` rounds of all of them, and the table gives each
one's median; the ratio to jusText is taken round by round (a machine whose speed drifts
slows both sides of a round alike), and its median and range are printed. A child reads
the corpus, builds its cleaner (loading rules and model, and compiling every rule, which a
run would otherwise do as lines first reach each), warms up on a few documents, then times
only the loop that cleans every document of the corpus and consumes the output. Single-core
children start with one BLAS thread (``OMP_NUM_THREADS`` and the like, set before numpy is
imported). Reading, imports, model loading and worker start-up are outside the timing; the
start-up of the command line is timed on its own (``echo ... | cleaner``, median of five).
MB/s counts the UTF-8 bytes of the input ``"text"`` fields, MB = 10**6 bytes. Peak RSS is
``ru_maxrss`` of the child; for jobs=N the worker processes are reported separately
(largest worker).

The streaming check runs the real CLI (``cleaner --jsonl --jobs 1``) on the corpus written
once and four times to a temporary JSONL file; a wrapper child reads the CLI's peak RSS with
``RUSAGE_CHILDREN``. Its time includes start-up, model loading and JSON, so it is not in the
table. This is a benchmark, not a test: it reports numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARMUP_DOCS = 32

#: Row label of each configuration, in table order; the first one is the ratio baseline.
CONFIGS: dict[str, str] = {
    "cleaner1": "cleaner jobs=1",
    "cleanerN": "cleaner jobs={jobs}",
    "justext": "jusText, lines as paragraphs",
    "c4": "C4 line rules",
    "floor": "floor: split/strip/join",
}


def read_texts(path: Path) -> list[str]:
    """The ``"text"`` field of every record of a JSONL file (compressed or not), in order."""
    from cleaner.io import read_jsonl  # not at the top: a child limits threads before numpy

    return [record["text"] for record in read_jsonl(path)]


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over ``seconds`` (Linux ``/proc/stat``; -1 elsewhere): other work
    on the machine makes timings noisy, and the load average is not a reliable sign of it."""
    def sample() -> list[int]:
        with open("/proc/stat") as fh:
            return [int(x) for x in fh.readline().split()[1:]]
    try:
        a = sample()
        time.sleep(seconds)
        b = sample()
    except OSError:
        return -1.0
    delta = [y - x for x, y in zip(a, b)]
    idle = delta[3] + delta[4]  # idle + iowait
    return 1 - idle / max(sum(delta), 1)


def floor(text: str) -> str:
    """The least any line cleaner must do: split into lines, strip each, join them again."""
    return "\n".join(line.strip() for line in text.split("\n"))


Runner = Callable[[list[str], int], Iterable[str]]


def make_runner(name: str, jobs: int, use_model: bool) -> Runner:
    """Build configuration ``name`` (imports and model loading happen here, untimed) and
    return a function cleaning a list of texts (with a batch size, if it batches); the
    caller consumes the output."""
    if name in ("cleaner1", "cleanerN"):
        from cleaner import Cleaner

        cleaner = Cleaner(use_model=use_model)
        cleaner.rules.compile_all()
        n_jobs = 1 if name == "cleaner1" else jobs
        return lambda texts, size: cleaner.clean_many(texts, n_jobs=n_jobs, batch_size=size)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from peers import c4_lines, justext_lines

    fn = {"justext": justext_lines, "c4": c4_lines, "floor": floor}[name]
    return lambda texts, _: map(fn, texts)


def worker_warmup(runner: Runner, texts: list[str]) -> None:
    """Start the joblib workers and let each build its cleaner: many small batches, so that
    every worker gets some (``clean_many`` cleans a single batch in-process)."""
    for _ in runner(texts[:WARMUP_DOCS] * 4, 4):
        pass


def child(name: str, corpus: Path, jobs: int, use_model: bool,
          batch_size: int) -> dict[str, float]:
    """Measure one configuration in this process: the wall time of one pass."""
    texts = read_texts(corpus)
    runner = make_runner(name, jobs, use_model)
    if name == "cleanerN":
        worker_warmup(runner, texts)
    for _ in runner(texts[:WARMUP_DOCS], batch_size):
        pass
    start = time.perf_counter()
    for _ in runner(texts, batch_size):
        pass
    result = {"seconds": time.perf_counter() - start, "docs": len(texts),
              "bytes": sum(len(t.encode("utf-8")) for t in texts),
              "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if name == "cleanerN":
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # reaped workers count in RUSAGE_CHILDREN
        result["worker_rss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result


def cli_child(path: Path, use_model: bool) -> dict[str, float]:
    """Run the CLI on ``path`` as this process's only child; return its peak RSS and time."""
    cmd = [sys.executable, "-m", "cleaner", "--jsonl", "--jobs", "1", "--no-progress"]
    if not use_model:
        cmd.append("--no-model")
    start = time.perf_counter()
    with path.open("rb") as src:
        subprocess.run(cmd, stdin=src, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
    return {"seconds": time.perf_counter() - start, "bytes": path.stat().st_size,
            "rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


# Set in a single-core child's environment, so numpy's BLAS starts with one thread.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS")}


def spawn(args: list[str], one_thread: bool = True) -> dict[str, float]:
    """Run this script as a child with ``args`` and return the JSON it prints last."""
    env = {**os.environ, **ONE_THREAD} if one_thread else None
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        sys.exit(f"child {shlex.join(args)} failed:\n{proc.stderr.strip()}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def mib(kib: float) -> str:
    """KiB (``ru_maxrss`` on Linux) as MiB for the table."""
    return f"{kib / 1024:.0f} MiB"


def start_up(use_model: bool, runs: int = 5) -> float:
    """Median wall seconds of ``cleaner`` cleaning one line from standard input."""
    cmd = [sys.executable, "-m", "cleaner", "--no-progress"] + ([] if use_model else
                                                                 ["--no-model"])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, input=b"A line of text.\n", stdout=subprocess.DEVNULL,
                       check=True, cwd=ROOT, env={**os.environ, **ONE_THREAD})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median time (its own peak RSS with it)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def table(results: dict[str, dict[str, float]], jobs: int) -> Iterator[str]:
    """The markdown table, one row per configuration, speeds relative to cleaner jobs=1."""
    base = results["cleaner1"]["docs"] / results["cleaner1"]["seconds"]
    yield "| configuration | docs/s | MB/s | x cleaner jobs=1 | peak RSS |"
    yield "|---|---:|---:|---:|---:|"
    for name, label in CONFIGS.items():
        r = results[name]
        rss = mib(r["rss_kib"])
        if "worker_rss_kib" in r:
            rss += f" + {jobs}x <={mib(r['worker_rss_kib'])}"
        docs_s, mb_s = r["docs"] / r["seconds"], r["bytes"] / r["seconds"] / 1e6
        yield (f"| {label.format(jobs=jobs)} | {docs_s:,.0f} | {mb_s:.2f} | {docs_s / base:.2f}"
               f" | {rss} |")


def main(argv: list[str] | None = None) -> int:
    """Parse the options; as parent, run every configuration in a child and print the report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/data/dev.jsonl.gz")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="N for cleaner jobs=N")
    p.add_argument("--no-model", action="store_true", help="rules only (Cleaner(use_model=False))")
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds of timed runs (a fresh child each), medians reported")
    p.add_argument("--batch-size", type=int, default=256, help="clean_many batch size")
    p.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    p.add_argument("--cli-child", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    use_model = not args.no_model
    if args.child or args.cli_child:
        out = (child(args.child, args.corpus, args.jobs, use_model, args.batch_size)
               if args.child else cli_child(args.cli_child, use_model))
        print(json.dumps(out))
        return 0

    print(f"$ {shlex.join(sys.orig_argv)}")
    common = ["--corpus", str(args.corpus), "--jobs", str(args.jobs), "--batch-size",
              str(args.batch_size)]
    common += ["--no-model"] if args.no_model else []
    busy = cpu_busy()
    rounds: list[dict[str, dict[str, float]]] = [
        {name: spawn([*common, "--child", name], one_thread=name != "cleanerN")
         for name in CONFIGS} for _ in range(args.repeat)]
    results = {name: median_run([r[name] for r in rounds]) for name in CONFIGS}
    r1 = results["cleaner1"]
    print(f"corpus {args.corpus}: {r1['docs']:.0f} docs, {r1['bytes'] / 1e6:.1f} MB of text; "
          f"model {'on' if use_model else 'off'}; {os.cpu_count()} CPUs; "
          f"CPU busy before {busy:.0%}, after {cpu_busy():.0%}")
    print(f"timed: one pass cleaning all docs in a fresh child, after imports, corpus read, "
          f"model load, rule compilation and a {WARMUP_DOCS}-doc warm-up (batch_size "
          f"{args.batch_size}); median of {args.repeat} rounds\n")
    print("\n".join(table(results, args.jobs)))
    ratios = sorted(r["justext"]["seconds"] / r["cleaner1"]["seconds"] for r in rounds)
    print(f"\ncleaner jobs=1 against jusText: {statistics.median(ratios):.2f}x (per round "
          f"{ratios[0]:.2f}-{ratios[-1]:.2f}x)")
    scaling = sorted(r["cleaner1"]["seconds"] / r["cleanerN"]["seconds"] for r in rounds)
    speedup = statistics.median(scaling)
    print(f"scaling: jobs={args.jobs} is {speedup:.2f}x jobs=1 (per round "
          f"{scaling[0]:.2f}-{scaling[-1]:.2f}x), efficiency {speedup / args.jobs:.0%}")
    print(f"start-up: `echo ... | cleaner` takes {start_up(use_model):.2f} s (median of 5)")

    with tempfile.TemporaryDirectory() as tmp:
        from cleaner.io import read_lines

        data = b"".join(read_lines(str(args.corpus))).rstrip(b"\n") + b"\n"
        sizes = []
        for times in (1, 4):
            path = Path(tmp) / f"corpus-x{times}.jsonl"
            path.write_bytes(data * times)
            r = spawn([*common, "--cli-child", str(path)])
            sizes.append(r["rss_kib"])
            print(f"streaming: cleaner --jsonl --jobs 1 on {r['bytes'] / 1e6:.0f} MB JSONL "
                  f"(corpus x{times}): peak RSS {mib(r['rss_kib'])}, {r['seconds']:.1f} s "
                  f"wall incl. start-up")
        print(f"streaming: peak RSS x4 / x1 = {sizes[1] / sizes[0]:.2f} (1.00 = constant)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
