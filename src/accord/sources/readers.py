"""Readers: turn an extract (CSV, Parquet, JSON Lines) into Arrow batches of text columns.

Every value arrives as text (identifiers keep their leading zeros; an empty cell is a
missing value) with ``__row``, the 1-based data row number in the file. Rows that cannot
be parsed at all (wrong number of CSV fields, a line that is not a JSON object) are
returned separately as ``BadRow`` so they reach quarantine. A file that cannot be read
as declared raises ``SourceFileError`` before anything is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from accord.errors import SourceFileError
from accord.sources.mapping import MappingFile

ROW = "__row"
BATCH_ROWS = 256_000
# CSV is parsed a block at a time: a few MiB keep memory flat however large the file (a row
# may not be longer than a block).
CSV_BLOCK_BYTES = 1 << 21
# Parsed text is allocated with the C library's allocator, not Arrow's default pool (mimalloc),
# which keeps the pages of every parsed block long after the batch has been consumed.
POOL = pa.system_memory_pool()
# JSON Lines: column names are the keys seen in the first lines.
_JSONL_PROBE_LINES = 1000


@dataclass
class BadRow:
    row_number: int
    reason: str
    text: str


@dataclass
class Extract:
    """An opened extract: its columns, a stream of batches and the unparseable rows."""

    path: Path
    columns: list[str]
    batches: Iterator[pa.RecordBatch]
    sha256: str
    size: int
    bad_rows: list[BadRow] = field(default_factory=list)
    native_dates: set[str] = field(default_factory=set)


def open_extract(mf: MappingFile, path: Path) -> Extract:
    if not path.is_file():
        raise SourceFileError(str(path), "no such file")
    fmt = mf.spec.format
    if fmt == "csv":
        ex = _open_csv(mf, path)
    elif fmt == "parquet":
        ex = _open_parquet(path)
    else:
        ex = _open_jsonl(path, mf.spec.columns_used())
    missing = [c for c in mf.spec.columns_used() if c not in ex.columns]
    if missing:
        key = _key_for_column(mf, missing[0])
        raise mf.error(key, f"column {missing[0]!r} is not in {path.name}; "
                       f"its columns are {ex.columns}")
    return ex


def _key_for_column(mf: MappingFile, column: str) -> tuple[str, ...]:
    for name, spec in mf.spec.fields.items():
        if spec.column == column:
            return ("fields", name)
    return ("record_id",)


def _text_schema(names: list[str]) -> dict[str, pa.DataType]:
    return dict.fromkeys(names, pa.string())


def _open_csv(mf: MappingFile, path: Path) -> Extract:
    opts = mf.spec.csv
    encoding = opts.encoding.lower().replace("_", "-")
    utf8 = encoding in ("utf-8", "utf8", "utf-8-sig")
    # pyarrow validates UTF-8 as it converts; the slower decode runs only to say where.
    sha, size = scan_file(path, None if utf8 else encoding, nul_check=utf8)

    def where_invalid(e: Exception) -> SourceFileError:
        if utf8 and ("UTF8" in str(e) or isinstance(e, UnicodeError)):
            scan_file(path, encoding)  # raises with the byte and the line
        return SourceFileError(str(path), f"cannot be read as CSV "
                               f"(delimiter {opts.delimiter!r}, {opts.encoding}): {e}")

    bad: list[BadRow] = []
    header_rows = 1 if opts.header else 0

    def on_bad(row: pacsv.InvalidRow) -> str:
        number = (row.number or 0) - header_rows
        bad.append(BadRow(number, f"expected {row.expected_columns} fields, found "
                          f"{row.actual_columns}", row.text))
        return "skip"

    read = pacsv.ReadOptions(
        use_threads=False,  # keeps row numbers for unparseable rows
        block_size=CSV_BLOCK_BYTES,
        encoding="utf8" if encoding in ("utf-8", "utf8", "utf-8-sig") else encoding,
        column_names=opts.columns if not opts.header else None,
    )
    parse = pacsv.ParseOptions(delimiter=opts.delimiter, quote_char=opts.quote,
                               newlines_in_values=True, invalid_row_handler=on_bad)
    try:
        names = _csv_header(path, read, parse)
        convert = pacsv.ConvertOptions(column_types=_text_schema(names), strings_can_be_null=True,
                                       null_values=[""], quoted_strings_can_be_null=True)
        reader = pacsv.open_csv(path, read_options=read, parse_options=parse,
                                convert_options=convert, memory_pool=POOL)
    except (pa.ArrowInvalid, OSError, UnicodeError) as e:
        raise where_invalid(e) from None
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SourceFileError(str(path), f"header repeats column names {dup}", line=1)

    def batches() -> Iterator[pa.RecordBatch]:
        seen = 0
        last: pa.RecordBatch | None = None
        while True:
            try:
                b = reader.read_next_batch()
            except StopIteration:
                _check_quotes_closed(path, size, read.encoding, opts.quote, last, names[-1], bad)
                return
            except (pa.ArrowInvalid, UnicodeError) as e:
                raise where_invalid(e) from None
            numbered = _numbered(b, seen, bad)
            if numbered.num_rows:
                last = numbered
            yield numbered
            seen += b.num_rows

    return Extract(path, names, batches(), sha, size, bad)


def _check_quotes_closed(path: Path, size: int, encoding: str, quote: str,
                         last: pa.RecordBatch | None, last_column: str, bad: list[BadRow]) -> None:
    """A quote that is never closed makes the reader take the rest of the file as one value
    of the last row (no error): refuse the file rather than lose those rows unseen."""
    row, value = None, None
    if last is not None:
        row, value = last.column(ROW)[-1].as_py(), last.column(last_column)[-1].as_py()
    if bad and (row is None or bad[-1].row_number > row):  # the last row did not parse
        row, value = bad[-1].row_number, bad[-1].text
    if value is None or ("\n" not in value and "\r" not in value):
        return
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 64))
        tail = fh.read().decode(encoding, errors="ignore").rstrip()
    if not tail.endswith(quote):
        raise SourceFileError(str(path), f"a {quote} quote in data row {row} is never closed: "
                              "the rest of the file would be read as one value")


def _numbered(b: pa.RecordBatch, seen: int, bad: list[BadRow]) -> pa.RecordBatch:
    """Attach data row numbers, skipping the numbers of rows that failed to parse."""
    import numpy as np

    idx = np.arange(seen + 1, seen + b.num_rows + 1, dtype=np.int64)
    if bad:
        skipped = np.sort(np.array([r.row_number for r in bad], dtype=np.int64))
        # The k-th parsed row is data row k + (number of skipped rows at or before it).
        # Iterate to a fixed point: each skipped row before a position shifts it by one.
        pos = idx.copy()
        for _ in range(len(skipped) + 1):
            new = idx + np.searchsorted(skipped, pos, side="right")
            if np.array_equal(new, pos):
                break
            pos = new
        idx = pos
    return b.append_column(ROW, pa.array(idx))


def _csv_header(path: Path, read: pacsv.ReadOptions, parse: pacsv.ParseOptions) -> list[str]:
    if read.column_names:
        return list(read.column_names)
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if not head.strip():
        raise SourceFileError(str(path), "file is empty (no header row)")
    probe = pacsv.ReadOptions(encoding=read.encoding, block_size=max(len(head), 1 << 16))
    try:
        t = pacsv.open_csv(path, read_options=probe, memory_pool=POOL, parse_options=pacsv.ParseOptions(
            delimiter=parse.delimiter, quote_char=parse.quote_char, newlines_in_values=True,
            invalid_row_handler=lambda r: "skip"))
    except pa.ArrowInvalid as e:
        raise SourceFileError(str(path), f"header cannot be read: {e}", line=1) from None
    return [str(n) for n in t.schema.names]


def scan_file(path: Path, encoding: str | None = None,
              hint: str = " (declare the file's encoding under csv: encoding:)",
              nul_check: bool = False) -> tuple[str, int]:
    """SHA-256 and size of the file; with an encoding, also fail fast (naming the line) on
    bytes that are not valid in it or on NUL bytes (except in UTF-16/32, where ordinary
    text has them)."""
    import codecs

    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(encoding)() if encoding else None
    wide = encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    line, offset = 1, 0
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 24):
                h.update(chunk)
                if (decoder is not None or nul_check) and offset == 0 and not wide \
                        and b"\x00" in chunk[: 1 << 16]:
                    raise SourceFileError(str(path), "contains NUL bytes: not a text file")
                if decoder is not None:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as e:
                        at = chunk[: e.start]
                        raise SourceFileError(
                            str(path), f"not valid {encoding} at byte {offset + e.start}{hint}",
                            line=line + at.count(b"\n")) from None
                    line += chunk.count(b"\n")
                offset += len(chunk)
    except OSError as e:  # permissions, a vanished file, an I/O error
        raise SourceFileError(str(path), f"cannot be read: {e.strerror or e}") from None
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise SourceFileError(str(path), f"ends inside a {encoding} character",
                                  line=line) from None
    return h.hexdigest(), offset


def _open_parquet(path: Path) -> Extract:
    sha, size = scan_file(path)
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise SourceFileError(str(path), f"cannot be read as Parquet: {e}") from None
    schema = pf.schema_arrow
    names = list(schema.names)
    native_dates = {f.name for f in schema if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type)}

    def batches() -> Iterator[pa.RecordBatch]:
        seen = 0
        try:
            for b in pf.iter_batches(batch_size=BATCH_ROWS):
                cols = [_as_text(b.column(i)) for i in range(b.num_columns)]
                tb = pa.RecordBatch.from_arrays(cols, names=names)
                yield _numbered(tb, seen, [])
                seen += b.num_rows
        except (pa.ArrowInvalid, OSError) as e:
            raise SourceFileError(str(path), f"cannot be read as Parquet: {e}") from None

    return Extract(path, names, batches(), sha, size, [], native_dates)


def _as_text(col: pa.Array) -> pa.Array:
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col.cast(pa.string())
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.date32())
    if pa.types.is_nested(col.type):
        return pa.array([None if v is None else json.dumps(v, default=str) for v in col.to_pylist()],
                        pa.string())
    return col.cast(pa.string())


def _open_jsonl(path: Path, wanted: list[str]) -> Extract:
    sha, size = scan_file(path, "utf-8", hint=" (JSON Lines files are UTF-8)")
    bad: list[BadRow] = []
    names: list[str] = []
    objects = 0
    with open(path, encoding="utf-8-sig") as fh:  # a BOM is not part of the data
        for number, line in enumerate(fh):
            # Keys of the first lines, then (only if a mapped key is still unseen: a key may
            # be left out of rows where it has no value) the rest of the file for those keys.
            missing = [k for k in wanted if k not in names]
            if number >= _JSONL_PROBE_LINES and (not missing or not objects):
                break
            if number >= _JSONL_PROBE_LINES and not any(
                    json.dumps(k) in line or json.dumps(k, ensure_ascii=False) in line
                    for k in missing):
                continue
            try:
                obj = json.loads(line) if line.strip() else None
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                objects += 1
                names.extend(k for k in obj if k not in names)
    if not objects:
        raise SourceFileError(str(path), "no JSON object in the first lines; not JSON Lines",
                              line=1)

    def batches() -> Iterator[pa.RecordBatch]:
        cols: dict[str, list[str | None]] = {n: [] for n in names}
        rows: list[int] = []
        with open(path, encoding="utf-8-sig") as fh:  # a BOM is not part of the data
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    bad.append(BadRow(number, f"invalid JSON: {e.msg} at column {e.colno}", line))
                    continue
                if not isinstance(obj, dict):
                    bad.append(BadRow(number, "not a JSON object", line))
                    continue
                # The columns are fixed when the file is opened, so every batch has the same
                # schema; keys never seen then are not mapped and are not stored.
                for k, v in cols.items():
                    v.append(_json_text(obj.get(k)))
                rows.append(number)
                if len(rows) >= BATCH_ROWS:
                    yield _jsonl_batch(cols, rows)
                    cols = {n: [] for n in names}
                    rows = []
        if rows:
            yield _jsonl_batch(cols, rows)

    return Extract(path, names, batches(), sha, size, bad)


def _jsonl_batch(cols: dict[str, list[str | None]], rows: list[int]) -> pa.RecordBatch:
    arrays = [pa.array(v, pa.string()) for v in cols.values()] + [pa.array(rows, pa.int64())]
    return pa.RecordBatch.from_arrays(arrays, names=[*cols, ROW])


def _json_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v != "" else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return json.dumps(v, ensure_ascii=False)
