"""A world of namesakes around persons with final orders of removal, with ground truth in the
DESIGN.md format (truth.csv, persons.csv), and its evaluation: pairwise P/R/F1, how many
namesake citizens were merged into the person of someone with a final order, and the
work-list harm figures of the enforcement agreement.

Nothing here uses ``accord.synth``: names come from Faker's locales (as bench/foreign_world.py
draws them), the record layouts and the error model are this file's own.

Planted around each person with a final order (status ``final_order``, or ``departed`` when
an ICE removal is recorded after the order):
- namesake citizens (status ``citizen_birth``): the same given and family name, the date of
  birth equal, a day off, or with day and month swapped; an SSA record (SSN, citizenship code
  us_citizen), tax returns on the same SSN, sometimes a US-citizen admission at the border;
- naturalised twins (status ``naturalized``): the same family name, date of birth and address,
  a given name one letter apart (DANIEL / DANIELA); their own A-number, an approved N-400
  with a naturalisation date, an SSA record and tax returns;
- departed namesakes (status ``departed``): a visitor with the same name whose entry and exit
  the border recorded (a passport, no SSN or A-number).
Besides them a background population of citizens, residents, visitors and people in
proceedings gives the model its statistics.

Extracts: court.csv (eoir-case), ice.csv (ice-enforcement), cbp.csv (cbp-arrival-departure),
uscis.csv (uscis-benefits), ssa.csv (ssa-numident), irs.csv (irs-individual-returns).

    .venv/bin/python bench/namesake_world.py --persons 6000 --anchors 400 --seed 1 --out /tmp/ns
    .venv/bin/python bench/namesake_world.py ... --no-guard     # clustering.evidence_guard off

The harm figures are those of
``accord evaluate --db OUT/namesakes.duckdb --truth OUT/world/truth.csv --persons
OUT/world/persons.csv --agreement CMA-ENF-<year> --user dana --json`` (the same service).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from faker import Faker

LOCALES = [("es_MX", 0.45), ("en_US", 0.25), ("vi_VN", 0.10), ("en_IN", 0.10), ("pt_BR", 0.10)]
# Twin given names one letter or a few apart (the given-name guard does not keep them apart).
TWIN_NAMES = [("DANIEL", "DANIELA"), ("GABRIEL", "GABRIELA"), ("FRANCISCO", "FRANCISCA"),
              ("ADRIAN", "ADRIANA"), ("MARIO", "MARIA"), ("JULIO", "JULIA"), ("ANDRES", "ANDREA"),
              ("CARLOS", "CARLA"), ("ALEJANDRO", "ALEJANDRA"), ("ROBERTO", "ROBERTA")]
TODAY = date(2026, 11, 1)


@dataclass
class Person:
    pid: str
    status: str
    given: str
    family: str
    dob: date
    sex: str
    street: str
    city: str
    state: str
    zip: str
    ssn: str | None = None
    a_number: str | None = None
    passport: str | None = None
    role: str = "background"   # background | anchor | namesake_citizen | twin | departed_namesake
    anchor: str | None = None  # the person with a final order a planted person is built around
    facts: dict[str, Any] = field(default_factory=dict)


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng, self.seen = rng, set[str]()

    def _new(self, make: Any) -> str:
        while True:
            v = str(make())
            if v not in self.seen:
                self.seen.add(v)
                return v

    def ssn(self) -> str:
        r = self.rng
        return self._new(lambda: f"{r.randint(1, 665):03d}{r.randint(1, 99):02d}{r.randint(1, 9999):04d}")

    def a_number(self) -> str:
        return self._new(lambda: f"{self.rng.randint(10_000_000, 249_999_999):09d}")

    def passport(self) -> str:
        return self._new(lambda: f"{self.rng.choice('CEKNPX')}{self.rng.randint(1_000_000, 99_999_999)}")


def _names(rng: random.Random, fakers: dict[str, Faker]) -> tuple[str, str, str]:
    locs, weights = zip(*LOCALES, strict=True)
    f = fakers[rng.choices(locs, weights)[0]]
    sex = rng.choice("MF")
    given = (f.first_name_male() if sex == "M" else f.first_name_female()).upper().split()[0]
    return given, f.last_name().upper().split()[0], sex


def _swap(d: date) -> date | None:
    return date(d.year, d.day, d.month) if d.day <= 12 and d.day != d.month else None


def _dob_like(d: date, rng: random.Random) -> tuple[date, str]:
    """A namesake's date of birth: equal, a day off, or day and month swapped."""
    r = rng.random()
    if r < 0.35:
        return d, "equal"
    if r < 0.65:
        return d + timedelta(days=rng.choice([-1, 1])), "day_off"
    swapped = _swap(d)
    return (swapped, "swapped") if swapped else (d, "equal")


def make_persons(n: int, anchors: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc, _ in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed * 100 + i)
    us = fakers["en_US"]
    ids = Ids(rng)
    people: list[Person] = []

    def person(status: str, given: str, family: str, sex: str, dob: date, **kw: Any) -> Person:
        p = Person(f"N{len(people):07d}", status, given, family, dob, sex,
                   us.street_address().upper(), us.city().upper(), us.state_abbr(), us.zipcode(), **kw)
        people.append(p)
        return p

    def birth() -> date:
        return date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 50))

    for _ in range(n):
        given, family, sex = _names(rng, fakers)
        status = rng.choices(["citizen_birth", "lpr", "visa", "in_proceedings"], [70, 12, 12, 6])[0]
        p = person(status, given, family, sex, birth())
        if status == "citizen_birth":
            p.ssn = ids.ssn()
        elif status == "lpr":
            p.a_number, p.ssn = ids.a_number(), ids.ssn() if rng.random() < 0.7 else None
        elif status == "visa":
            p.passport = ids.passport()
        else:
            p.a_number = ids.a_number()
    for _ in range(anchors):
        given, family, sex = _names(rng, fakers)
        if rng.random() < 0.25:   # the held-out world's namesakes carry common names
            given, family = rng.choice([("JOSE", "HERNANDEZ"), ("MARIA", "GARCIA"),
                                        ("JUAN", "MARTINEZ"), ("ANA", "LOPEZ")])
        if rng.random() < 0.12:
            given, twin_given = rng.choice(TWIN_NAMES)
        else:
            twin_given = None
        dob = birth()
        departed = rng.random() < 0.15
        a = person("departed" if departed else "final_order", given, family, sex, dob,
                   a_number=ids.a_number(), role="anchor",
                   passport=ids.passport() if rng.random() < 0.5 else None)
        a.anchor = a.pid
        order = date(2012, 1, 1) + timedelta(days=rng.randint(0, 365 * 12))
        a.facts = {"order": order, "departed": departed}
        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            d, kind = _dob_like(dob, rng)
            c = person("citizen_birth", given, family, sex, d, ssn=ids.ssn(), role="namesake_citizen",
                       anchor=a.pid)
            c.facts = {"dob": kind, "usc_entry": rng.random() < 0.3}
        if twin_given is not None:
            t = person("naturalized", twin_given, family, rng.choice("MF"), dob, ssn=ids.ssn(),
                       a_number=ids.a_number(), role="twin", anchor=a.pid)
            t.street, t.city, t.state, t.zip = a.street, a.city, a.state, a.zip
            t.facts = {"naturalized": order - timedelta(days=rng.randint(200, 2000))}
        if rng.random() < 0.15:
            d, kind = _dob_like(dob, rng)
            v = person("departed", given, family, sex, d, passport=ids.passport(),
                       role="departed_namesake", anchor=a.pid)
            v.facts = {"dob": kind}
    return people


def _noisy_dob(d: date, rng: random.Random) -> date | None:
    r = rng.random()
    if r < 0.02:
        return None
    if r < 0.04:
        return d + timedelta(days=rng.choice([-1, 1]))
    return d


def _typo(s: str, rng: random.Random) -> str:
    if len(s) < 4 or rng.random() > 0.04:
        return s
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def _day(d: date | None, fmt: str) -> str:
    return d.strftime(fmt) if d else ""


@dataclass
class World:
    out: Path
    mappings: list[Path]
    truth: Path
    persons: Path
    records: int


def write_world(n: int, anchors: int, seed: int, out: Path) -> World:
    rng = random.Random(seed + 11)
    people = make_persons(n, anchors, seed)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    truth: list[tuple[str, str, str]] = []

    def add(source: str, rid: str, p: Person, row: dict[str, str]) -> None:
        rows[source].append(row)
        truth.append((source, rid, p.pid))

    def name(p: Person) -> tuple[str, str]:
        return _typo(p.given, rng), _typo(p.family, rng)

    def ssa(p: Person, code: str) -> None:
        g, f = name(p)
        rid = p.ssn or ""
        add("ssa", rid, p, {"SSN": rid, "FIRST": g, "LAST": f, "DOB": _day(_noisy_dob(p.dob, rng), "%m%d%Y"),
                            "SEX": p.sex, "CIT": code})

    def irs(p: Person) -> None:
        for year in rng.sample(range(2018, 2025), rng.choice([1, 2, 3])):
            g, f = name(p)
            rid = f"D{len(rows['irs']):09d}"
            add("irs", rid, p, {"DLN": rid, "TIN": p.ssn or "", "FIRST": g, "LAST": f,
                                "ADDR": p.street, "CITY": p.city, "ST": p.state, "ZIP": p.zip,
                                "TAX_YEAR": str(year)})

    def cbp(p: Person, klass: str, entry: date, exit_: date | None = None) -> None:
        g, f = name(p)
        rid = f"I{len(rows['cbp']):010d}"
        add("cbp", rid, p, {"I94": rid, "GIVEN": g, "FAMILY": f,
                            "BIRTH": _day(_noisy_dob(p.dob, rng), "%Y%m%d"), "PASSPORT": p.passport or "",
                            "ENTRY": _day(entry, "%Y%m%d"), "EXIT": _day(exit_, "%Y%m%d"), "CLASS": klass})

    def uscis(p: Person, form: str, status: str, decided: date | None, natz: date | None = None) -> None:
        g, f = name(p)
        rid = f"IOE{len(rows['uscis']):010d}"
        add("uscis", rid, p, {"RECEIPT": rid, "A_NUMBER": p.a_number or "", "FIRST": g, "LAST": f,
                              "DOB": _day(_noisy_dob(p.dob, rng), "%m/%d/%Y"), "SSN": "",
                              "FORM": form, "STATUS": status, "DECIDED": _day(decided, "%Y-%m-%d"),
                              "NATZ": _day(natz, "%Y-%m-%d")})

    def court(p: Person, status: str, decided: date | None) -> None:
        g, f = name(p)
        rid = f"C{len(rows['court']):09d}"
        add("court", rid, p, {"IDNCASE": rid, "ALIEN_NBR": p.a_number or "", "ALIEN_NAME": f"{f}, {g}",
                              "BIRTHDATE": _day(_noisy_dob(p.dob, rng), "%Y-%m-%d"), "GENDER": p.sex,
                              "CASE_STATUS": status, "DECISION_DATE": _day(decided, "%Y-%m-%d")})

    def ice(p: Person, seen: date, departed: date | None = None) -> None:
        g, f = name(p)
        rid = f"E{len(rows['ice']):09d}"
        add("ice", rid, p, {"EVENT_ID": rid, "SUBJECT_NAME": f"{g} {f}",
                            "DOB": _day(_noisy_dob(p.dob, rng), "%m/%d/%Y"), "A_NUMBER": p.a_number or "",
                            "ENCOUNTER_DATE": _day(seen, "%Y-%m-%d"),
                            "DEPARTED_DATE": _day(departed, "%Y-%m-%d")})

    def some_day(lo: date, hi: date) -> date:
        return lo + timedelta(days=rng.randint(0, max((hi - lo).days, 0)))

    for p in people:
        if p.role == "anchor":
            order = p.facts["order"]
            court(p, "REMOVAL ORDERED", order)
            ice(p, order - timedelta(days=rng.randint(200, 900)))
            if p.passport:
                cbp(p, rng.choice(["B2", "F1", "H1B"]), order - timedelta(days=rng.randint(1500, 4000)))
            if rng.random() < 0.4:
                uscis(p, "I-589", "DENIED", order - timedelta(days=rng.randint(100, 600)))
            if p.facts["departed"]:
                removed = some_day(order + timedelta(days=30), TODAY - timedelta(days=30))
                ice(p, removed, removed)
        elif p.status == "citizen_birth":
            ssa(p, "A")
            if rng.random() < 0.8:
                irs(p)
            if p.facts.get("usc_entry") or (p.role == "background" and rng.random() < 0.1):
                p.passport = p.passport or f"USP{p.pid[1:]}"
                cbp(p, "USC", some_day(date(2016, 1, 1), TODAY))
        elif p.status == "naturalized":
            natz = p.facts["naturalized"]
            uscis(p, "N-400", "APPROVED", natz, natz)
            uscis(p, "I-485", "APPROVED", natz - timedelta(days=rng.randint(1900, 3000)))
            ssa(p, "A")
            irs(p)
        elif p.status == "lpr":
            uscis(p, "I-485", "APPROVED", some_day(date(2005, 1, 1), date(2024, 1, 1)))
            if p.ssn:
                ssa(p, "B")
                irs(p)
        elif p.status == "visa":
            cbp(p, rng.choice(["B2", "F1", "H1B"]), some_day(date(2024, 6, 1), TODAY - timedelta(days=60)))
        elif p.status == "in_proceedings":
            court(p, "PENDING", None)
            if rng.random() < 0.5:
                ice(p, some_day(date(2018, 1, 1), date(2025, 1, 1)))
        elif p.role == "departed_namesake":
            entry = some_day(date(2015, 1, 1), date(2025, 1, 1))
            cbp(p, "B2", entry, entry + timedelta(days=rng.randint(5, 120)))

    header = {
        "court": ["IDNCASE", "ALIEN_NBR", "ALIEN_NAME", "BIRTHDATE", "GENDER", "CASE_STATUS",
                  "DECISION_DATE"],
        "ice": ["EVENT_ID", "SUBJECT_NAME", "DOB", "A_NUMBER", "ENCOUNTER_DATE", "DEPARTED_DATE"],
        "cbp": ["I94", "GIVEN", "FAMILY", "BIRTH", "PASSPORT", "ENTRY", "EXIT", "CLASS"],
        "uscis": ["RECEIPT", "A_NUMBER", "FIRST", "LAST", "DOB", "SSN", "FORM", "STATUS", "DECIDED", "NATZ"],
        "ssa": ["SSN", "FIRST", "LAST", "DOB", "SEX", "CIT"],
        "irs": ["DLN", "TIN", "FIRST", "LAST", "ADDR", "CITY", "ST", "ZIP", "TAX_YEAR"],
    }
    for source, cols in header.items():
        with (out / f"{source}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols)
            w.writeheader()
            w.writerows(rows[source])
    paths = []
    for source, spec in MAPPINGS.items():
        path = out / f"{source}.mapping.yaml"
        path.write_text(yaml.safe_dump({"source": source, **spec, "file": f"{source}.csv"},
                                       sort_keys=False), encoding="utf-8")
        paths.append(path)
    truth_path, persons_path = out / "truth.csv", out / "persons.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "record_id", "person_id"])
        w.writerows(truth)
    with persons_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["person_id", "status", "role", "anchor", "given_name", "family_name", "dob",
                    "dob_kind"])
        for p in people:
            w.writerow([p.pid, p.status, p.role, p.anchor or "", p.given, p.family, p.dob.isoformat(),
                        p.facts.get("dob", "")])
    return World(out, paths, truth_path, persons_path, len(truth))


MAPPINGS: dict[str, dict[str, Any]] = {
    "court": {"system": "eoir-case", "format": "csv", "record_id": "IDNCASE", "fields": {
        "a_number": "ALIEN_NBR", "full_name": {"column": "ALIEN_NAME", "layout": "family, given"},
        "dob": {"column": "BIRTHDATE", "format": "%Y-%m-%d"}, "sex": "GENDER",
        "case_status": {"column": "CASE_STATUS", "values": {
            "PENDING": "in_proceedings", "REMOVAL ORDERED": "final_order"}},
        "case_decision_date": {"column": "DECISION_DATE", "format": "%Y-%m-%d"}}},
    "ice": {"system": "ice-enforcement", "format": "csv", "record_id": "EVENT_ID", "fields": {
        "full_name": {"column": "SUBJECT_NAME", "layout": "given family"},
        "dob": {"column": "DOB", "format": "%m/%d/%Y"}, "a_number": "A_NUMBER",
        "encounter_date": {"column": "ENCOUNTER_DATE", "format": "%Y-%m-%d"},
        "exit_date": {"column": "DEPARTED_DATE", "format": "%Y-%m-%d"}}},
    "cbp": {"system": "cbp-arrival-departure", "format": "csv", "record_id": "I94", "fields": {
        "given_names": "GIVEN", "family_name": "FAMILY", "dob": {"column": "BIRTH", "format": "%Y%m%d"},
        "passport_number": "PASSPORT", "entry_date": {"column": "ENTRY", "format": "%Y%m%d"},
        "exit_date": {"column": "EXIT", "format": "%Y%m%d"}, "admission_class": "CLASS"}},
    "uscis": {"system": "uscis-benefits", "format": "csv", "record_id": "RECEIPT", "fields": {
        "a_number": "A_NUMBER", "given_name": "FIRST", "family_name": "LAST",
        "dob": {"column": "DOB", "format": "%m/%d/%Y"}, "ssn": "SSN",
        "benefit_type": {"column": "FORM", "values": {"I-485": "lpr", "N-400": "naturalization",
                                                      "I-589": "asylum"}},
        "benefit_status": {"column": "STATUS", "values": {"APPROVED": "approved", "DENIED": "denied",
                                                          "PENDING": "pending"}},
        "benefit_date": {"column": "DECIDED", "format": "%Y-%m-%d"},
        "naturalization_date": {"column": "NATZ", "format": "%Y-%m-%d"}}},
    "ssa": {"system": "ssa-numident", "format": "csv", "record_id": "SSN", "fields": {
        "ssn": "SSN", "given_name": "FIRST", "family_name": "LAST",
        "dob": {"column": "DOB", "format": "%m%d%Y"}, "sex": "SEX",
        "citizenship_code": {"column": "CIT", "values": {"A": "us_citizen", "B": "noncitizen_authorized"}}}},
    "irs": {"system": "irs-individual-returns", "format": "csv", "record_id": "DLN", "fields": {
        "tin": "TIN", "given_name": "FIRST", "family_name": "LAST", "street": "ADDR", "city": "CITY",
        "state": "ST", "zip": "ZIP", "tax_year": "TAX_YEAR"}},
}


def namesake_figures(db: Path, world: World) -> dict[str, Any]:
    """Planted persons (namesake citizens, twins, departed namesakes) any of whose records
    shares a person with the court record of someone's final order (that person's view would
    carry the order), by kind of date of birth for the namesake citizens."""
    from accord.resolve.entities import partition
    from accord.store import Store

    with open(world.truth, encoding="utf-8", newline="") as fh:
        truth = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(fh)}
    with open(world.persons, encoding="utf-8", newline="") as fh:
        persons = {r["person_id"]: r for r in csv.DictReader(fh)}
    with Store(db, read_only=True) as store:
        t = partition(store)
    members = zip(*(t.column(c).to_pylist() for c in ("source", "record_id", "entity_id")), strict=True)
    entity_people: dict[str, set[str]] = defaultdict(set)
    with_order: set[str] = set()   # entities holding an anchor's court record (its final order)
    for s, r, e in members:
        if (s, r) in truth:
            entity_people[e].add(truth[(s, r)])
            if s == "court" and persons[truth[(s, r)]]["role"] == "anchor":
                with_order.add(e)
    merged_people = {p for e in with_order for p in entity_people[e]
                     if persons[p]["role"] != "anchor"}
    out: dict[str, Any] = {"entities_with_an_order_holding_another_person":
                           sum(1 for e in with_order if len(entity_people[e]) > 1)}
    for role in ("namesake_citizen", "twin", "departed_namesake"):
        planted = [p for p, row in persons.items() if row["role"] == role]
        merged = [p for p in planted if p in merged_people]
        out[role] = {"planted": len(planted), "merged_into_final_order": len(merged)}
        if role == "namesake_citizen":
            for key, among in (("merged_by_dob", merged), ("planted_by_dob", planted)):
                out[role][key] = dict(sorted(Counter(persons[p]["dob_kind"] for p in among).items()))
    return out


def rules_over_entities(db: Path, world: World, agreement: str) -> dict[str, int]:
    """The status rules over every entity holding a final order, before the work list's
    identity checks (as ``accord.worklists.worklist.eligible_persons`` first determines them):
    "true status -> determined status" counts, the true status read from the entity's court
    record's person."""
    from accord.services.context import governed
    from accord.status.determine import determine
    from accord.status.eligibility import FAVOURABLE_ONLY
    from accord.worklists.worklist import fact_rows, facts_by_person, removal_sources

    with open(world.truth, encoding="utf-8", newline="") as fh:
        truth = {(r["source"], r["record_id"]): r["person_id"] for r in csv.DictReader(fh)}
    with open(world.persons, encoding="utf-8", newline="") as fh:
        status = {r["person_id"]: r["status"] for r in csv.DictReader(fh)}
    counts: Counter[str] = Counter()
    with governed(db) as gate, gate.act("dana", "evaluate", agreement=agreement) as act:
        decision = act.as_recipient()
        assert decision.determination_scope is not None
        rows = fact_rows(gate.store, gate.registry, decision.determination_scope,
                         where="case_status = 'final_order'")
        removals = removal_sources(gate.store)
        for facts in facts_by_person(rows).values():
            d = determine(facts, gate.today, favourable_only=FAVOURABLE_ONLY["removal_order_enforcement"],
                          removals_recorded_by=removals)
            court = [truth[(f.source, f.record_id)] for f in facts if f.source == "court"]
            counts[f"{status[court[0]] if court else '?'} -> {d.status}"] += 1
    return dict(sorted(counts.items()))


def main() -> None:
    from accord import services
    from accord.resolve.settings import default_settings

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=6000, help="background persons")
    ap.add_argument("--anchors", type=int, default=400, help="persons with a final order")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/accord-namesakes"))
    ap.add_argument("--no-guard", action="store_true", help="resolve with clustering.evidence_guard off")
    args = ap.parse_args()
    world = write_world(args.persons, args.anchors, args.seed, args.out / "world")
    db = args.out / "namesakes.duckdb"
    db.unlink(missing_ok=True)
    settings_path = None
    if args.no_guard:
        settings = default_settings().model_dump()
        settings["clustering"]["evidence_guard"] = False
        settings_path = args.out / "settings-no-guard.yaml"
        settings_path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    services.init(db, samples=True)
    agreement = f"CMA-ENF-{date.today().year}"   # the sample agreements run from this month
    t0 = time.perf_counter()
    for m in world.mappings:
        services.ingest(db, m, user="dana")
    summary = services.resolve(db, user="dana", settings=settings_path)
    elapsed = time.perf_counter() - t0
    q = services.evaluate(db, world.truth, user="dana", persons=world.persons,
                          agreement=agreement).plain()
    print(f"namesake world: {args.persons} background persons, {args.anchors} with final orders, "
          f"seed {args.seed}, {world.records} records; evidence guard "
          f"{'off' if args.no_guard else 'on'}; ingest + resolve {elapsed:.1f} s")
    keys = ("pair_precision", "pair_recall", "pair_f1", "records", "entities", "true_persons",
            "worklist_listed", "wrongly_listed_persons", "wrongly_listed_by_true_status",
            "citizens_listed", "final_orders_with_court_record", "final_orders_found",
            "final_orders_missed", "final_order_recall", "worklist_excluded")
    report = {k: q[k] for k in keys if k in q}
    report["rejected_by_reason"] = getattr(summary, "rejected_by_reason", None)
    report["namesakes"] = namesake_figures(db, world)
    report["rules_over_entities"] = rules_over_entities(db, world, agreement)
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
