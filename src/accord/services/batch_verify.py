"""Verification of a file of queries in one run (benefit agencies verify in batches).

The batch is one governed read (``verify.query``, as a single verification is): one decision
on the purpose and agreement, every query answered under the scope it issued, and one audit
event that counts the queries and the answers (``details["batch"]``) and records the results
file (``details["export"]``). The accounting of disclosures gets a row for every person an
answer disclosed, as the ledger does for any read of several persons, so each person's
accounting names this batch's event. A query the records do not answer is "institute
additional verification", never a finding, as for one query. The results file is written only
after the event has committed.

The queries file is CSV with a header: ``name`` and ``dob`` and at least one of ``a_number``
and ``ssn``; an optional ``ref`` (the caller's own reference, copied to the results). Any other
column is an error, as is a row with the wrong number of cells: the whole file is checked
before anything is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.governance.policy import Decision, Request
from accord.master.query import SearchQueryError
from accord.services import export_files
from accord.services.context import governed
from accord.services.results import BatchVerifyOut
from accord.store.target import StoreTarget
from accord.verification import ADDITIONAL

COLUMNS = ("ref", "name", "dob", "a_number", "ssn")
MAX_QUERIES = 10_000
RESULT_COLUMNS = ["line", "ref", "answer", "result", "status", "reason"]
NOT_SEARCHED = "not searched: correct the query"


class QueriesError(AccordError):
    """A file of verification queries could not be read: its columns, a row or its size."""


@dataclass(frozen=True)
class Query:
    line: int
    ref: str | None
    name: str
    dob: str
    a_number: str | None
    ssn: str | None


def read_queries(path: Path) -> list[Query]:
    """The queries of ``path``, each with its line number; refused, naming the line or the
    columns, when the file is not a queries file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QueriesError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise QueriesError(f"{path}: cannot read it as UTF-8 text ({e})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise QueriesError(f"{path}: empty; the first line must name the columns "
                           "(name, dob, a_number and/or ssn, optionally ref)")
    header = [c.strip().lower() for c in rows[0]]
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise QueriesError(f"{path} line 1: unknown column(s) {', '.join(map(repr, unknown))} "
                           f"(the columns are {', '.join(COLUMNS)})")
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise QueriesError(f"{path} line 1: column(s) {', '.join(twice)} given twice")
    if "name" not in header or "dob" not in header or not {"a_number", "ssn"} & set(header):
        raise QueriesError(f"{path} line 1: a verification needs the columns name, dob and a_number or "
                           f"ssn (found {', '.join(header)})")
    queries: list[Query] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise QueriesError(f"{path} line {line}: {len(row)} cells, the header has {len(header)}")
        cell = {c: (v.strip() or None) for c, v in zip(header, row, strict=True)}
        queries.append(Query(line, cell.get("ref"), cell.get("name") or "", cell.get("dob") or "",
                             cell.get("a_number"), cell.get("ssn")))
        if len(queries) > MAX_QUERIES:
            raise QueriesError(f"{path}: more than {MAX_QUERIES:,} queries; split it into several batches")
    if not queries:
        raise QueriesError(f"{path}: no queries below the header")
    return queries


@dataclass
class BatchRead:
    """The answers of a batch, in the order of its queries."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    persons: set[str] = field(default_factory=set)
    records: set[tuple[str, str]] = field(default_factory=set)

    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return sorted(self.persons), sorted(self.records)

    def count(self, result: str) -> int:
        return sum(1 for a in self.answers if a["result"] == result)

    def details(self, to: export_files.Target) -> dict[str, Any]:
        n = len(self.answers)
        return {"batch": {"queries": n, "verified": self.count("verified"),
                          "additional_verification": self.count(ADDITIONAL),
                          "invalid": self.count("invalid query")},
                "export": to.describe() | {"rows": n}}


def verify_batch(db: StoreTarget, queries_file: Path, out: Path, *, user: str, purpose: str,
                 agreement: str | None, fmt: str | None = None, justification: str | None = None,
                 origin: str = "cli", today: date | None = None) -> BatchVerifyOut:
    """Answer every query of ``queries_file`` as ``accord verify`` answers one, in one governed
    read, and write the answers (line, ref, answer, result, status, reason) to ``out``."""
    from accord.verification import verify as run

    queries = read_queries(queries_file)
    to = export_files.target(out, fmt)
    with governed(db, origin=origin, today=today) as gate:
        def reader(d: Decision) -> BatchRead:
            batch = BatchRead()
            for q in queries:
                try:
                    v = run(gate.store, gate.registry, d, q.name, q.dob, q.a_number, q.ssn, gate.today)
                except SearchQueryError as e:    # the query itself is malformed: nothing searched
                    batch.answers.append({"line": q.line, "ref": q.ref, "answer": NOT_SEARCHED,
                                          "result": "invalid query", "status": None, "reason": str(e)})
                    continue
                persons, records = v.touched()
                batch.persons.update(persons)
                batch.records.update(records)
                batch.answers.append({"line": q.line, "ref": q.ref} | v.to_dict())
            return batch

        g = gate.read(user, Request("verify.query", purpose, agreement, justification), reader,
                      nature=f"status verification responses (batch of {len(queries)})",
                      details=lambda b: b.details(to))
    export_files.write(to, RESULT_COLUMNS, g.value.answers)
    return BatchVerifyOut(file=str(to.path), format=to.format, queries=len(g.value.answers),
                          verified=g.value.count("verified"),
                          additional_verification=g.value.count(ADDITIONAL),
                          invalid=g.value.count("invalid query"), audit_event=g.audit_seq)
