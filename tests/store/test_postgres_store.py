"""The PostgreSQL store: its schema is every stage's tables at this schema version, made once
even when several processes start at once; other versions and unreachable servers are refused
with what to do; values come back as the embedded store gives them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import psycopg
import pyarrow as pa
import pytest

from accord import migrations as mig
from accord.errors import StoreError
from accord.store import Store, open_store
from accord.store.postgres_store import PostgresStore, redacted, to_psycopg

pytestmark = pytest.mark.postgres


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as con:
        return {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def test_a_new_database_gets_every_table_of_a_fresh_embedded_store(pg_url: str, tmp_path) -> None:
    with open_store(tmp_path / "fresh.duckdb") as embedded:
        expected = {r[0] for r in embedded.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
    with Store(pg_url) as store:
        assert isinstance(store, PostgresStore)
        assert store.schema_version() == mig.SCHEMA_VERSION
    assert tables(pg_url) == expected


OPEN = "import sys; from accord.store import open_store; open_store(sys.argv[1]).close()"


def test_several_processes_opening_a_new_database_at_once_make_one_schema(pg_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", OPEN, pg_url], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with open_store(pg_url) as store:
        assert store.query("SELECT key, value FROM accord_meta WHERE key = ?", [mig.VERSION_KEY]) == [
            (mig.VERSION_KEY, str(mig.SCHEMA_VERSION))]


def test_a_store_of_another_version_is_refused_and_left_alone(pg_url: str) -> None:
    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE accord_meta SET value = %s WHERE key = %s",
                    [str(mig.SCHEMA_VERSION + 1), mig.VERSION_KEY])
    with pytest.raises(StoreError) as e:
        open_store(pg_url)
    assert f"schema version {mig.SCHEMA_VERSION + 1}" in str(e.value) and "newer accord" in str(e.value)
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE accord_meta SET value = '2' WHERE key = %s", [mig.VERSION_KEY])
    with pytest.raises(StoreError) as e:
        open_store(pg_url)
    assert "upgrades PostgreSQL stores from version 3 on" in str(e.value)


def test_a_version_3_store_is_upgraded_to_flags_recorded_and_audited(pg_url: str, write_extract) -> None:
    from accord.governance import audit
    from accord.ingest import ingest_file

    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as con:       # the store as version 3 made it
        con.execute("DROP VIEW record_provenance")
        con.execute("DROP VIEW records_current")
        for column in ("street_number", "address_line_2", "postcode", "region", "flags"):
            con.execute(f"ALTER TABLE records DROP COLUMN {column}")
        con.execute("ALTER TABLE ingest_batches DROP COLUMN flagged")
        con.execute("UPDATE accord_meta SET value = '3' WHERE key = %s", [mig.VERSION_KEY])
    with pytest.raises(StoreError) as e:
        open_store(pg_url, read_only=True)
    assert "schema version 3" in str(e.value) and "read-only open cannot upgrade" in str(e.value)
    with open_store(pg_url) as store:
        assert store.schema_version() == mig.SCHEMA_VERSION == 6
        assert store.query("SELECT version, name, from_version FROM accord_migrations "
                           "ORDER BY version") == [
            (4, "identity-flags", 3), (5, "identity-fields-beyond-the-us", 4),
            (6, "incremental-resolution", 5)]
        details = store.query("SELECT details FROM audit_events WHERE action = 'store.upgrade' "
                              "ORDER BY seq")
        assert [json.loads(d)["to_version"] for (d,) in details] == [4, 5, 6]
        assert audit.verify(store).ok
        mapping = write_extract({"source": "s", "system": "test-system", "format": "csv", "record_id": "id",
                                 "fields": {"family_name": "n", "ssn": "ssn"}},
                                "id,n,ssn\n1,Silva,000-12-3456\n2,Okafor,501-27-4481\n")
        r = ingest_file(store, mapping, max_failure_rate=1)   # one bad SSN of two, on purpose
        assert (r.accepted, r.quarantined, r.flagged) == (2, 0, 1)
        flags = store.query("SELECT record_id, ssn, flags FROM records_current ORDER BY record_id")
        assert [(i, s, json.loads(f)[0]["field"] if f else None) for i, s, f in flags] == [
            ("1", None, "ssn"), ("2", "501274481", None)]
        assert store.query("SELECT flagged FROM ingest_batches") == [(1,)]


def test_a_read_only_open_of_an_empty_database_creates_nothing(pg_url: str) -> None:
    with pytest.raises(StoreError) as e:
        open_store(pg_url, read_only=True)
    assert "not an Accord store" in str(e.value)
    assert tables(pg_url) == set()


def test_an_unreachable_server_is_one_error_without_the_password(pg_cluster) -> None:
    url = f"postgresql://someone:s3cret@/nope?host={pg_cluster.socket}"
    with pytest.raises(StoreError) as e:
        open_store(url)
    said = str(e.value)
    assert "cannot connect to the PostgreSQL store" in said and "s3cret" not in said
    assert redacted("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"


def test_values_come_back_as_the_embedded_store_gives_them(pg_url: str, tmp_path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    row = {"user_id": "a", "name": "A", "roles": ["analyst", "auditor"], "organisation": None,
           "created_at": now, "created_by": "admin", "active": True}
    got = []
    for target in (tmp_path / "e.duckdb", pg_url):
        with open_store(target) as store:
            store.bulk_load("users", pa.Table.from_pylist([row]))
            store.insert("registry_versions", {"version": "v1", "loaded_at": now,
                                               "content": json.dumps({"k": [1, 2]})})
            got.append((store.query("SELECT user_id, name, roles, organisation, created_at, active "
                                    "FROM users"),
                        store.query("SELECT content FROM registry_versions")))
    assert got[0] == got[1]
    assert json.loads(got[1][1][0][0]) == {"k": [1, 2]}           # JSON as text on both


def test_the_engine_connection_is_refused_with_what_to_do(pg_url: str) -> None:
    with open_store(pg_url) as store, pytest.raises(StoreError) as e:
        store.con.execute("SELECT 1")
    assert "embedded store" in str(e.value)


@pytest.mark.parametrize(("sql", "pg"), [
    ("SELECT ?", "SELECT %s"),
    ("SELECT '?' || ?", "SELECT '?' || %s"),
    ("SELECT 5 % 2, ?", "SELECT 5 %% 2, %s"),
    ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
    ('SELECT "a?b" FROM t WHERE x = ?', 'SELECT "a?b" FROM t WHERE x = %s'),
    ("SELECT 1 -- why?\n, ?", "SELECT 1 -- why?\n, %s"),
])
def test_placeholders_become_psycopgs_outside_quoted_text(sql: str, pg: str) -> None:
    assert to_psycopg(sql) == pg
