"""A mapping's dry run (``accord mapping check``): what ingest would make of an extract,
without a store and without storing anything.

It reads the first rows of the file (a sample) as ingest would, validates them with the same
query (``accord.ingest.transform``) in a private in-memory engine and reports, per mapped
field, how many sampled rows have a value and how many fail its rule (flagged or
quarantined), with the most common reason; the columns the file has and those the mapping
leaves unused; whether the mapping's record system is registered (with the nearest name when
it is not); for a date field that fails, the formats that read its values best; and whether
ingest would refuse the file under the failure-rate rule (``accord.ingest.failures``).

Only counts, reasons, column names and formats are reported, never a value: the sample is
person data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from accord.ingest.failures import (
    DEFAULT_MAX_FAILURE_RATE,
    RECORD_ID,
    UNPARSEABLE,
    FieldFailures,
    failures,
    outcome_of,
    over_limit,
    staged_failures_sql,
)
from accord.ingest.registration import unknown_system
from accord.ingest.transform import EARLIEST_DATE, FUTURE_OK, ISO, transform_sql
from accord.sources.dates import CANDIDATES
from accord.sources.fields import catalogue
from accord.sources.mapping import MappingFile, load_mapping_file
from accord.sources.readers import ROW, open_extract
from accord.sql_text import ident, lit

DEFAULT_SAMPLE_ROWS = 10_000
_MOST_SUGGESTIONS = 3


@dataclass
class FieldCheck:
    """One mapped field (or ``record_id``, or ``(row)``: rows that cannot be parsed) in the
    sample: rows with a value, rows that fail, what ingest does with them, why, and for a date
    field that fails the formats that read the most of its values."""

    field: str
    column: str | None
    values: int
    failed: int
    outcome: str
    reason: str | None
    suggested_formats: list[str] = _field(default_factory=list)
    suggestion_reads: int = 0


@dataclass
class MappingCheck:
    mapping: str
    file: str
    source: str
    system: str
    system_problem: str | None
    format: str
    columns: list[str]
    unused_columns: list[str]
    rows: int
    whole_file: bool
    max_failure_rate: float
    fields: list[FieldCheck]
    refused: list[str]

    @property
    def ok(self) -> bool:
        """Whether ingest would take the file (as far as the sample shows)."""
        return not self.refused and self.system_problem is None


def check_mapping(mapping_path: str | Path, file: str | Path | None = None, *,
                  sample_rows: int = DEFAULT_SAMPLE_ROWS,
                  max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE,
                  systems: Collection[str] | None = None) -> MappingCheck:
    """Dry-run ``mapping_path`` on the first ``sample_rows`` rows of its data file (``file``,
    else the mapping's ``file:``). A mapping or a file that ingest could not read at all
    raises the error ingest would raise (``MappingError``, ``SourceFileError``)."""
    mf = load_mapping_file(mapping_path)
    path = mf.data_path(file)
    extract = open_extract(mf, path)
    sample, whole = _sample(extract.batches, extract.columns, sample_rows)
    last_row = int(pc.max(sample.column(ROW)).as_py() or 0) if sample.num_rows else 0
    bad = [b for b in extract.bad_rows if whole or b.row_number <= last_row]
    rows = sample.num_rows + len(bad)
    con = duckdb.connect()
    try:
        con.register("batch", sample)
        staged = transform_sql(mf.spec, extract.columns, extract.native_dates)
        con.execute(f"CREATE TEMP TABLE _stage AS {staged}")
        found = {f.field: f for f in failures(con.execute(staged_failures_sql()).fetchall(), bad)}
        fields = _fields(con, mf, found, extract.native_dates)
    finally:
        con.close()
    used = set(mf.spec.columns_used())
    return MappingCheck(
        mapping=str(mf.path), file=str(path), source=mf.spec.source, system=mf.spec.system,
        system_problem=unknown_system(mf.spec.system, systems) if systems is not None else None,
        format=mf.spec.format, columns=list(extract.columns),
        unused_columns=[c for c in extract.columns if c not in used], rows=rows, whole_file=whole,
        max_failure_rate=max_failure_rate, fields=fields,
        refused=[f.field for f in over_limit(found.values(), rows, max_failure_rate)])


def _sample(batches: Iterable[pa.RecordBatch], columns: list[str], limit: int) -> tuple[pa.Table, bool]:
    """The first ``limit`` rows of the extract, and whether they are the whole file."""
    taken: list[pa.RecordBatch] = []
    count = 0
    whole = True
    for b in batches:
        if count >= limit or b.num_rows > limit - count:
            whole = False
        if count >= limit:
            break
        taken.append(b.slice(0, limit - count))
        count += taken[-1].num_rows
    schema = pa.schema([(c, pa.string()) for c in columns] + [(ROW, pa.int64())])
    return pa.Table.from_batches(taken, schema=schema), whole


def _fields(con: duckdb.DuckDBPyConnection, mf: MappingFile, found: dict[str, FieldFailures],
            native_dates: set[str]) -> list[FieldCheck]:
    m = mf.spec
    present = {n: f"count(NULLIF(trim({ident(s.column)}), ''))" for n, s in m.fields.items()}
    values = con.execute(f"SELECT {', '.join(present.values()) or '0'} FROM batch").fetchone() or ()
    with_id = int(con.execute("SELECT count(record_id) FROM _stage").fetchone()[0])  # type: ignore[index]
    ids = ", ".join(m.record_id_columns)

    def check(name: str, column: str | None, n: int) -> FieldCheck:
        f = found.get(name)
        return FieldCheck(name, column, n, f.failed if f else 0,
                          f.outcome if f else outcome_of(name), f.reason if f else None)

    out = [check(RECORD_ID, ids, with_id)]
    for (name, spec), n in zip(m.fields.items(), values, strict=False):
        fc = check(name, spec.column, int(n))
        if fc.failed and catalogue()[name].type == "date" and spec.column not in native_dates:
            current = spec.formats or [ISO]
            fc.suggested_formats, fc.suggestion_reads = _suggest(con, spec.column, name, current)
        out.append(fc)
    if UNPARSEABLE in found:
        f = found[UNPARSEABLE]
        out.append(FieldCheck(UNPARSEABLE, None, 0, f.failed, f.outcome, f.reason))
    return out


def _suggest(con: duckdb.DuckDBPyConnection, column: str, name: str,
             current: list[str]) -> tuple[list[str], int]:
    """The candidate formats that read the most of the column's sampled values as plausible
    dates (more than the mapping's own formats do), and how many they read."""
    upper = "DATE '2100-12-31'" if name in FUTURE_OK else "current_date"
    value = f"NULLIF(trim({ident(column)}), '')"

    def reads(fmts: list[str]) -> str:
        parsed = f"CAST(try_strptime({value}, [{', '.join(lit(f) for f in fmts)}]) AS DATE)"
        return f"count(*) FILTER (WHERE {parsed} BETWEEN DATE '{EARLIEST_DATE}' AND {upper})"

    tried = [f for f in CANDIDATES if f not in current]
    each = ", ".join(reads([f]) for f in tried)
    row = con.execute(f"SELECT {reads(current)}, {each} FROM batch").fetchone()
    if row is None:
        return [], 0
    own, counts = int(row[0]), [int(n) for n in row[1:]]
    best = max(counts, default=0)
    if best <= own:
        return [], 0
    return [f for f, n in zip(tried, counts, strict=True) if n == best][:_MOST_SUGGESTIONS], best
