"""The line classifier: a verified, version-checked load and batched P(boilerplate) per line.

Three stacked stages, each trained with scikit-learn and stored as plain numpy arrays (so
loading imports neither scikit-learn nor any class from the file, takes a fraction of a
second, and does not depend on the scikit-learn version):

1. a linear model over hashed character n-grams (:func:`features.ngram_score`): what the
   line's own text says ("Read more", "Newsletter", "©");
2. a small neural network over shape, position, block and document features and the first
   stage's scores of the line and its neighbours (:func:`features.context_matrix`): what the
   context says, so a short line between paragraphs reads as a heading and the same line
   inside a promotion box as part of it;
3. a logistic regression over the second stage's scores around each line
   (:func:`features.neighbour_matrix`), so blocks are judged as blocks.

The file is a numpy ``.npz`` archive of those arrays, read with ``allow_pickle=False``:
loading a model runs no code from it, whoever made it, so a model file needs no trust. The
manifest beside it (same stem, ``.json``) pins the feature version and the file's SHA-256;
the bundled model is only loaded when that matches.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cleaner import features
from cleaner.config import SmoothingConfig
from cleaner.errors import ModelError
from cleaner.io import file_sha256
from cleaner.repeats import RepetitionWeights

DEFAULT_MODEL = "line-v1.npz"
MODEL_FORMAT = 2  # layout of the arrays below; bump when it changes (1: a joblib pickle)
_NETS = ("stage2", "stage3")
_RETRAIN = ("reinstall cleaner to restore the bundled model, or retrain one with "
            "`python -m training.train --out DIR`")


def bundled_model_path() -> Path:
    """Where the model shipped with the package lives."""
    return Path(str(resources.files("cleaner") / "models" / DEFAULT_MODEL))


def manifest_path(model_path: str | os.PathLike[str]) -> Path:
    """The manifest of a model file: same folder and stem, ``.json``."""
    return Path(model_path).with_suffix(".json")


class LineClassifier:
    """Scores every non-blank line of a batch of documents with P(boilerplate)."""

    def __init__(self, params: dict[str, Any], manifest: dict[str, Any]) -> None:
        self.params = params
        self.manifest = manifest
        self.threshold: float = float(manifest["threshold"])
        self.name: str = str(manifest["model_version"])
        # Smoothing tuned together with this model's threshold.
        self.smoothing = SmoothingConfig.from_mapping(manifest.get("smoothing"))
        # How repetition evidence moves this model's scores, if it was trained for that.
        self.repetition: RepetitionWeights | None = None
        if manifest.get("repetition"):
            try:
                self.repetition = RepetitionWeights.from_mapping(manifest["repetition"])
            except (KeyError, TypeError, ValueError) as e:
                raise ModelError(f"model manifest: unusable repetition weights ({e}); refit "
                                 "them with `python -m training.repeats --write`") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, *,
             trust: bool | None = None) -> LineClassifier:
        """Load the bundled model (``path=None``) or a model file of your own.

        Every failure (missing or corrupt file, checksum, layout or feature version
        mismatch) raises :class:`~cleaner.errors.ModelError` saying what to do. ``trust`` is
        deprecated and does nothing: loading a model runs no code from it.
        """
        if trust is not None:
            warnings.warn("trust is deprecated and does nothing: model files are plain "
                          "arrays now, and loading one runs no code", DeprecationWarning,
                          stacklevel=2)
        model_file = bundled_model_path() if path is None else Path(path)
        if not model_file.is_file():  # before the manifest, so the message names the model
            raise ModelError(f"{model_file}: model file not found"
                             + (f"; {_RETRAIN}" if path is None else ""))
        manifest = _read_manifest(model_file)
        expected = manifest.get("sha256")
        if (path is None or expected) and file_sha256(model_file) != expected:
            raise ModelError(f"{model_file}: SHA-256 does not match its manifest "
                             f"{manifest_path(model_file).name}: the file is damaged or "
                             f"was replaced; {_RETRAIN}")
        return cls(read_params(model_file), manifest)

    def predict(self, docs: Sequence[tuple[Sequence[str], Sequence[str | None]]],
                memo: LineMemo | None = None) -> list[np.ndarray]:
        """P(boilerplate) per line of each document.

        ``docs`` holds, per document, its normalized lines and the rule category of each
        line (``None`` where no rule matched). All lines of all documents are scored at once.
        Blank lines and lines a rule matched get NaN: the model reads each document as it
        stands without them, which is how the pipeline's next pass will show it. A ``memo``
        kept across calls computes the per-line features of a line text only once.
        """
        if not docs:
            return []
        batch = features.make_batch(docs)
        probs = predict_batch(self.params, batch, memo)
        out = [np.full(len(lines), np.nan) for lines, _ in docs]
        bounds = np.searchsorted(batch.doc, np.arange(1, len(docs)))
        for d, (index, p) in enumerate(zip(np.split(batch.index, bounds),
                                           np.split(probs, bounds))):
            out[d][index] = p
        return out


class LineMemo:
    """Stage 1's score and the shape features of each distinct line text seen so far.

    Both depend on the line alone, so a line repeated in a batch (navigation, share bars)
    and every line the pipeline's next pass reads again are computed once. Keep one memo
    per batch of documents: it grows with the distinct lines it has seen.
    """

    def __init__(self) -> None:
        self._row: dict[str, int] = {}
        self._score = np.zeros(0)
        self._shape = np.zeros((0, len(features.SHAPE)))

    def features(self, params: dict[str, Any], lines: Sequence[str],
                 ) -> tuple[np.ndarray, np.ndarray]:
        """(stage-1 score, shape matrix) of ``lines``, computing only the unseen ones."""
        new = [line for line in dict.fromkeys(lines) if line not in self._row]
        if new:
            score, shape = line_features(params, new)
            self._row.update(zip(new, range(len(self._row), len(self._row) + len(new))))
            self._score = np.concatenate([self._score, score])
            self._shape = np.vstack([self._shape, shape])
        rows = np.fromiter(map(self._row.__getitem__, lines), dtype=np.int64,
                           count=len(lines))
        return self._score[rows], self._shape[rows]


STAGE3_EXTRA = ("log_len", "ends_stop", "starts_bullet", "log_repeats", "doc_prose_char_share",
                "doc_short_share")


def stage3_values(batch: features.Batch, context: np.ndarray, score2: np.ndarray) -> np.ndarray:
    """Stage 3's inputs: stage 2's logits around the line plus a few line features."""
    extra = context[:, features.CONTEXT.indices(STAGE3_EXTRA)]
    return np.hstack([features.neighbour_matrix(batch, score2), extra])


def net_logit(net: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """A stored network: standardized inputs through ReLU layers to one logit per row (no
    hidden layer: a logistic regression).

    The standardization is folded into the first layer's weights and bias, which spares two
    passes over the inputs, the largest array the model handles.
    """
    weights, biases = net["weights"], net["biases"]
    shift = net["mean"] / net["scale"]
    x = values @ (weights[0] / net["scale"][:, None]) + (biases[0] - shift @ weights[0])
    for layer_weights, bias in zip(weights[1:], biases[1:]):
        x = np.maximum(x, 0.0, out=x) @ layer_weights + bias
    return np.asarray(x[:, 0])


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), without overflow warnings for large |z|."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def predict_context(params: dict[str, Any], batch: features.Batch, shape: np.ndarray,
                    score1: np.ndarray) -> np.ndarray:
    """Stages 2 and 3, from the shape features and the first stage's scores."""
    context = features.context_matrix(batch, shape, score1)
    score2 = net_logit(params["stage2"], context)
    return sigmoid(net_logit(params["stage3"], stage3_values(batch, context, score2)))


def line_features(params: dict[str, Any], lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1's score and the shape features of each line: what depends on the line alone."""
    wins = features.windows(lines)
    score1 = features.ngram_score(wins, params["stage1_coef"]) + params["stage1_intercept"]
    return score1, features.shape_matrix(lines, wins)


def predict_batch(params: dict[str, Any], batch: features.Batch,
                  memo: LineMemo | None = None) -> np.ndarray:
    """P(boilerplate) of each non-blank line of ``batch``, through the three stages."""
    if batch.size == 0:
        return np.zeros(0)
    score1, shape = (line_features(params, batch.lines) if memo is None
                     else memo.features(params, batch.lines))
    return predict_context(params, batch, shape, score1)


def _read_manifest(model_file: Path) -> dict[str, Any]:
    mpath = manifest_path(model_file)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{mpath}: model manifest not found (it must sit beside "
                         f"{model_file.name}); {_RETRAIN}") from None
    except (OSError, ValueError) as e:
        raise ModelError(f"{mpath}: unreadable model manifest ({e}); {_RETRAIN}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{mpath}: model manifest must be a JSON object; {_RETRAIN}")
    missing = {"model_version", "features_version", "threshold"} - set(manifest)
    if missing:
        raise ModelError(f"{mpath}: model manifest lacks {', '.join(sorted(missing))}; "
                         f"{_RETRAIN}")
    if manifest["features_version"] != features.FEATURES_VERSION:
        raise ModelError(f"{mpath}: model built for features version "
                         f"{manifest['features_version']}, this cleaner computes version "
                         f"{features.FEATURES_VERSION}; retrain it with "
                         "`python -m training.train` or install the matching cleaner")
    return manifest


def write_params(params: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Store a model's arrays as an ``.npz`` archive (the same bytes for the same arrays):
    each network's layers under ``stageN.weights.K`` and ``stageN.biases.K``."""
    arrays = {"format": np.asarray(MODEL_FORMAT),
              "stage1_coef": np.asarray(params["stage1_coef"]),
              "stage1_intercept": np.asarray(params["stage1_intercept"], dtype=np.float64)}
    for stage in _NETS:
        net = params[stage]
        arrays[f"{stage}.mean"], arrays[f"{stage}.scale"] = net["mean"], net["scale"]
        for kind in ("weights", "biases"):
            arrays.update({f"{stage}.{kind}.{k}": np.asarray(a)
                           for k, a in enumerate(net[kind])})
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # stubs: names vs allow_pickle


def read_params(model_file: Path) -> dict[str, Any]:
    """A model's arrays from its ``.npz`` archive; nothing in it is run (no pickles)."""
    try:
        with np.load(model_file, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelError(f"{model_file}: cannot load model ({type(e).__name__}: {e}); "
                         f"model files are .npz archives of arrays; {_RETRAIN}") from None
    try:
        if int(arrays["format"]) != MODEL_FORMAT:
            raise ModelError(f"{model_file}: model format {int(arrays['format'])}, this "
                             f"cleaner reads format {MODEL_FORMAT}; {_RETRAIN}")
        params: dict[str, Any] = {"format": MODEL_FORMAT,
                                  "stage1_coef": arrays["stage1_coef"],
                                  "stage1_intercept": float(arrays["stage1_intercept"])}
        for stage in _NETS:
            params[stage] = {"mean": arrays[f"{stage}.mean"],
                             "scale": arrays[f"{stage}.scale"],
                             "weights": _layers(arrays, f"{stage}.weights"),
                             "biases": _layers(arrays, f"{stage}.biases")}
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{model_file}: not a cleaner line model; {_RETRAIN}") from None
    return params


def _layers(arrays: Mapping[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """``prefix.0``, ``prefix.1``, ... in order; at least one."""
    count = sum(1 for name in arrays if name.startswith(f"{prefix}."))
    if count == 0:
        raise KeyError(prefix)
    return [arrays[f"{prefix}.{k}"] for k in range(count)]
