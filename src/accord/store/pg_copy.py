"""Arrow in and out of PostgreSQL through ``COPY``, on one psycopg connection (the store's own,
so that a bulk load is part of the store's open transaction).

* **In** (:func:`load`): each record batch is written as CSV by pyarrow's C++ writer, every
  non-null value quoted (so NULL, an unquoted empty field, and ``''``, a quoted one, stay
  apart), and streamed to ``COPY table (columns) FROM STDIN`` batch by batch. Dictionary,
  view and narrow float columns are written as their plain values; a list column is written
  as PostgreSQL array literals, built with pyarrow's compute functions (elements quoted, ``\\``
  and ``"`` escaped, a NULL element as ``NULL``). Text holding a NUL character, which
  PostgreSQL text cannot store, is refused with the column's name. A column of a type the CSV
  writer cannot express (binary, struct, map, nested lists…) returns ``False``: the caller
  loads that table row by row instead.
* **Out** (:func:`read`): the query's result columns are described first (the query run as a
  subquery with ``LIMIT 0``), then ``COPY (query) TO STDOUT`` is streamed into blocks parsed by
  pyarrow's CSV reader with the column types set from the PostgreSQL types (:data:`SCALARS`).
  Array columns (one-dimensional, as the stores keep them) travel as JSON (``array_to_json``)
  and become lists in an in-process DuckDB.
  ``COPY`` takes no bind parameters: they are inlined by psycopg's own client-side quoting.
  A result with a column of another type (``numeric``, ``uuid``, ``bytea``…), or a value the
  CSV reader refuses, returns ``None``: the caller reads it row by row instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from accord.errors import StoreError

if TYPE_CHECKING:
    import psycopg

# Rows per CSV batch sent to COPY FROM, and bytes of COPY TO output per parsed block: both
# bound the memory a bulk load or read holds beyond its Arrow table.
LOAD_BATCH_ROWS = 65_536
READ_BLOCK_BYTES = 16 << 20

# PostgreSQL type OIDs (pg_type) read through COPY, and their Arrow types.
SCALARS: dict[int, pa.DataType] = {
    16: pa.bool_(),                          # boolean
    20: pa.int64(), 21: pa.int16(), 23: pa.int32(),
    25: pa.string(), 1043: pa.string(), 1042: pa.string(), 19: pa.string(),   # text, varchar, char, name
    114: pa.string(), 3802: pa.string(),     # json, jsonb: as text, as the embedded store gives them
    700: pa.float32(), 701: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC"),
}
# Array OIDs read through COPY (as JSON), with the element type's OID.
ARRAYS: dict[int, int] = {1009: 25, 1015: 1043, 1014: 1042, 1000: 16, 1005: 21, 1007: 23, 1016: 20}
_DUCKDB_ELEMENT = {pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN", pa.int16(): "SMALLINT",
                   pa.int32(): "INTEGER", pa.int64(): "BIGINT"}

_WRITE = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid", batch_size=8192)
# Types pyarrow's CSV writer gives in a form PostgreSQL reads back as the same value.
_AS_WRITTEN: tuple[Callable[[pa.DataType], bool], ...] = (
    pa.types.is_null, pa.types.is_boolean, pa.types.is_integer, pa.types.is_float64,
    pa.types.is_decimal, pa.types.is_string, pa.types.is_large_string, pa.types.is_date,
    pa.types.is_time, pa.types.is_timestamp)


# --- in --------------------------------------------------------------------------------------------

def load(conn: psycopg.Connection[Any], table: str, data: pa.Table, names: Sequence[str]) -> bool:
    """Append ``data``'s columns ``names`` to those columns of ``table`` by ``COPY``; ``False``
    (nothing sent) when a column has a type this path cannot write."""
    from psycopg.copy import QueuedLibpqWriter

    columns = [data.column(name) for name in names]
    if not all(_writable(c.type) for c in columns):
        return False
    keyed = pa.table(columns, names=[f"c{i}" for i in range(len(names))])
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in _csv_batches(table, keyed, names):     # the next batch is made as this one is sent
            copy.write(chunk)
    return True


def _csv_batches(table: str, data: pa.Table, names: Sequence[str]) -> Iterator[memoryview]:
    for batch in data.to_batches(max_chunksize=LOAD_BATCH_ROWS):
        ready = pa.RecordBatch.from_arrays([_csv_ready(c) for c in batch.columns], names=batch.schema.names)
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(ready, sink, _WRITE)
        out = sink.getvalue()
        if out.size and np.frombuffer(out, dtype=np.uint8).min() == 0:
            raise StoreError(f"{table}: cannot load column {_nul_column(ready, names)}: it holds a NUL "
                             "character (\\x00), which PostgreSQL text cannot store")
        yield memoryview(out)


def _nul_column(batch: pa.RecordBatch, names: Sequence[str]) -> str:
    for name, column in zip(names, batch.columns, strict=True):
        text = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
        if text and pc.any(pc.match_substring(column, "\x00")).as_py():
            return name
    return "?"


def _is_list(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
                or pa.types.is_list_view(t) or pa.types.is_large_list_view(t))


def _writable(t: pa.DataType) -> bool:
    """Whether a column of type ``t`` can be written as CSV that PostgreSQL reads as its values."""
    if pa.types.is_dictionary(t):
        return _writable(t.value_type)
    if _is_list(t):
        return not _is_list(t.value_type) and _writable(t.value_type)
    return bool(pa.types.is_string_view(t) or pa.types.is_floating(t) or any(kind(t) for kind in _AS_WRITTEN))


def _csv_ready(column: pa.Array) -> pa.Array:
    """A column of a :func:`_writable` type in a type the CSV writer writes as PostgreSQL reads it."""
    t = column.type
    if pa.types.is_dictionary(t):
        return _csv_ready(column.dictionary_decode())
    if pa.types.is_string_view(t):
        return column.cast(pa.large_string())
    if pa.types.is_floating(t) and not pa.types.is_float64(t):
        return column.cast(pa.float64())
    if pa.types.is_timestamp(t) and t.tz is not None:
        # The writer formats zoned times slowly (a zone lookup per value): UTC text, marked so.
        utc = column.cast(pa.timestamp(t.unit)).cast(pa.string())
        return pc.binary_join_element_wise(utc, "Z", "")
    if _is_list(t):
        return _array_literals(column)
    return column


def _array_literals(column: pa.Array) -> pa.Array:
    """A list column as PostgreSQL array literals (``{"a","b \\"c\\"",NULL}``), a null list as null."""
    t = column.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        large = pa.types.is_large_list_view(t)
        column = column.cast(pa.large_list(t.value_field) if large else pa.list_(t.value_field))
    text = _csv_ready(column.flatten())             # this slice's elements, none of null lists
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = text.cast(pa.string())
    escaped = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
    elements = pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "NULL")
    lengths = pc.fill_null(pc.list_value_length(column), 0)
    offsets = pa.concat_arrays([pa.array([0], lengths.type), pc.cumulative_sum(lengths)])
    lists = type(column).from_arrays(offsets, elements, mask=column.is_null())
    return pc.binary_join_element_wise("{", pc.binary_join(lists, ","), "}", "")


# --- out -------------------------------------------------------------------------------------------

def read(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> pa.Table | None:
    """The rows of ``sql`` (psycopg's ``%s`` placeholders, ``params``) as an Arrow table typed
    from the result's PostgreSQL types; ``None`` (after reading to the end) when a column's
    type, or a value, is not one this path reads."""
    import psycopg

    query = psycopg.ClientCursor(conn).mogrify(sql, list(params)).rstrip().rstrip(";")
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM (\n{query}\n) AS _described LIMIT 0")
        described = [(d.name, d.type_code) for d in cur.description or []]
    names = [name for name, _ in described]
    if not names:
        return None
    types: list[pa.DataType] = []
    for _, oid in described:
        arrow = SCALARS.get(oid) or (pa.list_(SCALARS[ARRAYS[oid]]) if oid in ARRAYS else None)
        if arrow is None:
            return None
        types.append(arrow)
    keys = [f"c{i}" for i in range(len(names))]
    if any(pa.types.is_list(t) for t in types):
        outer = ", ".join(f"array_to_json({k})" if pa.types.is_list(t) else k for k, t in zip(keys, types,
                                                                                            strict=True))
        query = f"SELECT {outer} FROM (\n{query}\n) AS _arrays({', '.join(keys)})"
    parse = _Parse(keys, types)
    try:
        with conn.cursor() as cur, \
                cur.copy(f"COPY (\n{query}\n) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')") as copy:
            block, rows = bytearray(), 0
            for row in copy:
                block += row
                rows += 1
                if len(block) >= READ_BLOCK_BYTES:
                    parse.later(block, rows)
                    block, rows = bytearray(), 0
        parse.last(block, rows)
    finally:
        parse.close()
    if parse.refused:
        return None
    if not parse.parts:
        return pa.table([pa.array([], t) for t in types], names=names)
    return pa.concat_tables(parse.parts).rename_columns(names)


class _Parse:
    """Blocks of ``COPY ... TO STDOUT (FORMAT csv)`` output to Arrow tables of known types, in
    order; after the first value the reader refuses, blocks are only read (to the COPY's end)."""

    def __init__(self, keys: list[str], types: list[pa.DataType]) -> None:
        self.keys, self.types = keys, types
        self.parts: list[pa.Table] = []
        self.refused = False
        text = [pa.string() if pa.types.is_list(t) else t for t in types]
        self.convert = pa_csv.ConvertOptions(
            column_types=dict(zip(keys, text, strict=True)), null_values=[""], strings_can_be_null=True,
            quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"])
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def later(self, data: bytearray, rows: int) -> None:
        """Parse a block in a worker thread while the next one is read (one block at a time)."""
        self._wait()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-copy-read")
        self._pending = self._pool.submit(self._block, data, rows)

    def last(self, data: bytearray, rows: int) -> None:
        """Parse the last block, after those before it."""
        self._wait()
        if rows:
            self._block(data, rows)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _block(self, data: bytearray, rows: int) -> None:
        if self.refused:
            return
        # Each COPY row ends in one newline: more newlines (or a carriage return) are in values.
        plain = data.count(b"\n") == rows and b"\r" not in data
        try:
            table = pa_csv.read_csv(
                pa.py_buffer(data), read_options=pa_csv.ReadOptions(column_names=self.keys),
                parse_options=pa_csv.ParseOptions(newlines_in_values=not plain, ignore_empty_lines=False),
                convert_options=self.convert)
        except pa.ArrowInvalid:
            self.refused = True
            return
        for i, t in enumerate(self.types):
            if pa.types.is_list(t):
                table = table.set_column(i, self.keys[i], _json_lists(table.column(i), t))
        self.parts.append(table)


def _json_lists(column: pa.ChunkedArray, t: pa.DataType) -> pa.ChunkedArray:
    """JSON arrays (``array_to_json``'s text) as lists of ``t``'s element type."""
    import duckdb

    with duckdb.connect() as con:
        con.register("arrays", pa.table({"j": column}))
        element = _DUCKDB_ELEMENT[t.value_type]
        lists = con.sql(f"SELECT from_json(j, '[\"{element}\"]') AS v FROM arrays").to_arrow_table()
    return lists.column(0).cast(t)
