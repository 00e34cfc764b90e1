"""Match explanations under a scope: weights that add up, comparisons on unseen fields not
named, paths only through visible records."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord import services
from accord.errors import AccordError
from accord.governance.gate import PolicyDenied
from accord.master.explain import WITHHELD, explain_person
from accord.sources.fields import catalogue
from accord.store import Store

from .master_helpers import World, build_world, custom_scope, scope_for

BEV = "benefit_eligibility_verification"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("explain"), seed=7)


def _largest(world: World) -> tuple[str, list[tuple[str, str]]]:
    pid = world.rows("""SELECT m.entity_id FROM entity_members m JOIN links l
                        ON l.source_l = m.source AND l.record_id_l = m.record_id AND l.status = 'linked'
                        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")[0][0]
    recs = world.rows("SELECT source, record_id FROM entity_members WHERE entity_id = ? ORDER BY 1, 2", [pid])
    return pid, [(s, r) for s, r in recs]


def test_each_link_weight_is_the_prior_plus_its_contributions(world: World) -> None:
    pid, recs = _largest(world)
    everything = {s: set(catalogue()) for s in world.registry.systems}
    out = explain_person(world.store, world.registry, custom_scope(everything), pid, limit=50)
    assert out.found and out.links
    for link in out.links:
        total = link.prior_weight + sum(c.log2_bayes_factor for c in link.contributions)
        assert total == pytest.approx(link.match_weight, abs=1e-3)
        assert link.a in recs and link.b in recs
        assert WITHHELD not in {c.comparison for c in link.contributions}
    stored = world.rows(
        """SELECT match_weight FROM links WHERE source_l || ':' || record_id_l = ?
                           AND source_r || ':' || record_id_r = ?""",
        [":".join(out.links[0].a), ":".join(out.links[0].b)],
    )
    assert stored and stored[0][0] == pytest.approx(out.links[0].match_weight, abs=0.05)


def test_comparisons_on_fields_the_scope_hides_are_summed_not_named(world: World) -> None:
    pid, _ = _largest(world)
    names_only = {s: {"given_name", "family_name"} for s in world.registry.systems}
    full = explain_person(
        world.store, world.registry, custom_scope({s: set(catalogue()) for s in world.registry.systems}), pid
    )
    narrow = explain_person(world.store, world.registry, custom_scope(names_only), pid)
    assert [(lk.a, lk.b) for lk in narrow.links] == [(lk.a, lk.b) for lk in full.links]
    for wide, lk in zip(full.links, narrow.links, strict=True):
        named = {c.comparison for c in lk.contributions}
        assert named <= {"given_name", "family_name", "name_order", WITHHELD}
        assert WITHHELD in named
        assert lk.match_weight == pytest.approx(wide.match_weight)


def test_a_path_joins_the_two_records_through_visible_links(world: World) -> None:
    pid, recs = _largest(world)
    scope = custom_scope({s: set(catalogue()) for s in world.registry.systems})
    out = explain_person(world.store, world.registry, scope, pid, recs[0], recs[-1])
    assert out.path, out.path_note
    assert out.path[0].a == recs[0] and out.path[-1].b == recs[-1]
    for step, nxt in zip(out.path, out.path[1:], strict=False):
        assert step.b == nxt.a


def test_a_record_outside_the_person_or_its_scope_is_refused(world: World) -> None:
    pid, recs = _largest(world)
    other = world.rows("SELECT source, record_id FROM entity_members WHERE entity_id <> ? LIMIT 1", [pid])[0]
    scope = scope_for(BEV)
    with pytest.raises(AccordError, match="not among this person's records"):
        explain_person(world.store, world.registry, scope, pid, recs[0], (other[0], other[1]))
    assert explain_person(world.store, world.registry, scope, "E-NOBODY").found is False


def test_the_service_is_gated_and_audited(world: World, tmp_path: Path) -> None:
    pid, _ = _largest(world)
    db = tmp_path / "copy.duckdb"  # the fixture holds the world's store open read-only
    shutil.copy(world.db, db)
    agreement = str(world.rows("SELECT agreement_id FROM agreements WHERE purpose = ? LIMIT 1", [BEV])[0][0])
    links = services.explain(db, pid, user="bea", purpose=BEV, agreement=agreement).links
    assert links, "the largest entity has links between records a benefits purpose may see"
    a, b = ":".join(links[-1].a), ":".join(links[-1].b)
    out = services.explain(db, pid, user="bea", purpose=BEV, agreement=agreement, a=a, b=b)
    assert out.path is not None and [":".join(out.path[0].a), ":".join(out.path[-1].b)] == [a, b]
    with Store(db, read_only=True) as store:
        event = store.query(
            "SELECT action, decision, persons FROM audit_events WHERE seq = ?", [out.audit_event]
        )
    assert [(e[0], e[1], json.loads(e[2])) for e in event] == [("person.explain", "allow", [pid])]
    with pytest.raises(PolicyDenied):
        services.explain(db, pid, user="olive", purpose=BEV, agreement=agreement)
    with pytest.raises(AccordError, match="both records"):
        services.explain(db, pid, user="bea", purpose=BEV, agreement=agreement, a=a)


def test_every_comparison_names_the_record_fields_it_reads() -> None:
    from accord.master.explain import COMPARED_FIELDS
    from accord.resolve.comparisons import default_comparisons

    assert {c.name for c in default_comparisons()} == set(COMPARED_FIELDS)
    assert all(set(fields) <= set(catalogue()) for fields in COMPARED_FIELDS.values())
