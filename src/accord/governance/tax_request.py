"""Per-person requests for tax return information (26 U.S.C. 6103(i)(2)).

Released only when the name, the TIN and the address the requester supplies ALL match one
IRS record of a taxable period the request states, and then only the fields the authority
allows. "Match" is full, after the project's standard normalisation and nothing looser:

* name: every name part supplied and every name part on the record (given, middle, family,
  suffix) agree, in any order, after ``standardise.names.fold`` (a leading title dropped,
  generational suffixes standardised, professional ones dropped). A record name that is only
  part of the supplied one, or the other way round, does not match;
* TIN: nine digits (dashes or spaces between the groups allowed), equal to the record's;
* address: street (house number, USPS-standardised street name and unit, by the same SQL the
  linkage uses: ``standardise.addresses``), city, state and ZIP all supplied and all equal;
  a ZIP+4 on both sides must agree in full;
* period: only records whose ``tax_year`` is among the stated taxable periods are considered.

A name-and-TIN match with a different address releases nothing (the failure LEGAL.md
describes: ~42,695 addresses released without the address check). Whatever element fails,
and whether or not a record exists, the answer is the same words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from accord.governance.registry import Registry
from accord.governance.scope import require_issued, scoped_records_sql
from accord.governance.tax_periods import stated_periods
from accord.sql import local
from accord.sql_text import lit
from accord.standardise.addresses import city_sql, street_parse_sql, terms_rows
from accord.standardise.identifiers import state_sql
from accord.standardise.names import fold
from accord.standardise.reference import suffixes, titles
from accord.store import Store

if TYPE_CHECKING:   # the policy decides; this module only reads under its decision
    from accord.governance.policy import Decision

NOTHING = ("nothing released: the name, TIN and address supplied do not all match one IRS record of "
           "the taxable periods stated (6103(i)(2) requires all three, for those periods)")
_TIN = re.compile(r"(\d{3})[- ]?(\d{2})[- ]?(\d{4})")
_ZIP = re.compile(r"(\d{5})(?:[- ]?(\d{4}))?")


def name_parts(text: str | None) -> tuple[str, ...]:
    """The parts of a name, sorted, after the standard folding: a leading title dropped (DR
    JOHN -> JOHN), generational suffixes standardised (JUNIOR -> JR, 3RD -> III), professional
    ones dropped (MD, ESQ)."""
    folded = fold(text)
    if not folded:
        return ()
    tokens = folded.split()
    if len(tokens) > 1 and tokens[0] in titles():
        tokens = tokens[1:]
    known = suffixes()
    out = [known.standard[t] if t in known.in_names else t for t in tokens]
    return tuple(sorted(t for t in out if t))


def _record_name(row: dict[str, Any]) -> tuple[str, ...]:
    given = row.get("given_name") or row.get("given_names")
    parts = [given, row.get("middle_name"), row.get("family_name")]
    if not given and not row.get("family_name"):
        parts = [row.get("full_name")]
    text = " ".join(str(p) for p in parts if p)
    suffix = fold(row.get("name_suffix"))
    extra = [s for s in [suffixes().standard.get(suffix or "", suffix)] if s]
    return tuple(sorted((*name_parts(text), *extra)))


def _tin(text: Any) -> str | None:
    m = _TIN.fullmatch(str(text or "").strip())
    return "".join(m.groups()) if m else None


def _zip(text: Any) -> tuple[str, str | None] | None:
    m = _ZIP.fullmatch(str(text or "").strip())
    if m is None or m.group(1) == "00000":
        return None
    return m.group(1), m.group(2)


def _same_zip(a: tuple[str, str | None] | None, b: tuple[str, str | None] | None) -> bool:
    if a is None or b is None or a[0] != b[0]:
        return False
    return a[1] is None or b[1] is None or a[1] == b[1]


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
    """The supplied address as {street, city, state, zip}: a dict, or one line "street, city,
    ST zip" (also "street, unit, city, ST zip" and "street, city ST zip"). A part that cannot be
    told apart is left empty (and then nothing matches)."""
    if isinstance(supplied, dict):
        return {k: str(supplied.get(k) or "").strip() for k in ("street", "city", "state", "zip")}
    parts = [p.strip() for p in str(supplied or "").split(",")]
    if len(parts) < 2:
        return {"street": "", "city": "", "state": "", "zip": ""}
    tail = re.fullmatch(r"(?:(.*?)\s+)?([A-Za-z]{2})\s+(\S+)", parts[-1])
    if tail is None:
        return {"street": " ".join(parts[:-1]), "city": "", "state": "", "zip": ""}
    city_in_tail, state, zip_ = tail.groups()
    if city_in_tail:        # "street, city ST zip"
        return {"street": " ".join(parts[:-1]), "city": city_in_tail, "state": state, "zip": zip_}
    return {"street": " ".join(parts[:-2]), "city": parts[-2] if len(parts) > 2 else "", "state": state,
            "zip": zip_}


def _words(text: str) -> set[str]:
    """Every word the street parser could compare with a term, and more (a superset)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.upper()) if not unicodedata.combining(c))
    return set(re.split(r"[^A-Z0-9]+", plain.replace(".", ""))) | set(re.split(r"[^A-Z0-9]+", plain))


def _terms_sql(lines: list[str]) -> str:
    """The USPS terms (``standardise.addresses``) the parser could join to these lines, as an
    inline relation: the parser joins terms by whole word, so the others cannot change its
    answer, and a few rows keep the query small."""
    words = set().union(*(_words(line) for line in lines)) if lines else set()
    rows = [(k, v, t) for k, v, t in terms_rows() if v in words] or [("none", "", "")]
    return ("(SELECT * FROM (VALUES " + ", ".join(f"({lit(k)}, {lit(v)}, {lit(t)})" for k, v, t in rows)
            + ") t(kind, variant, standard))")


def _standard_addresses(store: Store, addresses: list[dict[str, Any]]) -> list[tuple[Any, ...] | None]:
    """Each address as (house number, street name, unit, city, state, ZIP) standardised the
    way the linkage standardises records; None when any part is missing."""
    rows = ", ".join(f"({i}, {lit(str(a.get('street') or ''))}, {lit(str(a.get('city') or ''))}, "
                     f"{lit(str(a.get('state') or ''))})" for i, a in enumerate(addresses))
    streets = street_parse_sql("(SELECT DISTINCT street_line FROM v WHERE street_line <> '')",
                               _terms_sql([str(a.get("street") or "") for a in addresses]))
    # Standardisation SQL (DuckDB's), over the given values only: computed in-process.
    got = local.rows(
        f"WITH v AS (SELECT * FROM (VALUES {rows}) t(k, street_line, city, state)) "
        f"SELECT v.k, p.street_number, p.street_name, p.street_unit, {city_sql('v.city')}, "
        f"{state_sql('v.state')} FROM v LEFT JOIN ({streets}) p USING (street_line) ORDER BY v.k")
    out: list[tuple[Any, ...] | None] = []
    for (_, number, street, unit, city, state), a in zip(got, addresses, strict=True):
        zip_ = _zip(a.get("zip"))
        complete = street and city and state and zip_
        out.append((number, street, unit, city, state, zip_) if complete else None)
    return out


def _same_address(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    return a is not None and b is not None and a[:5] == b[:5] and _same_zip(a[5], b[5])


def release(store: Store, registry: Registry, decision: Decision, request: dict[str, Any]) -> TaxRelease:
    """Reader for a per-person request: compare every required element, release or refuse."""
    assert decision.scope is not None
    require_issued(decision.scope)
    nothing = TaxRelease(False, NOTHING)
    periods = stated_periods(request.get("taxable_periods"))
    tin = _tin(request.get("tin"))
    want_name = name_parts(request.get("full_name"))
    if not periods or tin is None or not want_name:
        return nothing
    sql = scoped_records_sql(registry, decision.scope)
    rows = store.read_arrow(
        f"SELECT * FROM ({sql}) s WHERE regexp_replace(coalesce(tin, ssn, itin, ''), '[^0-9]', '', 'g') = ? "
        f"AND {store.dialect.in_list('tax_year')}", [tin, sorted(periods)]).to_pylist()
    # Every element is compared for every candidate, whichever fails first.
    standard = _standard_addresses(store, [address_of(request.get("address")), *rows])
    allowed = set().union(*decision.fields_allowed.values()) if decision.fields_allowed else set()
    matched = [row for row, have in zip(rows, standard[1:], strict=True)
               if (_record_name(row) == want_name) & _same_address(standard[0], have)]
    for row in sorted(matched, key=lambda r: (-(r.get("tax_year") or 0), r["record_id"])):
        fields = {k: row[k] for k in sorted(allowed) if row.get(k) is not None}
        return TaxRelease(True, "name, TIN and address match one IRS record of the taxable periods stated; "
                          "released: " + ", ".join(sorted(fields)), fields, (row["source"], row["record_id"]),
                          row.get("person_id"))
    return nothing
