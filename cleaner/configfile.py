"""Cleaner options from a TOML file, for the command line: the ``[tool.cleaner]`` table of
the ``pyproject.toml`` in the current folder, or a file given with ``--config``.

The keys are :class:`~cleaner.config.CleanerConfig` field names, so a setting reads the same
in a file as in ``Cleaner(...)``. Paths (``rules``, ``model_path``) are relative to the
file's folder, so a project's settings hold wherever the command runs. ``trust_model`` is
deprecated and has no key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaner.errors import UsageError
from cleaner.tomlfile import read_toml

PYPROJECT = "pyproject.toml"
TABLE = "[tool.cleaner]"


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_int(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _is_probability(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


_BOOL = (_is_bool, "true or false")
_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "threshold": (_is_probability, "a number between 0 and 1"),
    "langs": (lambda v: _is_strings(v) and bool(v), "a non-empty list of language codes"),
    "rules": (_is_strings, "a list of rule file paths"),
    "builtin_rules": _BOOL,
    "use_model": _BOOL,
    "model_path": (lambda v: isinstance(v, str) and bool(v), "a path"),
    "nfc": _BOOL,
    "remove_invisible": _BOOL,
    "normalize_spaces": _BOOL,
    "collapse_blank_lines": _BOOL,
    "head_lines": (lambda v: _is_int(v, 0), "a whole number, 0 or more"),
    "tail_lines": (lambda v: _is_int(v, 0), "a whole number, 0 or more"),
    "segment_chars": (lambda v: _is_int(v, 1), "a whole number above 0"),
    "segment_lines": (lambda v: _is_int(v, 1), "a whole number above 0"),
}
KEYS = tuple(_KEYS)
"""The keys a config file may hold."""


@dataclass(frozen=True)
class ConfigFile:
    """Options read from a file: ``source`` names the file (and table) in messages;
    ``options`` are :class:`~cleaner.config.CleanerConfig` fields, with relative paths taken
    from the file's folder."""

    source: str
    options: dict[str, Any]


def load_config(path: str | None, folder: Path) -> ConfigFile | None:
    """The options of the file at ``path``, or, without one, of the ``pyproject.toml`` in
    ``folder`` if it has a ``[tool.cleaner]`` table; ``None`` when there is nothing to read.

    A file named ``pyproject.toml`` is read for its ``[tool.cleaner]`` table, any other
    file whole. Raises :class:`~cleaner.errors.UsageError` naming the file and the key for
    a file that cannot be read, is not TOML, or holds an unknown key or a wrong value.
    """
    if path is None:
        found = folder / PYPROJECT
        if not found.is_file():
            return None
        # Named as the user would type it: relative to the folder the command runs in.
        file, shown = found, PYPROJECT
    else:
        file, shown = Path(path), path
    data = read_toml(file, UsageError, "config file", shown)
    if file.name != PYPROJECT:
        return ConfigFile(shown, _checked(data, shown, file.parent))
    tool = data.get("tool")
    table = tool.get("cleaner") if isinstance(tool, dict) else None
    if table is None:
        if path is not None:
            raise UsageError(f"{shown}: has no {TABLE} table")
        return None
    source = f"{shown} {TABLE}"
    if not isinstance(table, dict):
        raise UsageError(f"{source}: must be a table of options")
    return ConfigFile(source, _checked(table, source, file.parent))


def _checked(table: dict[str, Any], source: str, folder: Path) -> dict[str, Any]:
    """The table's options, each checked, with paths relative to ``folder`` resolved."""
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise UsageError(f"{source}: unknown key {key!r}; known: {', '.join(KEYS)}")
        valid, expected = _KEYS[key]
        if not valid(value):
            raise UsageError(f"{source}: {key} must be {expected}, not {value!r}")
        options[key] = value
    if options.get("use_model") is False and "model_path" in options:
        raise UsageError(f"{source}: model_path and use_model = false exclude each other")
    if "rules" in options:
        options["rules"] = tuple(_resolve(p, folder) for p in options["rules"])
    if "langs" in options:
        options["langs"] = tuple(options["langs"])
    if "model_path" in options:
        options["model_path"] = _resolve(options["model_path"], folder)
    if "threshold" in options:
        options["threshold"] = float(options["threshold"])
    return options


def _resolve(path: str, folder: Path) -> str:
    return str(folder / Path(path).expanduser())
