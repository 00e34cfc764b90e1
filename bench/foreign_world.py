"""A world Accord did not generate: other name distributions, another error model and other
column layouts, with ground truth in the DESIGN.md format.

Nothing here uses ``accord.synth``. Names come from Faker's locales (Mexican Spanish,
Vietnamese, Russian transliterated two different ways, Indian English, Brazilian Portuguese,
Polish, Turkish, US English); errors are OCR-like letter swaps, keyboard typos, dropped
middle names, a compound surname cut to its first part, nicknames, dates with day and month
swapped or a digit off, transposed SSN digits and missing fields. Precision traps: twins (same
family name, address and date of birth, different given names), fathers and sons with the
same name, and very common names shared by many distinct people.

Four extracts, each laid out differently from the synthetic generator's:
  numident.jsonl   ssa-numident        given/middle/family, dob %Y%m%d, SSN with dashes
  benefits.csv     uscis-benefits      "FAMILY, GIVEN MIDDLE" upper case, dob %m/%d/%Y,
                                       A-numbers "A-###-###-###"
  arrivals.parquet cbp-arrival-departure  given names + family, dob %d.%m.%Y, passport, entry date
  medicaid.csv     state-medicaid-mmis ';'-delimited latin-1, "given family", SSN last four only, address

    .venv/bin/python bench/foreign_world.py --persons 20000 --seed 1 --out /tmp/foreign
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from faker import Faker

LOCALES = [
    ("es_MX", 0.30),
    ("vi_VN", 0.12),
    ("ru_RU", 0.08),
    ("en_IN", 0.12),
    ("pt_BR", 0.08),
    ("pl_PL", 0.06),
    ("tr_TR", 0.06),
    ("en_US", 0.18),
]
NICKNAMES = {
    "FRANCISCO": "PACO",
    "GUADALUPE": "LUPE",
    "JOSE": "PEPE",
    "WILLIAM": "BILL",
    "ROBERT": "BOB",
    "ELIZABETH": "LIZ",
    "ALEKSANDR": "SASHA",
    "MARIA": "MARY",
    "JOHN": "JACK",
    "MICHAEL": "MIKE",
    "JAMES": "JIM",
    "KATHERINE": "KATE",
    "ALEJANDRO": "ALEX",
    "MARGARET": "PEGGY",
}
OCR = {"O": "0", "I": "1", "S": "5", "B": "8", "E": "F", "M": "N", "U": "V", "C": "G", "H": "N"}
# Two romanisations of Russian letters (passport-style and an older library style).
CYR_A = dict(
    zip(
        "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ",
        [
            "A",
            "B",
            "V",
            "G",
            "D",
            "E",
            "E",
            "ZH",
            "Z",
            "I",
            "I",
            "K",
            "L",
            "M",
            "N",
            "O",
            "P",
            "R",
            "S",
            "T",
            "U",
            "F",
            "KH",
            "TS",
            "CH",
            "SH",
            "SHCH",
            "IE",
            "Y",
            "",
            "E",
            "IU",
            "IA",
        ],
        strict=True,
    )
)
CYR_B = CYR_A | {"Х": "H", "Й": "Y", "Ю": "YU", "Я": "YA", "Ц": "C", "Ж": "J", "Ъ": ""}


def romanise(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in text.upper())


@dataclass
class Person:
    pid: str
    given: str
    middle: str
    family: str
    family2: str  # second surname (Spanish naming) or ""
    dob: date
    sex: str
    ssn: str | None
    a_number: str | None
    passport: str | None
    street: str
    city: str
    state: str
    zip: str
    family_b: str = ""  # the other romanisation (Russian names)
    given_b: str = ""
    sources: list[str] = field(default_factory=list)


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(1, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def make_persons(n: int, seed: int) -> list[Person]:
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc, _ in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed * 100 + i)
    us = fakers["en_US"]
    locs, weights = zip(*LOCALES, strict=True)
    people: list[Person] = []
    common = [("MARIA", "GARCIA"), ("JOSE", "HERNANDEZ"), ("ANH", "NGUYEN"), ("JAMES", "SMITH")]
    while len(people) < n:
        loc = rng.choices(locs, weights)[0]
        f = fakers[loc]
        sex = rng.choice("MF")
        given = (f.first_name_male() if sex == "M" else f.first_name_female()).upper()
        middle = (
            (f.first_name_male() if sex == "M" else f.first_name_female()).upper()
            if rng.random() < 0.4
            else ""
        )
        family = f.last_name().upper()
        family2 = f.last_name().upper() if loc == "es_MX" and rng.random() < 0.6 else ""
        if rng.random() < 0.02:  # very common names, many distinct people
            given, family = rng.choice(common)
        given_b, family_b = given, family
        if loc == "ru_RU":
            given, given_b = romanise(given, CYR_A), romanise(given, CYR_B)
            family, family_b = romanise(family, CYR_A), romanise(family, CYR_B)
            middle = romanise(middle, CYR_A)
        dob = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 65))
        p = Person(
            f"F{len(people):07d}",
            given,
            middle,
            family,
            family2,
            dob,
            sex,
            _ssn(rng) if rng.random() < 0.85 else None,
            f"{rng.randint(10_000_000, 249_999_999):09d}" if rng.random() < 0.6 else None,
            f"{rng.choice('CEKNPX')}{rng.randint(1_000_000, 99_999_999)}" if rng.random() < 0.5 else None,
            us.street_address().upper(),
            us.city().upper(),
            us.state_abbr(),
            us.zipcode(),
            family_b,
            given_b,
        )
        people.append(p)
        r = rng.random()
        if r < 0.03 and len(people) < n:  # a twin: same family, dob, address
            t_sex = rng.choice("MF")
            t_given = p.given
            while t_given in (p.given, p.given_b):  # twins are not given one name
                t_given = (f.first_name_male() if t_sex == "M" else f.first_name_female()).upper()
                if loc == "ru_RU":
                    t_given = romanise(t_given, CYR_A)
            people.append(replace(p, pid=f"F{len(people):07d}", given=t_given, given_b=t_given, middle="",
                                  sex=t_sex, ssn=_ssn(rng) if p.ssn else None, a_number=None, passport=None,
                                  sources=[]))
        elif r < 0.05 and len(people) < n:  # a son with his father's name
            people.append(replace(p, pid=f"F{len(people):07d}",
                                  dob=p.dob + timedelta(days=rng.randint(365 * 20, 365 * 35)),
                                  ssn=_ssn(rng) if p.ssn else None, a_number=None, passport=None, sources=[]))
    return people


def typo(s: str, rng: random.Random) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    kind = rng.random()
    if kind < 0.3 and s[i] in OCR:
        return s[:i] + OCR[s[i]] + s[i + 1 :]
    if kind < 0.55:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if kind < 0.8:
        return s[:i] + s[i + 1 :]
    return s[:i] + rng.choice("AEIOURSTLN") + s[i:]


def noisy_name(p: Person, rng: random.Random, variant: bool) -> tuple[str, str, str]:
    given = p.given_b if variant and p.given_b else p.given
    family = p.family_b if variant and p.family_b else p.family
    middle = p.middle if rng.random() < 0.6 else ""
    if p.family2:
        family = f"{family} {p.family2}" if rng.random() < 0.6 else family
    if rng.random() < 0.06 and given in NICKNAMES:
        given = NICKNAMES[given]
    if rng.random() < 0.06:
        given = typo(given, rng)
    if rng.random() < 0.06:
        family = typo(family, rng)
    return given, middle, family


def noisy_dob(d: date, rng: random.Random) -> date | None:
    r = rng.random()
    if r < 0.04:
        return None
    if r < 0.07 and d.day <= 12:
        return date(d.year, d.day, d.month)
    if r < 0.10:
        return d + timedelta(days=rng.choice([-1, 1]))
    if r < 0.12:
        return date(d.year + rng.choice([-1, 1]), d.month, min(d.day, 28))
    return d


def noisy_ssn(s: str | None, rng: random.Random) -> str | None:
    if s is None or rng.random() < 0.05:
        return None
    if rng.random() < 0.02:
        i = rng.randrange(0, 8)
        s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return f"{s[:3]}-{s[3:5]}-{s[5:]}"


@dataclass
class World:
    out: Path
    mappings: list[Path]
    truth: Path
    records: int


def write_world(persons: int, seed: int, out: Path) -> World:
    rng = random.Random(seed + 7)
    people = make_persons(persons, seed)
    out.mkdir(parents=True, exist_ok=True)
    truth: list[tuple[str, str, str]] = []
    numident, benefits, arrivals, medicaid = [], [], [], []
    for p in people:
        if p.ssn and rng.random() < 0.8:
            g, m, f = noisy_name(p, rng, variant=False)
            d = noisy_dob(p.dob, rng)
            rid = f"N{len(numident):08d}"
            numident.append(
                {
                    "rec": rid,
                    "first": g.title(),
                    "middle": m.title(),
                    "last": f.title(),
                    "birth": d.strftime("%Y%m%d") if d else "",
                    "ssn": noisy_ssn(p.ssn, rng) or "",
                    "sex": p.sex,
                }
            )
            truth.append(("numident", rid, p.pid))
        if p.a_number and rng.random() < 0.85:
            for _ in range(rng.choice([1, 1, 2])):
                g, m, f = noisy_name(p, rng, variant=rng.random() < 0.5)
                d = noisy_dob(p.dob, rng)
                a = p.a_number if rng.random() > 0.02 else typo(p.a_number, rng)
                rid = f"IOE{rng.randint(10**9, 10**10 - 1)}"
                benefits.append(
                    {
                        "RECEIPT": rid,
                        "APPLICANT_NAME": f"{f}, {g} {m}".strip(),
                        "DOB": d.strftime("%m/%d/%Y") if d else "",
                        "A_NUM": f"A-{a[:3]}-{a[3:6]}-{a[6:]}",
                        "FORM": rng.choice(["I-485", "I-765", "I-131"]),
                        "STATUS": "PENDING",
                    }
                )
                truth.append(("benefits", rid, p.pid))
        if (p.passport or not p.ssn) and rng.random() < 0.7:
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                g, m, f = noisy_name(p, rng, variant=rng.random() < 0.5)
                d = noisy_dob(p.dob, rng)
                rid = f"{rng.randint(10**11, 10**12 - 1)}"
                arrivals.append(
                    {
                        "i94": rid,
                        "given_names": f"{g} {m}".strip(),
                        "surname": f,
                        "birth_date": d.strftime("%d.%m.%Y") if d else "",
                        "passport": p.passport or "",
                        "arrived": (date(2015, 1, 1) + timedelta(days=rng.randint(0, 3600))).isoformat(),
                        "class": rng.choice(["B2", "F1", "H1B", "LPR"]),
                    }
                )
                truth.append(("arrivals", rid, p.pid))
        if rng.random() < 0.35:
            g, m, f = noisy_name(p, rng, variant=False)
            d = noisy_dob(p.dob, rng)
            rid = f"M{len(medicaid):08d}"
            moved = rng.random() < 0.25
            medicaid.append(
                {
                    "MEMBER_ID": rid,
                    "NAME": f"{g} {f}".title(),
                    "BIRTH": d.isoformat() if d else "",
                    "SSN4": (p.ssn[-4:] if p.ssn and rng.random() < 0.7 else ""),
                    "ADDR": "" if moved else p.street.title(),
                    "CITY": p.city.title(),
                    "ST": p.state,
                    "ZIP": "" if moved else p.zip,
                }
            )
            truth.append(("medicaid", rid, p.pid))
    (out / "numident.jsonl").write_text("".join(json.dumps(r) + "\n" for r in numident), encoding="utf-8")
    with (out / "benefits.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, list(benefits[0]))
        w.writeheader()
        w.writerows(benefits)
    pq.write_table(pa.Table.from_pylist(arrivals), out / "arrivals.parquet")
    with (out / "medicaid.csv").open("w", newline="", encoding="latin-1", errors="replace") as fh:
        w = csv.DictWriter(fh, list(medicaid[0]), delimiter=";")
        w.writeheader()
        w.writerows(medicaid)
    mappings: dict[str, dict[str, object]] = {
        "numident": {
            "source": "numident",
            "system": "ssa-numident",
            "format": "jsonl",
            "file": "numident.jsonl",
            "record_id": "rec",
            "fields": {
                "given_name": "first",
                "middle_name": "middle",
                "family_name": "last",
                "dob": {"column": "birth", "format": "%Y%m%d"},
                "ssn": "ssn",
                "sex": "sex",
            },
        },
        "benefits": {
            "source": "benefits",
            "system": "uscis-benefits",
            "format": "csv",
            "file": "benefits.csv",
            "record_id": "RECEIPT",
            "fields": {
                "full_name": {"column": "APPLICANT_NAME", "layout": "family, given"},
                "dob": {"column": "DOB", "format": "%m/%d/%Y"},
                "a_number": "A_NUM",
            },
        },
        "arrivals": {
            "source": "arrivals",
            "system": "cbp-arrival-departure",
            "format": "parquet",
            "file": "arrivals.parquet",
            "record_id": "i94",
            "fields": {
                "given_names": "given_names",
                "family_name": "surname",
                "dob": {"column": "birth_date", "format": "%d.%m.%Y"},
                "passport_number": "passport",
                "entry_date": {"column": "arrived", "format": "%Y-%m-%d"},
                "admission_class": "class",
            },
        },
        "medicaid": {
            "source": "medicaid",
            "system": "state-medicaid-mmis",
            "format": "csv",
            "file": "medicaid.csv",
            "csv": {"delimiter": ";", "encoding": "latin-1"},
            "record_id": "MEMBER_ID",
            "fields": {
                "full_name": {"column": "NAME", "layout": "given family"},
                "dob": {"column": "BIRTH", "format": "%Y-%m-%d"},
                "ssn_last4": "SSN4",
                "street": "ADDR",
                "city": "CITY",
                "state": "ST",
                "zip": "ZIP",
            },
        },
    }
    paths = []
    for name, spec in mappings.items():
        path = out / f"{name}.mapping.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        paths.append(path)
    truth_path = out / "truth.csv"
    with truth_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "record_id", "person_id"])
        w.writerows(truth)
    return World(out, paths, truth_path, len(truth))


def main() -> None:
    from accord import services

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/accord-foreign"))
    args = ap.parse_args()
    world = write_world(args.persons, args.seed, args.out / "world")
    db = args.out / "foreign.duckdb"
    db.unlink(missing_ok=True)
    services.init(db, samples=True)
    t0 = time.perf_counter()
    for m in world.mappings:
        services.ingest(db, m, user="dana")
    services.resolve(db, user="dana")
    elapsed = time.perf_counter() - t0
    q = services.evaluate(db, world.truth, user="dana").plain()
    print(
        f"foreign world: {args.persons} persons, seed {args.seed}, {world.records} records; "
        f"ingest + resolve {elapsed:.1f} s"
    )
    print(
        json.dumps(
            {
                k: q[k]
                for k in (
                    "pair_precision",
                    "pair_recall",
                    "pair_f1",
                    "records",
                    "entities",
                    "true_persons",
                    "mixed_entities",
                )
                if k in q
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
