from __future__ import annotations

import duckdb
import pytest

from accord.resolve.blocking import BlockingError, analyse, run_blocking
from accord.resolve.settings import Blocking, BlockingRule
from accord.sql.backend import DuckDBBackend


@pytest.fixture
def db() -> DuckDBBackend:
    con = duckdb.connect()
    con.execute("""CREATE TABLE features AS SELECT * FROM (VALUES
        (0, 'ANA', 'GARCIA', DATE '1980-01-02', '111223333'),
        (1, 'ANA', 'GARCIA', DATE '1980-01-02', NULL),
        (2, 'GARCIA', 'ANA', DATE '1980-01-02', NULL),
        (3, 'LI', 'WANG', DATE '1990-05-05', '111223333'),
        (4, 'LI', 'WANG', DATE '1991-05-05', NULL)
    ) t(rid, given_key, family_key, dob, ssn)""").fetchall()
    return DuckDBBackend(con)


def _pairs(db: DuckDBBackend) -> set[tuple[int, int, int]]:
    return {(a, b, r) for a, b, r in db.rows("SELECT rid_l, rid_r, rule FROM pairs")}


def test_rules_are_ored_and_each_pair_kept_once_under_its_first_rule(db: DuckDBBackend) -> None:
    rules = Blocking(rules=[BlockingRule(name="ssn", keys=["ssn"]),
                            BlockingRule(name="name_dob", keys=["given_key", "family_key", "dob"])])
    report = run_blocking(db, rules)
    assert _pairs(db) == {(0, 3, 0), (0, 1, 1)}
    assert report.pairs == 2


def test_swapped_rule_finds_names_written_the_other_way(db: DuckDBBackend) -> None:
    rules = Blocking(rules=[BlockingRule(name="swap", keys=["given_key", "family_key", "dob"],
                                         against=["family_key", "given_key", "dob"])])
    run_blocking(db, rules)
    assert _pairs(db) == {(0, 2, 0), (1, 2, 0)}


def test_oversize_blocks_are_skipped_and_reported(db: DuckDBBackend) -> None:
    rules = Blocking(max_block_size=2, rules=[BlockingRule(name="dob", keys=["dob"])])
    report = run_blocking(db, rules)
    # Three records share 1980-01-02: that block is skipped, nothing else shares a dob.
    assert _pairs(db) == set()
    assert report.rules[0].skipped_blocks == 1 and report.rules[0].largest_block == 3
    assert "rule dob" in report.messages()[0]


def test_explosive_rules_are_refused_with_a_clear_message(db: DuckDBBackend) -> None:
    rules = Blocking(max_comparisons=1, rules=[BlockingRule(name="dob", keys=["dob"])])
    with pytest.raises(BlockingError, match="rule 'dob' alone gives 3"):
        analyse(db, rules)


def test_rule_by_rule_gives_the_pairs_of_the_single_query(db: DuckDBBackend) -> None:
    from accord.resolve.blocking import pairs_sql

    rules = Blocking(max_block_size=2, rules=[
        BlockingRule(name="ssn", keys=["ssn"]),
        BlockingRule(name="dob", keys=["dob"]),  # one oversize block: its size guard is kept
        BlockingRule(name="swap", keys=["given_key", "family_key", "dob"],
                     against=["family_key", "given_key", "dob"])])
    run_blocking(db, rules)
    by_rule = db.rows("SELECT rid_l, rid_r, rule, rules FROM pairs ORDER BY ALL")
    one_query = db.rows(f"SELECT * FROM ({pairs_sql(rules)}) ORDER BY ALL")
    assert by_rule == one_query
    # Bit i of `rules` is set for every rule i that finds the pair.
    assert (0, 2, 2, 0b100) in by_rule and (0, 3, 0, 0b001) in by_rule
