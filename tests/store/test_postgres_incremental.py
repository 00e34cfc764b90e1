"""Incremental resolution on PostgreSQL: the same queue, the same persons, links, views and
events as on the embedded store; two processes adding one person's records at once end with
one entity (the resolution lock is a PostgreSQL advisory lock)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from test_postgres_pipeline import CIRCUMSTANTIAL, same

from accord import services
from accord.store import open_store
from worlds import ENGINEER, TODAY

pytestmark = pytest.mark.postgres

TABLES = {
    "entity_members": "source, record_id",
    "links": "source_l, record_id_l, source_r, record_id_r",
    "view_members": "view, source, record_id",
    "view_links": "view, source_l, record_id_l, source_r, record_id_r",
    "entity_events": "run_id, entity_id, event",
    "resolution_queue": "seq",
    "resolution_updates": "run_id",
}


def rows(db: str | Path, table: str) -> list[dict[str, Any]]:
    with open_store(db, read_only=True) as store:
        data = store.read_arrow(f"SELECT * FROM {table} ORDER BY {TABLES[table]}").to_pylist()
    return [{k: v for k, v in r.items() if k not in CIRCUMSTANTIAL | {"queued_at", "seconds"}}
            for r in data]


def build(db: str | Path, world: Any) -> Any:
    services.init(db, samples=True, today=TODAY)
    for ex in world.extracts[:-1]:
        services.ingest(db, ex.mapping_path, user=ENGINEER)
    services.resolve(db, user=ENGINEER)
    services.ingest(db, world.extracts[-1].mapping_path, user=ENGINEER)
    return services.resolve_queued(db, user=ENGINEER)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, pg_cluster: Any) -> tuple[Path, str, Any, Any]:
    folder = tmp_path_factory.mktemp("inc-engines")
    world = services.synth(600, 9, folder / "world")
    embedded, postgres = folder / "a.duckdb", pg_cluster.new_database()
    return embedded, postgres, build(embedded, world), build(postgres, world)


def test_an_update_reports_the_same_on_both_engines(both: tuple) -> None:
    _, _, on_duckdb, on_postgres = both
    assert on_duckdb.records > 0 and on_duckdb.persons
    strip = ("seconds",)
    assert ({k: v for k, v in on_postgres.plain().items() if k not in strip}
            == {k: v for k, v in on_duckdb.plain().items() if k not in strip})


@pytest.mark.parametrize("table", list(TABLES))
def test_an_update_stores_the_same_rows_on_both_engines(both: tuple, table: str) -> None:
    embedded, postgres, _, _ = both
    a, b = rows(embedded, table), rows(postgres, table)
    if table in ("entity_members", "links", "entity_events", "resolution_updates"):
        assert a, f"{table} is empty: the comparison would prove nothing"
    assert same(a, b), f"{table} differs between the engines"


def _add(db: str, source: str, row: dict[str, Any], barrier: Any, out: Any) -> None:
    barrier.wait()
    try:
        r = services.add_records(db, source, [row], user=ENGINEER)
        out.put(("ok", r.batch))
    except BaseException as e:  # reported to the parent
        out.put(("error", repr(e)))


def test_two_processes_adding_one_person_end_with_one_entity(both: tuple) -> None:
    _, postgres, _, _ = both
    with open_store(postgres, read_only=True) as store:
        text = store.scalar("SELECT mapping_yaml FROM sources WHERE source = 'uscis'")
    from accord.sources.mapping import parse_mapping

    spec = parse_mapping(text)
    dob_format = spec.fields["dob"].formats
    from datetime import date

    def row(receipt: str) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(spec.columns_used())
        out[spec.record_id_columns[0]] = receipt
        values = {"given_name": "Quintavius", "family_name": "Oyelaran-Smythe",
                  "dob": date(1971, 3, 14).strftime(dob_format[0]) if dob_format else "1971-03-14",
                  "ssn": "219099999", "a_number": "A098765432"}
        for field, value in values.items():
            if field in spec.fields:
                out[spec.fields[field].column] = value
        return out

    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_add, args=(postgres, "uscis", row(r), barrier, out))
             for r in ("PGNEW0000001", "PGNEW0000002")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    results = [out.get(timeout=10) for _ in procs]
    assert all(kind == "ok" for kind, _ in results), results
    with open_store(postgres, read_only=True) as store:
        ids = store.query("SELECT DISTINCT entity_id FROM entity_members "
                          "WHERE record_id IN ('PGNEW0000001', 'PGNEW0000002')")
        members = store.scalar("SELECT count(*) FROM entity_members "
                               "WHERE record_id IN ('PGNEW0000001', 'PGNEW0000002')")
    assert members == 2 and len(ids) == 1, ids
