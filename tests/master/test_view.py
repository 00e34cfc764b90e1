"""The person view on a small resolved world: provenance, conflicts, masking, withholding."""

from __future__ import annotations

import csv
import json
import re
import shutil
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from accord.governance.scope import Scope, freeze, issue
from accord.master import PersonNotFound, PersonView, person_view
from accord.sources.fields import catalogue
from accord.standardise.identifiers import DOB_PLACEHOLDERS
from accord.store import Store

from .master_helpers import World, build_world, purpose_systems, scope_for

BEV = "benefit_eligibility_verification"
ROE = "removal_order_enforcement"
Row = dict[str, Any]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("view"))


@pytest.fixture(scope="module")
def entities(world: World) -> dict[str, list[Row]]:
    """entity id -> its current records (every canonical field), read directly from the store."""
    cur = world.store.con.execute("""
        SELECT m.entity_id, r.* FROM records_current r JOIN entity_members m USING (source, record_id)
        ORDER BY m.entity_id, r.source, r.record_id""")
    cols = [d[0] for d in cur.description]
    out: dict[str, list[Row]] = defaultdict(list)
    for row in cur.fetchall():
        rec = dict(zip(cols, row, strict=True))
        out[rec["entity_id"]].append(rec)
    return dict(out)


def regimes(world: World, rec: Row) -> set[str]:
    """The regimes a record falls under, straight from the registry data."""
    system = world.registry.systems[rec["system"]]
    out = {system.regime}
    for fld, values in system.content_marks.items():
        if rec[fld] in values:
            out.add(values[rec[fld]])
    return out


def visible(world: World, recs: list[Row], purpose: str) -> list[Row]:
    systems = purpose_systems(purpose)
    withheld = world.registry.withheld_regimes(purpose)
    return [r for r in recs if r["system"] in systems and not regimes(world, r) & withheld]


def pick(entities: dict[str, list[Row]], test: Callable[[list[Row]], bool], what: str) -> str:
    for eid, recs in entities.items():
        if test(recs):
            return eid
    raise AssertionError(f"the test world has no person with {what}")


def key(rec: Row) -> tuple[str, str]:
    return rec["source"], rec["record_id"]


def view(world: World, scope: Scope, pid: str) -> PersonView:
    v = person_view(world.store, world.registry, scope, pid)
    assert isinstance(v, PersonView), v
    return v


def test_records_are_grouped_by_source_with_provenance(world: World, entities: dict[str, list[Row]]) -> None:
    def rich(recs: list[Row]) -> bool:  # several visible sources, and a record the purpose cannot see
        shown = visible(world, recs, BEV)
        return len({r["source"] for r in shown}) >= 3 and len(shown) < len(recs)

    pid = pick(entities, rich, "records in three visible sources and one invisible")
    expected = {key(r) for r in visible(world, entities[pid], BEV)}
    v = view(world, scope_for(BEV), pid)
    assert {(r.provenance.source, r.provenance.record_id) for r in v.records()} == expected
    assert [g.source for g in v.sources] == sorted({s for s, _ in expected})
    batches = dict(world.rows("SELECT source, batch_id FROM ingest_batches"))
    for group in v.sources:
        mapping = world.mappings[group.source]
        assert group.system == mapping["system"]
        with (world.dir / mapping["file"]).open(encoding="utf-8", newline="") as f:
            data = list(csv.DictReader(f, delimiter=mapping.get("csv", {}).get("delimiter", ",")))
        ids = mapping["record_id"]
        id_columns = ids if isinstance(ids, list) else [ids]
        for rec in group.records:
            p = rec.provenance
            assert (p.source, p.system, p.version) == (group.source, group.system, 1)
            assert p.file_name == mapping["file"]
            assert p.batch_id == batches[group.source]
            assert datetime.fromisoformat(p.ingested_at or "").tzinfo is not None
            # The row it came from holds its record id.
            assert "|".join(data[p.row_number - 1][c] for c in id_columns) == p.record_id
    assert v.touched() == ([pid], [(r.provenance.source, r.provenance.record_id) for r in v.records()])
    json.dumps(v.to_dict())


def test_links_are_those_between_the_persons_visible_records(world: World,
                                                             entities: dict[str, list[Row]]) -> None:
    def rich(recs: list[Row]) -> bool:
        return 3 <= len(visible(world, recs, BEV)) < len(recs)

    pid = pick(entities, rich, "three visible records and an invisible one")
    keys = {f"{s}\x1f{r}" for s, r in map(key, visible(world, entities[pid], BEV))}
    stored = world.rows("SELECT source_l || chr(31) || record_id_l, source_r || chr(31) || record_id_r, "
                        "match_probability FROM links")
    expected = {(a, b, p) for a, b, p in stored if a in keys and b in keys}
    v = view(world, scope_for(BEV), pid)
    got = {(f"{x.source_l}\x1f{x.record_id_l}", f"{x.source_r}\x1f{x.record_id_r}", x.match_probability)
           for x in v.links}
    assert got == expected and expected


def test_every_attribute_value_names_the_records_that_hold_it(world: World,
                                                              entities: dict[str, list[Row]]) -> None:
    pid = pick(entities, lambda recs: len(visible(world, recs, BEV)) >= 4, "four visible records")
    v = view(world, scope_for(BEV), pid)
    by_key = {(r.provenance.source, r.provenance.record_id): r for r in v.records()}
    held = {(k, f) for k, r in by_key.items() for f, value in r.fields.items() if value is not None}
    shown = set()
    for attr in v.attributes:
        for value in attr.values:
            for s in value.sources:
                rec = by_key[(s.source, s.record_id)]
                assert rec.fields[attr.field] == s.value
                assert (s.date, s.version) == (rec.date, rec.provenance.version)
                shown.add(((s.source, s.record_id), attr.field))
    assert shown == held


def test_differing_dates_of_birth_are_a_conflict_shown_side_by_side(
        world: World, entities: dict[str, list[Row]]) -> None:
    def dobs(recs: list[Row]) -> set[date]:
        return {r["dob"] for r in visible(world, recs, BEV)
                if r["dob"] is not None and r["dob"].isoformat() not in DOB_PLACEHOLDERS}

    pid = pick(entities, lambda recs: len(dobs(recs)) > 1, "two dates of birth")
    v = view(world, scope_for(BEV), pid)
    attr = v.attribute("dob")
    assert attr is not None and attr.conflict and attr.single_valued
    assert {x.value for x in attr.values} == {d.isoformat() for d in dobs(entities[pid])}
    for x in attr.values:
        holders = {key(r) for r in visible(world, entities[pid], BEV)
                   if r["dob"] and r["dob"].isoformat() == x.value}
        assert {(s.source, s.record_id) for s in x.sources} == holders
    assert "dob" in v.to_dict()["conflicts"]


def _fold(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^A-Z]+", " ", plain.upper()).split())


def test_spelling_noise_is_not_a_conflict(world: World, entities: dict[str, list[Row]]) -> None:
    def forms(recs: list[Row]) -> list[str]:
        return [r["family_name"] for r in visible(world, recs, BEV) if r["family_name"]]

    pid = pick(entities, lambda recs: len(set(forms(recs))) > 1 and len({_fold(f) for f in forms(recs)}) == 1,
               "family names written differently (case, accents, hyphens) but the same")
    v = view(world, scope_for(BEV), pid)
    attr = v.attribute("family_name")
    assert attr is not None and not attr.conflict
    assert len(attr.values) == 1
    assert {s.value for s in attr.values[0].sources} == set(forms(entities[pid]))


def test_fields_outside_the_scope_read_as_none(world: World, entities: dict[str, list[Row]]) -> None:
    def ssa_with_citizenship(recs: list[Row]) -> bool:
        return any(r["source"] == "ssa" and r["citizenship_code"] for r in visible(world, recs, ROE))

    pid = pick(entities, ssa_with_citizenship, "an SSA record holding a citizenship code")
    ssa = next(r for r in entities[pid] if r["source"] == "ssa")
    assert purpose_systems(ROE)["ssa-numident"] == {n for n, f in catalogue().items() if f.kind == "identity"}
    masked = next(r for r in view(world, scope_for(ROE), pid).records() if r.provenance.source == "ssa")
    assert masked.fields["citizenship_code"] is None and "citizenship_code" in masked.masked
    assert masked.fields["dob"] == ssa["dob"].isoformat() and "dob" not in masked.masked
    v = view(world, scope_for(ROE), pid)
    attr = v.attribute("citizenship_code")
    assert attr is None or all(s.source != "ssa" for x in attr.values for s in x.sources)
    full = next(r for r in view(world, scope_for(BEV), pid).records() if r.provenance.source == "ssa")
    assert full.fields["citizenship_code"] == ssa["citizenship_code"]


def _asylum(world: World, rec: Row) -> bool:
    return "asylum_208_6" in regimes(world, rec)


def test_withheld_records_leave_no_trace(world: World, entities: dict[str, list[Row]]) -> None:
    linked = {(s, r) for s, r in world.rows("SELECT source_l, record_id_l FROM links UNION "
                                            "SELECT source_r, record_id_r FROM links")}

    def mixed(recs: list[Row]) -> bool:
        return (any(_asylum(world, r) and key(r) in linked for r in recs)
                and len(visible(world, recs, ROE)) >= 2)

    pid = pick(entities, mixed, "a linked asylum application and two other visible records")
    hidden = [r for r in entities[pid] if _asylum(world, r)]
    full = view(world, scope_for(BEV), pid)  # asylum information is open to this purpose
    assert {key(r) for r in hidden} <= {(r.provenance.source, r.provenance.record_id) for r in full.records()}
    assert "asylum_208_6" in full.regimes and "asylum" in full.marks
    assert any(key(r) in {(x.source_l, x.record_id_l), (x.source_r, x.record_id_r)} for x in full.links
               for r in hidden)

    v = view(world, scope_for(ROE), pid)
    shown = {(r.provenance.source, r.provenance.record_id) for r in v.records()}
    assert shown == {key(r) for r in visible(world, entities[pid], ROE)}
    assert all((x.source_l, x.record_id_l) in shown and (x.source_r, x.record_id_r) in shown for x in v.links)
    assert "asylum_208_6" not in v.regimes and "asylum" not in v.marks
    text = json.dumps(v.to_dict())
    for r in hidden:
        assert r["record_id"] not in text
    assert "asylum" not in text.lower()


def test_unknown_and_fully_withheld_persons_read_the_same(world: World,
                                                          entities: dict[str, list[Row]]) -> None:
    pid = pick(entities, lambda recs: all(_asylum(world, r) for r in recs), "only asylum records")
    assert isinstance(person_view(world.store, world.registry, scope_for(BEV), pid), PersonView)
    withheld = person_view(world.store, world.registry, scope_for(ROE), pid)
    unknown = person_view(world.store, world.registry, scope_for(ROE), "P999999999")
    assert isinstance(withheld, PersonNotFound) and isinstance(unknown, PersonNotFound)
    assert withheld.to_dict() == {**unknown.to_dict(), "person_id": pid}
    assert withheld.message == "not found in this scope" and withheld.touched() == ([], [])
    # Records only in systems outside the scope read the same way.
    irs_only = pick(entities, lambda recs: {r["source"] for r in recs} == {"irs"}, "only tax records")
    outside = person_view(world.store, world.registry, scope_for(BEV), irs_only)
    assert outside == PersonNotFound(irs_only)
    assert isinstance(person_view(world.store, world.registry, scope_for("tax_administration"), irs_only),
                      PersonView)


def test_a_scope_not_issued_by_the_gate_reads_nothing(world: World) -> None:
    pid = world.rows("SELECT min(entity_id) FROM entity_members")[0][0]
    forged = Scope(freeze(purpose_systems(BEV)))
    with pytest.raises(PermissionError, match="issued by the governance gate"):
        person_view(world.store, world.registry, forged, pid)


def test_history_names_only_persons_visible_in_the_scope(world: World, entities: dict[str, list[Row]],
                                                        tmp_path: Path) -> None:
    def mixed(recs: list[Row]) -> bool:
        return any(_asylum(world, r) for r in recs) and bool(visible(world, recs, ROE))

    pid = pick(entities, mixed, "an asylum application and a visible record")
    other = pick({k: v for k, v in entities.items() if k != pid},
                 lambda recs: bool(visible(world, recs, ROE)), "another visible person")
    hidden = pick(entities, lambda recs: all(_asylum(world, r) for r in recs), "only asylum records")
    db = tmp_path / "copy.duckdb"
    shutil.copy(world.db, db)
    at = [datetime(2026, 1, 1, 12, i, tzinfo=UTC) for i in range(5)]
    events = [
        (9, at[0], "merge", pid, [other, "P900000001"], 7, "merged"),  # P9...: retired, never visible
        (9, at[1], "split", pid, [hidden], 3, "split off"),
        (9, at[2], "merge", hidden, [pid], 4, "merged into hidden"),
        (9, at[3], "split", other, [pid], 5, "split from other"),
        (9, at[4], "retired", "P900000001", [], 0, "retired"),
    ]
    with Store(db) as store:
        store.con.executemany("INSERT INTO entity_events VALUES (?, ?, ?, ?, ?, ?, ?)", events)
        v = person_view(store, world.registry, scope_for(ROE), pid)
        full = person_view(store, world.registry, scope_for(BEV), pid)
    assert isinstance(v, PersonView) and isinstance(full, PersonView)
    assert [(h.event, h.entity_id, h.related_ids) for h in v.history] == [
        ("merge", pid, [other]), ("split", other, [pid])]
    assert hidden not in json.dumps(v.to_dict()) and "records" not in v.to_dict()["history"][0]
    assert [(h.event, h.entity_id, h.related_ids) for h in full.history] == [
        ("merge", pid, [other]), ("split", pid, [hidden]), ("merge", hidden, [pid]), ("split", other, [pid])]


def test_a_scope_limited_to_named_persons_reads_only_them(world: World,
                                                          entities: dict[str, list[Row]]) -> None:
    a, b = [eid for eid, recs in entities.items() if visible(world, recs, BEV)][:2]
    only_a = issue(Scope(freeze(purpose_systems(BEV)), persons=frozenset({a})))
    assert isinstance(person_view(world.store, world.registry, only_a, a), PersonView)
    assert person_view(world.store, world.registry, only_a, b) == PersonNotFound(b)


def test_a_views_plain_form_is_what_asdict_gives(world: World) -> None:
    """The plain form of a person view is made without ``dataclasses.asdict`` (its cost was a
    third of a first lookup's Python): it may not change an answer."""
    import dataclasses

    from accord.master import view as view_module

    persons = [r[0] for r in world.store.query("SELECT DISTINCT entity_id FROM entity_members ORDER BY 1")]
    assert persons
    checked = 0
    for purpose in (BEV, ROE):
        for pid in persons[::7]:
            fresh = person_view(world.store, world.registry, scope_for(purpose), pid)
            if isinstance(fresh, PersonView):
                expected = dataclasses.asdict(fresh)
                expected["conflicts"] = [a.field for a in fresh.conflicts]
                assert fresh.to_dict() == expected
                assert json.dumps(fresh.to_dict(), default=str) == json.dumps(expected, default=str)
                checked += 1
    assert checked
    odd = {"a": [1, (2, [3])], "b": {"c": date(2020, 1, 2)}, "s": {1, 2}}
    assert view_module.as_plain(odd) == odd and view_module.as_plain(odd)["s"] is not odd["s"]
