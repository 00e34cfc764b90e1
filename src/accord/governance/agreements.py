"""Computer matching agreements (5 U.S.C. 552a(o)) as YAML, validated against the registry.

An agreement is refused when its term exceeds 18 months (or its one renewal 12), when it
names a source or data element its purpose may not use, or when it would open a statutory
floor. An agreement outside its term authorises nothing.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.errors import AccordError
from accord.governance.registry import Registry
from accord.sources.fields import catalogue
from accord.store import Store

MAX_TERM_MONTHS = 18
MAX_RENEWAL_MONTHS = 12


class AgreementError(AccordError):
    """An agreement that cannot be accepted; the message says which rule and where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Party(_Strict):
    name: str
    role: Literal["source", "recipient"]
    address: str | None = None


class Renewal(_Strict):
    start: date
    end: date
    approved_by: str


class Agreement(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
    title: str
    purpose: str
    authority: str
    parties: tuple[Party, ...] = Field(min_length=2)
    sources: tuple[str, ...] = Field(min_length=1)
    data_elements: tuple[str, ...] = Field(min_length=1)
    start: date
    end: date
    approved_by: str
    verification: str
    notice_days: int = Field(default=30, ge=1, le=365)
    justification: str | None = None
    expected_results: str | None = None
    approximate_records: int | None = None
    notice_to_individuals: str | None = None
    retention: str | None = None
    no_redisclosure: bool = True
    accuracy_assessment: str | None = None
    renewal: Renewal | None = None

    @field_validator("no_redisclosure")
    @classmethod
    def _no_redisclosure(cls, v: bool) -> bool:
        if not v:
            raise ValueError("a matching agreement must forbid redisclosure (552a(o)(1)(H))")
        return v

    @property
    def ends_on(self) -> date:
        return self.renewal.end if self.renewal else self.end

    def in_force(self, today: date) -> bool:
        return self.start <= today <= self.ends_on

    def state(self, today: date) -> str:
        if today < self.start:
            return "not yet in force"
        return "in force" if today <= self.ends_on else "expired"

    def recipients(self) -> list[Party]:
        return [p for p in self.parties if p.role == "recipient"]


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def parse_agreement(text: str, registry: Registry, where: str = "agreement") -> Agreement:
    """Parse and check one agreement document against the registry."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise AgreementError(f"{where}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise AgreementError(f"{where}: expected a mapping of agreement fields")
    if isinstance(raw.get("renewal"), list):
        raise AgreementError(f"{where}: renewal: an agreement may be renewed once only (552a(o)(2)(D))")
    try:
        a = Agreement.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(top)"
        raise AgreementError(f"{where}: {loc}: {first['msg']}") from None
    check_agreement(a, registry, where)
    return a


def check_agreement(a: Agreement, registry: Registry, where: str = "agreement") -> None:
    purpose = registry.purposes.get(a.purpose)
    if purpose is None:
        raise AgreementError(f"{where}: purpose: unknown purpose {a.purpose!r} "
                             f"(known: {', '.join(registry.purposes)})")
    if not purpose.person_data:
        raise AgreementError(f"{where}: purpose {a.purpose} reads no person data; it needs no agreement")
    if a.end < a.start:
        raise AgreementError(f"{where}: end {a.end} is before start {a.start}")
    if a.end > add_months(a.start, MAX_TERM_MONTHS):
        raise AgreementError(f"{where}: end: the term {a.start} to {a.end} exceeds {MAX_TERM_MONTHS} months "
                             f"(latest end {add_months(a.start, MAX_TERM_MONTHS)}) (552a(o)(2)(C))")
    if a.renewal:
        r = a.renewal
        if not a.start < r.start <= a.end + timedelta(days=1):
            raise AgreementError(f"{where}: renewal.start {r.start} must fall after the start and "
                                 f"no later than the end of the original term ({a.end})")
        if r.end > add_months(r.start, MAX_RENEWAL_MONTHS):
            raise AgreementError(f"{where}: renewal.end: the renewal {r.start} to {r.end} exceeds "
                                 f"{MAX_RENEWAL_MONTHS} months (552a(o)(2)(D))")
        if r.end <= a.end:
            raise AgreementError(f"{where}: renewal.end {r.end} does not extend the term ending {a.end}")
    if not a.recipients():
        raise AgreementError(f"{where}: parties: name at least one recipient party")
    fields = catalogue()
    usable: set[str] = set()
    for system in a.sources:
        sys_ = registry.systems.get(system)
        if sys_ is None:
            raise AgreementError(f"{where}: sources: unknown record system {system!r} "
                                 f"(known: {', '.join(registry.systems)})")
        regime = registry.regimes[sys_.regime]
        if regime.refuses(a.purpose):
            raise AgreementError(
                f"{where}: sources: {system} is {regime.title} ({regime.citation}); no agreement can open it "
                f"for {a.purpose} (statutory floor)")
        request_rule = purpose.person_requests.get(sys_.regime)
        access = registry.access(system, a.purpose)
        if access is None and request_rule is None:
            raise AgreementError(f"{where}: sources: {system} has no routine use for {a.purpose} "
                                 f"(SORN {sys_.sorn}); the purpose may not use it")
        if access == "full":
            usable.update(fields)
        elif access == "identity":
            usable.update(n for n, f in fields.items() if f.kind == "identity")
        if request_rule is not None:
            usable.update(request_rule.release)
    for element in a.data_elements:
        if element not in fields:
            raise AgreementError(f"{where}: data_elements: unknown field {element!r}")
        if element not in usable:
            raise AgreementError(f"{where}: data_elements: {element} is not available to {a.purpose} "
                                 f"from the named sources")


def add_agreement(store: Store, path: Path, registry: Registry, added_by: str) -> tuple[Agreement, int]:
    """Validate an agreement file and store it as a new version; returns (agreement, version)."""
    try:
        text = path.read_text("utf-8")
    except OSError as e:
        raise AgreementError(f"{path}: cannot read: {e.strerror}") from None
    a = parse_agreement(text, registry, str(path))
    sha = hashlib.sha256(text.encode()).hexdigest()
    last = store.query("SELECT version, sha256 FROM agreements WHERE agreement_id = ? "
                       "ORDER BY version DESC LIMIT 1", [a.id])
    if last and last[0][1] == sha:
        return a, int(last[0][0])
    version = int(last[0][0]) + 1 if last else 1
    store.write("INSERT INTO agreements (agreement_id, version, purpose, starts_on, ends_on, content, yaml, "
                "sha256, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
                [a.id, version, a.purpose, a.start, a.ends_on, json.dumps(a.model_dump(mode="json")),
                 text, sha, added_by])
    return a, version


def get_agreement(store: Store, agreement_id: str) -> Agreement | None:
    rows = store.query("SELECT content FROM agreements WHERE agreement_id = ? ORDER BY version DESC LIMIT 1",
                       [agreement_id])
    return Agreement.model_validate(json.loads(rows[0][0])) if rows else None


def list_agreements(store: Store, today: date) -> list[dict[str, Any]]:
    newest = store.dialect.first_by("content", "-version")
    rows = store.query(f"SELECT agreement_id, max(version), {newest} FROM agreements "
                       "GROUP BY agreement_id ORDER BY agreement_id")
    out = []
    for aid, version, content in rows:
        a = Agreement.model_validate(json.loads(content))
        out.append({"id": aid, "version": int(version), "title": a.title, "purpose": a.purpose,
                    "start": a.start.isoformat(), "end": a.ends_on.isoformat(), "state": a.state(today),
                    "sources": list(a.sources)})
    return out
