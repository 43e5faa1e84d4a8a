"""Cross-document repetition on the command line (issue 17): ``cleaner index``,
``--repeat-index`` and ``--repeats``, run as a real subprocess over a shard of pages of a few
sites that share their menus, newsletter boxes and footers.

The shipped model may or may not carry repetition weights; these tests use a copy of it
with weights of their own, so they hold either way.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cleaner import cli
from cleaner.labels import EXPLAIN_HEADER, parse_labelled
from cleaner.repeats import FEATURES, RepeatIndex

MODELS = Path(cli.__file__).parent / "models"
WEIGHTS = [2.0, 0.5, 0.3]

SITES: dict[str, dict[str, list[str]]] = {
    "https://www.riverside-gazette.example/news/": {
        "head": ["Home", "Politics", "Business", "Sport", "Culture", "Opinion"],
        "foot": ["Sign up for our weekly newsletter",
                 "Get the best stories in your inbox every Friday.",
                 "Most read this week",
                 "About us | Contact | Advertise | Privacy",
                 "© 2024 Riverside Gazette. All rights reserved."]},
    "https://bergblick-zeitung.example/lokales/": {
        "head": ["Startseite", "Politik", "Wirtschaft", "Sport", "Kultur", "Meinung"],
        "foot": ["Unser Newsletter: jeden Morgen das Wichtigste aus der Region",
                 "Jetzt kostenlos anmelden",
                 "Meistgelesen",
                 "Impressum | Datenschutz | AGB | Kontakt",
                 "© 2024 Bergblick Zeitung GmbH"]},
    "https://www.harbourlight.example/stories/": {
        "head": ["Menu", "Latest", "Harbour life", "Food & drink", "Events", "Search"],
        "foot": ["Enjoyed this story? Support local journalism",
                 "Become a member from as little as a coffee a month.",
                 "Related stories",
                 "Terms | Cookies | Accessibility",
                 "Harbourlight is published by Tidewater Media Ltd."]},
}
# Agency copy that several sites print: repeated across sites, and article text all the same.
WIRE = ("The national weather service warned of heavy rain across the region through the "
        "weekend, with flooding possible in low-lying areas near the coast.")
WHO = ["The city council", "A local charity", "The regional transport authority",
       "A group of residents", "The county health board", "Volunteers from the harbour club",
       "The university's engineering faculty", "A family-run bakery"]
DID = ["presented plans for", "raised money for", "voted against", "opened",
       "asked the mayor about", "began repairs on", "won an award for", "held a meeting about"]
WHAT = ["the old railway bridge", "a new cycle lane along the river", "the market hall",
        "the lifeboat station", "the primary school library", "a community garden",
        "the swimming pool on Elm Road", "the night bus service"]
WHEN = ["on Tuesday evening", "last weekend", "this morning", "after months of debate",
        "despite the rain", "at a packed public meeting"]


def _sentences(seed: int) -> Iterator[str]:
    """Article sentences, none repeated: every combination once, in a shuffled order."""
    combos = list(itertools.product(WHO, DID, WHAT, WHEN))
    random.Random(seed).shuffle(combos)
    for who, did, what, when in combos:
        yield (f"{who} {did} {what} {when}, according to people who were there, and more "
               "details are expected to follow.")


def pages(per_site: int) -> list[dict[str, Any]]:
    """A shard of ``per_site`` pages of each site, sites interleaved, as crawled."""
    text = _sentences(17)
    records = []
    for n in range(per_site):
        for site, furniture in SITES.items():
            body = [next(text) for _ in range(3)] + ([WIRE] if n % 4 == 0 else [])
            lines = furniture["head"] + ["", *body, ""] + furniture["foot"]
            records.append({"id": len(records), "url": f"{site}{n:04d}-story",
                            "text": "\n".join(lines) + "\n"})
    return records


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def run(*args: object, stdin: bytes | None = b"", env: dict[str, str] | None = None,
        cwd: Path | None = None, preexec: Callable[[], None] | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "cleaner", *map(str, args)], input=stdin,
                          capture_output=True, env=env, cwd=cwd, preexec_fn=preexec,
                          timeout=300, check=False)


def one_error(proc: subprocess.CompletedProcess[bytes], *words: str) -> str:
    """The run failed with one error line on stderr, no traceback, naming ``words``."""
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert err.startswith("cleaner: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


def _model(folder: Path, repetition: dict[str, Any] | None) -> Path:
    """A copy of the shipped model, with these repetition weights (``None``: without)."""
    folder.mkdir()
    shutil.copy(MODELS / "line-v1.npz", folder / "line-v1.npz")
    manifest = json.loads((MODELS / "line-v1.json").read_text(encoding="utf-8"))
    manifest.pop("repetition", None)
    if repetition is not None:
        manifest["repetition"] = repetition
    (folder / "line-v1.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder / "line-v1.npz"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _model(tmp_path_factory.mktemp("weighed") / "model",
                  {"features": list(FEATURES), "weights": WEIGHTS})


@pytest.fixture(scope="module")
def unweighed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _model(tmp_path_factory.mktemp("unweighed") / "model", None)


@pytest.fixture(scope="module")
def shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("shard") / "shard.jsonl", pages(6))


def doc_stats(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line)["stats"] for line in output.decode().splitlines()]


# The equivalence: one pass with an index, or two ----------------------------------------

def test_index_then_repeat_index_is_what_repeats_gives(tmp_path: Path, shard: Path,
                                                       model: Path) -> None:
    index = tmp_path / "shard.idx"
    built = run("index", "--jsonl", shard, "-o", index)
    assert built.returncode == 0, built.stderr
    loaded = RepeatIndex.load(index)
    assert built.stderr.decode() == (f"cleaner: {index}: 18 documents, {loaded.pairs} "
                                     f"distinct (line, site) pairs, {loaded.nbytes} bytes\n")
    flags = ["--model", model, "--jsonl", "--doc-stats", "stats"]
    two_runs = run(*flags, "--repeat-index", index, shard, "-o", tmp_path / "a.jsonl")
    one_run = run(*flags, "--repeats", shard, "-o", tmp_path / "b.jsonl")
    plain = run(*flags, shard)
    assert two_runs.returncode == one_run.returncode == plain.returncode == 0, one_run.stderr
    assert two_runs.stderr == one_run.stderr == b""
    weighed = (tmp_path / "a.jsonl").read_bytes()
    assert weighed == (tmp_path / "b.jsonl").read_bytes()
    # The evidence took out furniture the model kept on its own, and only that.
    assert sum(s["lines_removed_by"]["repetition"] for s in doc_stats(weighed)) > 0
    assert sum(s["lines_removed_by"]["repetition"] for s in doc_stats(plain.stdout)) == 0
    for record in map(json.loads, weighed.decode().splitlines()):
        assert record["text"].count("according to people who were there") == 3
        page = record["id"] // len(SITES)
        assert (WIRE in record["text"]) == (page % 4 == 0), "agency copy is article text"


def test_workers_give_the_same_bytes(tmp_path: Path, model: Path) -> None:
    """More records than a batch (256), so that --jobs 2 really sends batches to two
    workers."""
    big = write_jsonl(tmp_path / "big.jsonl", pages(90))
    outputs = [run("--model", model, "--jsonl", "--repeats", "--jobs", jobs, big)
               for jobs in ("1", "2")]
    assert [p.returncode for p in outputs] == [0, 0], outputs[1].stderr
    assert outputs[0].stdout == outputs[1].stdout


def test_folder_of_text_files_index_or_repeats(tmp_path: Path, model: Path) -> None:
    """Text files are documents without a site; a folder is mirrored into -o as usual."""
    folder = tmp_path / "pages"
    (folder / "riverside").mkdir(parents=True)
    for record in pages(5)[::3]:
        (folder / "riverside" / f"{record['id']:03d}.txt").write_text(record["text"],
                                                                      encoding="utf-8")
    (folder / "notes.md").write_text("# not a page\n", encoding="utf-8")
    index = tmp_path / "pages.idx"
    assert run("index", "-q", folder, "--glob", "*.txt", "-o", index).stderr == b""
    assert RepeatIndex.load(index).documents == 5
    common = ["--model", model, folder, "--glob", "*.txt"]
    assert run(*common, "--repeat-index", index, "-o", tmp_path / "a").returncode == 0
    assert run(*common, "--repeats", "-o", tmp_path / "b").returncode == 0
    outputs = sorted((tmp_path / "a").rglob("*"))
    assert [p.relative_to(tmp_path / "a") for p in outputs if p.is_file()] == [
        Path("riverside") / f"{n:03d}.txt" for n in (0, 3, 6, 9, 12)]
    for a in outputs:
        b = tmp_path / "b" / a.relative_to(tmp_path / "a")
        assert a.is_dir() or a.read_bytes() == b.read_bytes()


def test_url_field_names_where_the_site_is(tmp_path: Path, shard: Path, model: Path) -> None:
    records = [json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines()]
    renamed = write_jsonl(tmp_path / "renamed.jsonl",
                          [{"link": r.pop("url"), **r} for r in records])
    as_usual = run("--model", model, "--jsonl", "--repeats", shard)
    named = run("--model", model, "--jsonl", "--repeats", "--url-field", "link", renamed)
    texts = [[json.loads(line)["text"] for line in p.stdout.decode().splitlines()]
             for p in (as_usual, named)]
    assert texts[0] == texts[1]
    # Without the sites, the lines count as repeated across documents only: another result,
    # and a warning that says why.
    unnamed = run("--model", model, "--jsonl", "--repeats", renamed)
    assert [json.loads(line)["text"] for line in unnamed.stdout.decode().splitlines()] != texts[0]
    assert unnamed.stderr.decode() == (
        "cleaner: warning: no record has a URL in field 'url': lines are counted without "
        "their sites (--url-field names the field)\n")
    assert run("--model", model, "-q", "--jsonl", "--repeats", renamed).stderr == b""


def test_problems_of_the_inputs_are_reported_once(tmp_path: Path, shard: Path,
                                                  model: Path) -> None:
    """The counting pass is silent: the cleaning pass reports a bad record or an input that
    cannot be read, as a run without --repeats does."""
    lines = shard.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines[:2]) + b'{"text": 5}\n' + b"".join(lines[2:]))
    absent = tmp_path / "absent.jsonl"
    flags = ["--model", model, "--jsonl", "--on-error", "skip"]
    proc = run(*flags, "--repeats", bad, absent)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        f"cleaner: warning: {bad}:3: field 'text' is int, not a string (record skipped)",
        f"cleaner: error: {absent}: cannot read: No such file or directory"]
    index = tmp_path / "bad.idx"
    assert run("index", "-q", "--jsonl", "--on-error", "skip", bad, "-o", index).returncode == 0
    assert proc.stdout == run(*flags, "--repeat-index", index, bad).stdout


# What --explain says --------------------------------------------------------------------

def test_explain_shows_the_evidence_in_the_reason_column(tmp_path: Path, model: Path) -> None:
    files = []
    for record in pages(20)[::3]:  # the pages of one site
        files.append(tmp_path / f"{record['id']}.txt")
        files[-1].write_text(record["text"], encoding="utf-8")
    proc = run("--model", model, "--explain", "--repeats", *files)
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.decode()
    first = table.split(EXPLAIN_HEADER + "\n")[1]
    rows = [row.split("\t") for row in first.splitlines()]
    assert {len(row) for row in rows} == {6}, "the columns stay as they were"
    by_text = {row[5]: row for row in rows}
    # Text files have no site, so each is a site of its own: 19 other documents (and so
    # 19 other sites) hold the menu, none the article.
    assert by_text["Home"][3].endswith("repeats=site:0,docs:19,sites:19")
    article = next(text for text in by_text if "according to people" in text)
    assert "repeats=" not in by_text[article][3]
    assert any(row[3].startswith("repeated repeats=") and row[1] == "B" for row in rows)
    assert "repeats=" not in by_text[WIRE][3], "long prose is never weighed"
    assert by_text["About us | Contact | Advertise | Privacy"][2:4] == [
        "rule", "legal.site-links repeats=site:0,docs:19,sites:19"], "a rule's id comes first"
    labelled = parse_labelled(EXPLAIN_HEADER + "\n" + first)
    assert labelled.text.rstrip("\n") == files[0].read_text(encoding="utf-8").rstrip("\n"), \
        "the table still reads back as labelled data"


# Standard input ------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_standard_input_is_copied_aside_and_read_twice(tmp_path: Path, shard: Path,
                                                       model: Path, compress: bool) -> None:
    index = tmp_path / "shard.idx"
    assert run("index", "--jsonl", shard, "-o", index).returncode == 0
    expected = run("--model", model, "--jsonl", "--repeat-index", index, shard)
    data = shard.read_bytes()
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {**os.environ, "TMPDIR": str(spool)}
    proc = run("--model", model, "--jsonl", "--repeats",
               stdin=gzip.compress(data) if compress else data, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected.stdout
    assert list(spool.iterdir()) == [], "the copy of standard input is gone"
    # `cleaner index` reads standard input once, like any input.
    assert run("index", "--jsonl", "-q", "-o", tmp_path / "stdin.idx",
               stdin=data).returncode == 0
    assert (tmp_path / "stdin.idx").read_bytes() == index.read_bytes()


def test_standard_input_among_files(tmp_path: Path, model: Path) -> None:
    texts = [r["text"] for r in pages(3)[::3]]
    for n, text in enumerate(texts):
        (tmp_path / f"{n}.txt").write_text(text, encoding="utf-8")
    from_files = run("--model", model, "--repeats", *(tmp_path / f"{n}.txt" for n in range(3)))
    mixed = run("--model", model, "--repeats", tmp_path / "0.txt", "-", tmp_path / "2.txt",
                stdin=texts[1].encode())
    assert mixed.returncode == 0, mixed.stderr
    assert mixed.stdout == from_files.stdout


def test_closed_standard_input_is_one_error_line(model: Path) -> None:
    proc = run("--model", model, "--jsonl", "--repeats", stdin=None,
               preexec=lambda: os.close(0))
    assert proc.returncode == 1
    one_error(proc, "<stdin>: cannot read: standard input is closed")


# Refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("flags", "message"), [
    (["--repeats", "--no-model"], "--repeats and --repeat-index do not go with --no-model"),
    (["--repeat-index", "x.idx", "--no-model"],
     "--repeats and --repeat-index do not go with --no-model"),
    (["--repeats", "--repeat-index", "x.idx"], "--repeats and --repeat-index exclude each other"),
    (["--jsonl", "--url-field", "link"], "--url-field goes with --jsonl and --repeats"),
    (["--repeats", "--url-field", "link"], "--url-field goes with --jsonl and --repeats"),
])
def test_usage_errors(flags: list[str], message: str) -> None:
    proc = run(*flags, stdin=b"Text.\n")
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[-1].startswith(f"cleaner: error: {message}")
    assert b"Traceback" not in proc.stderr


def test_model_without_repetition_weights_is_refused_before_reading(
        tmp_path: Path, shard: Path, unweighed_model: Path) -> None:
    out = tmp_path / "out.jsonl"
    for flags in (["--repeats"], ["--repeat-index", tmp_path / "absent.idx"]):
        proc = run("--model", unweighed_model, "--jsonl", *flags, shard, "-o", out)
        assert proc.returncode == 2
        one_error(proc, f"{flags[0]}: ", "not trained with repetition weights")
    assert not out.exists()
    config = tmp_path / "cleaner.toml"
    config.write_text("use_model = false\n", encoding="utf-8")
    proc = run("--config", config, "--jsonl", "--repeats", shard)
    one_error(proc, "--repeats: ", "runs without one")


def _damaged(path: Path, index: Path, how: str) -> None:
    data = index.read_bytes()
    if how == "garbage":
        path.write_text("not an index\n", encoding="utf-8")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "array":
        with open(path, "wb") as f:
            np.save(f, np.zeros(3))
    elif how == "folder":
        path.mkdir()
    elif how == "columns":
        with np.load(index) as archive:
            arrays = {name: archive[name] for name in archive.files}
        with open(path, "wb") as f:
            np.savez(f, **{**arrays, "count": arrays["count"][:-1]})


@pytest.mark.parametrize("how", ["garbage", "empty", "truncated", "array", "folder",
                                 "columns", "missing"])
def test_a_bad_index_is_one_error_line_and_writes_nothing(tmp_path: Path, shard: Path,
                                                          model: Path, how: str) -> None:
    good = tmp_path / "good.idx"
    assert run("index", "--jsonl", shard, "-o", good).returncode == 0
    bad = tmp_path / "bad.idx"
    _damaged(bad, good, how)
    out = tmp_path / "out.jsonl"
    proc = run("--model", model, "--jsonl", "--repeat-index", bad, shard, "-o", out)
    assert proc.returncode == 1
    one_error(proc, str(bad), "not found" if how == "missing" else "index")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["good.idx"] + ([] if how == "missing" else ["bad.idx"])), "no temporary file left"


def test_an_index_of_another_line_key_version_is_refused(tmp_path: Path, shard: Path,
                                                         model: Path) -> None:
    index = tmp_path / "old.idx"
    assert run("index", "--jsonl", shard, "-o", index).returncode == 0
    with np.load(index) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays["meta"]))
    with open(index, "wb") as f:
        np.savez(f, **{**arrays, "meta": np.asarray(json.dumps({**meta, "key_version": 0}))})
    proc = run("--model", model, "--jsonl", "--repeat-index", index, shard)
    one_error(proc, "line-key version 0", "rebuild it with `cleaner index`")
    assert proc.stdout == b""


# cleaner index: errors leave no index ----------------------------------------------------

def test_index_is_written_only_when_every_input_was_read(tmp_path: Path, shard: Path) -> None:
    index = tmp_path / "shard.idx"
    index.write_bytes(b"the index of yesterday")
    proc = run("index", "--jsonl", shard, tmp_path / "absent.jsonl", "-o", index)
    assert proc.returncode == 1
    assert proc.stderr.decode().splitlines() == [
        f"cleaner: error: {tmp_path / 'absent.jsonl'}: cannot read: No such file or directory",
        f"cleaner: error: {index}: index not written, since an input failed"]
    assert index.read_bytes() == b"the index of yesterday"
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(shard.read_bytes() + b'{"text": 5}\n')
    failed = run("index", "--jsonl", bad, "-o", index)
    assert failed.returncode == 1 and b"bad.jsonl:19: field 'text' is int" in failed.stderr
    assert index.read_bytes() == b"the index of yesterday"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl", "shard.idx"]
    skipped = run("index", "--jsonl", "--on-error", "skip", bad, "-o", index)
    assert skipped.returncode == 0
    assert b"(record left out of the index)" in skipped.stderr
    assert RepeatIndex.load(index).documents == 18


@pytest.mark.parametrize(("target", "message"), [
    ("missing/x.idx", "does not exist"), (".", "is a folder"), ("shard.jsonl", "is an input")])
def test_index_output_is_checked_before_reading(tmp_path: Path, shard: Path, target: str,
                                                message: str) -> None:
    proc = run("index", "--jsonl", "shard.jsonl", "-o", target, cwd=shard.parent)
    assert proc.returncode == 1
    one_error(proc, message)


def test_index_to_standard_output(tmp_path: Path, shard: Path) -> None:
    """A stream is written straight (it cannot be replaced by a renamed file), so an index
    can go down a pipe."""
    proc = run("index", "-q", "--jsonl", shard, "-o", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "piped.idx").write_bytes(proc.stdout)
    assert run("index", "-q", "--jsonl", shard, "-o", tmp_path / "shard.idx").returncode == 0
    piped, written = (RepeatIndex.load(tmp_path / name) for name in ("piped.idx", "shard.idx"))
    assert (piped.documents, piped.pairs) == (written.documents, written.pairs)
    assert piped.documents == 18 and piped.pairs > 0
    page = json.loads(shard.read_text(encoding="utf-8").splitlines()[0])
    counts = [[index.repeats(page["text"], page["url"]).counts(i) for i in range(5)]
              for index in (piped, written)]
    # The menu is on the site's five other pages; "Sport", on the other menu too.
    assert counts[0] == counts[1] == [(5, 5, 0)] * 3 + [(5, 11, 1), (5, 5, 0)]


def test_index_usage() -> None:
    assert run("index", "x.txt").returncode == 2  # -o is required
    proc = run("index", "--url-field", "link", "-o", "x.idx", "x.txt")
    assert proc.returncode == 2
    assert b"--url-field and --on-error go with --jsonl" in proc.stderr
    assert b"cleaner index" in run("index", "--help").stdout


# Library pieces the command line relies on ---------------------------------------------

def test_a_document_given_in_pieces_counts_as_one() -> None:
    whole, pieces = RepeatIndex(), RepeatIndex()
    whole.add("Menu\nStory one.\n\nMenu\nFooter\n", "a.example")
    pieces.add(iter(["Menu\nStory one.", "\nMenu\nFooter\n"]), "a.example")
    assert whole.documents == pieces.documents == 1
    assert whole.pairs == pieces.pairs == 3
    assert pieces.repeats("Menu", "a.example").counts(0) == (0, 0, 0)


def test_shell_completion_completes_the_index_path(tmp_path: Path) -> None:
    pytest.importorskip("shtab")
    proc = run("--print-completion", "bash")
    script = tmp_path / "cleaner.bash"
    script.write_bytes(proc.stdout)
    (tmp_path / "crawl.idx").touch()
    shell = (f'source "{script}"; COMP_WORDS=(cleaner --repeat-index cra); COMP_CWORD=2; '
             '_shtab_cleaner; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", shell], capture_output=True, cwd=tmp_path,
                          timeout=30, check=True)
    assert done.stdout.decode().split() == ["crawl.idx"]


def test_stats_count_the_lines_repetition_decided(tmp_path: Path, shard: Path,
                                                  model: Path) -> None:
    flags = ["--model", model, "--jsonl", "--stats", "--doc-stats", "stats"]
    weighed = run(*flags, "--repeats", shard)
    plain = run(*flags, shard)
    assert weighed.returncode == plain.returncode == 0, weighed.stderr
    per_record = sum(s["lines_removed_by"]["repetition"] for s in doc_stats(weighed.stdout))
    assert per_record > 0
    assert f"removed lines that repetition decided: {per_record} " in weighed.stderr.decode()
    assert "repetition decided" not in plain.stderr.decode()
