"""LineClassifier: verified loading, clear errors, and batched predictions."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cleaner import Cleaner
from cleaner import classifier as C
from cleaner import features as F
from cleaner.classifier import LineClassifier
from cleaner.errors import ModelError

DOCS = [
    (["Storm hits the coast", "", "The storm reached the coast on Tuesday night.", "Share",
      "Advertisement"], [None, None, None, None, "ad"]),
    (["", ""], [None, None]),
    (["Linsensuppe", "500 g Linsen", "Alles 20 Minuten kochen."], [None] * 3),
]


def _net(n_in: int, hidden: tuple[int, ...], rng: np.random.Generator) -> dict[str, Any]:
    sizes = [n_in, *hidden, 1]
    return {"mean": np.zeros(n_in), "scale": np.ones(n_in),
            "weights": [rng.normal(size=(a, b)) for a, b in itertools.pairwise(sizes)],
            "biases": [rng.normal(size=b) for b in sizes[1:]]}


def write_model(folder: Path, **manifest: Any) -> Path:
    """A small random model of the right layout, with its manifest."""
    rng = np.random.default_rng(0)
    params = {
        "format": C.MODEL_FORMAT,
        "stage1_coef": rng.normal(size=F.N_HASH).astype(np.float32),
        "stage1_intercept": 0.0,
        "stage2": _net(len(F.CONTEXT_NAMES), (8,), rng),
        "stage3": _net(len(F.STAGE3_NAMES) + len(C.STAGE3_EXTRA), (), rng),
    }
    path = folder / "tiny.npz"
    C.write_params(params, path)
    meta = {"model_version": "tiny", "features_version": F.FEATURES_VERSION,
            "threshold": 0.5, "sha256": C.file_sha256(path), **manifest}
    C.manifest_path(path).write_text(json.dumps(meta), encoding="utf-8")
    return path


def test_bundled_model_loads_and_predicts() -> None:
    model = LineClassifier.load()
    assert 0.0 < model.threshold < 1.0
    assert model.name == "line-v1"
    probs = model.predict(DOCS)
    assert [p.shape for p in probs] == [(5,), (2,), (3,)]
    assert np.isnan(probs[0][[1, 4]]).all()  # blank line, rule hit
    assert np.isnan(probs[1]).all()
    scored = np.concatenate([p[~np.isnan(p)] for p in probs])
    assert ((scored >= 0) & (scored <= 1)).all() and len(scored) == 6


def test_predictions_do_not_depend_on_the_batch(tmp_path: Path) -> None:
    model = LineClassifier.load(write_model(tmp_path))
    together = model.predict(DOCS)
    alone = [model.predict([doc])[0] for doc in DOCS]
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a, b)


def test_a_memo_of_line_features_changes_no_prediction(tmp_path: Path) -> None:
    model = LineClassifier.load(write_model(tmp_path))
    memo = C.LineMemo()
    fresh = model.predict(DOCS)
    # Twice through one memo: the second call reads every line's features from it, as
    # the pipeline's next pass does; a document that shares lines with another reads some.
    shared = [(["Share", "Linsensuppe", "New line here."], [None] * 3)]
    for _ in range(2):
        for a, b in zip(model.predict(DOCS, memo), fresh):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(shared, memo)[0], model.predict(shared)[0])


def test_no_documents_get_no_predictions(tmp_path: Path) -> None:
    assert LineClassifier.load(write_model(tmp_path)).predict([]) == []


def test_the_model_reads_every_pass_so_its_last_reading_is_the_outputs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The rules remove the ads in the first pass; the copyright line then falls into the
    # tail zone, where its rule applies, and goes in the second pass. How many lines a rule
    # removed around a line is a model feature, so each pass reads the document again, and
    # the third, which removes nothing, reads it as cleaning the output would.
    body = [f"Satz {i} des Artikels, lang genug, um Inhalt zu sein." for i in range(3)]
    footer = "Example Media GmbH. Alle Rechte vorbehalten."
    text = "\n".join([*body, footer, *(["Anzeige"] * 15)]) + "\n"
    read: list[int] = []
    predict = LineClassifier.predict

    def counting(self: LineClassifier, docs: Any, memo: Any = None) -> Any:
        read.append(len(docs))
        return predict(self, docs, memo)

    monkeypatch.setattr(LineClassifier, "predict", counting)
    result = Cleaner().explain(text)
    assert result.text == "\n".join(body) + "\n"
    assert read == [1, 1, 1]
    again = Cleaner().explain(result.text)
    assert again.text == result.text
    assert np.allclose([d.score for d in again.decisions[:3]],
                       [d.score for d in result.decisions[:3]], rtol=0, atol=1e-12)


def test_user_model_loads_without_trust_and_trust_is_deprecated(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    assert LineClassifier.load(path).name == "tiny"
    with pytest.warns(DeprecationWarning, match="runs no code"):
        assert LineClassifier.load(path, trust=True).name == "tiny"


def test_a_model_file_holding_a_pickle_is_refused_unrun(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["stage1_coef"] = np.array([_Tripwire()], dtype=object)
    np.savez(path, **arrays)  # type: ignore[arg-type]
    C.manifest_path(path).write_text(json.dumps(
        {"model_version": "x", "features_version": F.FEATURES_VERSION, "threshold": 0.5}),
        encoding="utf-8")
    with pytest.raises(ModelError, match="cannot load model"):
        LineClassifier.load(path)
    assert not _Tripwire.ran


class _Tripwire:
    """Unpickling this records that code from a model file ran."""

    ran = False

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_Tripwire._run, ())

    @staticmethod
    def _run() -> None:
        _Tripwire.ran = True


def test_cleaning_never_imports_the_training_libraries() -> None:
    code = ("import sys, cleaner; cleaner.clean('Titel.\\nAnzeige\\nText.'); "
            "print(sorted(m for m in ('sklearn', 'scipy', 'threadpoolctl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        LineClassifier.load(path)


def test_tampered_bundled_model_is_refused(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = C.bundled_model_path()
    copy = tmp_path / bundled.name
    shutil.copy(bundled, copy)
    shutil.copy(C.manifest_path(bundled), C.manifest_path(copy))
    with open(copy, "ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(C, "bundled_model_path", lambda: copy)
    with pytest.raises(ModelError, match="SHA-256"):
        LineClassifier.load()


def test_feature_version_mismatch(tmp_path: Path) -> None:
    path = write_model(tmp_path, features_version=F.FEATURES_VERSION + 1)
    with pytest.raises(ModelError, match="features version"):
        LineClassifier.load(path)


def test_missing_model_file_is_named_before_its_manifest(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    path.unlink()
    C.manifest_path(path).unlink()
    with pytest.raises(ModelError, match=f"{path.name}: model file not found"):
        LineClassifier.load(path)


def test_missing_manifest_beside_a_model_file(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    C.manifest_path(path).unlink()
    with pytest.raises(ModelError, match="manifest not found"):
        LineClassifier.load(path)


@pytest.mark.parametrize("entry", [{"features": ["docs"], "weights": [1.0]},
                                   {"features": ["site_docs", "docs", "sites"], "weights": [1]},
                                   {"weights": "heavy"}])
def test_unusable_repetition_weights_are_a_model_error(tmp_path: Path,
                                                       entry: dict[str, Any]) -> None:
    path = write_model(tmp_path)
    manifest = json.loads(C.manifest_path(path).read_text(encoding="utf-8"))
    C.manifest_path(path).write_text(json.dumps({**manifest, "repetition": entry}),
                                     encoding="utf-8")
    with pytest.raises(ModelError, match=r"unusable repetition weights.*training\.repeats"):
        LineClassifier.load(path)


def test_corrupt_files(tmp_path: Path) -> None:
    path = write_model(tmp_path)
    C.manifest_path(path).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="unreadable model manifest"):
        LineClassifier.load(path)
    path.write_bytes(b"not an archive")
    C.manifest_path(path).write_text(json.dumps(
        {"model_version": "x", "features_version": F.FEATURES_VERSION, "threshold": 0.5,
         "sha256": C.file_sha256(path)}), encoding="utf-8")
    with pytest.raises(ModelError, match="cannot load model"):
        LineClassifier.load(path)


def test_wrong_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    np.savez(path, format=np.asarray(C.MODEL_FORMAT))
    C.manifest_path(path).write_text(json.dumps(
        {"model_version": "x", "features_version": F.FEATURES_VERSION, "threshold": 0.5,
         "sha256": C.file_sha256(path)}), encoding="utf-8")
    with pytest.raises(ModelError, match="not a cleaner line model"):
        LineClassifier.load(path)
