"""Comparisons: for each blocked pair, one agreement level (gamma) per field.

Levels are ordered, strongest agreement first; -1 means "cannot say" (a value is missing)
and contributes no evidence. Every level is a SQL condition over the pair frame, in which
each feature column ``c`` appears as ``c_l`` and ``c_r``. String similarities are computed
per pair, only where no stronger level already holds.

Names written in the other order (given <-> family) are compared in the order that agrees,
and ``name_order`` records that a swap was needed, so the model learns what a swap costs.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.sql_text import ident


@dataclass(frozen=True)
class Level:
    label: str
    sql: str


@dataclass(frozen=True)
class Comparison:
    name: str
    null_sql: str
    levels: tuple[Level, ...]  # strongest first; gamma = len(levels) - 1 - index
    tf_column: str | None = None  # exact level uses term frequency of this column

    def gamma_sql(self) -> str:
        n = len(self.levels)
        whens = " ".join(f"WHEN {lv.sql} THEN {n - 1 - i}" for i, lv in enumerate(self.levels))
        return f"CAST(CASE WHEN {self.null_sql} THEN -1 {whens} ELSE 0 END AS TINYINT)"

    def label(self, gamma: int) -> str:
        if gamma < 0:
            return "missing"
        return self.levels[len(self.levels) - 1 - gamma].label


def _one_edit(col: str) -> str:
    """Damerau-Levenshtein distance 1, tested only where it can hold: one edit to strings of
    9 characters or more leaves their first four or their last four characters intact, so
    most pairs of identifiers are rejected by two cheap comparisons first."""
    lf, rt = f"{col}_l", f"{col}_r"
    return (f"(length({lf}) < 9 OR length({rt}) < 9 OR left({lf}, 4) = left({rt}, 4) OR "
            f"right({lf}, 4) = right({rt}, 4)) AND damerau_levenshtein({lf}, {rt}) = 1")


def _null(*cols: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("given_name", _null("given_std"), (
        Level("exact", "given_std_l = given_std_r"),
        Level("variant or nickname", "given_key_l = given_key_r"),
        Level("similar (JW >= 0.92)", "jw_given >= 0.92"),
        Level("sounds alike or initial", "jw_given >= 0.80 OR given_dm1_l = given_dm1_r OR "
              "(length(given_std_l) = 1 AND starts_with(given_std_r, given_std_l)) OR "
              "(length(given_std_r) = 1 AND starts_with(given_std_l, given_std_r))"),
        Level("different", "TRUE"),
    ), tf_column="given_std"),
    Comparison("family_name", _null("family_std"), (
        Level("exact", "family_std_l = family_std_r"),
        # Tokens are only intersected for compound names (one token each: a shared token is
        # the exact level). A given name standing in for the family name (swapped) is one token.
        Level("variant or shared surname", "family_key_l = family_key_r OR "
              "((contains(family_std_l, ' ') OR contains(family_std_r, ' ')) AND "
              "len(list_intersect(string_split(family_std_l, ' '), CASE WHEN swapped THEN "
              "[family_std_r] ELSE string_split(family_std_r, ' ') END)) > 0)"),
        Level("similar (JW >= 0.92)", "jw_family >= 0.92"),
        Level("sounds alike", "jw_family >= 0.80 OR family_dm1_l = family_dm1_r"),
        Level("different", "TRUE"),
    ), tf_column="family_std"),
    Comparison("name_order", "FALSE", (
        Level("given and family swapped", "swapped"),
        Level("as written", "TRUE"),
    )),
    Comparison("dob", _null("dob"), (
        Level("exact", "dob_l = dob_r"),
        Level("day and month swapped", "dob_y_l = dob_y_r AND dob_m_l = dob_d_r AND "
              "dob_d_l = dob_m_r"),
        Level("one part off by one", "abs(date_diff('day', dob_l, dob_r)) <= 1 OR "
              "(dob_m_l = dob_m_r AND dob_d_l = dob_d_r AND abs(dob_y_l - dob_y_r) = 1)"),
        # Same year and month, another day: a mistyped day, or two people born weeks apart.
        Level("same year and month", "dob_y_l = dob_y_r AND dob_m_l = dob_m_r"),
        Level("within a year", "abs(date_diff('day', dob_l, dob_r)) <= 366"),
        Level("different", "TRUE"),
    )),
    Comparison("ssn", f"({_null('ssn')}) AND ({_null('ssn_last4')})", (
        Level("exact", "ssn_l = ssn_r"),
        Level("one digit or transposition", _one_edit("ssn")),
        Level("last four agree", "ssn_last4_l = ssn_last4_r AND (ssn_l IS NULL OR ssn_r IS NULL)"),
        Level("different", "TRUE"),
    )),
    Comparison("a_number", _null("a_number"), (
        Level("exact", "a_number_l = a_number_r"),
        Level("one digit or transposition", _one_edit("a_number")),
        Level("different", "TRUE"),
    )),
    Comparison("passport", _null("passport"), (
        Level("exact", "passport_l = passport_r"),
        Level("different", "TRUE"),
    )),
    Comparison("itin", _null("itin"), (
        Level("exact", "itin_l = itin_r"),
        Level("different", "TRUE"),
    )),
    Comparison("address", "(zip5_l IS NULL OR zip5_r IS NULL) AND "
               "(city_std_l IS NULL OR city_std_r IS NULL)", (
        Level("same street address", "zip5_l = zip5_r AND street_number_l = street_number_r AND "
              "street_name_l = street_name_r"),
        Level("same ZIP", "zip5_l = zip5_r"),
        Level("same city", "city_std_l = city_std_r AND state_l = state_r"),
        Level("different", "TRUE"),
    )),
    Comparison("sex", _null("sex"), (
        Level("same", "sex_l = sex_r"),
        Level("different", "TRUE"),
    )),
)

# Feature columns the pair frame carries from each side.
PAIR_COLUMNS = (
    "given_std", "given_key", "given_dm1", "family_std", "family_key", "family_dm1", "dob",
    "dob_y", "dob_m", "dob_d", "ssn", "ssn_last4", "a_number", "passport", "itin", "zip5",
    "street_number", "street_name", "city_std", "state", "sex",
)
# Name columns swapped on the right when the names agree only the other way round.
_SWAP = {"given_std": "family_std", "given_key": "family_key", "given_dm1": "family_dm1",
         "family_std": "given_std", "family_key": "given_key", "family_dm1": "given_dm1"}


def pair_frame_sql(pairs: str = "pairs", features: str = "features") -> str:
    """Each pair with both sides' features; names oriented the way they agree."""
    swapped = ("(l.given_key = r.family_key AND l.family_key = r.given_key AND "
               "l.given_key <> l.family_key)")
    cols = []
    for c in PAIR_COLUMNS:
        cols.append(f"l.{ident(c)} AS {ident(c + '_l')}")
        if c in _SWAP:
            cols.append(f"CASE WHEN {swapped} THEN r.{ident(_SWAP[c])} ELSE r.{ident(c)} END "
                        f"AS {ident(c + '_r')}")
        else:
            cols.append(f"r.{ident(c)} AS {ident(c + '_r')}")
    return (f"SELECT p.rid_l, p.rid_r, p.rule, p.rules, coalesce({swapped}, FALSE) AS swapped, "
            f"{', '.join(cols)} FROM {pairs} p JOIN {features} l ON l.rid = p.rid_l "
            f"JOIN {features} r ON r.rid = p.rid_r")


def _similarity(column: str, key: str) -> str:
    """Jaro-Winkler of a name pair, only where it decides the level: 1 for the same name;
    not computed (NULL) where the variant keys agree, a stronger level."""
    lf, rt = f"f.{column}_l", f"f.{column}_r"
    return (f"CASE WHEN {lf} = {rt} THEN 1.0 WHEN f.{key}_l = f.{key}_r THEN NULL "
            f"ELSE jaro_winkler_similarity({lf}, {rt}) END")


def gammas_sql(frame: str = "pair_frame") -> str:
    """One row per pair: rid_l, rid_r, rule, rules, the left names (for term frequencies)
    and gamma_<comparison> for each comparison. Only these narrow columns are kept, so the
    frame itself can stay a view. String similarity is computed per pair, and only where no
    stronger level holds (cheaper than computing it once per distinct name pair and joining
    it back, which evaluates the frame again)."""
    gammas = ", ".join(f"{c.gamma_sql()} AS {ident('gamma_' + c.name)}" for c in COMPARISONS)
    return (
        f"SELECT f.rid_l, f.rid_r, f.rule, f.rules, f.given_std_l, f.family_std_l, {gammas} "
        f"FROM (SELECT f.*, {_similarity('given_std', 'given_key')} AS jw_given, "
        f"{_similarity('family_std', 'family_key')} AS jw_family FROM {frame} f) f"
    )


# Which comparison a blocking key says something about (for EM sessions per rule).
_KEY_COMPARISON = {
    "given_std": "given_name", "given_key": "given_name", "given_dm1": "given_name",
    "given_dm2": "given_name", "family_std": "family_name", "family_key": "family_name",
    "family_dm1": "family_name", "family_dm2": "family_name", "dob": "dob", "dob_y": "dob",
    "dob_m": "dob", "dob_d": "dob", "ssn": "ssn", "ssn_last4": "ssn", "a_number": "a_number",
    "passport": "passport", "itin": "itin", "zip5": "address", "city_std": "address",
    "street_name": "address", "sex": "sex",
}


def comparisons_for_keys(keys: list[str]) -> set[str]:
    return {_KEY_COMPARISON[k] for k in keys if k in _KEY_COMPARISON}
