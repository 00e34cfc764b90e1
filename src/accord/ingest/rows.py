"""Records given as rows (the HTTP API's ``POST /api/records``), ingested exactly as an extract
of their source is: through the source's stored mapping, with the same validation,
quarantine, flags, versions and batch reconciliation.

The rows are written, in the mapping's own format, to a private temporary file beside a copy
of the stored mapping text (so the batch records the same mapping hash as the source's
extracts), and that file is ingested; nothing else reads them.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.ingest.pipeline import IngestResult, ingest_file
from accord.sources.mapping import parse_mapping
from accord.store import Store

MAX_ROWS = 10_000   # rows per call: a larger delivery is an extract for `accord ingest`


class RowsError(AccordError):
    """Rows that cannot be taken as an extract of their source (before anything is stored)."""


def ingest_rows(store: Store, source: str, rows: Sequence[Mapping[str, Any]], *,
                user: str) -> IngestResult:
    """Ingest ``rows`` (each a mapping of the source's extract columns to values) as one batch
    of ``source``."""
    if not rows:
        raise RowsError("no rows given")
    if len(rows) > MAX_ROWS:
        raise RowsError(f"{len(rows):,} rows given; at most {MAX_ROWS:,} per call (ingest a "
                        "larger delivery as an extract with `accord ingest`)")
    stored = store.query("SELECT mapping_yaml FROM sources WHERE source = ?", [source])
    if not stored:
        raise RowsError(f"no source {source!r}: a source is registered by ingesting its first "
                        "extract with its mapping (`accord ingest`)")
    text = str(stored[0][0])
    spec = parse_mapping(text, f"stored mapping of {source}")
    columns = spec.columns_used()
    for i, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(columns) - set(spec.csv.columns or []))
        if unknown:
            raise RowsError(f"row {i}: column(s) {', '.join(map(repr, unknown))} are not in the "
                            f"mapping of {source}; its columns are {columns}")
        bad = sorted(k for k, v in row.items() if v is not None and not isinstance(v, str | int | float))
        if bad:
            raise RowsError(f"row {i}: column(s) {', '.join(map(repr, bad))} must hold text or a number")
    folder = Path(tempfile.mkdtemp(prefix="accord-rows-"))
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        mapping = folder / f"{source}.yaml"
        mapping.write_text(text, encoding="utf-8")
        data = folder / f"api-{source}-{stamp}.{spec.format}"
        write_rows(data, spec, columns, rows)
        return ingest_file(store, mapping, data, user=user)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def write_rows(path: Path, spec: Any, columns: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` to ``path`` as an extract in the mapping's format (``spec``)."""
    if spec.format == "jsonl":
        with path.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps({c: row.get(c) for c in columns}) + "\n")
    elif spec.format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({c: pa.array([None if r.get(c) is None else _text(r.get(c))
                                               for r in rows], pa.string()) for c in columns}), path)
    else:
        opts = spec.csv
        header = opts.columns or columns
        with path.open("w", encoding=opts.encoding, newline="") as f:
            out = csv.writer(f, delimiter=opts.delimiter, quotechar=opts.quote,
                             quoting=csv.QUOTE_MINIMAL)
            if opts.header:
                out.writerow(header)
            for row in rows:
                out.writerow([_text(row.get(c)) for c in header])
