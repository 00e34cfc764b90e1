"""Schema versions: a store records its version; an older store is upgraded when opened for
writing (each step recorded, audited, all-or-nothing) or refused with what to do; a newer one is
refused. The old store is ``tests/fixtures/store_857db3b.duckdb.gz``, written by the code of
commit 857db3b (``tests/fixtures/make_store_857db3b.py``)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from accord import __version__
from accord import migrations as mig
from accord.cli import app
from accord.errors import StoreError
from accord.governance import audit
from accord.governance.gate import PolicyDenied
from accord.governance.schema import HELD_ROLES_NOTE
from accord.governance.users import add_user, list_grants
from accord.services import admin, data, people
from accord.store import Store
from accord.store import duckdb_store as store_module

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_STORE = FIXTURES / "store_857db3b.duckdb.gz"
SCHEMA = FIXTURES / f"schema_v{mig.SCHEMA_VERSION}.txt"


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "old.duckdb"
    with gzip.open(OLD_STORE, "rb") as src, db.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    db.chmod(0o600)
    return db


def raw(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


def tables_of(db: Path) -> set[str]:
    return {str(r[0]) for r in raw(db, "SELECT table_name FROM duckdb_tables()")}


def blocks(described: str) -> dict[str, str]:
    """describe()'s output by object ("table x", "view y", "sequence z") -> its lines."""
    out: dict[str, str] = {}
    name = ""
    for line in described.splitlines():
        if line.startswith("#"):
            continue
        if not line.startswith("  "):
            name = line
            out[name] = ""
        out[name] += line + "\n"
    return out


def with_version(db: Path, version: str) -> None:
    con = duckdb.connect(str(db))
    con.execute("UPDATE accord_meta SET value = ? WHERE key = 'format'", [version])
    con.close()


def test_the_steps_lead_from_the_oldest_upgradable_version_to_this_one() -> None:
    versions = [m.version for m in mig.MIGRATIONS]
    assert versions == list(range(mig.OLDEST_UPGRADABLE + 1, mig.SCHEMA_VERSION + 1))
    assert len({m.name for m in mig.MIGRATIONS}) == len(versions)
    assert store_module.STORE_FORMAT == mig.SCHEMA_VERSION


# --- the old store as it was written -----------------------------------------------------------

def test_the_fixture_is_a_store_from_before_versions(old_db: Path) -> None:
    assert raw(old_db, "SELECT key, value FROM accord_meta") == [("format", "1")]
    assert {"role_grants", "view_members", "view_links", "accord_migrations"}.isdisjoint(tables_of(old_db))
    assert raw(old_db, "SELECT count(*) FROM resolution_runs") == [(1,)]
    assert raw(old_db, "SELECT count(*) FROM disclosures")[0][0] > 0


def test_a_read_only_open_refuses_an_older_store_and_changes_nothing(old_db: Path) -> None:
    before = digest(old_db)
    with pytest.raises(StoreError) as e:
        Store(old_db, read_only=True)
    said = str(e.value)
    assert "schema version 1" in said and "open it once for writing" in said
    assert f"accord audit verify --db {old_db}" in said and "nothing was changed" in said
    assert digest(old_db) == before


# --- the upgrade -------------------------------------------------------------------------------

def test_opening_an_older_store_upgrades_it_and_records_the_step(
        old_db: Path, caplog: pytest.LogCaptureFixture) -> None:
    events_before = raw(old_db, "SELECT count(*) FROM audit_events")[0][0]
    with caplog.at_level(logging.WARNING, logger="accord.store"), Store(old_db) as store:
        assert store.schema_version() == mig.SCHEMA_VERSION == 6
        steps = store.query("SELECT version, name, from_version, applied_at, program, notices "
                            "FROM accord_migrations ORDER BY version")
        assert [(v, n, f) for v, n, f, *_ in steps] == [(2, "role-grants-and-view-partitions", 1),
                                                        (3, "data-version", 2), (4, "identity-flags", 3),
                                                        (5, "identity-fields-beyond-the-us", 4),
                                                        (6, "incremental-resolution", 5)]
        (version, name, source, applied_at, program, notices) = steps[0]
        assert (version, name, source, program) == (2, "role-grants-and-view-partitions", 1,
                                                    f"accord {__version__}")
        assert applied_at is not None
        said = json.loads(notices)
        assert any("accord users grants" in n for n in said)
        assert any(f"accord resolve --db {old_db}" in n for n in said)
        # The upgrade is an audit event, chained like any other; the whole chain verifies.
        last, *later = store.query("SELECT seq, user_id, action, decision, origin, details "
                                   "FROM audit_events ORDER BY seq DESC LIMIT 5")[::-1]
        assert [e[0] for e in (last, *later)] == [events_before + i for i in range(1, 6)]
        assert [json.loads(e[5])["to_version"] for e in later] == [3, 4, 5, 6]
        assert last[1:4] == (store_module.UPGRADE_USER, "store.upgrade", "n/a")
        assert f"accord {__version__}" in last[4]
        details = json.loads(last[5])
        assert (details["from_version"], details["to_version"]) == (1, 2)
        assert details["notices"] == said
        check = audit.verify(store)
        assert check.ok, check.problem
        # Every role a user held is now a granted grant; new grants take fresh ids.
        held = {(u, r) for u, roles in store.query("SELECT user_id, roles FROM users") for r in roles}
        grants = list_grants(store)
        assert {(g.user_id, g.role) for g in grants} == held
        assert all(g.state == "granted" and g.note == HELD_ROLES_NOTE for g in grants)
        add_user(store, "newcomer", "New Comer", ["data_engineer"], None, "admin")
        ids = [g.grant_id for g in list_grants(store)]
        assert len(ids) == len(set(ids)) == len(held) + 1
        # Until a resolution run follows, the store says to resolve again.
        assert store.notices() == [mig.resolve_again(old_db, 1)]
    assert any("upgraded from schema version 1 to 2" in r.getMessage() and "accord resolve" in r.getMessage()
               for r in caplog.records)
    assert any("upgraded from schema version 2 to 3" in r.getMessage() for r in caplog.records)
    assert any("upgraded from schema version 3 to 4" in r.getMessage() for r in caplog.records)


def test_an_upgraded_store_opens_again_without_a_second_step(old_db: Path) -> None:
    Store(old_db).close()
    rows = raw(old_db, "SELECT count(*) FROM audit_events")
    store_module._MIGRATED.clear()       # as a new process would
    with Store(old_db) as store:
        assert store.query("SELECT version FROM accord_migrations ORDER BY 1") == [
            (v,) for v in range(2, mig.SCHEMA_VERSION + 1)]
    assert raw(old_db, "SELECT count(*) FROM audit_events") == rows
    with Store(old_db, read_only=True) as store:
        assert store.schema_version() == mig.SCHEMA_VERSION


def test_the_upgrade_to_version_4_keeps_every_record_and_batch_unflagged(old_db: Path) -> None:
    records = raw(old_db, "SELECT count(*) FROM records")[0][0]
    batches = raw(old_db, "SELECT count(*) FROM ingest_batches")[0][0]
    assert records > 0 and batches > 0
    with Store(old_db) as store:
        assert store.query("SELECT count(*), count(flags) FROM records_current") == [
            (store.scalar("SELECT count(*) FROM records_current"), 0)]
        assert store.query("SELECT count(*), count(flags) FROM records") == [(records, 0)]
        assert store.query("SELECT count(*), sum(flagged) FROM ingest_batches") == [(batches, 0)]


def test_an_upgraded_store_has_the_schema_of_a_new_one(old_db: Path, tmp_path: Path) -> None:
    with Store(tmp_path / "fresh.duckdb") as fresh:
        new = blocks(mig.describe(fresh))
    with Store(old_db) as store:
        upgraded = blocks(mig.describe(store))
    # The old store also keeps resolution's working tables (features, ...): not schema.
    assert {k: upgraded.get(k) for k in new} == new, (
        "a store upgraded from version 1 differs from a new store: a table changed without an upgrade "
        "step (accord.migrations)")


def test_a_new_store_has_the_described_schema_of_its_version(tmp_path: Path) -> None:
    with Store(tmp_path / "fresh.duckdb") as fresh:
        assert fresh.schema_version() == mig.SCHEMA_VERSION
        assert fresh.query("SELECT count(*) FROM accord_migrations") == [(0,)]
        assert fresh.notices() == []
        described = f"# schema version {mig.SCHEMA_VERSION}\n{mig.describe(fresh)}"
    assert SCHEMA.is_file(), f"no {SCHEMA.name}: python -m accord.migrations describe > {SCHEMA}"
    assert described == SCHEMA.read_text(encoding="utf-8"), (
        f"the schema of a new store is not the one {SCHEMA.name} describes. A changed table is a new "
        "schema version: add a Migration (accord.migrations) that brings a store of the version before "
        "to it, raise SCHEMA_VERSION, and write the new description with `python -m accord.migrations "
        "describe > tests/fixtures/schema_v<N>.txt`")


def test_an_upgraded_store_verifies_resolves_and_serves_a_person(old_db: Path) -> None:
    verified = admin.audit_verify(old_db, user="olive")
    assert verified.ok and verified.problem is None
    with Store(old_db) as store:
        assert store.notices() != []
        old_ids = {r[0] for r in store.query("SELECT DISTINCT entity_id FROM entity_members")}
        starts = store.scalar("SELECT min(starts_on) FROM agreements WHERE agreement_id LIKE 'CMA-IDV-%'")
        agreement = store.scalar("SELECT agreement_id FROM agreements WHERE agreement_id LIKE 'CMA-IDV-%'")
    # Until the store is resolved again its partitions are the old run's, which do not keep
    # withheld records apart: a purpose with withheld records reads no person.
    assert isinstance(starts, date)
    with Store(old_db) as store:
        first = str(store.scalar("SELECT min(entity_id) FROM entity_members"))
    with pytest.raises(PolicyDenied, match="until the store is resolved again"):
        people.person(old_db, first, user="ana", purpose="identity_verification", agreement=str(agreement),
                      justification="upgraded store", today=starts + timedelta(days=1))
    summary = data.resolve(old_db, user="dana")
    assert summary.run_id == 2 and summary.kept_ids > 0
    with Store(old_db) as store:
        assert store.notices() == []
        # A Numident record: a source the identity-verification agreement covers.
        member = store.query("SELECT entity_id, source, record_id FROM entity_members WHERE source = 'ssa' "
                             "ORDER BY entity_id, record_id LIMIT 1")[0]
        kept = {r[0] for r in store.query("SELECT DISTINCT entity_id FROM entity_members")} & old_ids
    assert kept, "the person ids of the old store's resolution were not kept"
    assert isinstance(starts, date)
    person = people.person(old_db, str(member[0]), user="ana", purpose="identity_verification",
                           agreement=str(agreement), justification="upgraded store",
                           today=starts + timedelta(days=1))
    assert person.person.person_id == member[0]
    shown = {(r.provenance.source, r.provenance.record_id)
             for s in person.person.sources for r in s.records}
    assert (member[1], member[2]) in shown
    assert admin.audit_verify(old_db, user="olive").ok


# --- refusals ------------------------------------------------------------------------------------

def test_a_failed_step_is_rolled_back_and_the_store_stays_at_its_version(
        old_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = mig.MIGRATIONS[0]

    def half(store: Store) -> mig.Upgrade:
        real.apply(store)                     # writes role grants, then fails
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(mig, "MIGRATIONS",
                        (mig.Migration(2, real.name, real.summary, half), *mig.MIGRATIONS[1:]))
    events = raw(old_db, "SELECT count(*) FROM audit_events")
    with pytest.raises(StoreError) as e:
        Store(old_db)
    said = str(e.value)
    assert "from schema version 1 to 2" in said and "rolled back" in said and "disk on fire" in said
    assert raw(old_db, "SELECT value FROM accord_meta WHERE key = 'format'") == [("1",)]
    assert raw(old_db, "SELECT count(*) FROM role_grants") == [(0,)]
    assert raw(old_db, "SELECT count(*) FROM accord_migrations") == [(0,)]
    assert raw(old_db, "SELECT count(*) FROM audit_events") == events
    monkeypatch.undo()
    with Store(old_db) as store:              # the next open upgrades it
        assert store.schema_version() == mig.SCHEMA_VERSION


@pytest.mark.parametrize("read_only", [False, True])
def test_a_store_of_a_newer_version_is_refused_and_left_alone(tmp_path: Path, read_only: bool) -> None:
    db = tmp_path / "newer.duckdb"
    Store(db).close()
    newer = mig.SCHEMA_VERSION + 1
    with_version(db, str(newer))
    before = digest(db)
    with pytest.raises(StoreError) as e:
        Store(db, read_only=read_only)
    said = str(e.value)
    assert f"schema version {newer}" in said and "newer accord" in said
    assert f"supports schema version {mig.SCHEMA_VERSION} at most" in said and "Upgrade accord" in said
    assert digest(db) == before


def test_the_command_line_reports_a_newer_store_as_an_error(tmp_path: Path) -> None:
    db = tmp_path / "newer.duckdb"
    Store(db).close()
    with_version(db, str(mig.SCHEMA_VERSION + 1))
    result = CliRunner().invoke(app, ["audit", "verify", "--db", str(db), "--user", "olive"])
    assert result.exit_code == 3     # the store is not usable by this accord (docs/cli.md)
    assert "error:" in result.output and f"schema version {mig.SCHEMA_VERSION + 1}" in result.output
    assert "Upgrade accord" in result.output


def test_a_store_too_old_to_upgrade_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "ancient.duckdb"
    Store(db).close()
    with_version(db, "0")
    with pytest.raises(StoreError) as e:
        Store(db)
    assert "schema version 0" in str(e.value) and "cannot upgrade" in str(e.value)
    assert "accord init" in str(e.value)


def test_a_duckdb_file_that_is_not_a_store_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE mine (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not an Accord store"):
        Store(db)
    assert tables_of(db) == {"mine"}


def test_the_upgrade_to_version_5_adds_the_fields_and_counts_other_ids_without_a_namespace(
        tmp_path: Path) -> None:
    db = tmp_path / "v4.duckdb"
    Store(db).close()
    con = duckdb.connect(str(db))        # the store as version 4 held it: no new fields
    for column in ("street_number", "address_line_2", "postcode", "region"):
        con.execute(f"ALTER TABLE records DROP COLUMN {column}")
    con.execute("INSERT INTO records (source, record_id, version, system, other_id, batch_id, row_number) "
                "VALUES ('s', '1', 1, 'ssa-numident', 'D1234567', 1, 1)")
    con.execute("UPDATE accord_meta SET value = '4' WHERE key = 'format'")
    con.close()
    store_module._MIGRATED.clear()
    with Store(db) as store:
        assert store.schema_version() == mig.SCHEMA_VERSION
        (notices,) = store.query("SELECT notices FROM accord_migrations WHERE version = 5")[0]
        said = json.loads(notices)
        assert len(said) == 1 and said[0].startswith("1 stored record version(s) hold an other_id without")
        assert store.query("SELECT other_id, postcode, region FROM records_current") == [
            ("D1234567", None, None)]
        fresh = blocks(mig.describe(store))
    with Store(tmp_path / "fresh.duckdb") as new:
        assert {k: fresh.get(k) for k in blocks(mig.describe(new))} == blocks(mig.describe(new))
