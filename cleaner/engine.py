"""Batching and parallel execution: segments in, their parts out, in order.

Items are ``(tag, segment)`` pairs. The tag is the caller's and travels with its segment, so
whatever the caller needs to put a result in its place (a record, an output file, a segment's
position in its document) comes back with that result. A ``None`` segment is not cleaned:
it comes back as ``(tag, None)`` in its place, which keeps a bad record or a failed read in
order with the others. The model scores a whole batch at once; with more than one job,
batches go to worker processes, each of which builds its judge once.
"""

from __future__ import annotations

import collections
import itertools
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from cleaner.config import CleanerConfig
from cleaner.judge import Judge, LineModel, Part, cached_judge
from cleaner.segment import Segment, line_breaks

T = TypeVar("T")

BATCHES_PER_WORKER = 4  # for a known number of documents, the least batches each worker gets
MAX_WORKERS_PER_CORE = 2  # more workers only wait for a core, each holding rules and model

Work = Callable[[Judge, list[Segment]], list[Part]]


def worker_count(n_jobs: int) -> int:
    """The worker processes that ``n_jobs`` (joblib's meaning: -1 all cores) gets: at most
    :data:`MAX_WORKERS_PER_CORE` per core this process may run on."""
    if n_jobs == 1:
        return 1
    from joblib import cpu_count, effective_n_jobs

    return max(1, min(int(effective_n_jobs(n_jobs)), MAX_WORKERS_PER_CORE * int(cpu_count())))


def shared_batch_size(count: int, n_jobs: int, batch_size: int) -> int:
    """The batch size for ``count`` documents on ``n_jobs`` workers: smaller than
    ``batch_size`` when that gives each worker several batches, so that no worker idles while
    the last ones finish. What fits in one batch stays one batch, cleaned without workers."""
    if count <= batch_size:
        return batch_size
    workers = worker_count(n_jobs)
    return max(1, min(batch_size, -(-count // (BATCHES_PER_WORKER * workers))))


def batched(items: Iterable[tuple[T, Segment | None]], size: int, chars: int,
            lines: int) -> Iterator[list[tuple[T, Segment | None]]]:
    """Batches of ``size`` segments, or fewer that hold at most ``chars`` characters and
    about ``lines`` lines (or just one segment): a batch is cleaned all at once, so this
    bounds its memory. Items without a segment ride along with the batch they fall in."""
    batch: list[tuple[T, Segment | None]] = []
    count = total = total_lines = 0
    for tag, segment in items:
        if segment is None:
            batch.append((tag, None))
            continue
        length, breaks = len(segment.text), line_breaks(segment.text)
        if count and (total + length > chars or total_lines + breaks > lines):
            yield batch
            batch, count, total, total_lines = [], 0, 0, 0
        batch.append((tag, segment))
        count += 1
        total += length
        total_lines += breaks
        if count == size:
            yield batch
            batch, count, total, total_lines = [], 0, 0, 0
    if batch:
        yield batch


def run(judge: Judge, model: LineModel | None, items: Iterable[tuple[T, Segment | None]],
        work: Work, n_jobs: int, batch_size: int) -> Iterator[tuple[T, Part | None]]:
    """``work`` over the segments of ``items``, batch by batch, each part with its tag.

    ``judge`` cleans here; workers build their own from ``judge.config``, and from ``model``
    when one was given instead of the one the configuration names (it is then sent along
    with every batch).
    """
    cfg = judge.config
    batches = batched(items, batch_size, cfg.segment_chars, cfg.segment_lines)
    workers = worker_count(n_jobs)
    head = [] if workers == 1 else list(itertools.islice(batches, workers))
    if len(head) < 2:  # one worker, or all the work in one batch
        for batch in itertools.chain(head, batches):
            yield from _tagged(batch, work(judge, _segments(batch)))
        return
    from joblib import Parallel, delayed, parallel_config

    # No more workers than batches: each one starts a process that loads rules and model.
    # Numeric libraries get one thread in each: the workers already use every core, and
    # oversubscribed BLAS threads made the model several times slower.
    with parallel_config(backend="loky", inner_max_num_threads=1):
        parallel = Parallel(n_jobs=min(workers, len(head)), return_as="generator",
                            pre_dispatch="2*n_jobs")
    sent: collections.deque[list[tuple[T, Segment | None]]] = collections.deque()

    def tasks() -> Iterator[object]:
        for batch in itertools.chain(head, batches):
            sent.append(batch)  # results come back in this order
            yield delayed(_in_worker)(cfg, model, work, _segments(batch))

    outputs = parallel(tasks())
    try:
        for parts in outputs:
            yield from _tagged(sent.popleft(), parts)
    finally:  # the caller may stop early (`cleaner big.txt | head`): stop the workers
        with warnings.catch_warnings():
            # joblib's notice that finished or running tasks were not used.
            warnings.filterwarnings("ignore", ".* adjusting the input task iterator",
                                    UserWarning)
            outputs.close()


def _segments(batch: list[tuple[T, Segment | None]]) -> list[Segment]:
    return [segment for _, segment in batch if segment is not None]


def _tagged(batch: list[tuple[T, Segment | None]],
            parts: list[Part]) -> Iterator[tuple[T, Part | None]]:
    """The batch's tags, each with its segment's part (``None`` where it had none)."""
    cleaned = iter(parts)
    for tag, segment in batch:
        yield tag, None if segment is None else next(cleaned)


def _in_worker(config: CleanerConfig, model: LineModel | None, work: Work,
               segments: list[Segment]) -> list[Part]:
    """Clean one batch in a worker process, reusing that process's judge."""
    judge = cached_judge(config) if model is None else Judge.load(config, model)
    return work(judge, segments)


def results(judge: Judge, segments: list[Segment]) -> list[Part]:
    """Parts with every line's decision."""
    return judge.clean(segments)


def brief_results(judge: Judge, segments: list[Segment]) -> list[Part]:
    """Parts with the removed lines' decisions only (less to send back from a worker)."""
    return judge.clean(segments, brief=True)


def texts(judge: Judge, segments: list[Segment]) -> list[Part]:
    """Parts with the text alone."""
    return judge.clean(segments, decisions=False)
