"""Writing the world: data files, mapping YAML, truth.csv, persons.csv, bad_rows.csv and
the manifest synth.json. Output is byte-identical for the same seed and configuration."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from accord.sources.mapping import parse_mapping
from accord.synth.corrupt import BadRow
from accord.synth.systems.base import Extract
from accord.synth.textops import IntArray, digits, join


@dataclass(frozen=True)
class WrittenExtract:
    source: str
    system: str
    data_path: Path
    mapping_path: Path
    rows: int
    bad_rows: int


def person_ids(index: IntArray, total: int) -> pa.Array:
    """'P' + zero-padded person number (at least 7 digits)."""
    width = max(7, len(str(max(total - 1, 0))))
    return join(["P", digits(index, width)])


def write_extract(ext: Extract, out: Path, fmt: str, header: str) -> WrittenExtract:
    data_name = f"{ext.source}.{fmt}"
    data_path = out / data_name
    table = ext.table()
    if fmt == "csv":
        _write_csv(table, data_path, ext.delimiter, ext.encoding)
    else:
        pq.write_table(table, data_path, compression="zstd")
    mapping = ext.mapping(data_name, fmt)
    text = header + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    # PyYAML writes an empty-string key in the explicit "? ''" form; use the plain one.
    text = re.sub(r"\? ''\n\s*: ", "'': ", text)
    mapping_path = out / f"{ext.source}.mapping.yaml"
    parse_mapping(text, str(mapping_path))  # fail here, not at ingest, if the contract breaks
    mapping_path.write_text(text, encoding="utf-8")
    return WrittenExtract(ext.source, ext.system, data_path, mapping_path, ext.rows,
                          len(ext.bad_rows))


def _write_csv(table: pa.Table, path: Path, delimiter: str = ",", encoding: str = "utf-8"
               ) -> None:
    opts = pacsv.WriteOptions(include_header=True, delimiter=delimiter)
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        pacsv.write_csv(table, path, write_options=opts)
        return
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, write_options=opts)
    path.write_bytes(buf.getvalue().decode("utf-8").encode(encoding))


def write_table_csv(columns: dict[str, pa.Array], path: Path) -> None:
    _write_csv(pa.table(columns), path)


def truth_part(ext: Extract, total: int) -> pa.Table:
    n = ext.rows
    return pa.table({
        "source": pa.array([ext.source] * n, pa.string()) if n else pa.array([], pa.string()),
        "record_id": ext.record_ids(),
        "person_id": person_ids(ext.person, total),
    })


TRUTH_SCHEMA = pa.schema([("source", pa.string()), ("record_id", pa.string()),
                          ("person_id", pa.string())])


class TableStream:
    """A CSV file written a table at a time (truth.csv, persons.csv), so that the whole
    file never has to be held in memory."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._writer = pacsv.CSVWriter(path, schema)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


def write_bad_rows(rows: Sequence[tuple[BadRow, str]], path: Path) -> None:
    cols: dict[str, list[str]] = {"source": [], "record_id": [], "column": [], "value": [],
                                  "kind": []}
    for bad, record_id in rows:
        cols["source"].append(bad.source)
        cols["record_id"].append(record_id)
        cols["column"].append(bad.column)
        cols["value"].append(bad.value)
        cols["kind"].append(bad.kind)
    write_table_csv({k: pa.array(v, pa.string()) for k, v in cols.items()}, path)


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n",
                    encoding="utf-8")


def bad_row_ids(ext: Extract) -> list[tuple[BadRow, str]]:
    if not ext.bad_rows:
        return []
    ids = ext.record_ids().take(pa.array(np.array([b.row for b in ext.bad_rows],
                                                  dtype=np.int64))).to_pylist()
    return list(zip(ext.bad_rows, [str(i) for i in ids], strict=True))
