"""Fellegi-Sunter model: u from random pairs, m by EM (no labels), term frequencies.

EM runs on the distinct agreement patterns (gamma vectors) with their counts, not on the
pairs themselves: there are a few thousand patterns for millions of pairs. u stays fixed at
its random-sample estimate during EM (as in Splink), which keeps EM from drifting towards
"same household" or "same common name" clusters. Exact name agreement is weighted by how
common the name is (term-frequency adjustment): agreeing on GARCIA is weaker evidence than
agreeing on a rare name.

The trained model is a versioned JSON artefact (no person data: only m, u and the prior).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from accord.resolve.comparisons import Comparison, Comparisons, default_comparisons
from accord.sql_text import ident

MODEL_FORMAT = 1
# Starting m for EM by gamma, strongest level first (the rest share what is left).
_M_START_TOP = (0.85, 0.10)


@dataclass
class FSModel:
    m: dict[str, list[float]]  # comparison -> m per gamma (index = gamma)
    u: dict[str, list[float]]
    prior: float  # probability that two random records match
    iterations: int = 0
    pairs_trained: int = 0
    trained_from: str = "em"   # "em" (no labels) or "labels"
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    comparisons: Comparisons = field(default_factory=default_comparisons, repr=False)

    def bayes_factor_log2(self, comparison: str, gamma: int) -> float:
        if gamma < 0:
            return 0.0
        return math.log2(self.m[comparison][gamma] / self.u[comparison][gamma])

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def to_json(self) -> dict[str, Any]:
        comps = {}
        for c in self.comparisons:
            comps[c.name] = {
                "levels": [{"gamma": g, "label": c.label(g), "m": self.m[c.name][g],
                            "u": self.u[c.name][g],
                            "log2_bayes_factor": self.bayes_factor_log2(c.name, g)}
                           for g in range(len(c.levels))],
                "term_frequency": c.tf_column,
            }
        return {"format": MODEL_FORMAT, "kind": "fellegi-sunter", "created": self.created,
                "prior": self.prior, "trained_from": self.trained_from, "em_iterations": self.iterations,
                "pairs_trained": self.pairs_trained, "comparisons": comps}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], comparisons: Comparisons | None = None) -> FSModel:
        """The model saved by :meth:`to_json`, for ``comparisons`` (by default the
        package's): a model of other comparisons, or of other levels, is refused."""
        if data.get("format") != MODEL_FORMAT:
            raise ValueError(f"model format {data.get('format')} is not {MODEL_FORMAT}")
        comparisons = comparisons or default_comparisons()
        saved = {n: len(c["levels"]) for n, c in data["comparisons"].items()}
        wanted = {c.name: len(c.levels) for c in comparisons}
        if saved != wanted:
            differ = sorted(set(saved.items()) ^ set(wanted.items()))
            raise ValueError("the model was trained on other comparisons than these settings "
                             "declare (comparison, levels): " +
                             ", ".join(f"{n} {k}" for n, k in differ))
        m = {n: [lv["m"] for lv in c["levels"]] for n, c in data["comparisons"].items()}
        u = {n: [lv["u"] for lv in c["levels"]] for n, c in data["comparisons"].items()}
        return cls(m=m, u=u, prior=data["prior"], iterations=data["em_iterations"],
                   pairs_trained=data["pairs_trained"], created=data["created"],
                   trained_from=data.get("trained_from", "em"), comparisons=comparisons)


def gamma_columns(comps: Comparisons | None = None) -> list[str]:
    return (comps or default_comparisons()).gamma_columns()


M_FLOOR = 1e-3  # no level is impossible among matches: records carry errors


def level_shares(counts: np.ndarray, gammas: np.ndarray, c: Comparison,
                 floor: float = 1e-6) -> list[float]:
    """Share of each gamma among non-missing values, weighted by counts, floored."""
    n = len(c.levels)
    totals = np.array([counts[gammas == g].sum() for g in range(n)], dtype=float)
    totals = np.maximum(totals / max(totals.sum(), 1.0), floor)
    return [float(x) for x in totals / totals.sum()]


def estimate_u(patterns: np.ndarray, counts: np.ndarray,
               comps: Comparisons | None = None) -> dict[str, list[float]]:
    """u from random pairs (almost all non-matches): the share of each level."""
    comps = comps or default_comparisons()
    return {c.name: level_shares(counts, patterns[:, i], c) for i, c in enumerate(comps)}


def non_match_u(patterns: np.ndarray, counts: np.ndarray, model: FSModel,
                comparisons: set[str]) -> dict[str, list[float]]:
    """u of ``comparisons`` again from the same random pairs, each weighted by its chance of
    being a non-match under ``model`` (the other comparisons keep the model's u): the few
    sampled pairs that are one person no longer count as chance agreement."""
    comps = model.comparisons
    use = [True] * len(comps)
    w = counts * (1.0 - _posterior(patterns, model.m, model.u, model.prior, use, comps))
    again = estimate_u(patterns, w, comps)
    return {c.name: again[c.name] if c.name in comparisons else list(model.u[c.name])
            for c in comps}


def _start_m(c: Comparison) -> list[float]:
    n = len(c.levels)
    top = list(_M_START_TOP[: n - 1])
    rest = (1.0 - sum(top)) / (n - len(top))
    by_strength = top + [rest] * (n - len(top))  # strongest first
    return list(reversed(by_strength))  # index = gamma (0 = weakest)


def _posterior(patterns: np.ndarray, m: dict[str, list[float]], u: dict[str, list[float]],
               prior: float, use: list[bool], comps: Comparisons) -> np.ndarray:
    log_m = np.zeros(len(patterns))
    log_u = np.zeros(len(patterns))
    for i, c in enumerate(comps):
        if not use[i]:
            continue
        g = patterns[:, i]
        present = g >= 0
        log_m[present] += np.log(np.array(m[c.name])[g[present]])
        log_u[present] += np.log(np.array(u[c.name])[g[present]])
    a = np.log(prior) + log_m
    b = np.log(1 - prior) + log_u
    return np.asarray(1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700))))


def _em(patterns: np.ndarray, counts: np.ndarray, m: dict[str, list[float]],
        u: dict[str, list[float]], use: list[bool], max_iterations: int, tolerance: float,
        comps: Comparisons, prior: float = 0.3, update_m: bool = True
        ) -> tuple[dict[str, list[float]], float, int]:
    m = {k: list(v) for k, v in m.items()}
    counts = counts.astype(float)
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        w = counts * _posterior(patterns, m, u, prior, use, comps)
        new_prior = min(max(float(w.sum() / counts.sum()), 1e-6), 1 - 1e-6)
        change = abs(new_prior - prior)
        if update_m:
            for i, c in enumerate(comps):
                if not use[i]:
                    continue
                new = level_shares(w, patterns[:, i], c, M_FLOOR)
                change = max(change, max(abs(x - y) for x, y in zip(new, m[c.name], strict=True)))
                m[c.name] = new
        prior = new_prior
        if change < tolerance:
            break
    return m, prior, iterations


def train_em(patterns: np.ndarray, counts: np.ndarray, u: dict[str, list[float]],
             max_iterations: int = 25, tolerance: float = 1e-4,
             rules: np.ndarray | None = None,
             blocked_on: dict[int, set[str]] | None = None,
             total_pairs: int | None = None, comps: Comparisons | None = None) -> FSModel:
    """Expectation-maximisation of m (u fixed), one session per blocking rule.

    Pairs found by a rule agree on that rule's keys whether or not they match, so within a
    session the comparisons the rule blocks on carry no information: they are left out of
    that session, and each comparison's m is averaged over the sessions that could learn
    it. The prior (share of blocked pairs that match) is then fitted with m and u fixed.
    """
    comps = comps or default_comparisons()
    start = {c.name: _start_m(c) for c in comps}
    if rules is None:
        rules = np.zeros(len(counts), dtype=np.int64)
    blocked_on = blocked_on or {}
    learned: dict[str, list[tuple[list[float], float]]] = {c.name: [] for c in comps}
    iterations = 0
    for rule in np.unique(rules):
        sel = rules == rule
        if counts[sel].sum() < 50:
            continue
        skip = blocked_on.get(int(rule), set())
        use = [c.name not in skip for c in comps]
        m, prior, its = _em(patterns[sel], counts[sel], start, u, use, max_iterations, tolerance,
                            comps)
        iterations += its
        w = counts[sel] * _posterior(patterns[sel], m, u, prior, use, comps)
        for i, c in enumerate(comps):
            if use[i]:  # weight: expected matches in this session that show this comparison
                weight = float(w[patterns[sel][:, i] >= 0].sum())
                if weight > 0:
                    learned[c.name].append((m[c.name], weight))
    m_final = {}
    for c in comps:
        if learned[c.name]:
            ms = np.array([x for x, _ in learned[c.name]])
            ws = np.array([wt for _, wt in learned[c.name]])
            m_final[c.name] = [float(x) for x in (ms * ws[:, None]).sum(axis=0) / ws.sum()]
        else:
            m_final[c.name] = start[c.name]
    m_final = {c.name: monotone_m(m_final[c.name], u[c.name]) if c.ordered else m_final[c.name]
               for c in comps}
    prior = fit_prior(patterns, counts, m_final, u, total_pairs, comps=comps) if total_pairs else 1e-6
    return FSModel(m=m_final, u=u, prior=prior, iterations=iterations,
                   pairs_trained=int(counts.sum()), comparisons=comps)


def monotone_m(m: list[float], u: list[float]) -> list[float]:
    """m adjusted so that a stronger level never weighs less than a weaker one (index = gamma,
    weakest first): adjacent levels whose Bayes factors m/u are out of order are pooled to
    one factor, sum(m)/sum(u), kept in each level's share of u (pool-adjacent-violators; the
    total of m is unchanged). EM alone can give a weaker level the larger weight when the
    only pairs showing a level are of one kind (say, relatives sharing a city but no street),
    and a match weight must never grow because the evidence got weaker."""
    pools: list[list[int]] = []          # each: level indices, pooled m, pooled u
    sums: list[tuple[float, float]] = []
    for g, (mg, ug) in enumerate(zip(m, u, strict=True)):
        pools.append([g])
        sums.append((mg, ug))
        while len(pools) > 1 and sums[-2][0] / sums[-2][1] > sums[-1][0] / sums[-1][1]:
            levels = pools.pop()
            sm, su = sums.pop()
            pools[-1] += levels
            sums[-1] = (sums[-1][0] + sm, sums[-1][1] + su)
    out = list(m)
    for levels, (sm, su) in zip(pools, sums, strict=True):
        for g in levels:
            out[g] = sm / su * u[g]
    return out


def fit_prior(patterns: np.ndarray, counts: np.ndarray, m: dict[str, list[float]],
              u: dict[str, list[float]], total_pairs: int, iterations: int = 50,
              comps: Comparisons | None = None) -> float:
    """The probability that two random records match: the fixed point of
    lambda = (expected matches among the blocked pairs, given lambda) / (all record pairs).
    Blocking keeps (almost) every match, so the blocked pairs hold the expected count."""
    comps = comps or default_comparisons()
    use = [True] * len(comps)
    lam = min(float(counts.sum()) / total_pairs, 0.5)
    for _ in range(iterations):
        new = float((counts * _posterior(patterns, m, u, lam, use, comps)).sum()) / total_pairs
        new = min(max(new, 1e-12), 0.5)
        if abs(new - lam) <= 1e-3 * lam:
            return new
        lam = new
    return lam


def match_weight_sql(model: FSModel, tf_min_u: float, tf: dict[str, str]) -> str:
    """SQL for the match weight of a gammas row (aliased g), TF-adjusted on the first level of
    each comparison with a term-frequency column.

    ``tf``: by term-frequency column, the SQL of the pair's left value's term frequency.
    """
    tf_expr = tf
    terms = [f"{model.prior_weight!r}"]
    for c in model.comparisons:
        col = ident(f"gamma_{c.name}")
        whens = []
        for gamma in range(len(c.levels)):
            bf = model.bayes_factor_log2(c.name, gamma)
            top = gamma == len(c.levels) - 1
            if top and c.tf_column is not None:
                m_top = model.m[c.name][gamma]
                freq = tf_expr[c.tf_column]
                bf_sql = f"log2({m_top!r} / greatest(coalesce({freq}, {tf_min_u!r}), {tf_min_u!r}))"
                whens.append(f"WHEN {gamma} THEN {bf_sql}")
            else:
                whens.append(f"WHEN {gamma} THEN {bf!r}")
        terms.append(f"(CASE g.{col} {' '.join(whens)} ELSE 0 END)")
    return " + ".join(terms)


def tf_sql(column: str, features: str = "features") -> str:
    """Term frequency: the chance that a random record has this value."""
    return (f"SELECT {ident(column)} AS value, count(*) / sum(count(*)) OVER () AS tf "
            f"FROM {features} WHERE {ident(column)} IS NOT NULL GROUP BY 1")
