"""Exceptions raised by cleaner; the CLI turns each into one line on stderr."""

from __future__ import annotations


class CleanerError(Exception):
    """Base class for every error cleaner raises on purpose."""


class InputError(CleanerError):
    """The input cannot be cleaned as given (wrong type, undecodable, malformed record)."""


class RuleError(CleanerError):
    """A rule file is malformed: bad TOML, unknown key, duplicate id or bad pattern."""


class ModelError(CleanerError):
    """The line model is missing, corrupted, untrusted or incompatible."""


class UsageError(CleanerError, ValueError):
    """An option has a value that cleaner does not know, such as an unknown language code."""


class RepeatIndexError(CleanerError):
    """A repetition index file is missing, damaged or of another line-key version."""
