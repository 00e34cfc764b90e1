"""What ingest may use: its memory limit is applied while it runs and restored after; rows are
staged in pieces the engine shares between threads, with the same result as in one piece."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.ingest import ingest_file, pipeline
from accord.ingest.pipeline import Resources
from accord.sql.resources import MIB
from accord.sql.workspace import Workspace
from accord.store import Store
from conftest import WriteExtract

MAPPING = {"source": "shelter", "system": "hhs-shelter", "format": "csv", "record_id": "Case",
           "fields": {"full_name": {"column": "Name", "layout": "given family"},
                      "dob": {"column": "Born", "format": "%d/%m/%Y"}, "a_number": "A#"}}


def _rows(n: int) -> str:
    lines = ["Case,Name,Born,A#"]
    for i in range(n):
        born = "bad" if i % 7 == 3 else f"{1 + i % 28:02d}/{1 + i % 12:02d}/19{50 + i % 40}"
        case = "" if i % 11 == 5 else i % (n - 5)   # a few missing and a few repeated ids
        lines.append(f"{case},Ana{i} Ruiz,{born},A{100000000 + i}")
    return "\n".join(lines) + "\n"


def _setting(store: Store, name: str) -> str:
    return str(store.scalar(f"SELECT current_setting('{name}')"))


def test_the_memory_limit_applies_while_ingesting_and_is_restored(
        write_extract: WriteExtract, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mapping = write_extract(MAPPING, _rows(50))
    seen: dict[str, str] = {}
    real = pipeline._ingest

    def spy(ws: Workspace, *args: Any) -> Any:
        seen["memory_limit"] = _setting(ws.compute, "memory_limit")
        seen["threads"] = _setting(ws.compute, "threads")
        return real(ws, *args)

    monkeypatch.setattr(pipeline, "_ingest", spy)
    with Store(store_path) as store:
        before = (_setting(store, "memory_limit"), _setting(store, "threads"))
        ingest_file(store, mapping, resources=Resources(memory_limit="200MiB", threads=1))
        assert seen == {"memory_limit": "200.0 MiB", "threads": "1"}
        assert (_setting(store, "memory_limit"), _setting(store, "threads")) == before

        # A failed ingest restores them too.
        def fail(ws: Workspace, *args: Any) -> Any:
            seen["memory_limit"] = _setting(ws.compute, "memory_limit")
            raise RuntimeError("crash")

        monkeypatch.setattr(pipeline, "_ingest", fail)
        with pytest.raises(RuntimeError, match="crash"):
            ingest_file(store, mapping, resources=Resources(memory_limit="150MiB"))
        assert seen["memory_limit"] == "150.0 MiB"
        assert (_setting(store, "memory_limit"), _setting(store, "threads")) == before


def test_auto_limit_follows_the_file_size() -> None:
    r = Resources()
    assert r.budget(10) == 256 * MIB  # the floor
    assert r.budget(100 * 10**6) == 4 * 100 * 10**6
    assert Resources(memory_limit="1GB").budget(10) == 10**9
    assert Resources(memory_limit=None).budget(10**9) is None
    huge = r.budget(10**15)
    assert huge is not None and huge < 4 * 10**15  # at most half the machine


def test_staging_in_small_pieces_stores_the_same(write_extract: WriteExtract, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data = _rows(300)
    out = []
    for rows in (10**6, 7):
        monkeypatch.setattr(pipeline, "CHUNK_ROWS", rows)
        mapping = write_extract(MAPPING, data, name=f"shelter{rows}.csv")
        with Store(tmp_path / f"s{rows}.duckdb") as store:
            r = ingest_file(store, mapping)
            out.append(((r.rows_read, r.accepted, r.unchanged, r.quarantined, r.flagged),
                        store.query("SELECT record_id, row_number, given_name, dob, a_number, "
                                    "CAST(flags AS VARCHAR) FROM records ORDER BY ALL"),
                        store.query("SELECT row_number, record_id, field, reason FROM quarantine "
                                    "ORDER BY ALL")))
    assert out[0] == out[1]
    counts, records, quarantine = out[0]
    assert counts[0] == 300 and counts[3] > 25  # missing and conflicting repeated ids
    assert counts[4] > 30                       # bad dates, flagged
    assert records and quarantine
