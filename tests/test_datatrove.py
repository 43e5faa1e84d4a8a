"""The datatrove step cleans each document's text and records its removed fraction, alone
and inside a local pipeline that reads and writes JSON Lines (temporary folders, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("datatrove")

from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from cleaner.datatrove import REMOVED_KEY, CleanerStep


def test_step_cleans_text_and_records_removed_fraction(
        seed_pages: list[tuple[str, str]]) -> None:
    documents = [Document(page, f"seed-{i}", metadata={"url": f"https://a.example/{i}"})
                 for i, (page, _) in enumerate(seed_pages)]
    documents.insert(1, Document(None, "no-text"))  # type: ignore[arg-type]
    step = CleanerStep(batch_size=2)
    out = list(step.run(iter(documents)))
    assert [doc.id for doc in out] == ["seed-0", "no-text",
                                       *(f"seed-{i}" for i in range(1, len(seed_pages)))]
    assert out[1].text is None and out[1].metadata == {}
    cleaned = [doc for doc in out if doc.text is not None]
    assert [doc.text for doc in cleaned] == [expected for _, expected in seed_pages]
    for i, doc in enumerate(cleaned):
        assert doc.metadata["url"] == f"https://a.example/{i}"
        assert 0.0 <= doc.metadata[REMOVED_KEY] < 1.0
    assert cleaned[0].metadata[REMOVED_KEY] > 0.0  # it ended in "Archiviert unter:"
    assert step.stats["total"].total == len(documents)
    assert step.stats["missing_text"].total == 1


def test_local_pipeline_reads_cleans_and_writes(tmp_path: Path,
                                                seed_pages: list[tuple[str, str]]) -> None:
    source = tmp_path / "in"
    source.mkdir()
    for shard in range(2):  # two files: one for each task
        rows = [{"id": f"{shard}-{i}", "text": page, "lang": "de"}
                for i, (page, _) in enumerate(seed_pages) if i % 2 == shard]
        (source / f"shard{shard}.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    executor = LocalPipelineExecutor(
        pipeline=[JsonlReader(str(source)),
                  CleanerStep(removed_key="boilerplate_share", use_model=False),
                  JsonlWriter(str(tmp_path / "out"), compression=None)],
        tasks=2, workers=2, logging_dir=str(tmp_path / "logs"))  # two processes: it pickles
    executor.run()
    written = [json.loads(line) for path in sorted((tmp_path / "out").glob("*.jsonl"))
               for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(row["id"] for row in written) == sorted(
        f"{i % 2}-{i}" for i in range(len(seed_pages)))
    step = CleanerStep(use_model=False)
    by_id = {row["id"]: row for row in written}
    for i, (page, _) in enumerate(seed_pages):
        row = by_id[f"{i % 2}-{i}"]
        assert row["text"] == next(step.run(iter([Document(page, "x")]))).text
        assert row["metadata"]["lang"] == "de"
        assert 0.0 <= row["metadata"]["boilerplate_share"] < 1.0
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text(encoding="utf-8"))
    (counts,) = [stat["stats"] for stat in stats if stat["name"].endswith("🧹 cleaner")]
    assert counts["total"] == len(seed_pages)
    assert counts["removed_fraction"]["mean"] > 0.0


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be positive, not 0"):
        CleanerStep(batch_size=0)
