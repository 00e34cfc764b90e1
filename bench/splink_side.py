"""The Splink 5 (DuckDB) contender of bench_resolve.py.

A fair, simple data-engineer pipeline: read every extract with DuckDB, use its mapping YAML to
select and rename columns into one common schema (upper-case, accents and punctuation stripped,
"family, given" split, dates parsed with the mapping's formats, identifiers reduced to digits),
then a conventional Splink model: term-frequency adjusted name comparisons, a date-of-birth
comparison with within-a-month/year levels, identifier comparisons, several prediction blocking
rules, lambda from deterministic rules, u by random sampling, m by EM on two blocking rules,
predict and connected components at a match-probability threshold.

Used by bench_resolve.py in its own process; ``run_splink`` returns clusters as an Arrow table
``(source, record_id, cluster_id)`` plus timings.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from accord.sources.mapping import FieldSpec, Mapping, load_mapping

# Common schema every extract is projected onto (all VARCHAR).
COLUMNS = ("unique_id", "source", "record_id", "first_name", "middle_name", "family_name", "dob",
           "sex", "ssn", "ssn_last4", "a_number", "passport", "zip5", "city", "state")

DEFAULT_THRESHOLD = 0.95


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _clean_name(expr: str) -> str:
    """Upper-case, strip accents, keep letters and spaces, collapse spaces; '' -> NULL."""
    e = f"upper(strip_accents(CAST({expr} AS VARCHAR)))"
    e = f"regexp_replace({e}, '[^A-Z ]', '', 'g')"
    e = f"trim(regexp_replace({e}, ' +', ' ', 'g'))"
    return f"nullif({e}, '')"


def _digits(expr: str) -> str:
    return f"regexp_replace(CAST({expr} AS VARCHAR), '[^0-9]', '', 'g')"


def _read_sql(m: Mapping, path: Path) -> str:
    p = _lit(str(path))
    if m.format == "parquet":
        return f"read_parquet({p})"
    if m.format == "jsonl":
        return f"read_json({p}, format = 'newline_delimited')"
    opts = [f"delim = {_lit(m.csv.delimiter)}", f"quote = {_lit(m.csv.quote)}", "all_varchar = true",
            f"header = {'true' if m.csv.header else 'false'}"]
    enc = m.csv.encoding.lower().replace("_", "-")
    if enc not in ("utf-8", "utf8"):
        opts.append("encoding = 'latin-1'" if enc in ("latin-1", "latin1", "iso-8859-1", "cp1252")
                    else f"encoding = {_lit(m.csv.encoding)}")
    if m.csv.columns:
        opts.append("names = [" + ", ".join(_lit(c) for c in m.csv.columns) + "]")
    return f"read_csv({p}, {', '.join(opts)})"


def _mapped(spec: FieldSpec) -> str:
    """The column as text, with the mapping's `values` map applied when it has one."""
    col = f"CAST({_q(spec.column)} AS VARCHAR)"
    if not spec.values:
        return col
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in spec.values.items() if k != "")
    return f"CASE {col} {whens} ELSE {col} END"


def _date(spec: FieldSpec) -> str:
    fmts = spec.formats or ["%Y-%m-%d"]
    fmt = _lit(fmts[0]) if len(fmts) == 1 else "[" + ", ".join(_lit(f) for f in fmts) + "]"
    return f"strftime(CAST(try_strptime(CAST({_q(spec.column)} AS VARCHAR), {fmt}) AS DATE), '%Y-%m-%d')"


def extract_select(m: Mapping, path: Path) -> str:
    """SELECT projecting one extract onto COLUMNS."""
    f = m.fields
    ids = m.record_id_columns
    rid = (f"CAST({_q(ids[0])} AS VARCHAR)" if len(ids) == 1
           else "concat_ws('|', " + ", ".join(f"CAST({_q(c)} AS VARCHAR)" for c in ids) + ")")
    out: dict[str, str] = {"record_id": rid}

    given = middle = family = None
    if "given_name" in f:
        given = _clean_name(_q(f["given_name"].column))
    if "given_names" in f:  # given then middles
        gn = _clean_name(_q(f["given_names"].column))
        given = f"split_part({gn}, ' ', 1)"
        middle = f"nullif(trim(substr({gn}, length(split_part({gn}, ' ', 1)) + 1)), '')"
    if "middle_name" in f:
        middle = _clean_name(_q(f["middle_name"].column))
    if "family_name" in f:
        family = _clean_name(_q(f["family_name"].column))
    if "full_name" in f:
        spec = f["full_name"]
        raw = f"CAST({_q(spec.column)} AS VARCHAR)"
        if spec.layout == "family, given":
            family = _clean_name(f"split_part({raw}, ',', 1)")
            rest = _clean_name(f"split_part({raw}, ',', 2)")
            given = f"split_part({rest}, ' ', 1)"
            middle = f"nullif(trim(substr({rest}, length(split_part({rest}, ' ', 1)) + 1)), '')"
        else:
            n = _clean_name(raw)
            given = f"split_part({n}, ' ', 1)"
            if spec.layout == "given middle family":
                family = f"nullif(regexp_extract({n}, '([A-Z]+)$', 1), '')"
                middle = f"nullif(trim(regexp_extract({n}, '^[A-Z]+ (.*) [A-Z]+$', 1)), '')"
            else:  # "given family": everything after the first word is the family name
                family = f"nullif(trim(substr({n}, length(split_part({n}, ' ', 1)) + 1)), '')"
    out["first_name"] = f"nullif({given}, '')" if given else "NULL"
    out["middle_name"] = middle or "NULL"
    out["family_name"] = family or "NULL"

    out["dob"] = _date(f["dob"]) if "dob" in f else "NULL"
    out["sex"] = (f"CASE upper(left(trim({_mapped(f['sex'])}), 1)) WHEN 'M' THEN 'M' WHEN 'F' THEN 'F' END"
                  if "sex" in f else "NULL")

    ssn_col = f.get("ssn") or f.get("tin")  # a TIN is an SSN or an ITIN (9xx), never ambiguous
    if ssn_col is not None:
        d = _digits(_q(ssn_col.column))
        out["ssn"] = f"CASE WHEN length({d}) = 9 AND {d} NOT LIKE '000%' THEN {d} END"
    else:
        out["ssn"] = "NULL"
    if "ssn_last4" in f:
        d = _digits(_q(f["ssn_last4"].column))
        out["ssn_last4"] = f"CASE WHEN length({d}) = 4 THEN {d} END"
    else:
        out["ssn_last4"] = "NULL"  # the outer select falls back to the SSN's last four

    if "a_number" in f:
        d = _digits(_q(f["a_number"].column))
        out["a_number"] = f"CASE WHEN length({d}) BETWEEN 7 AND 9 THEN lpad({d}, 9, '0') END"
    else:
        out["a_number"] = "NULL"
    if "passport_number" in f:
        col = _q(f["passport_number"].column)
        p = f"upper(regexp_replace(CAST({col} AS VARCHAR), '[^A-Za-z0-9]', '', 'g'))"
        out["passport"] = f"nullif({p}, '')"
    else:
        out["passport"] = "NULL"

    addr = f"CAST({_q(f['full_address'].column)} AS VARCHAR)" if "full_address" in f else None
    if "zip" in f:
        d = _digits(_q(f["zip"].column))
        out["zip5"] = f"CASE WHEN length({d}) IN (5, 9) THEN left({d}, 5) END"
    elif addr:
        out["zip5"] = f"nullif(regexp_extract({addr}, '(\\d{{5}})(-\\d{{4}})?\\s*$', 1), '')"
    else:
        out["zip5"] = "NULL"
    if "city" in f:
        out["city"] = _clean_name(_q(f["city"].column))
    elif addr:  # "street, city, ST 12345"
        out["city"] = _clean_name(f"regexp_extract({addr}, ',\\s*([^,]+),\\s*[A-Za-z]{{2}}\\s+\\d{{5}}', 1)")
    else:
        out["city"] = "NULL"
    if "state" in f:
        out["state"] = f"nullif(upper(trim(CAST({_q(f['state'].column)} AS VARCHAR))), '')"
    elif addr:
        out["state"] = f"nullif(upper(regexp_extract({addr}, ',\\s*([A-Za-z]{{2}})\\s+\\d{{5}}', 1)), '')"
    else:
        out["state"] = "NULL"

    inner = ",\n  ".join(f"{expr} AS {name}" for name, expr in out.items())
    src = _lit(m.source)
    return f"""
SELECT {src} || ':' || record_id AS unique_id, {src} AS source, record_id, first_name, middle_name,
  family_name, dob, sex, ssn, coalesce(ssn_last4, right(ssn, 4)) AS ssn_last4, a_number, passport,
  zip5, city, state
FROM (SELECT
  {inner}
FROM {_read_sql(m, path)}) WHERE record_id IS NOT NULL AND record_id <> ''"""


def build_input(con: duckdb.DuckDBPyConnection, mapping_paths: list[Path]) -> int:
    """Create table ``people`` in the common schema from every extract; return its row count."""
    parts = []
    for mp in mapping_paths:
        m = load_mapping(mp)
        data = (mp.parent / m.file) if m.file else mp.with_name(f"{m.source}.{m.format}")
        parts.append(extract_select(m, data))
    union = "\nUNION ALL\n".join(parts)
    # One row per unique_id (a source could repeat a record id).
    con.execute(f"CREATE OR REPLACE TABLE people AS SELECT * FROM ({union}) "
                "QUALIFY row_number() OVER (PARTITION BY unique_id) = 1")
    return int(con.execute("SELECT count(*) FROM people").fetchall()[0][0])


# Prediction blocking rules: the plain configuration takes the first six.
BLOCKING_KEYS: tuple[tuple[str, ...], ...] = (
    ("ssn",), ("a_number",), ("passport",), ("family_name", "dob"), ("first_name", "dob"),
    ("family_name", "zip5"), ("ssn_last4", "dob"))


def _creator(comparisons: list[Any], rules: tuple[tuple[str, ...], ...]) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*keys) for keys in rules],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


def settings() -> SettingsCreator:
    ssn = cl.CustomComparison(
        output_column_name="ssn",
        comparison_levels=[
            cll.And(cll.NullLevel("ssn"), cll.NullLevel("ssn_last4")),
            cll.ExactMatchLevel("ssn"),
            cll.LevenshteinLevel("ssn", 1),
            cll.ExactMatchLevel("ssn_last4"),
            cll.ElseLevel(),
        ],
        comparison_description="SSN: exact, one edit, last four digits only",
    )
    return _creator([
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d",
                                 datetime_metrics=["month", "year", "year"],
                                 datetime_thresholds=[1, 1, 10]),
        ssn,
        cl.LevenshteinAtThresholds("a_number", 1),
        cl.ExactMatch("passport"),
        cl.ExactMatch("zip5").configure(term_frequency_adjustments=True),
        cl.ExactMatch("sex"),
    ], BLOCKING_KEYS)


def plain_settings() -> SettingsCreator:
    """The configuration a competent user writes first, from Splink's own examples:
    Jaro-Winkler on first and family name with term-frequency adjustment, Splink's
    date-of-birth comparison, Damerau-Levenshtein on the SSN, exact A-number, passport and ZIP,
    six prediction blocking rules (bench_resolve.py clusters it at 0.9)."""
    return _creator([
        cl.JaroWinklerAtThresholds("first_name", [0.9, 0.7]).configure(
            term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("family_name", [0.9, 0.7]).configure(
            term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
        cl.DamerauLevenshteinAtThresholds("ssn", 1),
        cl.ExactMatch("a_number"),
        cl.ExactMatch("passport"),
        cl.ExactMatch("zip5"),
    ], BLOCKING_KEYS[:6])


CONFIGS = {"heavy": settings, "plain": plain_settings}


def run_splink(mapping_paths: list[Path], seed: int = 1, threshold: float = DEFAULT_THRESHOLD,
               predict_floor: float | None = None, em_max_pairs: float | None = None,
               verbose: bool = False, config: str = "heavy") -> tuple[pa.Table, dict[str, Any]]:
    """Extract files -> clusters. Returns (source, record_id, cluster_id) and step timings.

    ``config``: ``heavy`` (:func:`settings`: u from 1e7 random pairs, EM on two rules) or
    ``plain`` (:func:`plain_settings`: u from 2e6 random pairs, EM on two rules).

    ``em_max_pairs``: Splink 5's cap on the blocked pairs one EM session trains on (sampled);
    None (Splink's default) trains on every pair the EM blocking rule finds.

    ``predict_floor``: keep predicted pairs at or above this probability (default: the
    clustering threshold); lower it to cluster the same predictions at several thresholds.
    """
    steps: dict[str, float] = {}
    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    records = build_input(con, mapping_paths)
    steps["read+standardise"] = time.perf_counter() - t

    t1 = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    df = db_api.register("people")
    linker = Linker(df, CONFIGS[config](), log_level=logging.INFO if verbose else logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("ssn", "first_name"), block_on("a_number", "dob"), block_on("passport", "dob"),
         block_on("first_name", "family_name", "dob")],
        recall=0.8,
    )
    steps["train: lambda"] = time.perf_counter() - t1
    t = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7 if config == "heavy" else 2e6,
                                                     seed=seed)
    steps["train: u"] = time.perf_counter() - t
    for cols in (("first_name", "family_name"), ("dob",)):
        t = time.perf_counter()
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), max_pairs=em_max_pairs)
        steps[f"train: EM {'+'.join(cols)}"] = time.perf_counter() - t

    t2 = time.perf_counter()
    floor = threshold if predict_floor is None else min(predict_floor, threshold)
    predictions = linker.inference.predict(threshold_match_probability=floor)
    steps["predict"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    out = con.sql(f"SELECT source, record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
                  f"FROM {clusters.physical_name}").to_arrow_table()
    steps["cluster"] = time.perf_counter() - t3
    info: dict[str, Any] = {"records": records, "steps": steps,
                            "predicted_pairs": int(con.execute(
                                f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]),
                            "threshold": threshold, "em_max_pairs": em_max_pairs,
                            "config": config}
    info["_linker"] = linker
    info["_predictions"] = predictions
    return out, info


def recluster(info: dict[str, Any], threshold: float) -> pa.Table:
    """Cluster the same predictions at another threshold (for threshold tuning, untimed)."""
    linker, predictions = info["_linker"], info["_predictions"]
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    return linker._db_api.duckdb_con.sql(
        f"SELECT source, record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
        f"FROM {clusters.physical_name}").to_arrow_table()
