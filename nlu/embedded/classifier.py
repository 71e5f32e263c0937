"""Multinomial logistic regression over sparse rows, in numpy (no scikit-learn: ~600 examples and a
few tens of thousands of features train in about a second and predict in microseconds)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from nlu.embedded.features import SparseRows

Matrix = npt.NDArray[np.float32]


def _softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    result: Matrix = exp / exp.sum(axis=-1, keepdims=True)
    return result


class LinearClassifier:
    def __init__(
        self, classes: Sequence[str], weights: Matrix, bias: Matrix, *, temperature: float = 1.0
    ) -> None:
        self.classes = tuple(classes)
        self.weights = weights
        self.bias = bias
        self.temperature = temperature

    @classmethod
    def fit(
        cls,
        rows: SparseRows,
        labels: Sequence[str],
        *,
        n_features: int,
        l2: float = 1e-4,
        epochs: int = 300,
        learning_rate: float = 0.05,
        seed: int = 7,
    ) -> LinearClassifier:
        classes = sorted(set(labels))
        target = np.zeros((rows.rows, len(classes)), dtype=np.float32)
        for row, label in enumerate(labels):
            target[row, classes.index(label)] = 1.0
        # Balance classes so the larger out_of_scope set does not pull every doubt its way.
        counts = target.sum(axis=0)
        sample_weight = (target @ (counts.mean() / counts)).astype(np.float32)[:, None] / rows.rows
        rng = np.random.default_rng(seed)
        weights = (rng.standard_normal((n_features, len(classes))) * 0.01).astype(np.float32)
        bias = np.zeros(len(classes), dtype=np.float32)
        row_of = np.repeat(np.arange(rows.rows), np.diff(rows.indptr))
        # reduceat over sorted runs is much faster than np.add.at for the scatter-adds below.
        order = np.argsort(rows.indices, kind="stable")
        features, run_starts = np.unique(rows.indices[order], return_index=True)
        row_starts = rows.indptr[:-1]  # every row has at least the bias feature, so no run is empty
        moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
        for step in range(1, epochs + 1):
            contributions = weights[rows.indices] * rows.data[:, None]
            logits = np.add.reduceat(contributions, row_starts, axis=0)
            error = (_softmax(logits + bias) - target) * sample_weight
            grad_w = l2 * weights
            grad_w[features] += np.add.reduceat(
                (error[row_of] * rows.data[:, None])[order], run_starts, axis=0
            )
            grad_b = error.sum(axis=0)
            _adam_step(weights, grad_w, moments[0], moments[1], step=step, learning_rate=learning_rate)
            _adam_step(bias, grad_b, moments[2], moments[3], step=step, learning_rate=learning_rate)
        return cls(classes, weights, bias)

    def predict_row(self, indices: npt.NDArray[np.int64], data: npt.NDArray[np.float32]) -> Matrix:
        logits = (self.weights[indices] * data[:, None]).sum(axis=0) + self.bias
        return _softmax(logits / self.temperature)


def _adam_step(param: Matrix, grad: Matrix, m: Matrix, v: Matrix, *, step: int, learning_rate: float) -> None:
    """One Adam update, in place."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    param -= learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
