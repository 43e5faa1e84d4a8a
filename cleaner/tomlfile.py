"""Reading a TOML file (rule files, phrase lists, config files) with one-line errors: the
caller chooses the error class, so a bad rule file is a RuleError and a bad config file a
usage error, each naming the file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cleaner.errors import CleanerError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def read_toml(path: Path, error: type[CleanerError], kind: str,
              shown: str | None = None) -> dict[str, Any]:
    """The file's table; ``error`` for a file that cannot be read (``"{shown}: cannot read
    {kind}: ..."``) or is not valid TOML. ``shown`` names the file (default: ``path``)."""
    shown = str(path) if shown is None else shown
    try:
        with open(path, "rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except OSError as e:
        raise error(f"{shown}: cannot read {kind}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{shown}: not valid TOML: {e}") from None
