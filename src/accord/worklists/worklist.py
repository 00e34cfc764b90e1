"""Work lists: for an agreement's purpose, the persons whose determination fits, each with its
evidence, link confidence and records, all "unverified"; everyone else counted by reason.

Candidates are the persons with a final order of removal anywhere in the facts the
determination scope allows; each is determined by the status rules and listed only when
eligible. Exclusions are counted, never listed. An entry is a lead for independent
verification (the adverse-action workflow), never a finding.

Before anyone is listed, their identity must be settled (precision first):

- a person one of whose records shares an A-number with a record of another person id, or
  whose records give no date of birth (name, date of birth and an identifier cannot be
  verified together, and such records cannot link to the person's other records), goes to
  review (``needs_review``);
- a person with possible matches — records of other person ids joined to one of theirs by a
  link held for review, or by a strong link a clustering guard rejected (the records carry
  different identifiers) — is determined again with every record of those person ids added
  as weakly linked facts (status rule 12): when they would change the outcome (an exit, a
  grant, citizenship evidence), the person goes to review (``low_link_confidence``); when
  they change nothing, the person is listed on the strength of their own records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.governance.scope import Scope, require_issued, scoped_records_sql, unwithheld_sql
from accord.resolve.views import links_sql
from accord.status import FAVOURABLE_ONLY, Fact, default_rules, determine, eligibility
from accord.store import Store
from accord.worklists.facts import annotations_for, fact_rows, facts_by_person
from accord.worklists.status_view import HIDDEN_EXCLUSIONS, removal_sources, shown, visible_records

Progress = Callable[[str, float], None]


@dataclass
class Entry:
    person_id: str
    name: str | None
    dob: str | None
    a_number: str | None
    status: str
    order_date: str | None
    link_confidence: float
    evidence: list[dict[str, Any]]
    records: list[dict[str, str]]
    verification: str = "unverified"


@dataclass
class Worklist:
    agreement: str
    purpose: str
    as_of: str
    entries: list[Entry] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    candidates: int = 0

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return ([e.person_id for e in self.entries],
                [(r["source"], r["record_id"]) for e in self.entries for r in e.records])

    def to_dict(self) -> dict[str, Any]:
        return {"agreement": self.agreement, "purpose": self.purpose, "as_of": self.as_of,
                "candidates": self.candidates, "entries": [asdict(e) for e in self.entries],
                "excluded": dict(self.excluded)}


def eligible_persons(store: Store, registry: Registry, decision: Decision, as_of: date,
                     progress: Progress | None = None) -> tuple[dict[str, Any], Counter[str], int]:
    """Determinations of every candidate: (eligible person -> determination, exclusion counts,
    candidates)."""
    scope = decision.determination_scope
    assert scope is not None
    rows = fact_rows(store, registry, scope, where="case_status = 'final_order'")
    facts = facts_by_person(rows)
    notes = annotations_for(store, list(facts), scope.view)
    purpose = decision.agreement.purpose if decision.agreement else "removal_order_enforcement"
    barred = FAVOURABLE_ONLY.get(purpose, ())
    removals = removal_sources(store)
    assert decision.scope is not None
    eligible: dict[str, Any] = {}
    excluded: Counter[str] = Counter()
    for i, (pid, person_facts) in enumerate(sorted(facts.items())):
        if progress and i % 500 == 0:
            progress("determining status", i / max(1, len(facts)))
        d = determine(person_facts, as_of, annotations=notes.get(pid, []), favourable_only=barred,
                      removals_recorded_by=removals)
        el = eligibility(d, purpose)
        if el.eligible:
            eligible[pid] = d
        else:
            excluded[_bucket(d, el.exclusion or "no_final_order", decision.scope, person_facts)] += 1
    # Precision first: a person whose identity is not settled is not listed until a person
    # resolves it; a person with possible matches is listed only when they change nothing.
    for pid in unsettled_identities(store, registry, scope, sorted(eligible)):
        del eligible[pid]
        excluded["needs_review"] += 1
    for pid, near in possible_matches(store, registry, scope, sorted(eligible)).items():
        d = determine(facts[pid] + near, as_of, annotations=notes.get(pid, []),
                      favourable_only=barred, removals_recorded_by=removals)
        el = eligibility(d, purpose)
        if not el.eligible:
            del eligible[pid]
            excluded[_bucket(d, el.exclusion or "needs_review", decision.scope, facts[pid] + near)] += 1
    return eligible, excluded, len(facts)


#: The exclusion count of persons whose exclusion rests on something the purpose is not shown
#: (a protected application, a field of a record it may see only in part): one bucket that
#: names nothing, so counts taken before and after a change tell nothing about what changed.
NEUTRAL_BUCKET = "not_eligible_for_this_purpose"


def _bucket(d: Any, exclusion: str, shown: Scope, facts: list[Fact]) -> str:
    """The exclusion count a person falls under (never one that separates unshown evidence)."""
    if exclusion in HIDDEN_EXCLUSIONS:
        return NEUTRAL_BUCKET
    system = {(f.source, f.record_id): f.system for f in facts}
    if any(e.field != "record" and e.field not in shown.fields_for(system.get((e.source, e.record_id), ""))
           for e in d.evidence):
        return NEUTRAL_BUCKET
    return exclusion


def unsettled_identities(store: Store, registry: Registry, scope: Scope, persons: list[str]) -> set[str]:
    """Persons whose identity is not settled: one of their records shares an A-number
    (digits) with a record of another person id, or no record gives a date of birth (name,
    date of birth and an identifier cannot be verified together, and nothing could link
    their other records, an exit or a grant, to them)."""
    require_issued(scope)
    if not persons:
        return set()
    sql = scoped_records_sql(registry, scope)
    shared = store.query(f"""
        WITH s AS (SELECT person_id,
                          nullif(regexp_replace(coalesce(a_number, ''), '[^0-9]', '', 'g'), '') AS a
                   FROM ({sql}) WHERE person_id IS NOT NULL),
             mine AS (SELECT * FROM s WHERE list_contains(?, person_id))
        SELECT DISTINCT mine.person_id FROM mine JOIN s ON s.a = mine.a AND s.person_id <> mine.person_id""",
                         [persons])
    no_dob = store.query(f"""
        SELECT person_id FROM ({sql}) WHERE list_contains(?, person_id)
        GROUP BY person_id HAVING count(dob) = 0""", [persons])
    return {r[0] for r in shared} | {r[0] for r in no_dob}


# A link a clustering guard rejected joins records whose identifiers disagree: they are not
# linked, and count as the weakest possible match.
_REJECTED_CONFIDENCE = 0.0


def possible_matches(store: Store, registry: Registry, scope: Scope,
                     persons: list[str]) -> dict[str, list[Fact]]:
    """Per person, every record (under the scope) of each other person id joined to one of
    the person's records by a link held for review or rejected by a clustering guard in the
    latest resolution run, as a fact with the link's probability as its link confidence (0
    for a guard-rejected link): records that may be the person's, which the status rules
    treat as weakly linked (rule 12)."""
    require_issued(scope)
    if not persons:
        return {}
    sql = scoped_records_sql(registry, scope)
    cur = store.con.execute(f"""
        WITH u AS ({unwithheld_sql(registry, scope)}),
             l AS (SELECT source_l AS s1, record_id_l AS r1, source_r AS s2, record_id_r AS r2,
                          CASE WHEN status = 'review' THEN match_probability
                               ELSE {_REJECTED_CONFIDENCE} END AS p
                   FROM ({links_sql(scope.view)})
                   WHERE status IN ('review', 'rejected_by_guard')
                   AND run_id = (SELECT max(run_id) FROM resolution_runs)),
             ends AS (SELECT s1 AS src, r1 AS rid, s2 AS osrc, r2 AS orid, p FROM l
                      UNION ALL SELECT s2, r2, s1, r1, p FROM l),
             near AS (SELECT mine.person_id AS for_person, o.person_id AS other, max(ends.p) AS p
                      FROM u mine
                      JOIN ends ON ends.src = mine.source AND ends.rid = mine.record_id
                      JOIN u o ON o.source = ends.osrc AND o.record_id = ends.orid
                      WHERE list_contains(?, mine.person_id) AND o.person_id <> mine.person_id
                      GROUP BY ALL)
        SELECT near.for_person, near.p AS possible_confidence, r.*
        FROM near JOIN ({sql}) r ON r.person_id = near.other
        ORDER BY near.for_person, r.source, r.record_id""", [persons])
    names = [d[0] for d in cur.description]
    # Never as strong as a link, whatever the resolution's review band.
    weakest_link = default_rules().link_threshold - 1e-9
    out: dict[str, list[Fact]] = {}
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        out.setdefault(row["for_person"], []).append(Fact.from_row(
            row, link_confidence=min(weakest_link, max(0.0, float(row["possible_confidence"]))),
            regimes=tuple(row["regimes"] or ())))
    return out


def build(store: Store, registry: Registry, decision: Decision, as_of: date, limit: int,
          offset: int = 0, progress: Progress | None = None) -> Worklist:
    assert decision.agreement is not None and decision.scope is not None
    purpose = decision.agreement.purpose
    eligible, excluded, candidates = eligible_persons(store, registry, decision, as_of, progress)
    ordered = sorted(eligible)
    page = ordered[offset:offset + limit]
    visible_rows = fact_rows(store, registry, decision.scope, page)
    by_person: dict[str, list[dict[str, Any]]] = {}
    for r in visible_rows:
        by_person.setdefault(r["person_id"], []).append(r)
    wl = Worklist(decision.agreement.id, purpose, as_of.isoformat(), excluded=dict(sorted(excluded.items())),
                  candidates=candidates)
    for pid in page:
        rows = by_person.get(pid, [])
        if not rows:
            continue
        view = shown(eligible[pid], purpose, visible_records(store, registry, decision, [pid]), pid)
        wl.entries.append(Entry(
            pid, _common(rows, ("given_name", "family_name")), _common(rows, ("dob",)),
            _common(rows, ("a_number",)), view.status,
            eligible[pid].status_date.isoformat() if eligible[pid].status_date else None,
            eligible[pid].confidence, view.evidence,
            [{"source": r["source"], "record_id": r["record_id"]} for r in rows]))
    if progress:
        progress("work list", 1.0)
    return wl


def _common(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str | None:
    values = Counter(" ".join(str(r[f]) for f in fields if r.get(f) is not None) for r in rows)
    values.pop("", None)
    return values.most_common(1)[0][0] if values else None
