"""Helpers for the synth tests: reading a written world back as text."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from accord.sources.mapping import Mapping, load_mapping
from accord.synth import SynthResult


@dataclass
class Loaded:
    """One written extract read back as text."""

    mapping: Mapping
    mapping_path: Path
    data_path: Path
    table: pa.Table

    def column(self, name: str) -> list[str | None]:
        return [None if v is None else str(v) for v in self.table.column(name).to_pylist()]

    def record_ids(self) -> list[str]:
        cols = self.mapping.record_id_columns
        values = [self.column(c) for c in cols]
        return ["|".join(v or "" for v in row) for row in zip(*values, strict=True)]


def read_extract(mapping_path: Path) -> Loaded:
    m = load_mapping(mapping_path)
    assert m.file is not None
    data = mapping_path.parent / m.file
    if m.format == "csv":
        with open(data, encoding=m.csv.encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=m.csv.delimiter))
        table = pacsv.read_csv(
            data,
            read_options=pacsv.ReadOptions(encoding=m.csv.encoding.replace("-", "")
                                           if m.csv.encoding != "utf-8" else "utf8"),
            parse_options=pacsv.ParseOptions(delimiter=m.csv.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True,
                null_values=[""]))  # "NA" is a name (Chinese given name Na), not a null
    else:
        table = pq.read_table(data)
        table = pa.table({n: table.column(n).cast(pa.string()) for n in table.column_names})
    return Loaded(m, mapping_path, data, table)


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class WrittenWorld:
    result: SynthResult
    extracts: dict[str, Loaded]
    persons: list[dict[str, str]]
    truth: list[dict[str, str]]
    bad_rows: list[dict[str, str]]

    def person(self, pid: str) -> dict[str, str]:
        return self.persons[int(pid[1:])]

    def people_in(self, source: str) -> set[str]:
        return {t["person_id"] for t in self.truth if t["source"] == source}


