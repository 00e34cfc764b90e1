"""A generated world goes through ingest as designed: every row is read, the deliberately bad
rows (bad_rows.csv) with a bad fact are quarantined, and those with a bad identity value are
stored with that value flagged (docs/ingest.md)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.sources.fields import catalogue
from accord.sources.mapping import load_mapping
from accord.synth import SynthConfig, generate

from .synth_helpers import read_csv_rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_bad_facts_are_quarantined_and_bad_identity_values_flagged(
        tmp_path: Path, fmt: str, ingest: Callable[..., Any],
        query: Callable[..., list[tuple[Any, ...]]]) -> None:
    cfg = dataclasses.replace(SynthConfig(), bad_row_rate=0.02)
    world = generate(1200, 5, tmp_path / "world", fmt=fmt, config=cfg)
    fields: dict[tuple[str, str], str] = {}
    for w in world.extracts:
        result = ingest(w.mapping_path)
        assert result.rows_read == w.rows, w.source
        m = load_mapping(w.mapping_path)
        fields |= {(m.source, spec.column): name for name, spec in m.fields.items()}
    kinds = catalogue()
    quarantine, flagged = set(), set()
    for b in read_csv_rows(world.bad_rows_path):
        field = fields[(b["source"], b["column"])]
        if kinds[field].kind == "identity":
            flagged.add((b["source"], b["record_id"], field, b["value"]))
        else:
            quarantine.add((b["source"], b["record_id"], b["value"]))
    assert {s for s, *_ in quarantine} >= {"irs", "ssa", "uscis", "cbp"}
    assert {s for s, *_ in flagged} >= {"irs", "ssa", "cbp", "medicaid", "voter"}
    assert set(query("SELECT source, record_id, raw_value FROM quarantine")) == quarantine
    stored = {(s, r, f["field"], f["value"]) for s, r, text in query(
        "SELECT source, record_id, flags FROM records WHERE flags IS NOT NULL") for f in json.loads(text)}
    assert stored == flagged
    # The flagged column is empty on the stored record.
    for s, r, field, _ in sorted(flagged)[:20]:
        assert query(f"SELECT {field} FROM records WHERE source = ? AND record_id = ?", [s, r]) == [(None,)]
