"""The phrase index: which rules a line can possibly match, found without matching them.

Named phrase lists are slow to match, and most lines match no rule. A rule whose pattern
must start with (or contain) one of its first list's phrases is keyed by those phrases'
first words (see :func:`anchors`); a line looks up the keys its own first words give, and
only the rules found are tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import regex

from cleaner.rules.files import LIST_NAME, Rule

# What may stand before a rule's first phrase list for the rule to be indexed by the first
# words of that list: only symbols, spaces, digits and "o" as a bullet (see anchors).
_HARMLESS_SYNTAX = regex.compile(
    r"\\[sdW\[\](){}*.+?|/\\-]|\{\d*,?\d*\}|\(\?(?:[:=!]|<[=!])|o\(\?=\\s\)")


_WORDISH = regex.compile(r"[\p{L}\p{N}_.\\]|\[\^")


_LINE_START = regex.compile(r"([\W_]*)(\w*)([\W_]*)(\w*)")


_LINE_START_LONG = regex.compile(r"([\W_]*)(\w*)([\W_]*)(\w*)([\W_]*)(\w*)([\W_]*)(\w*)")


_WORD = regex.compile(r"\w+")


_PHRASE_START = regex.compile(r"([\W_]*)(\w*)(?: (\w+))?(.?)", regex.DOTALL)


# A pattern that goes on with a required space: the phrase before it ends a word.
_SPACE_NEXT = regex.compile(r"\\s(?![?*]|\{0)")


def anchors(rule: Rule, phrases: Mapping[str, list[str]]) -> frozenset[str] | None:
    """Keys one of which every line the rule matches must show, or None.

    A pattern whose first phrase list is not optional (no group is open before it) can
    only match a line that contains one of the list's phrases. Keys starting with ``~``
    say so: the casefolded line must contain that phrase's longest word (the rarest, most
    likely: "reserved" of "All rights reserved"), or its first symbol if it has no word.

    When a pattern opens with nothing but symbols, spaces, digits and an "o" bullet before
    its first ``\\L<list>``, a matching line starts with one of the list's phrases after at
    most a few symbols and one one-letter word or number. A phrase gives one key, made of
    its first two words when it opens with two words and a space between them ("mehr zum"
    for "Mehr zum Thema"), since a first word alone is often as common as "die" or "the":

    - ``!c``: it starts with the symbol ``c``;
    - ``=words``: its casefolded first word(s), which a non-word character follows, so the
      line's words are exactly those;
    - ``=words`` as well when the phrase ends there and the pattern goes on with a space
      (``\\L<social_prep>\\s``), which ends the word;
    - ``^words``: the phrase ends there and the pattern may continue the last word
      ("Kommentar" + "e?"), so the line's words start with them.

    :meth:`Index.candidates` computes the same keys for a line. Named lists are slow to
    match, so this index lets most lines skip most rules.
    """
    found = LIST_NAME.search(rule.pattern)
    if found is None:
        return None
    prefix = rule.pattern[:found.start()]
    if not _closes_all_groups(prefix):
        return None
    at_start = not _WORDISH.search(_HARMLESS_SYNTAX.sub("", prefix))
    word_ends = _SPACE_NEXT.match(rule.pattern, found.end()) is not None
    keys = set()
    for phrase in phrases[found.group(1)]:
        symbols, word, second, after = _PHRASE_START.match(phrase).groups()
        symbols = symbols.replace(" ", "")
        if not (symbols or word):
            return None
        if not at_start:
            words = _WORD.findall(phrase)
            keys.add("~" + (_fold(max(words, key=len)) if words else symbols[0]))
        elif symbols:
            keys.add("!" + symbols[0])
        else:
            stem = f"{word} {second}" if second else word
            keys.add(("=" if after or word_ends else "^") + _fold(stem))
    return frozenset(keys)


_NONE: frozenset[int] = frozenset()


def _minimal(keys: Iterable[str]) -> set[str]:
    """Drop "contains" keys that hold a shorter key of the same rule: "~alle" when "~all"
    is there, since a line holding "alle" holds "all"."""
    keys = set(keys)
    contained = sorted((k for k in keys if k[0] == "~"), key=len)
    for i, key in enumerate(contained):
        if any(shorter[1:] in key[1:] for shorter in contained[:i]):
            keys.discard(key)
    return keys


def _fold(word: str) -> str:
    """Case-fold the way case-insensitive matching relates letters; casefold() alone keeps
    Turkish dotless and dotted i apart from "i", which regex matches to "I"."""
    if word.isascii():  # most words: nothing to fold but the capitals
        return word.lower()
    return word.casefold().replace("\u0131", "i").replace("i\u0307", "i")


def _closes_all_groups(prefix: str) -> bool:
    """True when ``prefix`` leaves no group open and has no top-level ``|``, so the list
    that follows it is not optional and not one branch of an alternation."""
    depth, i, in_class = 0, 0, False
    while i < len(prefix):
        char = prefix[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1 if prefix[i + 1:i + 2] != "]" else 2
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
        i += 1
    return depth == 0 and not in_class


class Index:
    """Which rules a line can possibly match, from the keys of :func:`anchors`."""

    def __init__(self, anchors: Sequence[tuple[int, frozenset[str] | None]]) -> None:
        self.always = frozenset(k for k, keys in anchors if keys is None)
        by_kind: dict[str, dict[str, set[int]]] = {kind: {} for kind in "!=^~"}
        for k, keys in anchors:
            for key in _minimal(keys or ()):
                by_kind[key[0]].setdefault(key[1:], set()).add(k)
        self.symbol, self.exact, self.contained = by_kind["!"], by_kind["="], by_kind["~"]
        self.symbol_chars = frozenset(self.symbol)
        # Word-prefix keys in a trie of characters; a key's node holds its rules and those
        # of the shorter keys it starts with, so the deepest node a stem reaches has them all.
        # In sorted order a key comes after the shorter keys that start it, whose nodes on
        # its path are then complete.
        self.prefix: dict[str, Any] = {}
        for key, rules in sorted(by_kind["^"].items()):
            node, above = self.prefix, _NONE
            for char in key:
                child = node.get(char)
                if child is None:
                    child = node[char] = {}
                node = child
                above = node.get("", above)
            node[""] = above.union(rules)

    def _longest_prefix_key(self, stem: str) -> frozenset[int]:
        """The rules of every word-prefix key that starts ``stem``."""
        node, found = self.prefix, _NONE
        for char in stem:
            child = node.get(char)
            if child is None:
                break
            node = child
            found = node.get("", found)
        return found

    def candidates(self, line: str) -> list[int]:
        """Indices of the rules that can match ``line``, in rule order."""
        stems, gaps = _line_start(line)
        found = set(self.always)
        if gaps and not self.symbol_chars.isdisjoint(gaps):
            for char in set(gaps):
                found |= self.symbol.get(char, _NONE)
        checked = "\0"  # the last stem whose prefix keys were looked up
        for stem in stems:
            found |= self.exact.get(stem, _NONE)
            if not checked.startswith(stem):  # a key that starts this stem starts that one
                checked = stem
                found |= self._longest_prefix_key(stem)
        if self.contained:
            line_folded = _fold(line)
            for key, keyed in self.contained.items():
                if key in line_folded:
                    found |= keyed
        return sorted(found)


def _line_start(line: str) -> tuple[list[str], str]:
    """The casefolded stems a rule's first phrase may start at (see :func:`_leading_words`)
    and the symbols before and between the words they come from.

    Most lines start with a word of letters followed by a space and another such word, or
    are that one word; they are split without a regular expression.
    """
    first, space, rest = line.partition(" ")
    if first.isalpha() and first not in ("o", "O"):
        if not space:
            return [_fold(first)], ""
        second = rest.partition(" ")[0]
        if second.isalpha():
            return _stems(first, space, second), space
    symbols, first, gap, second = _LINE_START.match(line).groups()
    if first in ("o", "O") or first[:1].isdigit():  # a bullet or a number may lead
        symbols, *parts = _LINE_START_LONG.match(line).groups()
        return _leading_words(parts), symbols + parts[1] + parts[3]
    return _stems(first, gap, second), symbols + gap


def _leading_words(parts: Sequence[str]) -> list[str]:
    """The casefolded words a rule's first phrase may start at, alone and with the next
    word when one space parts them: the first word, or the word after a one-letter "o"
    bullet and a number ("o 12 Comments"); digits glued to the front are dropped too
    ("12Comments"). ``parts`` alternates words and the gaps after them."""
    words, gaps = parts[0::2], parts[1::2]
    starts = [0]
    if words[0] in ("o", "O") or words[0].isdigit():
        starts.append(1)
        if words[1].isdigit():
            starts.append(2)
    found = [stem for j in starts for stem in _stems(words[j], gaps[j], words[j + 1])]
    return found + [stem.lstrip("0123456789") for stem in found if stem[:1].isdigit()]


def _stems(word: str, gap: str, following: str) -> list[str]:
    """``word`` casefolded, and with the ``following`` word when one space parts them."""
    if gap == " " and following:
        pair = _fold(f"{word} {following}")
        return [pair, pair.partition(" ")[0]]
    return [_fold(word)] if word else []
