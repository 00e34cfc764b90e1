"""Linkage quality against a truth file (``source,record_id,person_id``).

Pairwise precision/recall/F1 count record pairs placed in one entity; B-cubed averages, per
record, how much of its entity is the same true person (precision) and how much of its true
person is in its entity (recall). Records the store does not hold (quarantined) and stored
records the truth file does not name are counted and left out of the scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from accord.errors import AccordError
from accord.resolve.entities import entity_count, partition
from accord.store import Store


def evaluate(store: Store, truth: Path) -> dict[str, Any]:
    if not truth.is_file():
        raise AccordError(f"{truth}: no such truth file")
    # Computed in an in-process engine over the partition read from the store: the store is
    # only read.
    con = duckdb.connect()
    try:
        return _evaluate(store, con, truth)
    finally:
        con.close()


TRUTH_COLUMNS = ("source", "record_id", "person_id")


def _evaluate(store: Store, con: duckdb.DuckDBPyConnection, truth: Path) -> dict[str, Any]:
    try:
        header = [str(c[0]) for c in con.execute(
            "DESCRIBE SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(truth)]).fetchall()]
    except duckdb.Error as e:
        raise AccordError(f"{truth}: not a CSV truth file ({' '.join(str(e).split()[:30])})") from None
    missing = [c for c in TRUTH_COLUMNS if c not in header]
    if missing:
        raise AccordError(f"{truth}: not a truth file: it has no {', '.join(missing)} column"
                          f"{'s' if len(missing) > 1 else ''} (a truth file has the columns "
                          f"{','.join(TRUTH_COLUMNS)}; its columns are {','.join(header[:10])}"
                          f"{', ...' if len(header) > 10 else ''})")
    try:
        con.execute(
            "CREATE TABLE _truth AS SELECT CAST(source AS VARCHAR) AS source, "
            "CAST(record_id AS VARCHAR) AS record_id, CAST(person_id AS VARCHAR) AS person_id "
            "FROM read_csv(?, header = true, all_varchar = true)", [str(truth)]).fetchall()
    except Exception as e:  # engine's message names the problem in the file
        raise AccordError(f"{truth}: not a truth file with columns source,record_id,person_id: "
                          f"{e}") from None
    if not entity_count(store):
        raise AccordError("no entities in the store: run `accord resolve` first")
    members = partition(store)
    con.register("_members", members)
    con.execute("""CREATE TABLE _joined AS
        SELECT m.entity_id, t.person_id FROM _members m
        JOIN _truth t USING (source, record_id)""").fetchall()

    def scalar(sql: str) -> Any:
        return con.execute(sql).fetchall()[0][0]

    row = con.execute("""
        WITH ep AS (SELECT entity_id, person_id, count(*) AS n FROM _joined GROUP BY ALL),
             e AS (SELECT entity_id, count(*) AS n FROM _joined GROUP BY ALL),
             p AS (SELECT person_id, count(*) AS n FROM _joined GROUP BY ALL)
        SELECT
          (SELECT sum(n * (n - 1) / 2) FROM ep),
          (SELECT sum(n * (n - 1) / 2) FROM e),
          (SELECT sum(n * (n - 1) / 2) FROM p),
          (SELECT sum(ep.n * ep.n / e.n) FROM ep JOIN e USING (entity_id)),
          (SELECT sum(ep.n * ep.n / p.n) FROM ep JOIN p USING (person_id)),
          (SELECT count(*) FROM _joined),
          (SELECT count(*) FROM e),
          (SELECT count(*) FROM p),
          (SELECT count(*) FROM (SELECT entity_id FROM ep GROUP BY 1 HAVING count(*) > 1)),
          (SELECT count(*) FROM (SELECT person_id FROM ep GROUP BY 1 HAVING count(*) > 1))
    """).fetchall()[0]
    tp, pred, true, b3p, b3r, n, entities, persons, mixed, split = (float(x or 0) for x in row)
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    missing = scalar("SELECT count(*) FROM _truth t WHERE NOT EXISTS (SELECT 1 FROM "
                     "_members m WHERE m.source = t.source AND m.record_id = t.record_id)")
    unknown = scalar("SELECT count(*) FROM _members m WHERE NOT EXISTS (SELECT 1 "
                     "FROM _truth t WHERE m.source = t.source AND m.record_id = t.record_id)")
    return {
        "pair_precision": round(precision, 6),
        "pair_recall": round(recall, 6),
        "pair_f1": round(f1, 6),
        "bcubed_precision": round(b3p / n, 6) if n else 1.0,
        "bcubed_recall": round(b3r / n, 6) if n else 1.0,
        "true_positive_pairs": int(tp),
        "predicted_pairs": int(pred),
        "true_pairs": int(true),
        "records": int(n),
        "entities": int(entities),
        "true_persons": int(persons),
        "entities_mixing_persons": int(mixed),
        "persons_split": int(split),
        "truth_records_not_in_store": int(missing),
        "store_records_not_in_truth": int(unknown),
    }
