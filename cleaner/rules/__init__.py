"""Rule filters: line patterns declared in TOML data files, compiled with ``regex``.

A pattern must match the *whole* normalized line, never a phrase inside prose, and is
case-insensitive unless ``case_sensitive = true``. The one entry point is :class:`RuleSet`:
``RuleSet.load(...)`` reads and compiles the rule files (:mod:`cleaner.rules.files`),
indexes them by their phrases (:mod:`cleaner.rules.index`), and ``match(lines)`` gives the
rule that removes each line (:mod:`cleaner.rules.match`).
"""

from cleaner.rules.files import Rule
from cleaner.rules.match import RuleHit, RuleSet

__all__ = ["Rule", "RuleHit", "RuleSet"]
