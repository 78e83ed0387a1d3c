"""The first-stage ranker: a logistic regression over the evidence features, fitted on SQuAD train side A.

It orders every candidate sentence cheaply; the reader (the cross-encoder) then reads only the best few.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from index.evidence import FEATURES
from index.ranker import LinearModel


def fit_stage1(groups, c: float = 0.3) -> LinearModel:
    """Fitted on answerable questions' candidates: 1 for a sentence covering the gold answer, else 0."""
    x = np.concatenate([g.features for g in groups])
    y = np.concatenate([g.labels for g in groups])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return LinearModel.from_standardised(FEATURES, lr.coef_[0], float(lr.intercept_[0]), mean, scale)
