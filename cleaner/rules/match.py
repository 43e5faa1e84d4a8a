"""Matching lines: the first rule (in order) whose pattern matches a whole line decides it.

A rule with ``continues = "list"`` also takes the short, list-like lines right after its
match (the tag names under "Tags:"), stopping at the first line that reads like prose.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

from cleaner.config import HEAD_LINES, TAIL_LINES
from cleaner.rules.files import (
    USER_RULE_TIMEOUT,
    Rule,
    load_rules,
)
from cleaner.rules.index import Index, anchors

MATCH_CACHE = 1 << 16  # lines whose rule decision is remembered, per RuleSet and zone


CACHED_LINE_CHARS = 300  # longer lines are not remembered


# A line that may belong to a tag or category list: a few words, no sentence ending.
_LIST_ITEM = regex.compile(r"[-*•·–]?\s*[^.!?。！？]{1,60}[^.!?。！？:]?", regex.V0)


_LIST_ITEM_MAX_WORDS = 6


@dataclass(frozen=True)
class RuleHit:
    """A rule that decided a line; ``continued`` when the line follows the matched one."""

    rule: Rule
    continued: bool = False


_UNSEEN = Rule("", "", "")  # cache marker: no answer yet


# The zones a line can be in, indexed by in_head + 2 * in_tail.
_ZONES = [("anywhere",), ("anywhere", "head"), ("anywhere", "tail"), ("anywhere", "head", "tail")]


class RuleSet:
    """Compiled rules, matched against a document's normalized lines.

    Rules are tried in order (shipped files by name, then user files); the first rule
    whose pattern matches a line decides it.
    """

    def __init__(self, rules: Sequence[Rule], *, head_lines: int = HEAD_LINES,
                 tail_lines: int = TAIL_LINES,
                 anchors: Sequence[frozenset[str] | None] | None = None):
        self.rules = tuple(rules)
        self.head_lines = head_lines
        self.tail_lines = tail_lines
        keys = list(anchors or [None] * len(self.rules))
        # One index per zone, holding only the rules that apply there; zones with the same
        # rules (no head rule, say) share one, as building an index takes a while.
        indexes: dict[tuple[int, ...], Index] = {}
        self._indexes = []
        for zones in _ZONES:
            members = tuple(k for k, rule in enumerate(self.rules) if rule.where in zones)
            if members not in indexes:
                indexes[members] = Index([(k, keys[k]) for k in members])
            self._indexes.append(indexes[members])
        self._cache: list[dict[str, Rule | None]] = [{} for _ in _ZONES]

    @classmethod
    def load(cls, extra_files: Sequence[str | Path] = (), *, builtin: bool = True,
             user_timeout: float = USER_RULE_TIMEOUT,
             langs: Sequence[str] | None = None, head_lines: int = HEAD_LINES,
             tail_lines: int = TAIL_LINES) -> RuleSet:
        """Compile the shipped rules (unless ``builtin`` is false) plus ``extra_files``,
        whose rules may take at most ``user_timeout`` seconds on one line."""
        compiled, phrases = load_rules(extra_files, builtin, user_timeout, langs)
        return cls(compiled, head_lines=head_lines, tail_lines=tail_lines,
                   anchors=[anchors(r, phrases) for r in compiled])

    def compile_all(self) -> None:
        """Compile every rule's pattern now (a shipped rule's is otherwise compiled when a
        line first reaches it): for a long run, or a benchmark, that should not pay for it
        as it goes."""
        for rule in self.rules:
            rule.compiled.fullmatch("")

    def match(self, lines: Sequence[str], *, head: bool = True,
              tail: bool = True) -> list[RuleHit | None]:
        """One entry per line: the rule that removes it, or ``None``.

        ``head`` and ``tail`` count non-blank lines from the start and the end. Lines that
        are only a segment of a document have no head unless they start the document, and
        no tail unless they end it: pass ``head`` or ``tail`` false.
        """
        hits: list[RuleHit | None] = [None] * len(lines)
        content = [i for i, line in enumerate(lines) if line]
        head_end = self.head_lines if head else 0
        tail_start = len(content) - self.tail_lines if tail else len(content)
        continuing: Rule | None = None
        caches = self._cache
        for rank, i in enumerate(content):
            line = lines[i]
            zone = (rank < head_end) + 2 * (rank >= tail_start)
            rule = caches[zone].get(line, _UNSEEN)
            if rule is _UNSEEN:
                rule = self._first_match(line, zone)
            if rule is not None:
                hits[i] = RuleHit(rule)
                continuing = rule if rule.continues == "list" else None
            elif continuing is not None and _looks_like_list_item(line):
                hits[i] = RuleHit(continuing, continued=True)
            else:
                continuing = None
        return hits

    def _first_match(self, line: str, zone: int) -> Rule | None:
        """The first rule matching ``line`` in ``zone`` (an index of :data:`_ZONES`).

        Lines recur: in the next cleaning pass over the same document, and as navigation
        and share lines across documents, so answers for short lines are remembered (and
        :meth:`match` looks there first); a full cache is emptied, which keeps its size
        bounded at little cost.
        """
        cache = self._cache[zone]
        rule = None
        for k in self._indexes[zone].candidates(line):
            if self.rules[k].matches(line):
                rule = self.rules[k]
                break
        if len(line) <= CACHED_LINE_CHARS:  # long lines are prose, and costly to keep
            if len(cache) >= MATCH_CACHE:
                cache.clear()
            cache[line] = rule
        return rule


def _looks_like_list_item(line: str) -> bool:
    return (len(line.split()) <= _LIST_ITEM_MAX_WORDS
            and _LIST_ITEM.fullmatch(line) is not None)
