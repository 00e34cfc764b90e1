"""A stronger comparison level never weighs less than a weaker one, whatever EM learned."""

from __future__ import annotations

import itertools
import random

import pytest

from accord.resolve.model import monotone_m


def _bf(m: list[float], u: list[float]) -> list[float]:
    return [a / b for a, b in zip(m, u, strict=True)]


@pytest.mark.parametrize("seed", range(40))
def test_bayes_factors_rise_with_the_level_and_m_keeps_its_total(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 6)
    m = [rng.random() for _ in range(n)]
    u = [rng.random() for _ in range(n)]
    m, u = [x / sum(m) for x in m], [x / sum(u) for x in u]
    out = monotone_m(m, u)
    bf = _bf(out, u)
    assert all(a <= b * (1 + 1e-12) for a, b in itertools.pairwise(bf))
    assert sum(out) == pytest.approx(sum(m))


def test_an_ordered_model_is_left_as_it_is() -> None:
    m, u = [0.05, 0.15, 0.8], [0.9, 0.08, 0.02]
    assert monotone_m(m, u) == m


def test_a_weaker_level_with_the_larger_weight_is_pooled_with_the_stronger() -> None:
    # address: different, same city, same ZIP, same street (gamma 0..3); "same city" learned
    # a larger factor than "same street" from pairs of relatives.
    m, u = [0.2, 0.5, 0.1, 0.2], [0.97, 0.001, 0.028, 0.001]
    out = monotone_m(m, u)
    bf = _bf(out, u)
    assert bf[1] == pytest.approx(sum(m[1:3]) / sum(u[1:3])) == pytest.approx(bf[2])   # pooled
    assert bf[0] == pytest.approx(m[0] / u[0]) and bf[3] == pytest.approx(m[3] / u[3])  # untouched
    assert bf[1] < bf[3]
