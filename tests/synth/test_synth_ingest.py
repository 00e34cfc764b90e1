"""A generated world goes through ingest as designed: every row is read, and exactly the
deliberately bad rows (bad_rows.csv) are quarantined."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.synth import SynthConfig, generate

from .synth_helpers import read_csv_rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_only_the_bad_rows_are_quarantined(tmp_path: Path, fmt: str,
                                           ingest: Callable[..., Any],
                                           query: Callable[..., list[tuple[Any, ...]]]) -> None:
    cfg = dataclasses.replace(SynthConfig(), bad_row_rate=0.02)
    world = generate(1200, 5, tmp_path / "world", fmt=fmt, config=cfg)
    for w in world.extracts:
        result = ingest(w.mapping_path)
        assert result.rows_read == w.rows, w.source
    expected = {(b["source"], b["record_id"], b["value"])
                for b in read_csv_rows(world.bad_rows_path)}
    assert {s for s, _, _ in expected} >= {"irs", "ssa", "uscis", "cbp", "medicaid", "voter"}
    quarantined = set(query("SELECT source, record_id, raw_value FROM quarantine"))
    assert quarantined == expected
