"""The indistinguishability harness: every answer a purpose receives on a store must equal the
answer on the same store with every record the purpose may not see removed before resolution.

A *pair* of stores is built per world and purpose: the full store, and a copy of the same
ingested records with the purpose's withheld records (``accord.governance.visibility``, the
rule the gate uses) deleted, resolved with the full store's model. Person ids differ between
the two stores, so each side's ids are mapped to the records they hold (the partitions must
be equal for the mapping to exist) before answers are compared as JSON.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from fastapi.testclient import TestClient

from accord import services
from accord.api.app import create_app
from accord.governance.registry import registry
from accord.governance.scope import regimes_sql
from accord.governance.visibility import purpose_view, withheld_regimes
from accord.resolve.views import members_sql
from worlds import ENGINEER, TODAY, governed_store

PERSON_ID = re.compile(r"^P\d{9}$")
# A refusal's message names its audit event: a count of every event in the store.
AUDIT_EVENT = re.compile(r"audit event \d+")
# Keys whose values are facts about the request, not the answer (an audit sequence number,
# when an event was written, a token): they differ between any two stores.
VOLATILE = {"audit_event", "audit_seq", "event_at", "opened_at", "recorded_at", "filed_at", "at",
            "incident"}


@dataclass(frozen=True)
class Who:
    """A purpose as a sample user declares it."""

    purpose: str
    user: str
    agreement_purpose: str | None    # the sample agreement it runs under (by its purpose)


# Every purpose that reads person data and has a sample user and agreement.
PURPOSES = (
    Who("removal_order_enforcement", "casey", "removal_order_enforcement"),
    Who("benefit_eligibility_verification", "bea", "benefit_eligibility_verification"),
    Who("identity_verification", "ana", "identity_verification"),
    Who("tax_administration", "tess", None),
    Who("improper_payment_detection", "ana", "improper_payment_detection"),
)

# The samples have no agreement for improper payment detection: the harness adds one.
IMPROPER_PAYMENTS = """id: CMA-IPD-2026
title: Improper payment detection matching program
purpose: improper_payment_detection
authority: 31 U.S.C. 3354 (Do Not Pay)
parties:
  - {name: State Benefits Agency, role: recipient, address: "1 Capitol Mall, Sacramento, CA 95814"}
  - {name: Social Security Administration, role: source}
  - {name: State Medicaid Agency, role: source}
sources: [ssa-numident, state-medicaid-mmis]
data_elements: [given_name, middle_name, family_name, dob, ssn, street, city, state, zip, death_date,
                benefit_type, benefit_status, benefit_date, program, event_date]
start: "2026-01-01"
end: "2027-06-30"
approved_by: State Data Integrity Board
verification: A caseworker confirms every match with the source agency before any action.
notice_days: 30
justification: Find payments to deceased or duplicate beneficiaries.
no_redisclosure: true
"""


@dataclass
class Base:
    """An ingested, unresolved world and the model the full store was resolved with."""

    folder: Path
    ingested: Path           # ingested, not resolved
    full: Path               # resolved
    model: Path
    world: Any


def build_base(folder: Path, persons: int, seed: int) -> Base:
    world = services.synth(persons, seed, folder / "world")
    ingested = governed_store(folder, "ingested.duckdb")
    agreement = folder / "improper-payments.yaml"
    agreement.write_text(IMPROPER_PAYMENTS, "utf-8")
    services.add_agreement(ingested, agreement, user="pat", today=TODAY)
    for ex in world.extracts:
        services.ingest(ingested, ex.mapping_path, user=ENGINEER)
    full = folder / "full.duckdb"
    _copy(ingested, full)
    model = folder / "model.json"
    services.resolve(full, user=ENGINEER, model_out=model)
    return Base(folder, ingested, full, model, world)


def _copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))


def withheld_records(db: Path, withheld: frozenset[str]) -> set[tuple[str, str]]:
    """The records (current versions) under any of the withheld regimes."""
    reg = registry()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"""
            SELECT source, record_id FROM (SELECT source, record_id, {regimes_sql(reg)} AS regimes
                                           FROM records_current)
            WHERE list_has_any(regimes, ?)""", [sorted(withheld)]).fetchall()
    finally:
        con.close()
    return {(s, r) for s, r in rows}


def reduced_store(base: Base, name: str, withheld: frozenset[str]) -> Path:
    """The ingested store with the withheld records deleted, resolved with the full model."""
    db = base.folder / f"reduced-{name}.duckdb"
    _copy(base.ingested, db)
    gone = sorted(withheld_records(db, withheld))
    con = duckdb.connect(str(db))
    try:
        con.execute("""DELETE FROM records WHERE (source, record_id) IN
                       (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))""",
                    [[s for s, _ in gone], [r for _, r in gone]])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    services.resolve(db, user=ENGINEER, model_in=base.model)
    return db


def partition(db: Path, view: str, withheld: frozenset[str]) -> dict[str, frozenset[tuple[str, str]]]:
    """Person id -> its records not withheld, in the view's partition."""
    reg = registry()
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(f"""
            SELECT m.entity_id, m.source, m.record_id
            FROM ({members_sql(view)}) m
            JOIN (SELECT source, record_id, {regimes_sql(reg)} AS regimes FROM records_current) r
              USING (source, record_id)
            WHERE NOT list_has_any(r.regimes, ?)""", [sorted(withheld) or ["<none>"]]).fetchall()
    finally:
        con.close()
    out: dict[str, set[tuple[str, str]]] = {}
    for pid, s, r in rows:
        out.setdefault(pid, set()).add((s, r))
    return {p: frozenset(v) for p, v in out.items()}


@dataclass
class Side:
    """One store behind an in-process API client, with every sample user's token."""

    db: Path
    client: TestClient
    tokens: dict[str, str]
    agreements: dict[str, str]      # purpose -> sample agreement id

    def headers(self, who: Who) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.tokens[who.user]}", "X-Accord-Purpose": who.purpose}
        if who.agreement_purpose:
            h["X-Accord-Agreement"] = self.agreements[who.agreement_purpose]
        return h


def side(db: Path) -> Side:
    users = ("casey", "carl", "bea", "ana", "tess", "pat", "priya")
    tokens = {u: services.issue_token(db, u, user="admin") for u in users}
    agreements = {a.purpose: a.id for a in services.agreements(db, user="olive")}
    return Side(db, TestClient(create_app(db), raise_server_exceptions=False), tokens, agreements)


@dataclass
class Pair:
    """The full store and the reduced store of one purpose, with the id mapping."""

    who: Who
    full: Side
    reduced: Side
    withheld: frozenset[str]
    view: str
    ids: dict[str, str]                                   # full id -> reduced id
    persons: dict[str, frozenset[tuple[str, str]]]        # full id -> its records not withheld
    hidden: set[tuple[str, str]]                          # withheld records of the full store
    shown_to: dict[tuple[str, str], str] = field(default_factory=dict)   # record -> full id

    def normalise(self, value: Any) -> Any:
        """An answer from the full store with its person ids as the reduced store names them."""
        if isinstance(value, dict):
            return {k: self.normalise(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [self.normalise(v) for v in value]
        if isinstance(value, str) and PERSON_ID.match(value):
            return self.ids.get(value, f"<unmapped {value}>")
        if isinstance(value, str):
            return AUDIT_EVENT.sub("audit event #", value)
        return value

    def strip(self, value: Any) -> Any:
        return strip(value)

    def both(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             body: dict[str, Any] | None = None, path_ids: tuple[str, ...] = (),
             who: Who | None = None) -> tuple[Any, Any]:
        """The same request on both stores (``path_ids``: full-store person ids in the path,
        mapped for the reduced store; an id unknown there is sent as an unknown id)."""
        who = who or self.who
        full_path, red_path = path, path
        for pid in path_ids:
            red_path = red_path.replace(pid, self.ids.get(pid, "P999999999"))
        a = self.full.client.request(method, full_path, params=params, json=body,
                                     headers=self.full.headers(who))
        b = self.reduced.client.request(method, red_path, params=params, json=body,
                                        headers=self.reduced.headers(who))
        full_answer, red_answer = a.json(), b.json()
        for pid in path_ids:   # an id asked about is echoed in texts ("P…: not found")
            full_answer = _replace(full_answer, pid, "<asked>")
            red_answer = _replace(red_answer, self.ids.get(pid, "P999999999"), "<asked>")
        return (a.status_code, self.normalise(full_answer)), (b.status_code, self.strip(red_answer))


def strip(value: Any) -> Any:
    """An answer without what differs between any two stores (audit numbers, times)."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, str):
        return AUDIT_EVENT.sub("audit event #", value)
    return value


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, str) and value != old:
        return value.replace(old, new)
    return value


def make_pair(base: Base, who: Who, full: Side) -> Pair:
    reg = registry()
    withheld = withheld_regimes(reg, who.purpose)
    view = purpose_view(reg, who.purpose)
    red_db = reduced_store(base, who.purpose, withheld)
    reduced = side(red_db)
    mine = partition(base.full, view, withheld)
    theirs = partition(red_db, view, withheld)
    by_records = {recs: pid for pid, recs in theirs.items()}
    ids = {pid: by_records[recs] for pid, recs in mine.items() if recs in by_records}
    pair = Pair(who, full, reduced, withheld, view, ids, mine, withheld_records(base.full, withheld))
    pair.shown_to = {rec: pid for pid, recs in mine.items() for rec in recs}
    return pair


def same(a: Any, b: Any, what: str) -> None:
    if a != b:
        raise AssertionError(f"{what}: the full store's answer differs from the reduced store's\n"
                             f"full:    {json.dumps(a, sort_keys=True, default=str)[:3000]}\n"
                             f"reduced: {json.dumps(b, sort_keys=True, default=str)[:3000]}")


def record_values(db: Path, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Identity values of records (to make search and verification queries from)."""
    if not keys:
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("""
            SELECT source, record_id, given_name, family_name, CAST(dob AS VARCHAR), ssn, a_number
            FROM records_current WHERE (source, record_id) IN
            (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))""",
                          [[k[0] for k in keys], [k[1] for k in keys]])
        return {(s, r): {"given_name": g, "family_name": f, "dob": d, "ssn": ssn, "a_number": a}
                for s, r, g, f, d, ssn, a in cur.fetchall()}
    finally:
        con.close()


def sample_persons(pair: Pair, rng: random.Random, others: int) -> list[str]:
    """Persons who had a withheld record in the full store (their full-partition entity), and
    a few others."""
    con = duckdb.connect(str(pair.full.db), read_only=True)
    try:
        touched = {pid for (pid,) in con.execute("""
            SELECT DISTINCT e.entity_id FROM entity_members e
            WHERE (source, record_id) IN (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]))""",
            [[s for s, _ in pair.hidden], [r for _, r in pair.hidden]]).fetchall()}
        # the same people in the view's partition: whoever holds their non-withheld records
        members = dict(con.execute("SELECT source || chr(31) || record_id, entity_id FROM entity_members")
                       .fetchall())
    finally:
        con.close()
    near = sorted({pair.shown_to[rec] for rec in pair.shown_to
                   if members.get(f"{rec[0]}\x1f{rec[1]}") in touched})
    rest = sorted(set(pair.persons) - set(near))
    return near + rng.sample(rest, min(others, len(rest)))


def sample_records(pair: Pair, rng: random.Random, n: int) -> Iterator[tuple[str, str]]:
    """Withheld records first (their identities are the probes that matter), then shown ones."""
    hidden = sorted(pair.hidden)
    shown = sorted(pair.shown_to)
    yield from rng.sample(hidden, min(n, len(hidden)))
    yield from rng.sample(shown, min(n, len(shown)))


Exerciser = Callable[[Pair, random.Random], int]
