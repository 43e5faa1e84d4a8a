"""Options from [tool.cleaner] in ./pyproject.toml or --config FILE: read, checked, and
overridden by flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import run

from cleaner.configfile import load_config
from cleaner.errors import UsageError

PROMO = "Blaubeeren gratis holen!"  # no shipped rule removes it
PROMO_RULE = f'[[rule]]\nid = "mine.promo"\ncategory = "promo"\npattern = "{PROMO}?"\n'
KEPT = "Ein Satz, der bleibt.\n"
DOC = f"{KEPT}{PROMO}\nAnzeige\n"


def _project(folder: Path, table: str) -> None:
    (folder / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.cleaner]\n{table}',
                                           encoding="utf-8")


def test_pyproject_in_the_current_folder_is_read(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.toml").write_text(PROMO_RULE, encoding="utf-8")
    assert run(stdin=DOC, cwd=tmp_path).stdout.decode() == f"{KEPT}{PROMO}\n"
    _project(tmp_path, 'rules = ["rules/mine.toml"]\nlangs = ["de"]\n')
    proc = run("-v", stdin=DOC, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == KEPT
    err = proc.stderr.decode()
    assert "note: options from pyproject.toml [tool.cleaner]: langs, rules\n" in err
    assert "rules/mine.toml); languages: de\n" in err
    assert run("--no-config", stdin=DOC, cwd=tmp_path).stdout.decode() == f"{KEPT}{PROMO}\n"


def test_flags_override_the_file(tmp_path: Path) -> None:
    _project(tmp_path, 'langs = ["xx"]\nthreshold = 0.5\nbuiltin_rules = false\n')
    bad = run(stdin=DOC, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.decode() == ("cleaner: error: unknown language code 'xx'; known: "
                                   f"{bad.stderr.decode().split('known: ')[1]}")
    assert "(with options from pyproject.toml [tool.cleaner])" in bad.stderr.decode()
    proc = run("-v", "--lang", "de", "--threshold", "0.99", stdin=DOC, cwd=tmp_path,
               model=True)
    assert proc.returncode == 0, proc.stderr
    err = proc.stderr.decode()
    assert "languages: de\n" in err and "threshold 0.99\n" in err
    assert "rules: 0 (no file)" in err  # builtin_rules = false still holds
    assert b"Anzeige" in proc.stdout


def test_rules_flag_replaces_the_files_rules(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(PROMO_RULE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(PROMO_RULE.replace(f"{PROMO}?", "Ein Satz.*")
                                     .replace("mine.promo", "mine.other"), encoding="utf-8")
    _project(tmp_path, 'rules = ["a.toml"]\n')
    proc = run("--rules", "b.toml", stdin=DOC, cwd=tmp_path)
    assert proc.stdout.decode() == f"{PROMO}\n"


def test_config_flag_reads_a_file_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mine.toml").write_text(PROMO_RULE, encoding="utf-8")
    (tmp_path / "conf" / "cleaner.toml").write_text(
        '# options for the nightly run\nrules = ["mine.toml"]\nuse_model = false\n',
        encoding="utf-8")
    _project(tmp_path, 'langs = ["xx"]\n')  # not read when --config is given
    proc = run("--config", "conf/cleaner.toml", stdin=DOC, cwd=tmp_path, model=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == KEPT


@pytest.mark.parametrize(("table", "message"), [
    ("treshold = 0.5\n", "unknown key 'treshold'; known: threshold, langs"),
    ('threshold = "high"\n', "threshold must be a number between 0 and 1, not 'high'"),
    ("threshold = 1.5\n", "threshold must be a number between 0 and 1, not 1.5"),
    ('langs = "de"\n', "langs must be a non-empty list of language codes, not 'de'"),
    ("use_model = 1\n", "use_model must be true or false, not 1"),
    ("segment_chars = 0\n", "segment_chars must be a whole number above 0, not 0"),
    ("trust_model = true\n", "unknown key 'trust_model'"),
    ('model_path = "m.npz"\nuse_model = false\n', "model_path and use_model = false"),
])
def test_bad_options_name_the_file_and_the_key(tmp_path: Path, table: str,
                                               message: str) -> None:
    _project(tmp_path, table)
    proc = run(stdin=DOC, cwd=tmp_path)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith(f"cleaner: error: pyproject.toml [tool.cleaner]: {message}")
    assert err.count("\n") == 1 and proc.stdout == b""


def test_unreadable_config_files_are_usage_errors(tmp_path: Path) -> None:
    missing = run("--config", "absent.toml", stdin=DOC, cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith(b"cleaner: error: absent.toml: cannot read config file")
    (tmp_path / "pyproject.toml").write_text("[tool.cleaner\n", encoding="utf-8")
    broken = run(stdin=DOC, cwd=tmp_path)
    assert broken.returncode == 2
    assert broken.stderr.startswith(b"cleaner: error: pyproject.toml: not valid TOML")
    assert b"Traceback" not in broken.stderr


def test_a_pyproject_without_the_table_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_config(None, tmp_path) is None
    with pytest.raises(UsageError, match=r"has no \[tool.cleaner\] table"):
        load_config(str(tmp_path / "pyproject.toml"), tmp_path)
    proc = run(stdin=DOC, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""
    assert proc.stdout == run(stdin=DOC).stdout


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "cfg.toml").write_text('rules = ["r/a.toml", "/abs/b.toml"]\n'
                                       'model_path = "m/line.joblib"\nthreshold = 1\n',
                                       encoding="utf-8")
    config = load_config(str(tmp_path / "cfg.toml"), Path("/elsewhere"))
    assert config is not None
    assert config.options == {"rules": (str(tmp_path / "r/a.toml"), "/abs/b.toml"),
                              "model_path": str(tmp_path / "m/line.joblib"), "threshold": 1.0}
