"""Fitted linear models, stored as readable JSON: named features, their standardisation and weights.

`models/answer-model.json` holds the three the answer engine uses (see `index/answer.py`); the script
that fits them, `training/fit.py`, writes it. A weight is per standard deviation of its feature, so the
weights can be compared with each other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import CitebotError


class ModelFileError(CitebotError):
    """A model file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class LinearModel:
    """score(x) = bias + sum_i weight_i * (x_i - mean_i) / scale_i; a logistic model's logit."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def from_standardised(cls, features: Sequence[str], weights, bias: float, mean, scale) -> LinearModel:
        return cls(tuple(features), np.asarray(mean, np.float32), np.asarray(scale, np.float32),
                   np.asarray(weights, np.float32), float(bias))

    def score(self, x: np.ndarray) -> np.ndarray:
        """Logits for the rows of x (columns in `features` order)."""
        return ((np.asarray(x, np.float32) - self.mean) / self.scale) @ self.weights + self.bias

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.score(x)))

    def as_json(self) -> dict:
        return {"bias": round(self.bias, 6), "features": {
            f: {"weight": round(float(w), 6), "mean": round(float(m), 6), "scale": round(float(s), 6)}
            for f, w, m, s in zip(self.features, self.weights, self.mean, self.scale)}}

    @classmethod
    def from_json(cls, data: dict, expected: Sequence[str] | None = None) -> LinearModel:
        feats = data["features"]
        names = tuple(feats)
        if expected is not None and tuple(expected) != names:
            raise ModelFileError(f"features {list(names)} differ from the engine's {list(expected)}")
        rows = [(float(v["weight"]), float(v["mean"]), float(v["scale"])) for v in feats.values()]
        if not all(math.isfinite(x) for row in rows for x in row) or any(r[2] <= 0 for r in rows):
            raise ModelFileError("weights must be finite numbers and scales positive")
        w, m, s = zip(*rows) if rows else ((), (), ())
        return cls(names, np.asarray(m, np.float32), np.asarray(s, np.float32), np.asarray(w, np.float32),
                   float(data["bias"]))


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path}: not valid JSON ({exc})") from None
