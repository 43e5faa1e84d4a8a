"""Command-line habits of pipelines: version, quiet and verbose, shell completion, --stats
timing and a progress bar that counts documents."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import CLEAN, DOC, run

from cleaner import Cleaner, __version__, cli


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    proc = run(flag)
    assert proc.returncode == 0
    assert proc.stdout.decode() == f"cleaner {__version__}\n"


def _bad_record_run(*flags: str) -> subprocess.CompletedProcess[bytes]:
    payload = json.dumps({"text": DOC}) + '\n{"text": 5}\n'
    return run("--jsonl", "--on-error", "skip", *flags, stdin=payload)


def test_quiet_drops_warnings_but_not_errors(tmp_path: Path) -> None:
    loud = _bad_record_run()
    assert b"warning: <stdin>:2:" in loud.stderr
    quiet = _bad_record_run("-q")
    assert quiet.returncode == 0 and quiet.stderr == b""
    assert quiet.stdout == loud.stdout
    assert json.loads(quiet.stdout)["text"] == CLEAN
    failed = run("--quiet", str(tmp_path / "absent.txt"))
    assert failed.returncode == 1
    assert failed.stderr.decode().startswith("cleaner: error: ")


def test_verbose_says_what_was_loaded_and_planned(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(DOC, encoding="utf-8")
    inputs = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    proc = run("-v", "--jobs", "1", *inputs)
    assert proc.returncode == 0
    assert proc.stdout == run("--jobs", "1", *inputs).stdout == (CLEAN * 2).encode()
    notes = proc.stderr.decode().splitlines()
    assert all(line.startswith("cleaner: note: ") for line in notes)
    rules = len(Cleaner(use_model=False).rules.rules)
    assert f"cleaner: note: rules: {rules} (shipped); languages: all" in notes
    assert "cleaner: note: model: none (rules only)" in notes
    assert "cleaner: note: 2 inputs planned (text), 1 worker process" in notes
    assert any(re.fullmatch(r"cleaner: note: rules and model loaded in \d+\.\d\d s", line)
               for line in notes)


def test_verbose_names_the_model_and_its_threshold() -> None:
    model = Cleaner().model
    assert model is not None
    proc = run("--verbose", "--jsonl", "--lang", "de,en", stdin="", model=True)
    assert proc.returncode == 0
    err = proc.stderr.decode()
    assert f"note: model: {model.name} (bundled), threshold {model.threshold:g}\n" in err
    assert "languages: de, en\n" in err
    assert "note: 1 input planned (JSON Lines)" in err


class _Terminal:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("flags", "bar"), [([], True), (["-q"], False),
                                            (["-q", "--progress"], True)])
def test_quiet_hides_the_terminals_progress_bar_unless_asked(
        flags: list[str], bar: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    args = cli.build_parser().parse_args(flags)
    assert cli.options_from_args(args).progress is bar


def test_quiet_and_verbose_exclude_each_other() -> None:
    proc = run("-q", "-v", stdin=DOC)
    assert proc.returncode == 2
    assert b"not allowed with argument" in proc.stderr


def test_bash_completion_completes_options_and_paths(tmp_path: Path) -> None:
    proc = run("--print-completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / "cleaner.bash"
    script.write_bytes(proc.stdout)
    (tmp_path / "rulebook.toml").touch()

    def complete(*words: str) -> list[str]:
        shell = (f'source "{script}"; COMP_WORDS=(cleaner {" ".join(words)}); '
                 f'COMP_CWORD={len(words)}; _shtab_cleaner; printf "%s\\n" "${{COMPREPLY[@]}}"')
        done = subprocess.run(["bash", "-c", shell], capture_output=True, cwd=tmp_path,
                              timeout=30, check=True)
        return done.stdout.decode().split()

    assert complete("--jso") == ["--jsonl"]
    assert complete("--rules", "rule") == ["rulebook.toml"]
    assert complete("--on-error", "s") == ["skip"]


def test_zsh_completion_script() -> None:
    proc = run("--print-completion", "zsh")
    assert proc.returncode == 0
    script = proc.stdout.decode()
    assert script.startswith("#compdef cleaner")
    assert "--print-completion" in script and "--no-builtin-rules" in script


def test_completion_without_shtab_says_what_to_install() -> None:
    code = ("import sys; sys.modules['shtab'] = None; from cleaner.cli import main; "
            "sys.exit(main(['--print-completion', 'bash']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert "pip install 'cleaner[completion]'" in proc.stderr.decode().splitlines()[-1]
    assert b"Traceback" not in proc.stderr


def test_stats_time_loading_apart_from_cleaning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Loading that takes a second is reported as loading and left out of the speed."""

    class SlowToLoad(Cleaner):
        def __init__(self, *args: object, **kwargs: object) -> None:
            time.sleep(1.0)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "Cleaner", SlowToLoad)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": DOC}) + "\n" for _ in range(20)),
                   encoding="utf-8")
    code = cli.main(["--no-model", "--jsonl", "--jobs", "1", "--stats", str(src),
                     "-o", str(tmp_path / "out.jsonl")])
    assert code == 0
    err = capsys.readouterr().err
    loading = float(re.search(r"^loading rules and model: (\S+) s", err, re.M)[1])  # type: ignore[index]
    cleaning = float(re.search(r"^cleaning: (\S+) s$", err, re.M)[1])  # type: ignore[index]
    speed = float(re.search(r"^speed: (\S+) docs/s", err, re.M)[1])  # type: ignore[index]
    assert loading >= 1.0
    assert cleaning < loading
    assert speed > 20 / (loading + cleaning) * 1.5, "the speed would count the loading"


def _last_count(progress: bytes) -> int:
    """The document count of a tqdm bar's last refresh."""
    return int(re.findall(rb"\r(\d+)doc \[", progress)[-1])


def test_progress_counts_documents_not_segments(tmp_path: Path) -> None:
    long = "\n\n".join(f"Absatz {i} mit einem Satz, der Inhalt ist." for i in range(300))
    (tmp_path / "long.txt").write_text(long + "\n", encoding="utf-8")
    (tmp_path / "short.txt").write_text(DOC, encoding="utf-8")
    proc = run("--progress", "--stats", "--segment-chars", "2000", "--jobs", "1",
               str(tmp_path / "long.txt"), str(tmp_path / "short.txt"))
    assert proc.returncode == 0, proc.stderr
    assert b"segmented documents: 1\n" in proc.stderr  # the long one came in segments
    assert _last_count(proc.stderr) == 2
    records = "".join(json.dumps({"text": DOC}) + "\n" for _ in range(7))
    assert _last_count(run("--jsonl", "--progress", stdin=records).stderr) == 7
