"""Find the corpus labels most likely to be wrong and have a person judge them in context.

    python -m training.audit DATA... [--source S] [--track T] [--lang L] [--label B|C]
        [--scores SCORES.jsonl] [--limit N] [--worksheet FILE | --apply FILE]

Every labelled line that no one has reviewed yet is ranked by how little the model believes
its label (the model's probability of the given label, lowest first: the "self-confidence"
ranking of confident learning). The model's scores must come from a model that never saw
the line's page: pass ``--scores`` with the out-of-fold scores that ``python -m
training.evaluate --scores-out`` writes, or leave it out for a corpus the shipped model was
not trained on, whose scores the shipped pipeline then gives.

Each line is shown in its document: the lines around it with their labels, the model's
score and the rule that fired. The decision (``B``, ``C``, ``?``, or Enter to confirm the
label) is appended to ``training/corrections/<source>.jsonl`` at once. To share the reading
or do it in an editor, ``--worksheet FILE`` writes the same views to a text file with a
``decision:`` and a ``reason:`` field under each, and ``--apply FILE`` records the filled-in
decisions (blank ones are skipped). When several people share one worksheet, each can
instead write ``item<TAB>decision<TAB>reason`` lines to a file of their own, recorded with
``--apply WORKSHEET --decisions FILE``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cleaner import Cleaner
from cleaner.io import read_jsonl
from cleaner.types import Stage
from training.overlay import (
    FOLDER,
    LABEL_OF_TAG,
    TAG_OF_LABEL,
    Correction,
    Overlay,
    append_corrections,
    line_sha1,
)

CONTEXT = 5  # lines shown before and after the judged line
WIDTH = 600  # characters shown of a long judged line
CONTEXT_WIDTH = 200  # ... and of a long line around it
CONFIRM = ("", "=", "ok")  # decisions that confirm the given label


@dataclass(frozen=True)
class Item:
    """One labelled line to judge, with what is needed to show it."""

    source: str
    record: dict[str, object]
    line: int
    given: str
    score: float  # the model's P(boilerplate), 1.0 when a rule removed the line
    rule: str

    @property
    def doubt(self) -> float:
        """The model's probability that the given label is wrong."""
        return 1.0 - self.score if self.given == "B" else self.score

    @property
    def lines(self) -> list[str]:
        return str(self.record["text"]).split("\n")

    def correction(self, tag: str, reason: str) -> Correction:
        return Correction(id=str(self.record["id"]), line=self.line,
                          sha1=line_sha1(self.lines[self.line]), label=tag, was=self.given,
                          reason=reason)


def read_scores(path: str | Path) -> dict[str, list[float | None]]:
    """Per-line scores by record id from a ``{"id", "scores"}`` JSONL file."""
    return {str(r["id"]): r["scores"] for r in read_jsonl(path)}  # type: ignore[misc]


def pipeline_scores(cleaner: Cleaner, text: str) -> tuple[list[float | None], list[str]]:
    """Per input line: the shipped pipeline's P(boilerplate) (1.0 for a rule's removal)
    and the id of the rule that removed it."""
    decisions = cleaner.explain(text).decisions
    scores = [1.0 if d.stage is Stage.RULE else d.score for d in decisions]
    rules = [d.reason if d.stage is Stage.RULE else "" for d in decisions]
    return scores, rules


def candidates(data: Sequence[str], args: argparse.Namespace,
               overlay: Overlay) -> list[Item]:
    """The unreviewed labelled lines that the filters select, most doubtful first."""
    given_scores = read_scores(args.scores) if args.scores else None
    cleaner = Cleaner()
    items = []
    for path in data:
        for rec in read_jsonl(path):
            source = str(rec.get("source") or Path(path).stem)
            if ((args.source and source != args.source)
                    or (args.track and rec.get("track") != args.track)
                    or (args.lang and rec.get("lang") != args.lang)):
                continue
            labels: list[int | None] = rec["labels"]  # type: ignore[assignment]
            done = overlay.reviewed(str(rec["id"]))
            wanted = [i for i, lab in enumerate(labels) if lab is not None and i not in done
                      and (args.label is None or TAG_OF_LABEL[lab] == args.label)]
            if not wanted:
                continue
            rules: list[str] = []
            if given_scores is not None:
                scores = given_scores.get(str(rec["id"])) or []
            else:
                scores, rules = pipeline_scores(cleaner, str(rec["text"]))
            for i in wanted:
                score = scores[i] if i < len(scores) else None
                if score is None:
                    continue
                items.append(Item(source, rec, i, TAG_OF_LABEL[labels[i]], float(score),
                                  rules[i] if i < len(rules) else ""))
    items.sort(key=lambda it: -it.doubt)
    if args.per_record:
        items = _at_most_per_record(items, args.per_record)
    items = items[:args.limit] if args.limit else items
    if args.order == "document":
        items.sort(key=lambda it: (str(it.record["id"]), it.line))
    return items


def _at_most_per_record(items: Sequence[Item], limit: int) -> list[Item]:
    """The first ``limit`` items of each record, in the given order."""
    seen: Counter[str] = Counter()
    out = []
    for item in items:
        seen[str(item.record["id"])] += 1
        if seen[str(item.record["id"])] <= limit:
            out.append(item)
    return out


def show(item: Item, overlay: Overlay) -> str:
    """The line in its document: a header, the lines around it with their labels."""
    rec, lines = item.record, item.lines
    labels: list[int | None] = rec["labels"]  # type: ignore[assignment]
    done = overlay.reviewed(str(rec["id"]))
    out = [f"key: {item.source} | {rec['id']} | {item.line} | {line_sha1(lines[item.line])}",
           f"page: {rec.get('url') or '-'} ({rec.get('lang')}, {rec.get('track')}, "
           f"{len(lines)} lines)",
           f"label: {item.given}   model: {item.score:.2f}   rule: {item.rule or '-'}"]
    lo, hi = max(0, item.line - CONTEXT), min(len(lines), item.line + CONTEXT + 1)
    if lo > 0:
        out.append(f"   {0:>4} {TAG_OF_LABEL[labels[0]]}  {lines[0][:CONTEXT_WIDTH]}")
        out.append("   ...")
    for i in range(lo, hi):
        tag = done[i].label + "*" if i in done else TAG_OF_LABEL[labels[i]]
        mark = ">>" if i == item.line else "  "
        width = WIDTH if i == item.line else CONTEXT_WIDTH
        text = lines[i][:width] + ("…" if len(lines[i]) > width else "")
        out.append(f"{mark} {i:>4} {tag:<2} {text}")
    return "\n".join(out)


def parse_decision(answer: str, given: str) -> str | None:
    """The tag an answer stands for (the given one to confirm it), or None to skip."""
    answer = answer.strip().upper()
    if answer in (c.upper() for c in CONFIRM):
        return given
    return answer if answer in LABEL_OF_TAG else None


def write_worksheet(items: Sequence[Item], overlay: Overlay, path: Path) -> None:
    """The views of ``items`` with an empty decision and reason under each."""
    with open(path, "w", encoding="utf-8") as f:
        for n, item in enumerate(items, 1):
            f.write(f"=== item {n} of {len(items)} ===\n{show(item, overlay)}\n"
                    "decision: \nreason: \n\n")


def read_decisions(path: Path) -> dict[int, tuple[str, str]]:
    """``item<TAB>decision<TAB>reason`` lines: (decision, reason) by item number."""
    out = {}
    for number, row in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not row.strip():
            continue
        item, decision, reason = ([*row.split("\t", 2), "", ""])[:3]
        if not item.strip().isdigit():
            raise ValueError(f"{path}:{number}: expected item<TAB>decision<TAB>reason")
        out[int(item)] = (decision.strip(), reason.strip())
    return out


def read_worksheet(path: Path, decisions: dict[int, tuple[str, str]] | None = None,
                   ) -> Iterator[tuple[str, Correction]]:
    """The decided items of a filled-in worksheet, as (source, correction); ``decisions``
    (by item number) take the place of the worksheet's own fields."""
    block: dict[str, str] = {}
    for row in [*Path(path).read_text(encoding="utf-8").split("\n"), "=== end"]:
        if row.startswith("==="):
            if block.get("decision", "").strip():
                yield _worksheet_correction(block, path)
            block = {}
            item = row.split()[2] if row.startswith("=== item ") else ""
            if decisions is not None and item.isdigit() and int(item) in decisions:
                block["decision"], block["reason"] = decisions[int(item)]
        elif row.split(":", 1)[0] in ("key", "label", "decision", "reason"):
            name, _, value = row.partition(":")
            block.setdefault(name, value.strip())


def _worksheet_correction(block: dict[str, str], path: Path) -> tuple[str, Correction]:
    source, record_id, line, sha1 = (part.strip() for part in block["key"].split(" | "))
    given = block["label"].split()[0]
    tag = parse_decision(block["decision"], given)
    if tag is None:
        raise ValueError(f"{path}: {record_id} line {line}: decision "
                         f"{block['decision']!r} is not B, C, ? or = (confirm)")
    return source, Correction(id=record_id, line=int(line), sha1=sha1, label=tag, was=given,
                              reason=block.get("reason", ""))


def interactive(items: Sequence[Item], overlay: Overlay, folder: Path) -> Counter[str]:
    """Ask for a decision on each item and record it at once; ``q`` stops."""
    counts: Counter[str] = Counter()
    for n, item in enumerate(items, 1):
        print(f"\n=== {n} of {len(items)} ===\n{show(item, overlay)}")
        answer = input("[B]oilerplate, [C]ontent, [?] unknown, Enter confirms, "
                       "s skips, q quits: ")
        if answer.strip().lower() == "q":
            break
        tag = parse_decision(answer, item.given)
        if tag is None:
            continue
        reason = input("reason (optional): ").strip()
        append_corrections([item.correction(tag, reason)], item.source, folder)
        counts["changed" if tag != item.given else "confirmed"] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="*", help="labelled JSONL corpora (.gz allowed)")
    ap.add_argument("--source", help="only records of this source")
    ap.add_argument("--track", choices=["residual", "fullpage"], help="only this track")
    ap.add_argument("--lang", help="only records of this language")
    ap.add_argument("--label", choices=["B", "C"], help="only lines with this label")
    ap.add_argument("--scores", help="out-of-fold scores (training.evaluate --scores-out)")
    ap.add_argument("--limit", type=int, default=0,
                    help="at most N lines, the most doubtful (0: all)")
    ap.add_argument("--per-record", type=int, default=0,
                    help="at most N lines of one record, its most doubtful (0: all), so "
                         "that one long page does not fill the audit")
    ap.add_argument("--order", choices=["doubt", "document"], default="doubt",
                    help="show the chosen lines most doubtful first, or by document and "
                         "line (quicker to read)")
    ap.add_argument("--corrections", type=Path, default=FOLDER,
                    help=f"folder of the corrections files (default: {FOLDER})")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--worksheet", type=Path, help="write the lines to judge to this file")
    mode.add_argument("--apply", type=Path, help="record the decisions of a worksheet")
    ap.add_argument("--decisions", type=Path,
                    help="with --apply: take the decisions from this item<TAB>decision<TAB>"
                         "reason file instead of the worksheet's fields")
    args = ap.parse_args(argv)
    if args.decisions and not args.apply:
        ap.error("--decisions goes with --apply")
    if args.apply:
        decisions = read_decisions(args.decisions) if args.decisions else None
        by_source: dict[str, list[Correction]] = {}
        for source, correction in read_worksheet(args.apply, decisions):
            by_source.setdefault(source, []).append(correction)
        for source, corrections in sorted(by_source.items()):
            written = append_corrections(corrections, source, args.corrections)
            changed = sum(c.changed for c in corrections)
            print(f"{source}: {written} lines reviewed, {changed} labels changed")
        return 0
    if not args.data:
        ap.error("give the corpora to audit (or --apply FILE)")
    overlay = Overlay.load(args.corrections)
    items = candidates(args.data, args, overlay)
    if args.worksheet:
        write_worksheet(items, overlay, args.worksheet)
        print(f"{len(items)} lines to judge in {args.worksheet}")
        return 0
    if not sys.stdin.isatty():
        ap.error("judging needs a terminal; use --worksheet FILE and --apply FILE instead")
    counts = interactive(items, overlay, args.corrections)
    print(f"{counts['changed']} labels changed, {counts['confirmed']} confirmed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
