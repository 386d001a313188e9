"""Calibration on validation logits: temperature, isotonic, threshold."""

from __future__ import annotations

import numpy as np
import pytest
from flowsleuth.tools.classifier.calibration import (
    best_f1_threshold,
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


def test_best_f1_threshold_by_hand() -> None:
    # cut at 0.1: P 2/4 R 1 F1 .667; at 0.35: P 2/3 R 1 F1 .8; at 0.4: F1 .5; at 0.8: F1 .667.
    # Best cut 0.35; halfway to the next lower score (0.1) is 0.225.
    score = np.array([0.1, 0.4, 0.35, 0.8])
    y = np.array([0, 0, 1, 1])
    assert best_f1_threshold(score, y) == pytest.approx(0.225)
    # NaN scores are left out, not counted as negatives
    assert best_f1_threshold(np.r_[score, np.nan], np.r_[y, 1]) == pytest.approx(0.225)


def test_best_f1_threshold_ties_and_undefined() -> None:
    # F1 .667 at cut 0.1 (all kept) and at 0.7 (one kept, precision 1): the lower cut wins,
    # and with no lower score the cut is that score itself
    assert best_f1_threshold(np.array([0.1, 0.3, 0.5, 0.7]), np.array([1, 0, 0, 1])) == 0.1
    assert best_f1_threshold(np.array([0.2, 0.6]), np.zeros(2)) == 0.5
    assert best_f1_threshold(np.array([0.2, 0.6]), np.ones(2)) == 0.5
    assert best_f1_threshold(np.array([]), np.array([])) == 0.5


def test_best_f1_threshold_separates_clean_scores() -> None:
    score = np.array([0.1, 0.2, 0.35, 0.6, 0.7, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    assert best_f1_threshold(score, y) == pytest.approx(0.475)
