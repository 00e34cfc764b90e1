"""Comparisons: for each blocked pair, one agreement level (gamma) per comparison.

The comparisons are declared as data (``comparisons`` in ``settings.yaml``, or a settings file
of one's own: :class:`accord.resolve.settings.ComparisonSpec`) and compiled here into SQL.
Levels are ordered, strongest agreement first; -1 means "cannot say" (no ``present`` column on
both records) and contributes no evidence. Every level is a SQL condition over the pair frame,
in which each feature column ``c`` appears as ``c_l`` and ``c_r``. Jaro-Winkler similarities
are computed once per pair, and only where no earlier level of exact agreement holds.

Names written in the other order (given <-> family) are compared in the order that agrees,
and the ``swapped`` condition tells that a swap was needed, so the model learns what a swap
costs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from accord.errors import AccordError
from accord.resolve.settings import (
    ComparisonSpec,
    Condition,
    Settings,
    default_settings,
    load_settings,
)
from accord.sql_text import ident


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    u_from_counts: bool = False
    spec: Condition | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Comparison:
    name: str
    null_sql: str
    levels: tuple[Level, ...]  # strongest first; gamma = len(levels) - 1 - index
    tf_column: str | None = None  # exact level uses term frequency of this column
    identifier: bool = False
    disagreement_needs_identifier: bool = False
    ordered: bool = True
    present: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # feature columns the levels read, in order of first use
    about: tuple[str, ...] = ()

    def gamma_sql(self) -> str:
        n = len(self.levels)
        whens = " ".join(f"WHEN {lv.sql} THEN {n - 1 - i}" for i, lv in enumerate(self.levels))
        return f"CAST(CASE WHEN {self.null_sql} THEN -1 {whens} ELSE 0 END AS TINYINT)"

    def label(self, gamma: int) -> str:
        if gamma < 0:
            return "missing"
        return self.levels[len(self.levels) - 1 - gamma].label

    @property
    def top(self) -> int:
        """The gamma of the strongest level."""
        return len(self.levels) - 1


# Name columns swapped on the right when the names agree only the other way round.
_SWAP = {"given_std": "family_std", "given_key": "family_key", "given_dm1": "family_dm1",
         "family_std": "given_std", "family_key": "given_key", "family_dm1": "given_dm1"}
_SWAPPED = ("(l.given_key = r.family_key AND l.family_key = r.given_key AND "
            "l.given_key <> l.family_key)")


def jw_column(column: str) -> str:
    """The pair-frame column holding the Jaro-Winkler similarity of ``column``."""
    return "jw_" + column.removesuffix("_std")


def _threshold(x: float) -> str:
    return f"{x:.2f}" if round(x, 2) == x else repr(x)


def _one_edit(col: str) -> str:
    """Damerau-Levenshtein distance 1, tested only where it can hold: one edit to strings of
    9 characters or more leaves their first four or their last four characters intact, so
    most pairs of identifiers are rejected by two cheap comparisons first."""
    lf, rt = f"{col}_l", f"{col}_r"
    return (f"(length({lf}) < 9 OR length({rt}) < 9 OR left({lf}, 4) = left({rt}, 4) OR "
            f"right({lf}, 4) = right({rt}, 4)) AND damerau_levenshtein({lf}, {rt}) = 1")


def _null(*cols: str) -> str:
    one = [f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols]
    if not one:
        return "FALSE"
    return one[0] if len(one) == 1 else " AND ".join(f"({x})" for x in one)


class _Compiler:
    """SQL of one comparison's conditions; records the columns they read, in order."""

    def __init__(self, where: str, known: frozenset[str] | None) -> None:
        self.where = where
        self.known = known
        self.columns: list[str] = []

    def col(self, name: str) -> str:
        if self.known is not None and name not in self.known:
            raise AccordError(f"{self.where}: no feature column {name!r} (the features table "
                              f"has: {', '.join(sorted(self.known))})")
        if name not in self.columns:
            self.columns.append(name)
        return name

    def condition(self, c: Condition, under_and: bool = False) -> str:
        """SQL of ``c``; a disjunction is parenthesised when it is a term of a conjunction
        (a conjunction needs none: AND binds tighter than OR)."""
        if c.exact is not None:
            x = self.col(c.exact)
            return f"{x}_l = {x}_r"
        if c.jaro_winkler is not None:
            self.col(c.jaro_winkler.column)
            return f"{jw_column(c.jaro_winkler.column)} >= {_threshold(c.jaro_winkler.at_least)}"
        if c.damerau_levenshtein is not None:
            x = self.col(c.damerau_levenshtein.column)
            if c.damerau_levenshtein.at_most == 1:
                return _one_edit(x)
            return f"damerau_levenshtein({x}_l, {x}_r) <= {c.damerau_levenshtein.at_most}"
        if c.initial is not None:
            x = self.col(c.initial)
            sql = (f"(length({x}_l) = 1 AND starts_with({x}_r, {x}_l)) OR "
                   f"(length({x}_r) = 1 AND starts_with({x}_l, {x}_r))")
            return f"({sql})" if under_and else sql
        if c.token_overlap is not None:
            x = self.col(c.token_overlap)
            right = (f"CASE WHEN swapped THEN [{x}_r] ELSE string_split({x}_r, ' ') END"
                     if x in _SWAP else f"string_split({x}_r, ' ')")
            return (f"((contains({x}_l, ' ') OR contains({x}_r, ' ')) AND "
                    f"len(list_intersect(string_split({x}_l, ' '), {right})) > 0)")
        if c.swapped is not None:
            return "swapped" if c.swapped else "NOT swapped"
        if c.day_month_swapped is not None:
            y, m, d = self._parts(c.day_month_swapped)
            return (f"{self._dates(c.day_month_swapped)} AND {y}_l = {y}_r AND {m}_l = {d}_r AND "
                    f"{d}_l = {m}_r")
        if c.within_days is not None:
            x = self.col(c.within_days.column)
            return f"abs(date_diff('day', {x}_l, {x}_r)) <= {c.within_days.days}"
        if c.years_apart is not None:
            y, m, d = self._parts(c.years_apart.column, order=("m", "d", "y"))
            return (f"({self._dates(c.years_apart.column)} AND {m}_l = {m}_r AND {d}_l = {d}_r AND "
                    f"abs({y}_l - {y}_r) = {c.years_apart.years})")
        if c.within_months is not None:
            y, m, _ = self._parts(c.within_months.column, order=("y", "m"))
            return f"abs(({y}_l - {y}_r) * 12 + {m}_l - {m}_r) <= {c.within_months.months}"
        if c.same_month is not None:
            y, m, _ = self._parts(c.same_month, order=("y", "m"))
            return f"{y}_l = {y}_r AND {m}_l = {m}_r"
        if c.one_side_missing is not None:
            x = self.col(c.one_side_missing)
            return f"({x}_l IS NULL OR {x}_r IS NULL)"
        if c.any is not None:
            sql = " OR ".join(self.condition(s) for s in c.any)
            return f"({sql})" if under_and and len(c.any) > 1 else sql
        assert c.all is not None
        return " AND ".join(self.condition(s, under_and=True) for s in c.all)

    def _dates(self, column: str) -> str:
        """Both sides carry the date itself, not only its parts: a date of birth flagged at
        ingest (1956-09-31) has its parts but no date (docs/ingest.md), and only the parts'
        own conditions (same_month, within_months) may read it."""
        x = self.col(column)
        return f"{x}_l IS NOT NULL AND {x}_r IS NOT NULL"

    def _parts(self, column: str, order: Sequence[str] = ("y", "m", "d")) -> tuple[str, str, str]:
        """A date's year, month and day columns (``<column>_y`` ...), those in ``order`` read."""
        for part in order:
            self.col(f"{column}_{part}")
        return f"{column}_y", f"{column}_m", f"{column}_d"


def compile_comparison(spec: ComparisonSpec, known: frozenset[str] | None = None) -> Comparison:
    """The SQL of one declared comparison; ``known``: the feature columns it may read."""
    where = f"comparison {spec.name}"
    comp = _Compiler(where, known)
    levels = []
    for i, lv in enumerate(spec.levels):
        if lv.u_from_counts and not _counted_form(lv, first=i == 0):
            raise AccordError(f"{where}, level {lv.label!r}: u_from_counts is for a first level "
                              "of exact agreement (or all of several) or a day_month_swapped level")
        levels.append(Level(lv.label, comp.condition(lv), lv.u_from_counts, lv))
    levels.append(Level(spec.else_label, "TRUE"))
    present = tuple(comp.col(c) for c in spec.present)
    if spec.term_frequency is not None:
        first = spec.levels[0]
        if first.exact != spec.term_frequency:
            raise AccordError(f"{where}: term_frequency {spec.term_frequency!r} needs a first "
                              f"level of exact agreement on it")
    if spec.disagreement_needs_identifier and len(levels) < 2:
        raise AccordError(f"{where}: disagreement_needs_identifier needs at least one level")
    null = _null(*present)
    if spec.within is not None:
        # Values of two schemes (namespaces) say nothing about each other.
        w = comp.col(spec.within)
        null = f"({null}) OR {w}_l IS DISTINCT FROM {w}_r" if present else f"{w}_l IS DISTINCT FROM {w}_r"
    about = tuple(a for a in spec.about if a not in comp.columns)
    return Comparison(spec.name, null, tuple(levels), spec.term_frequency,
                      spec.identifier, spec.disagreement_needs_identifier, spec.ordered, present,
                      tuple(comp.columns), about)


def _counted_form(lv: Condition, first: bool) -> bool:
    if lv.day_month_swapped is not None:
        return True
    if not first:
        return False
    return lv.exact is not None or (lv.all is not None and all(c.exact for c in lv.all))


@dataclass(frozen=True)
class Comparisons:
    """The comparisons of a run, compiled, with everything derived from them."""

    items: tuple[Comparison, ...]

    def __iter__(self) -> Iterator[Comparison]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Comparison:
        return self.items[i]

    @cached_property
    def by_name(self) -> dict[str, Comparison]:
        return {c.name: c for c in self.items}

    @cached_property
    def pair_columns(self) -> tuple[str, ...]:
        """Feature columns the pair frame carries from each side."""
        out: list[str] = []
        for c in self.items:
            out += [x for x in c.columns if x not in out]
        return tuple(out)

    @cached_property
    def tf_columns(self) -> tuple[str, ...]:
        out: list[str] = []
        for c in self.items:
            if c.tf_column is not None and c.tf_column not in out:
                out.append(c.tf_column)
        return tuple(out)

    def gamma_columns(self) -> list[str]:
        return [f"gamma_{c.name}" for c in self.items]

    def names(self, *, identifier: bool | None = None) -> list[str]:
        return [c.name for c in self.items if identifier is None or c.identifier == identifier]

    def for_keys(self, keys: Iterable[str]) -> set[str]:
        """Which comparisons a blocking rule's keys say something about (for EM sessions)."""
        keys = set(keys)
        return {c.name for c in self.items if keys & (set(c.columns) | set(c.about))}

    def swap_comparisons(self) -> set[str]:
        """Comparisons that tell whether names were swapped (a swap rule decides them)."""
        return {c.name for c in self.items if any(lv.sql == "swapped" for lv in c.levels)}

    def pair_frame_sql(self, pairs: str = "pairs", features: str = "features") -> str:
        """Each pair with both sides' features; names oriented the way they agree."""
        cols = []
        for c in self.pair_columns:
            cols.append(f"l.{ident(c)} AS {ident(c + '_l')}")
            if c in _SWAP:
                cols.append(f"CASE WHEN {_SWAPPED} THEN r.{ident(_SWAP[c])} ELSE r.{ident(c)} END "
                            f"AS {ident(c + '_r')}")
            else:
                cols.append(f"r.{ident(c)} AS {ident(c + '_r')}")
        return (f"SELECT p.rid_l, p.rid_r, p.rule, p.rules, coalesce({_SWAPPED}, FALSE) AS swapped, "
                f"{', '.join(cols)} FROM {pairs} p JOIN {features} l ON l.rid = p.rid_l "
                f"JOIN {features} r ON r.rid = p.rid_r")

    def gammas_sql(self, frame: str = "pair_frame") -> str:
        """One row per pair: rid_l, rid_r, rule, rules, the left values of the term-frequency
        columns (``<column>_l``) and gamma_<comparison> for each comparison. Only these narrow
        columns are kept, so the frame itself can stay a view. Jaro-Winkler similarity is
        computed per pair, once per column, and only where no earlier level of exact
        agreement holds (cheaper than computing it once per distinct pair of values and
        joining it back, which evaluates the frame again)."""
        gammas = ", ".join(f"{c.gamma_sql()} AS {ident('gamma_' + c.name)}" for c in self.items)
        tf = "".join(f"f.{c}_l, " for c in self.tf_columns)
        sims = self._similarities()
        inner = f"SELECT f.*, {', '.join(sims)} FROM {frame} f" if sims else f"SELECT f.* FROM {frame} f"
        return f"SELECT f.rid_l, f.rid_r, f.rule, f.rules, {tf}{gammas} FROM ({inner}) f"

    def _similarities(self) -> list[str]:
        out: dict[str, str] = {}
        for c in self.items:
            earlier: list[str] = []  # columns an earlier level agrees on exactly
            for lv in c.levels:
                for column in _jw_columns(lv.spec):
                    if column in out:
                        continue
                    lf, rt = f"f.{column}_l", f"f.{column}_r"
                    whens = "".join(f"WHEN f.{k}_l = f.{k}_r THEN NULL " for k in earlier
                                    if k != column)
                    out[column] = (f"CASE WHEN {lf} = {rt} THEN 1.0 {whens}"
                                   f"ELSE jaro_winkler_similarity({lf}, {rt}) END "
                                   f"AS {jw_column(column)}")
                earlier += _exact_columns(lv.spec)
        return list(out.values())


def _jw_columns(c: Condition | None) -> list[str]:
    if c is None:
        return []
    if c.jaro_winkler is not None:
        return [c.jaro_winkler.column]
    return [x for s in (c.any or c.all or []) for x in _jw_columns(s)]


def _exact_columns(c: Condition | None) -> list[str]:
    """Columns whose exact agreement alone puts a pair at this level (not under ``all``)."""
    if c is None:
        return []
    if c.exact is not None:
        return [c.exact]
    return [x for s in (c.any or []) for x in _exact_columns(s)]


def known_feature_columns() -> frozenset[str]:
    from accord.standardise.features import FEATURE_COLUMNS

    return frozenset(name for name, _, _ in FEATURE_COLUMNS)


def compile_comparisons(specs: Sequence[ComparisonSpec]) -> Comparisons:
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise AccordError(f"comparisons: {', '.join(twice)} declared more than once")
    if not specs:
        raise AccordError("comparisons: at least one is needed")
    known = known_feature_columns()
    return Comparisons(tuple(compile_comparison(s, known) for s in specs))


def comparisons_of(settings: Settings | None) -> Comparisons:
    """The compiled comparisons of ``settings`` (the package's where it declares none)."""
    if settings is None or settings.comparisons is None:
        return default_comparisons()
    key = json.dumps([s.model_dump(mode="json") for s in settings.comparisons], sort_keys=True)
    return _compiled(key)


@cache
def _compiled(specs_json: str) -> Comparisons:
    return compile_comparisons([ComparisonSpec.model_validate(s) for s in json.loads(specs_json)])


@cache
def default_comparisons() -> Comparisons:
    specs = default_settings().comparisons
    assert specs is not None, "the package's settings.yaml declares the comparisons"
    return compile_comparisons(specs)


def pair_frame_sql(pairs: str = "pairs", features: str = "features") -> str:
    """The default comparisons' pair frame (:meth:`Comparisons.pair_frame_sql`)."""
    return default_comparisons().pair_frame_sql(pairs, features)


def gammas_sql(frame: str = "pair_frame") -> str:
    """The default comparisons' gammas (:meth:`Comparisons.gammas_sql`)."""
    return default_comparisons().gammas_sql(frame)


def checked_settings(path: str | Path | None) -> Settings:
    """:func:`accord.resolve.settings.load_settings`, with its comparisons compiled: a file
    whose comparisons cannot work is refused with the file, the comparison and the reason."""
    settings = load_settings(path)
    try:
        comparisons_of(settings)
    except AccordError as e:
        raise AccordError(f"{path}: {e}") from None
    return settings
