"""The failure-rate rule (accord.ingest.failures): a batch in which one field fails on more than
the accepted share of its rows is refused and loads nothing; identity fields that flag count as
well as fact fields that quarantine, and so do rows without a record id or that cannot be
parsed. Also: date formats are checked when the mapping loads, and a source's record system
must be registered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.errors import MappingError
from accord.governance.registry import registry
from accord.ingest import IngestResult, ingest_file
from accord.ingest.failures import DEFAULT_MAX_FAILURE_RATE, FailureRateError
from accord.store import Store
from conftest import Query, WriteExtract

Ingest = Callable[..., IngestResult]
TABLES = ("sources", "ingest_batches", "records", "quarantine")

MAPPING: dict[str, Any] = {
    "source": "court", "system": "eoir-case", "format": "csv", "record_id": "id",
    "fields": {"full_name": {"column": "name", "layout": "given family"},
               "dob": {"column": "born", "format": "%Y-%m-%d"},
               "case_status": {"column": "status", "values": {"P": "in_proceedings", "C": "terminated"}}}}
SECRET = "Zebediah"   # a name in the bad rows: it must never appear in an error


def _csv(good: int, bad_dob: int = 0, bad_status: int = 0, no_id: int = 0, ragged: int = 0) -> str:
    rows = ["id,name,born,status"]
    n = 0
    for kind, count in (("good", good), ("dob", bad_dob), ("status", bad_status), ("id", no_id)):
        for _ in range(count):
            n += 1
            good_date, day_first = f"19{50 + n % 40}-0{1 + n % 9}-1{n % 10}", f"1{n % 10}/0{1 + n % 9}/1970"
            born = day_first if kind == "dob" else good_date
            status = "Q" if kind == "status" else "P"
            rows.append(f"{'' if kind == 'id' else n},{SECRET} {n},{born},{status}")
    rows += ["x,y"] * ragged
    return "\n".join(rows) + "\n"


def _counts(query: Query) -> dict[str, int]:
    return {t: int(query(f"SELECT count(*) FROM {t}")[0][0]) for t in TABLES}


@pytest.mark.parametrize(
    ("rows", "field", "said"),
    [
        pytest.param({"good": 6, "bad_dob": 21}, "dob", "rows fail dob (78%, flagged: date does not "
                     "match format %Y-%m-%d)", id="identity field: 21 of 27 would be flagged"),
        pytest.param({"good": 1, "bad_dob": 2}, "dob", "rows fail dob (67%, flagged",
                     id="2 bad of 3 (under the old 10-row floor)"),
        pytest.param({"good": 3, "bad_status": 1}, "case_status", "rows fail case_status (25%, quarantined: "
                     "code not in the mapping values map", id="fact field: 1 of 4 would quarantine"),
        pytest.param({"good": 3, "no_id": 1}, "record_id", "rows fail record_id (25%, quarantined: missing "
                     "record id", id="rows without a record id"),
        pytest.param({"good": 3, "ragged": 1}, "(row)", "rows cannot be parsed (25%, quarantined: expected 4 "
                     "fields, found 2)", id="rows that cannot be parsed"),
    ],
)
def test_a_field_failing_on_more_than_a_fifth_of_the_rows_refuses_the_batch_and_loads_nothing(
        write_extract: WriteExtract, ingest: Ingest, query: Query, rows: dict[str, int], field: str,
        said: str) -> None:
    ingest(write_extract(MAPPING, _csv(good=4), name="before.csv"))
    before = _counts(query)
    path = write_extract(MAPPING, _csv(**rows), name="bad.csv")
    with pytest.raises(FailureRateError) as info:
        ingest(path, max_failure_rate=DEFAULT_MAX_FAILURE_RATE)
    assert _counts(query) == before                    # no batch, no quarantine, no records
    message = str(info.value)
    total = sum(rows.values())
    bad = total - rows["good"]
    assert "bad.csv" in message and "nothing was loaded" in message
    assert f"refused: {bad} of {total} {said}" in message
    assert "more than 20%" not in message and "at most 20%" in message
    assert "--accept-failure-rate" in message and SECRET not in message
    assert [f.field for f in info.value.over] == [field]


def test_a_fifth_of_the_rows_failing_still_loads(write_extract: WriteExtract, ingest: Ingest) -> None:
    r = ingest(write_extract(MAPPING, _csv(good=4, bad_dob=1)), max_failure_rate=DEFAULT_MAX_FAILURE_RATE)
    assert (r.rows_read, r.accepted, r.flagged) == (5, 5, 1)


def test_the_accepted_rate_can_be_raised_for_one_batch(
        write_extract: WriteExtract, ingest: Ingest, query: Query) -> None:
    path = write_extract(MAPPING, _csv(good=6, bad_dob=21))
    with pytest.raises(FailureRateError, match=r"give --accept-failure-rate 0\.78"):
        ingest(path, max_failure_rate=0.77)
    r = ingest(path, max_failure_rate=0.78)
    assert (r.rows_read, r.accepted, r.quarantined, r.flagged) == (27, 27, 0, 21)


def test_every_field_over_the_limit_is_named(write_extract: WriteExtract, ingest: Ingest) -> None:
    with pytest.raises(FailureRateError) as info:
        ingest(write_extract(MAPPING, _csv(good=2, bad_dob=2, bad_status=3)), max_failure_rate=0.2)
    assert [f.field for f in info.value.over] == ["case_status", "dob"]
    assert [f.outcome for f in info.value.over] == ["quarantine", "flag"]


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        pytest.param("%Q-%m", "unknown date directive '%Q' in '%Q-%m'", id="unknown directive"),
        pytest.param(["%Y-%m-%d", "%d/%m/%Y %"], "ends with a lone '%'", id="lone percent in a list"),
        pytest.param("YYYY-MM-DD", "has no year directive", id="no directive at all"),
        pytest.param("%m/%d", "has no year directive", id="no year"),
        pytest.param("%-q/%Y", "unknown date directive '%-q'", id="unknown unpadded directive"),
    ],
)
def test_a_bad_date_format_is_an_error_naming_file_key_and_directive(
        write_extract: WriteExtract, ingest: Ingest, query: Query, fmt: Any, said: str) -> None:
    mapping = {**MAPPING, "fields": {**MAPPING["fields"], "dob": {"column": "born", "format": fmt}}}
    path = write_extract(mapping, _csv(good=2))
    with pytest.raises(MappingError) as info:
        ingest(path)
    assert str(info.value).startswith(f"{path}:")
    assert info.value.key == "fields.dob.format" and info.value.line is not None and said in str(info.value)
    assert _counts(query) == dict.fromkeys(TABLES, 0)


def test_good_date_formats_load(write_extract: WriteExtract, ingest: Ingest) -> None:
    mapping = {**MAPPING, "fields": {**MAPPING["fields"], "dob": {
        "column": "born", "format": ["%Y-%m-%d", "%-d/%-m/%Y", "%d %b %Y", "%Y%m%d", "%%%Y"]}}}
    assert ingest(write_extract(mapping, _csv(good=2))).accepted == 2


def test_an_unregistered_system_is_refused_with_the_nearest_name(
        write_extract: WriteExtract, store_path: Path, query: Query) -> None:
    path = write_extract({**MAPPING, "system": "eoir-cases"}, _csv(good=2))
    with Store(store_path) as store, pytest.raises(MappingError) as info:
        ingest_file(store, path, systems=registry().systems)
    assert info.value.key == "system" and info.value.line == 2
    assert "unknown record system 'eoir-cases'; did you mean 'eoir-case'?" in str(info.value)
    assert _counts(query) == dict.fromkeys(TABLES, 0)
