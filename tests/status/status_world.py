"""Test helper: build a synthetic world, resolve it, determine every entity's status and
measure removal-enforcement eligibility against the world's ground truth.

Test-only store reads: the product module takes facts as input; this helper gathers them
from ``records_current`` joined to ``entity_members`` with a simple link confidence (the
best ``linked`` link probability of each record; 1.0 for a record alone in its entity).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from accord.governance.registry import registry
from accord.governance.scope import regimes_sql
from accord.ingest import ingest_file
from accord.person_status.facts import removal_sources
from accord.resolve.pipeline import resolve
from accord.status import FAVOURABLE_ONLY, Determination, Fact, determine, eligibility
from accord.store import Store
from accord.synth import generate

AS_OF = date(2026, 6, 30)  # the synthetic world's default "today"
PURPOSE = "removal_order_enforcement"
FACT_COLUMNS = ("citizenship_code", "death_date", "naturalization_date", "benefit_type",
                "benefit_status", "benefit_date", "case_status", "case_decision_date",
                "entry_date", "exit_date", "admission_class", "encounter_date", "tax_year",
                "program", "event_date", "passport_number")


def build_world(root: Path, persons: int, seed: int) -> tuple[Path, Path, Path]:
    """(store, truth.csv, persons.csv) of a generated, ingested and resolved world.

    Ingest and resolution run as the pipeline stages themselves (as the resolution tests
    do), not through the governed service layer, which needs users and agreements."""
    world = generate(persons, seed, root / "world")
    db = root / "store.duckdb"
    with Store(db) as store:
        for ex in world.extracts:
            ingest_file(store, ex.mapping_path)
        resolve(store)
    return db, world.truth_path, world.persons_path


def _read_facts(db: Path, sql: str) -> dict[str, list[Fact]]:
    out: dict[str, list[Fact]] = defaultdict(list)
    with Store(db, read_only=True) as store:
        cur = store.con.execute(sql)
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            rec: dict[str, Any] = dict(zip(names, row, strict=True))
            out[rec["entity_id"]].append(Fact.from_row(
                rec, link_confidence=min(1.0, float(rec["p"])), regimes=tuple(rec["regimes"])))
    return dict(out)


def _records_sql() -> str:
    return f"(SELECT *, {regimes_sql(registry())} AS regimes FROM records_current)"


def possible_facts(db: Path) -> dict[str, list[Fact]]:
    """Per entity, the records of other entities joined to one of its records by a review
    link (a possible match), with that link's probability as their link confidence."""
    cols = ", ".join(f"r.{c}" for c in FACT_COLUMNS)
    sql = f"""
        WITH pairs AS (
          SELECT source_l AS a_src, record_id_l AS a_id, source_r AS b_src, record_id_r AS b_id,
                 match_probability AS p FROM links WHERE status = 'review'
          UNION ALL
          SELECT source_r, record_id_r, source_l, record_id_l, match_probability
          FROM links WHERE status = 'review'),
        near AS (
          SELECT ma.entity_id, pairs.b_src AS source, pairs.b_id AS record_id, max(p) AS p
          FROM pairs
          JOIN entity_members ma ON ma.source = a_src AND ma.record_id = a_id
          JOIN entity_members mb ON mb.source = b_src AND mb.record_id = b_id
          WHERE ma.entity_id <> mb.entity_id GROUP BY ALL)
        SELECT n.entity_id, r.source, r.system, r.record_id, n.p AS p, r.regimes, {cols}
        FROM near n JOIN {_records_sql()} r USING (source, record_id)"""
    return _read_facts(db, sql)


def entity_facts(db: Path) -> dict[str, list[Fact]]:
    """Every entity's facts, from the store."""
    cols = ", ".join(f"r.{c}" for c in FACT_COLUMNS)
    sql = f"""
        WITH ends AS (
          SELECT source_l AS source, record_id_l AS record_id, match_probability AS p
          FROM links WHERE status = 'linked'
          UNION ALL
          SELECT source_r, record_id_r, match_probability FROM links WHERE status = 'linked'),
        best AS (SELECT source, record_id, max(p) AS p FROM ends GROUP BY ALL)
        SELECT m.entity_id, r.source, r.system, r.record_id, coalesce(b.p, 1.0) AS p,
               r.regimes, {cols}
        FROM {_records_sql()} r
        JOIN entity_members m USING (source, record_id)
        LEFT JOIN best b USING (source, record_id)"""
    return _read_facts(db, sql)


@dataclass
class Harm:
    """Eligibility for removal_order_enforcement measured against the truth."""

    entities: int = 0
    eligible: int = 0
    # (entity, true status of the person the order is about, why the entity missed it)
    wrongly_listed: list[tuple[str, str, str]] = field(default_factory=list)
    citizens_listed: int = 0
    mixed_listed: list[str] = field(default_factory=list)   # eligible entities mixing persons
    final_order_with_court: int = 0
    final_order_found: int = 0
    missed: list[tuple[str, str | None]] = field(default_factory=list)  # (person, exclusion)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (true, determined)
    exclusions: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.final_order_found / self.final_order_with_court if self.final_order_with_court else 1.0

    def add(self, other: Harm) -> None:
        self.entities += other.entities
        self.eligible += other.eligible
        self.wrongly_listed += other.wrongly_listed
        self.citizens_listed += other.citizens_listed
        self.mixed_listed += other.mixed_listed
        self.final_order_with_court += other.final_order_with_court
        self.final_order_found += other.final_order_found
        self.missed += other.missed
        self.statuses.update(other.statuses)
        self.exclusions.update(other.exclusions)

    def summary(self) -> dict[str, Any]:
        return {"entities": self.entities, "eligible": self.eligible,
                "wrongly_listed": len(self.wrongly_listed),
                "wrongly_listed_by_cause": dict(Counter(f"{s}: {c}" for _, s, c in self.wrongly_listed)),
                "citizens_listed": self.citizens_listed, "mixed_listed": len(self.mixed_listed),
                "final_order_with_court": self.final_order_with_court,
                "final_order_found": self.final_order_found, "recall": round(self.recall, 4),
                "missed_by_exclusion": dict(Counter(str(x) for _, x in self.missed))}


def _why_missed(entity: str, person: str, order: date | None, records: list[tuple[str, str]],
                where: dict[tuple[str, str], tuple[str, Fact]]) -> str:
    """Why an entity listed a person who left: where that person's departure evidence is."""
    def shows_departure(f: Fact) -> bool:
        return f.exit_date is not None or (
            order is not None and f.encounter_date is not None and f.encounter_date > order)

    held = [where[k] for k in records if k in where and shows_departure(where[k][1])]
    if any(e == entity for e, _ in held):
        return "departure evidence in the entity"
    if held:
        return "departure evidence in another entity"
    return "no departure evidence in the data"


def measure(db: Path, truth: Path, persons: Path, *, possible: bool = False,
            purpose_view: bool = True) -> tuple[Harm, dict[str, Determination]]:
    """Determine every entity and measure eligibility against the truth. ``possible``: also
    hand the rules each entity's possible matches (review links) as weakly linked facts.
    ``purpose_view``: records the purpose may not use count only in the person's favour
    (``FAVOURABLE_ONLY``), as the product must call it; False uses every record alike."""
    barred = FAVOURABLE_ONLY[PURPOSE] if purpose_view else ()
    with Store(db, read_only=True) as store:
        removals = removal_sources(store)
    with truth.open(encoding="utf-8") as fh:
        person_of = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(fh)}
    with persons.open(encoding="utf-8") as fh:
        status_of = {r["person_id"]: r["status"] for r in csv.DictReader(fh)}
    records_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, p in person_of.items():
        records_of[p].append(key)
    facts_by_entity = entity_facts(db)
    near = possible_facts(db) if possible else {}
    where = {f.key: (e, f) for e, facts in facts_by_entity.items() for f in facts}
    harm = Harm()
    found: set[str] = set()
    exclusion_of: dict[str, str | None] = {}
    results: dict[str, Determination] = {}
    for entity, facts in facts_by_entity.items():
        d = determine(facts + near.get(entity, []), AS_OF, favourable_only=barred,
                      removals_recorded_by=removals)
        results[entity] = d
        e = eligibility(d, PURPOSE)
        harm.entities += 1
        people = Counter(person_of[f.key] for f in facts)
        main = people.most_common(1)[0][0]
        harm.statuses[(status_of[main], d.status)] += 1
        harm.exclusions[e.exclusion or "eligible"] += 1
        court_people = {person_of[f.key] for f in facts if f.system == "eoir-case"}
        for p in court_people:
            if exclusion_of.get(p, "") is not None:  # eligible in any entity counts
                exclusion_of[p] = e.exclusion
        if not e.eligible:
            continue
        harm.eligible += 1
        # The person the order is about: the court records' person (else the majority).
        subject = sorted(court_people)[0] if len(court_people) == 1 else main
        if status_of[subject] != "final_order":
            why = _why_missed(entity, subject, d.status_date, records_of[subject], where)
            harm.wrongly_listed.append((entity, status_of[subject], why))
        if any(status_of[p].startswith("citizen") for p in people):
            harm.citizens_listed += 1
        if len(people) > 1:
            harm.mixed_listed.append(entity)
        found |= {p for p in court_people if status_of[p] == "final_order"}
    with_court = {p for p in exclusion_of if status_of[p] == "final_order"}
    harm.final_order_with_court = len(with_court)
    harm.final_order_found = len(found & with_court)
    harm.missed = sorted((p, exclusion_of[p]) for p in with_court - found)
    return harm, results


def main(argv: list[str] | None = None) -> None:
    """Print the harm figures: python tests/status/status_world.py --persons N --seeds S..."""
    import argparse
    import json
    import tempfile

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--persons", type=int, default=30_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--possible", action="store_true",
                    help="also hand the rules possible matches (review links) as weak facts")
    ap.add_argument("--all-records", action="store_true",
                    help="let records the purpose may not use count against the person too")
    args = ap.parse_args(argv)
    total = Harm()
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            harm, _ = measure(*build_world(Path(tmp), args.persons, seed), possible=args.possible,
                              purpose_view=not args.all_records)
        print(json.dumps({"persons": args.persons, "seed": seed, "possible": args.possible,
                          "all_records": args.all_records, **harm.summary()}))
        total.add(harm)
    print(json.dumps({"persons": args.persons, "seeds": args.seeds, **total.summary()}))


if __name__ == "__main__":
    main()
