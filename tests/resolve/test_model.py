from __future__ import annotations

import numpy as np
import pytest

from accord.resolve.comparisons import default_comparisons
from accord.resolve.model import FSModel, estimate_u, train_em

COMPARISONS = default_comparisons()


def _simulate(rng: np.random.Generator, n: int, match: bool) -> np.ndarray:
    cols = []
    for c in COMPARISONS:
        k = len(c.levels)
        if match:  # matches mostly agree at the top level
            p = np.full(k, 0.05 / max(k - 1, 1))
            p[k - 1] = 0.95
        else:  # non-matches mostly disagree
            p = np.full(k, 0.05 / max(k - 1, 1))
            p[0] = 0.95
        p = p / p.sum()
        cols.append(rng.choice(k, size=n, p=p))
    return np.column_stack(cols)


def _patterns(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    return uniq.astype(np.int64), counts.astype(np.int64)


def test_em_recovers_the_match_share_and_a_positive_weight_for_agreement() -> None:
    rng = np.random.default_rng(3)
    u = estimate_u(*_patterns(_simulate(rng, 50_000, match=False)))
    blocked = np.vstack([_simulate(rng, 2_000, True), _simulate(rng, 8_000, False)])
    model = train_em(*_patterns(blocked), u, max_iterations=50, total_pairs=10_000_000)
    # 2,000 of the 10,000 blocked pairs match, out of 10 million possible pairs.
    assert model.prior == pytest.approx(2_000 / 10_000_000, rel=0.15)
    for c in COMPARISONS:
        top = len(c.levels) - 1
        assert model.bayes_factor_log2(c.name, top) > 2
        assert model.bayes_factor_log2(c.name, 0) < 0


def test_model_round_trips_through_json() -> None:
    rng = np.random.default_rng(4)
    u = estimate_u(*_patterns(_simulate(rng, 5_000, match=False)))
    model = train_em(*_patterns(_simulate(rng, 3_000, True)), u, max_iterations=5)
    again = FSModel.from_json(model.to_json())
    assert again.m == model.m and again.u == model.u and again.prior == model.prior
    assert model.to_json()["comparisons"]["dob"]["levels"][0]["label"] == "different"
