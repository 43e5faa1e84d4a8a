"""Rule filters: line patterns declared in TOML data files, compiled with ``regex``.

A rule file holds ``[[rule]]`` tables and, optionally, a ``[phrases]`` table of named word
lists. Each rule has a stable ``id``, a ``category``, a ``where`` (``anywhere``, ``head`` or
``tail``), ``langs``, a ``pattern`` and the ``examples`` and ``counter_examples`` it must
and must not match (the test suite runs them). A pattern must match the *whole* normalized
line, never a phrase inside prose, and is case-insensitive unless ``case_sensitive = true``.

Vocabulary lives apart from patterns: ``cleaner/data/phrases/<lang>.toml`` maps list names
to phrases (``archive_lead = ["Filed under", ...]``) and a pattern refers to a list as
``\\L<archive_lead>``; adding a language means adding one phrase file. A rule with
``continues = "list"`` also takes the short, list-like lines right after its match (the
tag names under "Tags:"), stopping at the first line that reads like prose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from cleaner.config import HEAD_LINES, TAIL_LINES
from cleaner.errors import RuleError, UsageError
from cleaner.tomlfile import read_toml

WHERE = ("anywhere", "head", "tail")
USER_RULE_TIMEOUT = 1.0  # seconds one user rule may take on one line
MATCH_CACHE = 1 << 16  # lines whose rule decision is remembered, per RuleSet and zone
CACHED_LINE_CHARS = 300  # longer lines are not remembered
CONTINUES = ("", "list")
_REQUIRED = {"id", "category", "pattern"}
_OPTIONAL = {"where", "langs", "examples", "counter_examples", "case_sensitive", "continues",
             "description"}
_ID = regex.compile(r"[a-z0-9][a-z0-9_.-]*")
_LIST_NAME = regex.compile(r"\\L<(\w+)>")
# A line that may belong to a tag or category list: a few words, no sentence ending.
_LIST_ITEM = regex.compile(r"[-*•·–]?\s*[^.!?。！？]{1,60}[^.!?。！？:]?", regex.V0)
_LIST_ITEM_MAX_WORDS = 6
# What may stand before a rule's first phrase list for the rule to be indexed by the first
# words of that list: only symbols, spaces, digits and "o" as a bullet (see _anchors).
_HARMLESS_SYNTAX = regex.compile(
    r"\\[sdW\[\](){}*.+?|/\\-]|\{\d*,?\d*\}|\(\?(?:[:=!]|<[=!])|o\(\?=\\s\)")
_WORDISH = regex.compile(r"[\p{L}\p{N}_.\\]|\[\^")
_LINE_START = regex.compile(r"([\W_]*)(\w*)([\W_]*)(\w*)")
_LINE_START_LONG = regex.compile(r"([\W_]*)(\w*)([\W_]*)(\w*)([\W_]*)(\w*)([\W_]*)(\w*)")
_WORD = regex.compile(r"\w+")
_PHRASE_START = regex.compile(r"([\W_]*)(\w*)(?: (\w+))?(.?)", regex.DOTALL)
# A pattern that goes on with a required space: the phrase before it ends a word.
_SPACE_NEXT = regex.compile(r"\\s(?![?*]|\{0)")


@dataclass(frozen=True)
class Rule:
    """One compiled rule; ``source`` is the file it came from, for error messages."""

    id: str
    category: str
    pattern: str
    where: str = "anywhere"
    langs: tuple[str, ...] = ("*",)
    case_sensitive: bool = False
    continues: str = ""
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    description: str = ""
    source: str = ""
    timeout: float | None = None
    compiled: Any = field(default=None, compare=False, repr=False)

    def matches(self, line: str) -> bool:
        """True when the rule's pattern matches the whole line.

        A rule with a ``timeout`` (every user rule) that takes longer than that on one line
        raises RuleError naming it: a pattern that backtracks catastrophically must not hang
        a run.
        """
        try:
            return self.compiled.fullmatch(line, timeout=self.timeout) is not None
        except TimeoutError:
            raise RuleError(f"{self.source}: rule {self.id!r} took over {self.timeout} s on "
                            f"a line of {len(line)} characters; simplify its pattern (nested "
                            "repetition such as (a+)+ backtracks catastrophically)") from None


@dataclass(frozen=True)
class RuleHit:
    """A rule that decided a line; ``continued`` when the line follows the matched one."""

    rule: Rule
    continued: bool = False


def builtin_rule_files() -> list[Path]:
    """The rule files shipped in ``cleaner/data/rules``, in name order."""
    folder = resources.files("cleaner") / "data" / "rules"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_phrase_files() -> dict[str, Path]:
    """Language code -> phrase file shipped in ``cleaner/data/phrases``."""
    folder = resources.files("cleaner") / "data" / "phrases"
    return {p.name[:-5]: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{what} must be a list of strings")
    return tuple(value)


def _merge_phrases(into: dict[str, list[str]], table: Any, where: str) -> None:
    if not isinstance(table, dict):
        raise RuleError(f"{where}: phrases must be a table of name = [phrases]")
    for name, phrases in table.items():
        items = _string_list(phrases, f"{where}: phrase list {name!r}")
        if not all(p.strip() for p in items):
            raise RuleError(f"{where}: phrase list {name!r} holds an empty phrase")
        into.setdefault(name, []).extend(items)


def load_phrases(langs: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Merge the shipped phrase lists of ``langs`` (all languages when ``None``)."""
    files = builtin_phrase_files()
    wanted = sorted(files) if langs is None else [code for code in langs if code in files]
    merged: dict[str, list[str]] = {}
    for code in wanted:
        _merge_phrases(merged, read_toml(files[code], RuleError, "rule file"),
                       str(files[code]))
    return merged


def _parse_rule(raw: Any, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{source}: every [[rule]] must be a table")
    rule_id = raw.get("id")
    label = f"{source}: rule {rule_id!r}"
    unknown = set(raw) - _REQUIRED - _OPTIONAL
    if unknown:
        raise RuleError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = _REQUIRED - set(raw)
    if missing:
        raise RuleError(f"{label}: missing key(s) {', '.join(sorted(missing))}")
    if not isinstance(rule_id, str) or not _ID.fullmatch(rule_id):
        raise RuleError(f"{label}: id must be lower-case letters, digits, '.', '_' or '-'")
    for key in ("category", "pattern"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise RuleError(f"{label}: {key} must be a non-empty string")
    where = raw.get("where", "anywhere")
    if where not in WHERE:
        raise RuleError(f"{label}: where must be one of {', '.join(WHERE)}, not {where!r}")
    continues = raw.get("continues", "")
    if continues not in CONTINUES:
        raise RuleError(f"{label}: continues must be 'list' or absent, not {continues!r}")
    case_sensitive = raw.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise RuleError(f"{label}: case_sensitive must be true or false")
    return Rule(
        id=rule_id,
        category=raw["category"],
        pattern=raw["pattern"],
        where=where,
        langs=_string_list(raw.get("langs", ["*"]), f"{label}: langs"),
        case_sensitive=case_sensitive,
        continues=continues,
        examples=_string_list(raw.get("examples", []), f"{label}: examples"),
        counter_examples=_string_list(raw.get("counter_examples", []),
                                      f"{label}: counter_examples"),
        description=str(raw.get("description", "")),
        source=source,
    )


def read_rule_file(path: Path) -> tuple[list[Rule], dict[str, list[str]]]:
    """Parse one rule file into uncompiled rules and its own phrase lists."""
    data = read_toml(path, RuleError, "rule file")
    unknown = set(data) - {"rule", "phrases"}
    if unknown:
        raise RuleError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}"
                        " (expected [[rule]] and [phrases])")
    phrases: dict[str, list[str]] = {}
    _merge_phrases(phrases, data.get("phrases", {}), str(path))
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise RuleError(f"{path}: 'rule' must be an array of tables ([[rule]])")
    return [_parse_rule(raw, str(path)) for raw in raw_rules], phrases


def _lists_filled(rule: Rule, phrases: Mapping[str, list[str]],
                  known: Iterable[str]) -> bool:
    """Whether every list the rule uses has phrases in the loaded languages.

    A list that some language defines but none of the loaded ones does makes the rule not
    apply (its languages are not loaded); a list that no file defines is an error.
    """
    names = set(_LIST_NAME.findall(rule.pattern))
    unknown = sorted(n for n in names if not phrases.get(n) and n not in known)
    if unknown:
        raise RuleError(f"{rule.source}: rule {rule.id!r}: no phrase list named "
                        f"{', '.join(unknown)}")
    return all(phrases.get(n) for n in names)


def _compile(rule: Rule, phrases: Mapping[str, list[str]]) -> Rule:
    names = set(_LIST_NAME.findall(rule.pattern))
    lists = {n: phrases[n] for n in names}
    flags = regex.V0 | (0 if rule.case_sensitive else regex.IGNORECASE)
    if rule.timeout is None:  # a shipped rule: its tests compile it, so it can wait
        return dataclasses.replace(rule, compiled=_Deferred(rule.pattern, flags, lists))
    try:
        compiled = regex.compile(rule.pattern, flags, **lists)
    except (regex.error, TypeError, ValueError) as e:
        raise RuleError(f"{rule.source}: rule {rule.id!r}: bad pattern: {e}") from None
    if compiled.fullmatch(""):
        raise RuleError(f"{rule.source}: rule {rule.id!r}: pattern matches an empty line")
    return dataclasses.replace(rule, compiled=compiled)


class _Deferred:
    """A shipped rule's pattern, compiled when a line first reaches it.

    Compiling every phrase list takes most of a second, longer than cleaning a typical file,
    and a short run (one file on the command line) only ever reaches a few rules.
    """

    def __init__(self, pattern: str, flags: int, lists: dict[str, list[str]]) -> None:
        self._source = (pattern, flags, lists)
        self._pattern: Any = None

    def fullmatch(self, line: str, timeout: float | None = None) -> Any:
        if self._pattern is None:
            pattern, flags, lists = self._source
            self._pattern = regex.compile(pattern, flags, **lists)
        return self._pattern.fullmatch(line, timeout=timeout)


def _check_langs(langs: Sequence[str], known: set[str]) -> None:
    """Refuse a language selection that would silently turn phrase rules off."""
    if not langs:
        raise UsageError("no language given: name at least one code, e.g. --lang en")
    unknown = [code for code in langs if code not in known or code == "*"]
    if unknown:
        raise UsageError(f"unknown language code {unknown[0]!r}; known: "
                         f"{', '.join(sorted(known - {'*'}))} (ISO 639-1, two letters)")


def _applies(rule: Rule, langs: Sequence[str] | None) -> bool:
    return langs is None or "*" in rule.langs or any(code in rule.langs for code in langs)


def _anchors(rule: Rule, phrases: Mapping[str, list[str]]) -> frozenset[str] | None:
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

    :meth:`_Index.candidates` computes the same keys for a line. Named lists are slow to
    match, so this index lets most lines skip most rules.
    """
    found = _LIST_NAME.search(rule.pattern)
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
_UNSEEN = Rule("", "", "")  # cache marker: no answer yet
# The zones a line can be in, indexed by in_head + 2 * in_tail.
_ZONES = [("anywhere",), ("anywhere", "head"), ("anywhere", "tail"), ("anywhere", "head", "tail")]


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


class _Index:
    """Which rules a line can possibly match, from the keys of :func:`_anchors`."""

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
        self.prefix: dict[str, Any] = {}
        for key in sorted(by_kind["^"]):
            node = self.prefix
            for char in key:
                node = node.setdefault(char, {})
            node[""] = self._keyed_above(key, by_kind["^"])

    @staticmethod
    def _keyed_above(key: str, rules_of: Mapping[str, set[int]]) -> frozenset[int]:
        """The rules of ``key`` and of every shorter key that starts it."""
        return frozenset().union(*(rules_of.get(key[:end], _NONE)
                                   for end in range(1, len(key) + 1)))

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
        # One index per zone, holding only the rules that apply there.
        self._indexes = [_Index([(k, keys[k]) for k, rule in enumerate(self.rules)
                                 if rule.where in zones])
                         for zones in _ZONES]
        self._cache: list[dict[str, Rule | None]] = [{} for _ in _ZONES]

    @classmethod
    def load(cls, extra_files: Sequence[str | Path] = (), *, builtin: bool = True,
             user_timeout: float = USER_RULE_TIMEOUT,
             langs: Sequence[str] | None = None, head_lines: int = HEAD_LINES,
             tail_lines: int = TAIL_LINES) -> RuleSet:
        """Compile the shipped rules (unless ``builtin`` is false) plus ``extra_files``,
        whose rules may take at most ``user_timeout`` seconds on one line."""
        shipped = builtin_rule_files() if builtin else []
        files = shipped + [Path(p) for p in extra_files]
        phrases = load_phrases(langs)
        parsed: list[Rule] = []
        for path in files:
            rules, own_phrases = read_rule_file(path)
            for name, items in own_phrases.items():
                phrases.setdefault(name, []).extend(items)
            if path not in shipped:
                rules = [dataclasses.replace(r, timeout=user_timeout) for r in rules]
            parsed.extend(rules)
        seen: dict[str, str] = {}
        for rule in parsed:
            if rule.id in seen:
                raise RuleError(f"{rule.source}: rule {rule.id!r}: duplicate id "
                                f"(first defined in {seen[rule.id]})")
            seen[rule.id] = rule.source
        if langs is not None:
            _check_langs(langs, set(builtin_phrase_files()).union(*(r.langs for r in parsed)))
        known = set(load_phrases()) if langs is not None else set()
        compiled = [_compile(r, phrases) for r in parsed
                    if _applies(r, langs) and _lists_filled(r, phrases, known)]
        return cls(compiled, head_lines=head_lines, tail_lines=tail_lines,
                   anchors=[_anchors(r, phrases) for r in compiled])

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
