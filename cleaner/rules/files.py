"""Rule files: reading and checking the TOML rule and phrase files, compiling the rules.

A rule file holds ``[[rule]]`` tables and, optionally, a ``[phrases]`` table of named word
lists. Each rule has a stable ``id``, a ``category``, a ``where`` (``anywhere``, ``head`` or
``tail``), ``langs``, a ``pattern`` and the ``examples`` and ``counter_examples`` it must
and must not match (the test suite runs them). Vocabulary lives apart from patterns:
``cleaner/data/phrases/<lang>.toml`` maps list names to phrases and a pattern refers to a
list as ``\\L<name>``; adding a language means adding one phrase file.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from cleaner.errors import RuleError, UsageError
from cleaner.tomlfile import read_toml

WHERE = ("anywhere", "head", "tail")


USER_RULE_TIMEOUT = 1.0  # seconds one user rule may take on one line


CONTINUES = ("", "list")


_REQUIRED = {"id", "category", "pattern"}


_OPTIONAL = {"where", "langs", "examples", "counter_examples", "case_sensitive", "continues",
             "description"}


_ID = regex.compile(r"[a-z0-9][a-z0-9_.-]*")


LIST_NAME = regex.compile(r"\\L<(\w+)>")


_MATCHES_NOTHING = "(?:(?!))"


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
    """Add a file's phrase lists to ``into``, in NFC like the lines they are matched
    against: a phrase typed with a precomposed Devanagari nukta letter, or a Thai tone mark
    before its vowel, would otherwise never match."""
    if not isinstance(table, dict):
        raise RuleError(f"{where}: phrases must be a table of name = [phrases]")
    for name, phrases in table.items():
        items = _string_list(phrases, f"{where}: phrase list {name!r}")
        if not all(p.strip() for p in items):
            raise RuleError(f"{where}: phrase list {name!r} holds an empty phrase")
        into.setdefault(name, []).extend(
            p if unicodedata.is_normalized("NFC", p) else unicodedata.normalize("NFC", p)
            for p in items)


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
    """Whether the rule applies in the loaded languages: the list its pattern starts with
    has phrases in them.

    A rule whose first list none of them fills belongs to languages that are not loaded.
    Any other list they leave empty matches nothing (see :func:`_with_phrases`): a language
    without prepositions fills no ``social_prep``, and its share buttons must still go. A
    list that no file defines is an error.
    """
    names = LIST_NAME.findall(rule.pattern)
    unknown = sorted({n for n in names if not phrases.get(n) and n not in known})
    if unknown:
        raise RuleError(f"{rule.source}: rule {rule.id!r}: no phrase list named "
                        f"{', '.join(unknown)}")
    return not names or bool(phrases.get(names[0]))


def _compile(rule: Rule, phrases: Mapping[str, list[str]]) -> Rule:
    """The rule with its pattern compiled, or ready to compile (a shipped rule)."""
    lists = {n: tuple(phrases.get(n, ())) for n in set(LIST_NAME.findall(rule.pattern))}
    flags = regex.V0 | (0 if rule.case_sensitive else regex.IGNORECASE)
    if rule.timeout is None:  # a shipped rule: its tests compile it, so it can wait
        return dataclasses.replace(rule, compiled=_Deferred(rule.pattern, flags, lists))
    try:
        compiled = regex.compile(_with_phrases(rule.pattern, lists), flags)
    except (regex.error, TypeError, ValueError) as e:
        raise RuleError(f"{rule.source}: rule {rule.id!r}: bad pattern: {e}") from None
    if compiled.fullmatch(""):
        raise RuleError(f"{rule.source}: rule {rule.id!r}: pattern matches an empty line")
    return dataclasses.replace(rule, compiled=compiled)


def _with_phrases(pattern: str, lists: Mapping[str, tuple[str, ...]]) -> str:
    """``pattern`` with each ``\\L<list>`` written out by :func:`_phrase_pattern`; a list
    that no loaded language fills matches nothing (an empty named list would match the empty
    string)."""
    written: str = LIST_NAME.sub(lambda m: _phrase_pattern(lists[m.group(1)]), pattern)
    return written


_escaped = lru_cache(maxsize=4096)(regex.escape)  # one character at a time, many times over


@lru_cache(maxsize=256)
def _phrase_pattern(phrases: tuple[str, ...]) -> str:
    """A group matching exactly ``phrases``: their characters, escaped, in a trie of nested
    alternatives.

    ``regex`` tries the strings of a named list one after another, so every phrase that
    starts like the line costs a comparison at each position tried, and a list grows with
    every language; in a trie a character is compared once. What matches is the same.
    """
    if not phrases:
        return _MATCHES_NOTHING
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here

    def group(node: dict[str, Any]) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            run = [char]  # a stretch without a fork is written out whole, not nested
            while len(child) == 1 and "" not in child:
                ((char, child),) = child.items()
                run.append(char)
            branches.append("".join(map(_escaped, run)) + group(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return (body if len(branches) > 1 else "(?:" + body + ")") + "?"

    return "(?:" + group(trie) + ")"


class _Deferred:
    """A shipped rule's pattern, compiled when a line first reaches it.

    Compiling every phrase list takes about a second, longer than cleaning a typical file,
    and a short run (one file on the command line) only ever reaches a few rules.
    """

    def __init__(self, pattern: str, flags: int, lists: dict[str, tuple[str, ...]]) -> None:
        self._source = (pattern, flags, lists)
        self._pattern: Any = None

    def fullmatch(self, line: str, timeout: float | None = None) -> Any:
        if self._pattern is None:
            pattern, flags, lists = self._source
            self._pattern = regex.compile(_with_phrases(pattern, lists), flags)
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


def load_rules(extra_files: Sequence[str | Path], builtin: bool, user_timeout: float,
               langs: Sequence[str] | None) -> tuple[list[Rule], dict[str, list[str]]]:
    """The compiled rules of the shipped files (unless not ``builtin``) and ``extra_files``,
    in that order, and the phrase lists they were compiled with; a user file's rules may
    take at most ``user_timeout`` seconds on one line."""
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
    return compiled, phrases
