"""The test suite on every supported Python that this machine has: ``nox`` (``pip install
nox``). A version that is not installed is skipped, not failed, so the same command runs
anywhere; ``nox -s tests-3.12`` picks one. Each session installs the project as CI does,
``pip install '.[test]'``, into a fresh virtual environment."""

from __future__ import annotations

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]  # keep in step with pyproject's classifiers

nox.options.error_on_missing_interpreters = False  # skip, even where CI=true is set
nox.options.sessions = ["tests"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """``pytest`` on one Python; extra arguments go to pytest (``nox -- -x tests/test_cli.py``)."""
    session.install(".[test]")
    session.run("pytest", "-p", "no:cacheprovider", *session.posargs)
