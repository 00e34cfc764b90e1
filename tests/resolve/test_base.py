"""The statistics base: which records it holds (the registry's floors, the gate's regimes),
and the statistics that count it alone — block sizes and the u sample."""

from __future__ import annotations

import duckdb
import pytest

from accord.governance.registry import registry
from accord.governance.scope import record_regimes
from accord.governance.visibility import floor_regimes
from accord.resolve.base import feature_columns
from accord.resolve.blocking import run_blocking
from accord.resolve.settings import Blocking, BlockingRule
from accord.resolve.training import rank_table, sample_pairs_sql
from accord.sql.backend import DuckDBBackend


def test_base_and_marks_are_the_gates_regimes_against_the_floors() -> None:
    reg = registry()
    floors = sorted(floor_regimes(reg))
    fields = sorted({f for system in reg.systems.values() for f in system.content_marks})
    rows: list[tuple[str, dict[str, str | None]]] = [("no-such-system", {})]
    for name, system in reg.systems.items():
        rows.append((name, {}))
        for field, values in system.content_marks.items():
            rows += [(name, {field: v}) for v in [*values, "other"]]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE r (i INTEGER, system VARCHAR{''.join(f', {f} VARCHAR' for f in fields)})")
    con.executemany(f"INSERT INTO r VALUES (?, ?{', ?' * len(fields)})",
                    [(i, system, *(row.get(f) for f in fields)) for i, (system, row) in enumerate(rows)])
    cols = feature_columns(reg)
    got = con.execute(f"SELECT i, {cols['in_base'][0]}, {cols['floor_marks'][0]} FROM r ORDER BY i"
                      ).fetchall()
    assert len(got) == len(rows)
    for (system, row), (_, in_base, marks) in zip(rows, got, strict=True):
        regimes = record_regimes(reg, system, row)
        assert in_base == (not set(regimes) & set(floors)), (system, row)
        assert marks == sum(1 << i for i, f in enumerate(floors) if f in regimes), (system, row)
    assert any(not b for _, b, _ in got) and any(b for _, b, _ in got)


@pytest.fixture
def db() -> DuckDBBackend:
    con = duckdb.connect()
    # Key K1: one base record and three outside the base; K2: three base records.
    con.execute("""CREATE TABLE features AS SELECT * FROM (VALUES
        (0, 'K1', TRUE), (1, 'K1', FALSE), (2, 'K1', FALSE), (3, 'K1', FALSE),
        (4, 'K2', TRUE), (5, 'K2', TRUE), (6, 'K2', TRUE)) t(rid, k, in_base)""")
    return DuckDBBackend(con)


def test_a_block_is_skipped_by_its_base_records_alone(db: DuckDBBackend) -> None:
    rules = Blocking(max_block_size=2, rules=[BlockingRule(name="k", keys=["k"])])
    report = run_blocking(db, rules, base="in_base")
    pairs = {(a, b) for a, b in db.rows("SELECT rid_l, rid_r FROM pairs")}
    # K1 has one base record: kept, with every record; K2 has three: skipped.
    assert pairs == {(a, b) for a in range(4) for b in range(4) if a < b}
    rule = report.rules[0]
    assert (rule.skipped_blocks, rule.largest_counted_block, rule.comparisons) == (1, 3, 6)
    # Without the base, the block limit counts every record: both are skipped.
    run_blocking(db, rules)
    assert db.scalar("SELECT count(*) FROM pairs") == 0


def test_the_u_sample_draws_the_same_base_pairs_whatever_lies_outside_the_base() -> None:
    def drawn(outside: list[int]) -> list[tuple[str, str]]:
        con = duckdb.connect()
        base = [f"b{i:02d}" for i in range(30)]
        keys = sorted([(k, True) for k in base] + [(f"b{i:02d}x", False) for i in outside])
        con.execute("CREATE TABLE f (rid BIGINT, key VARCHAR, in_base BOOLEAN)")
        con.executemany("INSERT INTO f VALUES (?, ?, ?)", [(i, k, b) for i, (k, b) in enumerate(keys)])
        db = DuckDBBackend(con)
        assert rank_table(db, "f", "ranks") == len(base)
        sql = sample_pairs_sql(len(base), 200, 1, "ranks")
        return db.rows(f"""SELECT l.key, r.key FROM ({sql}) p JOIN f l ON l.rid = p.rid_l
                           JOIN f r ON r.rid = p.rid_r ORDER BY ALL""")

    alone = drawn([])
    assert len(alone) > 150 and all(a < b for a, b in alone)
    assert drawn([0, 3, 17, 28]) == alone
    assert drawn(list(range(30))) == alone
