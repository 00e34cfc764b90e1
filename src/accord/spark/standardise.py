"""The standardise stage on Spark: ``features`` for every current record, computed partition by
partition on the executors, never on the driver.

Standardising a record reads that record alone (its names, dates, identifiers, address), and the
few lookups it makes (name variants, street terms, Double Metaphone codes, transliteration) are
of its own values. So each partition is standardised by the stage's own code,
:func:`accord.standardise.features.build_features`, in an in-process DuckDB on the executor:
the features are those the embedded store computes, to the byte.

The one number that spans records is ``rid``: dense 0..n-1 in (source, record_id) order. The
records are range-partitioned and sorted on those two keys, so partition i holds a run of keys
below partition i+1's; each partition numbers its records from 0 in that order, and a record's
rid is its number plus the records of the partitions before it (a count per partition, one
small row each, is all the driver sees).

Alongside, each record's evidence bits (``accord.resolve.evidence``), which the clustering
guards read, in the column ``evidence``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from accord.resolve.evidence import evidence_sql
from accord.standardise.features import FEATURES, Extra, build_features

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

EVIDENCE = "evidence"
_PARTITION = "__part"
_SOURCE = "__records"


def _standardised(records: pa.Table, extra: Extra | None) -> pa.Table:
    """The features of ``records`` (one partition), numbered 0.. in (source, record_id) order,
    with each record's evidence bits."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")  # the executor's task is one core
        con.register("__arrow", records)
        con.execute(f"CREATE TEMP TABLE {_SOURCE} AS SELECT * FROM __arrow")
        con.unregister("__arrow")
        build_features(con, _SOURCE, counts=False, extra=extra)
        return con.sql(f"""SELECT f.*, CAST(e.ev AS BIGINT) AS {EVIDENCE} FROM {FEATURES} f
                           JOIN (SELECT source, record_id, {evidence_sql('r')} AS ev
                                 FROM {_SOURCE} r) e USING (source, record_id)
                           ORDER BY f.rid""").to_arrow_table()
    finally:
        con.close()


def feature_schema(records: pa.Schema, extra: Extra | None) -> pa.Schema:
    """The Arrow schema of the features of records with this schema (standardising none)."""
    return _standardised(records.empty_table(), extra).schema


def _by_partition(extra: Extra | None, schema: pa.Schema
                  ) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        got = list(batches)
        if not got:
            return
        table = pa.Table.from_batches(got)
        part = table.column(_PARTITION)[0].as_py() if table.num_rows else None
        if part is None:
            return
        out = _standardised(table.drop_columns([_PARTITION]), extra)
        out = out.append_column(_PARTITION, pa.array([part] * out.num_rows, pa.int32()))
        yield from out.cast(schema).to_batches(max_chunksize=65_536)
    return run


def features_frame(records: DataFrame, extra: Extra | None, partitions: int) -> DataFrame:
    """``features`` (with ``evidence``) of ``records`` (one row per current record), computed
    on the executors in ``partitions`` range partitions; rid as the embedded store numbers it.
    The caller keeps the frame it returns (it is the numbering of the standardised rows, which
    are computed once here)."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    arrow_in = to_arrow_schema(records.schema)
    schema = feature_schema(arrow_in, extra)
    out_schema = schema.append(pa.field(_PARTITION, pa.int32()))
    ordered = (records.repartitionByRange(partitions, "source", "record_id")
               .sortWithinPartitions("source", "record_id")
               .withColumn(_PARTITION, F.spark_partition_id()))
    local = ordered.mapInArrow(_by_partition(extra, out_schema), from_arrow_schema(out_schema))
    from pyspark import StorageLevel

    # Computed once (kept by the executors), then counted and numbered.
    local = local.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
    counts = sorted((int(p), int(n)) for p, n in
                    local.groupBy(_PARTITION).count().collect())
    offsets, before = [], 0
    for part, n in counts:
        offsets.append((part, before))
        before += n
    spark = records.sparkSession
    starts = spark.createDataFrame(offsets or [(0, 0)], f"{_PARTITION} INT, __start BIGINT")
    columns = [c for c in schema.names]
    return (local.join(F.broadcast(starts), _PARTITION)
            .withColumn("rid", F.col("rid") + F.col("__start"))
            .select(*columns))
