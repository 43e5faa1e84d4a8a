"""Every option of the pipeline and its default, documented once: the other modules read
their defaults from here and keep no copy of their own."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SEGMENT_CHARS = 8 * 1024 * 1024
"""Default segment size in characters. Cleaning takes about ten times a segment's size in
memory, so 8 Mi characters keep a cleaner process within a few hundred MiB. Articles and web
pages are far shorter and never cut, and a segment this long (some 100,000 lines) still
reads to the model as a very long document, as the whole one would."""

SEGMENT_LINES = 1 << 16
"""Default segment size in lines. Each line costs about 2 KB while its segment is cleaned
(its decision, features and scores) whatever its length, so a segment of many short lines
is cut by this bound before the character bound: 65,536 lines need some 150 MB."""

BATCH_SIZE = 256
"""Documents the model scores at once (and a worker process gets at a time)."""

HEAD_LINES = 5
"""Non-blank lines at a document's start where ``head`` rules apply."""

TAIL_LINES = 15
"""Non-blank lines at a document's end where ``tail`` rules apply."""


@dataclass(frozen=True, kw_only=True)
class SmoothingConfig:
    """How smoothing turns line probabilities into block decisions (see
    :mod:`cleaner.smoothing`). A model stores the values it was tuned with in its manifest.

    - ``switch_cost`` (1.5): what a change between keep and remove costs the path, in
      log-odds; higher keeps blocks more whole.
    - ``min_remove`` (0.2): the least probability of a line that the path may remove.
    - ``tail_min_lines`` (8), ``tail_steps`` (3), ``tail_above`` (0.4): when the last
      ``tail_min_lines`` scored lines or more go, up to ``tail_steps`` lines right above them
      go too if their probability exceeds ``tail_above``.
    """

    switch_cost: float = 1.5
    min_remove: float = 0.2
    tail_min_lines: int = 8
    tail_steps: int = 3
    tail_above: float = 0.4

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> SmoothingConfig:
        """The values a manifest records, defaults for those it lacks; other keys are
        ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (values or {}).items() if k in names})


@dataclass(frozen=True, kw_only=True)
class CleanerConfig:
    """Options of a :class:`~cleaner.pipeline.Cleaner`; frozen, so one config is safe to share.

    Override fields with ``dataclasses.replace(config, threshold=0.7)`` or
    ``CleanerConfig.from_options(threshold=0.7)``.

    Normalization (see :mod:`cleaner.normalize` for the exact characters):

    - ``nfc`` (True): Unicode NFC composition.
    - ``remove_invisible`` (True): drop zero-width space, word joiner, BOM, soft hyphen and
      control characters.
    - ``normalize_spaces`` (True): tabs and Unicode spaces become one ASCII space, runs
      collapse, lines are trimmed.
    - ``collapse_blank_lines`` (True): a run of blank lines becomes one blank line. Leading and
      trailing blank lines are always dropped.

    Rules:

    - ``builtin_rules`` (True): use the rule files shipped in ``cleaner/data/rules``.
    - ``rules`` (()): paths of extra rule files in the same TOML format, applied after the
      shipped ones.
    - ``langs`` (None): language codes whose phrase lists fill the rules; ``None`` loads every
      shipped language, which is right when documents are of unknown or mixed language.
    - ``head_lines`` (5) and ``tail_lines`` (15): how many non-blank lines at the start and the
      end of a document count as its head and tail, where ``head`` and ``tail`` rules apply.

    Model:

    - ``use_model`` (True): score lines the rules left with the trained line classifier.
    - ``model_path`` (None): a model file of your own (``.npz`` with its ``.json``
      manifest, as ``python -m training.train`` writes them) instead of the bundled one.
    - ``trust_model``: deprecated, does nothing (model files are plain arrays; loading one
      runs no code); it warns, and goes in a later release.
    - ``threshold`` (None): boilerplate probability above which a line is removed; ``None``
      takes the threshold stored with the model, chosen to keep 99% of content lines on
      pages the model never saw. Raise it to remove less, lower it to remove more.
    - ``smoothing`` (None): a :class:`SmoothingConfig` instead of the one stored with the
      model, which was tuned together with its threshold.

    Size:

    - ``segment_chars`` (8 Mi): a document longer than this many characters is cleaned in
      segments of about this size, cut between paragraphs, so that memory stays bounded
      (see :mod:`cleaner.segment`).
    - ``segment_lines`` (65,536): likewise for a document of more lines than this; every line
      costs memory while its segment is cleaned, however short it is.
    """

    nfc: bool = True
    remove_invisible: bool = True
    normalize_spaces: bool = True
    collapse_blank_lines: bool = True
    builtin_rules: bool = True
    rules: tuple[str, ...] = ()
    langs: tuple[str, ...] | None = None
    head_lines: int = HEAD_LINES
    tail_lines: int = TAIL_LINES
    use_model: bool = True
    model_path: str | None = None
    trust_model: bool = False
    threshold: float | None = None
    smoothing: SmoothingConfig | None = None
    segment_chars: int = SEGMENT_CHARS
    segment_lines: int = SEGMENT_LINES

    def __post_init__(self) -> None:
        if isinstance(self.rules, (str, bytes)) or not isinstance(self.rules, tuple):
            object.__setattr__(self, "rules", _as_tuple(self.rules, "rules"))
        if self.langs is not None and not isinstance(self.langs, tuple):
            object.__setattr__(self, "langs", _as_tuple(self.langs, "langs"))
        if self.trust_model:
            warnings.warn("trust_model is deprecated and does nothing: loading a model runs "
                          "no code", DeprecationWarning, stacklevel=3)
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {self.threshold}")
        if self.head_lines < 0 or self.tail_lines < 0:
            raise ValueError("head_lines and tail_lines must not be negative")
        if self.segment_chars < 1:
            raise ValueError(f"segment_chars must be positive, not {self.segment_chars}")
        if self.segment_lines < 1:
            raise ValueError(f"segment_lines must be positive, not {self.segment_lines}")

    @classmethod
    def from_options(cls, base: CleanerConfig | None = None, **options: Any) -> CleanerConfig:
        """``base`` (or the defaults) with ``options`` replaced; unknown names raise TypeError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(f"unknown cleaner option(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(names))}")
        return dataclasses.replace(base or cls(), **options)


def _as_tuple(value: Any, name: str) -> tuple[str, ...]:
    """Accept one path or code, or any iterable of them, as a tuple of strings."""
    if isinstance(value, bytes):
        raise TypeError(f"{name} must be str or a sequence of str, not bytes")
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)
