"""Resolution's working set: the masked features view, engine resources, memory budget."""

from __future__ import annotations

import os
import sys

import duckdb
import pytest

from accord.resolve.settings import Resources, Settings, default_settings
from accord.resolve.working import (
    MIB,
    SHARED,
    VIEW,
    engine_resources,
    masked_view_sql,
    memory_budget,
    parse_size,
    replace_view,
    shared_identifiers_sql,
)
from accord.sql.backend import DuckDBBackend
from accord.sql.resources import release_memory


@pytest.fixture
def db() -> DuckDBBackend:
    con = duckdb.connect()
    con.execute("""CREATE TABLE features AS SELECT * FROM (VALUES
        (0, DATE '1980-01-01', '111223333', 'A1', NULL, NULL, 'ns:7'),
        (1, DATE '1981-02-02', '111223333', 'A1', NULL, NULL, 'ns:7'),
        (2, DATE '1982-03-03', '111223333', NULL, 'P9', NULL, 'ns:7'),
        (3, DATE '1983-04-04', '222334444', NULL, 'P9', NULL, 'ns:8')
    ) t(rid, dob, ssn, a_number, passport, itin, other_id)""")
    return DuckDBBackend(con)


def test_identifiers_seen_with_many_birth_dates_are_masked(db: DuckDBBackend) -> None:
    db.create_table(SHARED, shared_identifiers_sql(3))
    replace_view(db, VIEW, masked_view_sql())
    rows = db.rows(f"SELECT rid, ssn, a_number, passport, other_id FROM {VIEW} ORDER BY rid")
    # 111223333 and ns:7 are used with three dates of birth: they stop counting; the others stay.
    assert rows == [(0, None, "A1", None, None), (1, None, "A1", None, None), (2, None, None, "P9", None),
                    (3, "222334444", None, "P9", "ns:8")]


def test_the_view_replaces_a_table_left_by_an_earlier_version(db: DuckDBBackend) -> None:
    db.run(f"CREATE TABLE {VIEW} AS SELECT 1 AS old")  # what older stores hold
    db.create_table(SHARED, shared_identifiers_sql(3))
    replace_view(db, VIEW, masked_view_sql())
    replace_view(db, VIEW, masked_view_sql())  # and again, over the view
    kinds = db.rows("SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [VIEW])
    assert kinds == [(1,)]
    assert db.scalar(f"SELECT count(*) FROM {VIEW}") == 4


def test_memory_budget_sizes_and_auto() -> None:
    assert parse_size("300MB") == 300 * 10**6 and parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("4096B") == 4096
    with pytest.raises(ValueError):
        parse_size("lots")
    assert memory_budget(Resources(memory_limit=None), lambda: 1) is None
    assert memory_budget(Resources(memory_limit="2GB"), lambda: 1) == 2 * 10**9
    # auto: bytes per record, never below 256 MiB, never above half the machine.
    assert memory_budget(Resources(), lambda: 10) == 128 * MIB
    big = memory_budget(Resources(memory_per_record=1000), lambda: 10**6)
    assert big == 10**9 or (big is not None and big < 10**9)
    huge = memory_budget(Resources(), lambda: 10**12)
    assert huge is not None and huge < 10**12 * 2048


def test_resources_apply_for_the_run_and_are_restored() -> None:
    con = duckdb.connect()
    db = DuckDBBackend(con)
    before = db.scalar("SELECT current_setting('memory_limit')")
    threads = db.scalar("SELECT current_setting('threads')")
    with engine_resources(db, 300 * MIB, 1):
        assert db.scalar("SELECT current_setting('memory_limit')") == "300.0 MiB"
        assert db.scalar("SELECT current_setting('threads')") == 1
    assert db.scalar("SELECT current_setting('memory_limit')") == before
    assert db.scalar("SELECT current_setting('threads')") == threads
    with pytest.raises(RuntimeError), engine_resources(db, 300 * MIB, None):
        raise RuntimeError("the run fails")
    assert db.scalar("SELECT current_setting('memory_limit')") == before


def test_resources_settings_are_validated() -> None:
    assert default_settings().resources.memory_limit == "auto"
    with pytest.raises(ValueError):
        Resources(memory_limit="a lot")
    s = Settings.model_validate({"blocking": {"rules": [{"name": "ssn", "keys": ["ssn"]}]},
                                 "resources": {"memory_limit": "4GB", "threads": 2}})
    assert s.resources.threads == 2


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and the C library")
def test_memory_the_engine_freed_goes_back_to_the_system() -> None:
    from accord.sql import resources

    if not resources._purgers():
        pytest.skip("no allocator to purge in this build")
    con = duckdb.connect()
    # A join table of a few hundred MB, built and freed.
    con.execute("SELECT count(*) FROM range(4000000) a(i) JOIN "
                "(SELECT i, md5(i::VARCHAR) AS s FROM range(4000000) t(i)) b USING (i)").fetchall()
    before = _rss_mb()
    release_memory()
    after = _rss_mb()
    assert before - after > 50, (before, after)
    release_memory()  # and again: nothing left to give, no error
