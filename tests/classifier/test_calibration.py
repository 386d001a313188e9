"""Calibration on validation logits: temperature, isotonic, threshold."""

from __future__ import annotations

import numpy as np
from flowsleuth.tools.classifier.calibration import (
    best_threshold,
    expected_calibration_error,
    fit_calibration,
)


def _overconfident(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    true_logit = rng.normal(-0.8, 2.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(int)
    return np.column_stack([np.zeros(n), 5 * true_logit]), y  # five times too confident


def test_temperature_reduces_calibration_error() -> None:
    logits, y = _overconfident()
    cal = fit_calibration(logits, y, "temperature")
    assert 4 < cal.temperature < 6
    assert cal.ece_after is not None and cal.ece_before is not None
    assert cal.ece_after < cal.ece_before / 2
    score = cal.score(cal.probs(logits))
    assert expected_calibration_error(score, y) < 0.05


def test_isotonic_is_monotone_and_calibrated() -> None:
    logits, y = _overconfident()
    cal = fit_calibration(logits, y, "isotonic")
    assert np.all(np.diff(cal.iso_y) >= 0)
    score = cal.score(cal.probs(logits))
    assert expected_calibration_error(score, y) < 0.03
    assert cal.score(cal.probs(np.zeros((0, 2)))).shape == (0,)


def test_best_threshold_separates_clean_scores() -> None:
    score = np.array([0.1, 0.2, 0.35, 0.6, 0.7, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = best_threshold(score, y)
    assert 0.35 < t < 0.6
    assert best_threshold(score, np.zeros(6)) == 0.5
