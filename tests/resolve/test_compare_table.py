"""The comparison table: equality-only text columns held as hashes, exactly as the text compares;
comparisons run in chunks of pairs give the same gammas as one statement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.ingest import ingest_file
from accord.resolve import blocking as blk
from accord.resolve import working
from accord.resolve.settings import BlockingRule, default_settings
from accord.resolve.working import (
    COMPARE,
    VIEW,
    blocking_source,
    build_compare_table,
    collision_free_sql,
    compare,
    compare_blocking_source,
    equality_groups,
    equality_of,
    prepare,
)
from accord.sql.backend import DuckDBBackend
from accord.store import Store
from accord.synth import generate


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBBackend]:
    """A small world, standardised and blocked (temp tables live on this connection)."""
    root = tmp_path_factory.mktemp("cmp")
    w = generate(600, 5, root / "world")
    store = Store(root / "s.duckdb")
    for ex in w.extracts:
        ingest_file(store, ex.mapping_path)
    db = DuckDBBackend(store.con)
    prepare(db, default_settings())
    blk.run_blocking(db, default_settings().blocking, blocking_source, "pairs")
    yield db
    store.close()


def _rows(db: DuckDBBackend, table: str) -> list[tuple[object, ...]]:
    return db.rows(f"SELECT * FROM {table} ORDER BY rid_l, rid_r")


def test_groups_are_read_from_the_sql() -> None:
    frame = ("SELECT l.postcode AS postcode_l, "
             "CASE WHEN s THEN r.family_key ELSE r.given_key END AS given_key_r, "
             "l.given_key AS given_key_l, l.street_name AS street_name_l FROM p JOIN f l ON l.rid = p.rid_l "
             "JOIN f r ON r.rid = p.rid_r")
    levels = ("SELECT CASE WHEN postcode_l IS NULL THEN -1 WHEN postcode_l = postcode_r THEN 1 END AS a, "
              "CASE WHEN given_key_l = given_key_r THEN 1 END AS b, "
              "CASE WHEN starts_with(street_name_l, street_name_r) THEN 1 END AS c FROM frame")
    groups = equality_of(frame, levels)
    assert frozenset({"postcode"}) in groups
    # The swap passes family_key on as given_key_r: the two are compared with each other.
    assert frozenset({"given_key", "family_key"}) in groups
    # Used in a function: held as text.
    assert not any("street_name" in g for g in groups)


def test_the_real_comparisons_hash_only_what_they_test_for_equality() -> None:
    hashed = {c for g in equality_groups() for c in g}
    assert {"given_key", "family_key", "postcode", "sex"} <= hashed
    # Similarities, edit distances, lengths and date arithmetic need the values themselves.
    assert not hashed & {"given_std", "family_std", "ssn", "a_number", "dob", "dob_y"}
    assert any({"given_key", "family_key"} <= g for g in equality_groups())


def test_hashed_comparisons_give_exactly_the_text_gammas(blocked: DuckDBBackend) -> None:
    db = blocked
    hashed = build_compare_table(db)
    assert hashed  # something was hashed
    types = dict(db.rows(f"SELECT column_name, column_type FROM (DESCRIBE {COMPARE})"))
    assert all(types[c] == "UBIGINT" for c in hashed)
    compare(db, "pairs", "g_text", VIEW)
    compare(db, "pairs", "g_hashed", COMPARE)
    assert db.scalar("SELECT count(*) FROM pairs") > 100
    assert _rows(db, "g_hashed") == _rows(db, "g_text")


def test_chunked_comparisons_give_the_same_gammas(blocked: DuckDBBackend) -> None:
    db = blocked
    build_compare_table(db)
    assert compare(db, "pairs", "g_one", COMPARE, chunk_pairs=10**9) == 1
    assert compare(db, "pairs", "g_many", COMPARE, chunk_pairs=50) > 1
    assert _rows(db, "g_many") == _rows(db, "g_one")


def test_a_group_whose_hashes_collide_stays_text(blocked: DuckDBBackend,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    db = blocked
    text = {c for c, t in db.rows("SELECT column_name, column_type FROM (DESCRIBE features)")
            if t == "VARCHAR"}
    first = sorted(next(g for g in equality_groups() if g <= text))
    monkeypatch.setattr(working, "collision_free_sql", lambda groups: "SELECT 0")
    hashed = build_compare_table(db)
    types = dict(db.rows(f"SELECT column_name, column_type FROM (DESCRIBE {COMPARE})"))
    assert not set(first) & hashed
    assert all(types[c] == "VARCHAR" for c in first)


def test_the_collision_check_finds_values_sharing_a_hash(tmp_path: Path) -> None:
    import duckdb

    db = DuckDBBackend(duckdb.connect())
    db.run("CREATE TABLE t AS SELECT * FROM (VALUES ('AB', 'X'), ('CD', 'Y'), (NULL, NULL)) v(a, b)")
    groups = [frozenset({"a"}), frozenset({"b"})]
    # With length() as the "hash", AB and CD collide; X and Y do too. With hash() none do.
    assert sorted(r[0] for r in db.rows(collision_free_sql(groups, "t", hash_fn="length"))) == [0, 1]
    assert db.rows(collision_free_sql(groups, "t")) == []


def test_blocking_on_the_comparison_table_finds_the_same_pairs(blocked: DuckDBBackend) -> None:
    db = blocked
    build_compare_table(db)
    settings = default_settings().blocking
    source = compare_blocking_source(db)
    # Every default rule joins keys held the same way on both sides (the swap rule: two
    # hashed name keys of one group), so every rule reads the narrow table.
    assert {source(r) for r in settings.rules} == {COMPARE}
    blk.run_blocking(db, settings, source, "pairs_cmp")
    blk.run_blocking(db, settings, blocking_source, "pairs_text")
    assert db.scalar("SELECT count(*) FROM pairs_text") > 100
    assert (db.rows("SELECT * FROM pairs_cmp ORDER BY ALL")
            == db.rows("SELECT * FROM pairs_text ORDER BY ALL"))


def test_a_rule_joining_keys_held_differently_reads_the_features(blocked: DuckDBBackend) -> None:
    db = blocked
    build_compare_table(db)
    source = compare_blocking_source(db)
    # postcode is hashed, dob is not: hashes and dates cannot be joined.
    mixed = BlockingRule(name="mixed", keys=["postcode"], against=["dob"])
    assert source(mixed) == blocking_source(mixed)
    # A column the comparison table does not hold.
    assert source(BlockingRule(name="email", keys=["email"])) == blocking_source(
        BlockingRule(name="email", keys=["email"]))
    # Hashed keys of different groups (postcode, sex) are not known to be comparable.
    assert source(BlockingRule(name="odd", keys=["postcode"], against=["sex"])) != COMPARE
