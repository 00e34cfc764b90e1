"""Per-person requests for tax return information (26 U.S.C. 6103(i)(2)).

Released only when the name, the TIN and the address the requester supplies ALL match one
IRS record, and then only the fields the authority allows. A name-and-TIN match with a
different address releases nothing (the failure LEGAL.md describes: ~42,695 addresses
released without the address check). The response never says which element failed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from accord.governance.policy import Decision
from accord.governance.registry import Registry
from accord.governance.scope import require_issued, scoped_records_sql
from accord.store import Store

_SUFFIXES = {"STREET": "ST", "AVENUE": "AVE", "ROAD": "RD", "DRIVE": "DR", "LANE": "LN", "COURT": "CT",
             "BOULEVARD": "BLVD", "PLACE": "PL", "TERRACE": "TER", "CIRCLE": "CIR", "PARKWAY": "PKWY",
             "HIGHWAY": "HWY", "APARTMENT": "APT", "SUITE": "STE", "NORTH": "N", "SOUTH": "S", "EAST": "E",
             "WEST": "W"}


def _fold(text: str | None) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z0-9 ]", " ", text)).strip()


def _name_tokens(text: str | None) -> frozenset[str]:
    return frozenset(t for t in _fold(text).split() if t not in {"JR", "SR", "II", "III", "IV"})


def _street(text: str | None) -> str:
    return " ".join(_SUFFIXES.get(t, t) for t in _fold(text).split())


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


@dataclass
class TaxRelease:
    """The outcome of one per-person request: released fields, or nothing."""

    released: bool
    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    record: tuple[str, str] | None = None
    person_id: str | None = None

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        if not self.released or self.record is None:
            return [], []
        return ([self.person_id] if self.person_id else []), [self.record]

    def to_dict(self) -> dict[str, Any]:
        return {"released": self.released, "message": self.message, "fields": self.fields}


def address_of(supplied: Any) -> dict[str, str]:
    """The supplied address as {street, city, state, zip} (a dict, or one line 'street, city, ST zip')."""
    if isinstance(supplied, dict):
        return {k: str(supplied.get(k) or "") for k in ("street", "city", "state", "zip")}
    parts = [p.strip() for p in str(supplied or "").split(",")]
    street = parts[0] if parts else ""
    city = parts[1] if len(parts) > 2 else ""
    tail = parts[-1] if len(parts) > 1 else ""
    m = re.match(r"([A-Za-z]{2})\s+(\d{5})", tail)
    return {"street": street, "city": city, "state": m.group(1) if m else "", "zip": m.group(2) if m else ""}


def release(store: Store, registry: Registry, decision: Decision, request: dict[str, Any]) -> TaxRelease:
    """Reader for a per-person request: compare every required element, release or refuse."""
    assert decision.scope is not None
    require_issued(decision.scope)
    tin = _digits(request.get("tin"))
    if len(tin) != 9:
        return TaxRelease(False, "nothing released: the TIN supplied is not nine digits")
    sql = scoped_records_sql(registry, decision.scope)
    cur = store.con.execute(
        f"SELECT * FROM ({sql}) WHERE regexp_replace(coalesce(tin, ssn, itin, ''), '[^0-9]', '', 'g') = ?",
        [tin])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    want_name = _name_tokens(request.get("full_name"))
    want = address_of(request.get("address"))
    allowed = set().union(*decision.fields_allowed.values()) if decision.fields_allowed else set()
    for row in sorted(rows, key=lambda r: (-(r.get("tax_year") or 0), r["record_id"])):
        have_name = _name_tokens(" ".join(str(row.get(k) or "") for k in ("given_name", "family_name")))
        if not want_name or not have_name or not have_name <= want_name:
            continue
        if _street(row.get("street")) != _street(want["street"]) or not want["street"]:
            continue
        if _digits(row.get("zip"))[:5] != _digits(want["zip"])[:5]:
            continue
        if want["state"] and _fold(row.get("state")) != _fold(want["state"]):
            continue
        fields = {k: row[k] for k in sorted(allowed) if row.get(k) is not None}
        return TaxRelease(True, "name, TIN and address match one IRS record; released: "
                          + ", ".join(sorted(fields)), fields, (row["source"], row["record_id"]),
                          row.get("person_id"))
    return TaxRelease(False, "nothing released: the name, TIN and address supplied do not all match "
                      "one IRS record (6103 requires all three)")
