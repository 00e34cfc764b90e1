"""Worlds with and without the records a purpose may not see, for the indistinguishability
tests of resolution: the same synthetic extracts (plus a few constructed probe records),
ingested whole, and again with every row under some regimes taken out of the files first.

Which rows go is read from the registry (a system's regime, its content marks), never
listed here.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from accord.governance.registry import Registry
from accord.governance.scope import regimes_sql
from accord.ingest import ingest_file
from accord.resolve.pipeline import resolve
from accord.resolve.views import links_sql, members_sql
from accord.sources.mapping import load_mapping_file
from accord.sql_text import str_list
from accord.store import Store
from accord.synth import generate

Key = tuple[str, str]
Pair = tuple[str, str, str, str]

# Constructed cases (names no synthetic person has). Bridge: the withheld record W1 is the
# only link between A1 and B1 (whose SSN and last four disagree). Guard: the withheld record
# G2's SSN rejects the link G1-G3 in the full run (G1-G2 is stronger: same address).
_FIELDS = ["id", "given", "family", "dob", "sex", "ssn", "last4", "street", "city", "state", "zip",
           "form"]
PROBES: dict[str, tuple[str, list[dict[str, str]]]] = {
    "probe_ssa": ("ssa-numident", [
        {"id": "A1", "given": "Zebediah", "family": "Quixworth", "dob": "1961-07-14", "sex": "M",
         "ssn": "512-33-6789"},
        {"id": "G3", "given": "Perpetua", "family": "Vantremble", "dob": "1975-02-03", "sex": "F",
         "ssn": "345-67-8901"},
    ]),
    "probe_cbp": ("cbp-arrival-departure", [
        {"id": "B1", "given": "Zebediah", "family": "Quixworth", "dob": "1961-07-14", "sex": "M",
         "last4": "4321"},
        {"id": "G1", "given": "Perpetua", "family": "Vantremble", "dob": "1975-02-03", "sex": "F",
         "street": "12 Elm St", "city": "Albany", "state": "NY", "zip": "12207"},
    ]),
    "probe_uscis": ("uscis-benefits", [
        {"id": "W1", "given": "Zebediah", "family": "Quixworth", "dob": "1961-07-14", "sex": "M",
         "form": "asylum"},
        {"id": "G2", "given": "Perpetua", "family": "Vantremble", "dob": "1975-02-03", "sex": "F",
         "ssn": "234-56-7890", "street": "12 Elm St", "city": "Albany", "state": "NY",
         "zip": "12207", "form": "asylum"},
    ]),
}
A1, B1, W1 = ("probe_ssa", "A1"), ("probe_cbp", "B1"), ("probe_uscis", "W1")
G1, G2, G3 = ("probe_cbp", "G1"), ("probe_uscis", "G2"), ("probe_ssa", "G3")


def write_probes(folder: Path) -> list[Path]:
    """The probe extracts and their mappings; returns the mapping paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for source, (system, rows) in PROBES.items():
        data = folder / f"{source}.csv"
        with data.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=_FIELDS)
            w.writeheader()
            for row in rows:
                w.writerow({k: row.get(k, "") for k in _FIELDS})
        mapping = {
            "source": source, "system": system, "format": "csv", "file": data.name,
            "record_id": "id",
            "fields": {"given_name": "given", "family_name": "family",
                       "dob": {"column": "dob", "format": "%Y-%m-%d"}, "sex": "sex", "ssn": "ssn",
                       "ssn_last4": "last4", "street": "street", "city": "city", "state": "state",
                       "zip": "zip", "benefit_type": "form"}}
        path = folder / f"{source}.mapping.yaml"
        path.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
        out.append(path)
    return out


def _withheld_row(reg: Registry, system: str, mf: Any, row: dict[str, str],
                  withheld: frozenset[str]) -> bool:
    for field, marks in reg.systems[system].content_marks.items():
        spec = mf.spec.fields.get(field)
        if spec is None:
            continue
        raw = row.get(spec.column, "")
        value = spec.values.get(raw, raw) if spec.values else raw
        if marks.get(value) in withheld:
            return True
    return False


def reduced_extracts(mappings: Iterable[Path], reg: Registry, withheld: frozenset[str],
                     folder: Path) -> list[tuple[Path, Path]]:
    """(mapping, data file) of every extract without its rows under ``withheld``: an extract
    whose system falls under one of them (or is not registered) is left out, and the rows
    whose content marks put them under one are taken out of the file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for mapping in mappings:
        mf = load_mapping_file(mapping)
        system = mf.spec.system
        if system not in reg.systems or reg.systems[system].regime in withheld:
            continue
        data = mf.data_path()
        marks = reg.systems[system].content_marks
        if not any(set(v.values()) & withheld for v in marks.values()):
            out.append((mapping, data))
            continue
        opts = mf.spec.csv
        assert mf.spec.format == "csv" and opts.header, mapping
        kept = folder / data.name
        with data.open(encoding=opts.encoding, newline="") as src, \
                kept.open("w", encoding=opts.encoding, newline="") as dst:
            reader = csv.reader(src, delimiter=opts.delimiter, quotechar=opts.quote)
            writer = csv.writer(dst, delimiter=opts.delimiter, quotechar=opts.quote,
                                lineterminator="\n")
            header = next(reader)
            writer.writerow(header)
            for values in reader:
                if not _withheld_row(reg, system, mf, dict(zip(header, values, strict=False)),
                                     withheld):
                    writer.writerow(values)
        out.append((mapping, kept))
    return out


@dataclass
class FloorWorld:
    """One synthetic world (with the probes) resolved whole, and on demand without the
    records under a set of regimes."""
    root: Path
    mappings: list[Path]
    full: Path
    reg: Registry
    _reduced: dict[frozenset[str], Path]

    def reduced(self, withheld: frozenset[str]) -> Path:
        if withheld not in self._reduced:
            name = f"reduced{len(self._reduced)}"
            db = self.root / f"{name}.duckdb"
            with Store(db) as store:
                for mapping, data in reduced_extracts(self.mappings, self.reg, withheld,
                                                      self.root / name):
                    ingest_file(store, mapping, data)
                resolve(store, registry=self.reg)
            self._reduced[withheld] = db
        return self._reduced[withheld]


def build(root: Path, persons: int, seed: int, reg: Registry) -> FloorWorld:
    w = generate(persons, seed, root / "world")
    mappings = [ex.mapping_path for ex in w.extracts] + write_probes(root / "probes")
    db = root / "full.duckdb"
    with Store(db) as store:
        for m in mappings:
            ingest_file(store, m)
        resolve(store, registry=reg)
    return FloorWorld(root, mappings, db, reg, {})


# --- reading a store ------------------------------------------------------------------------

def withheld_records(store: Store, reg: Registry, withheld: frozenset[str]) -> set[Key]:
    rows = store.query(f"""SELECT source, record_id FROM records_current
                           WHERE list_has_any({regimes_sql(reg)}, {str_list(sorted(withheld))})""")
    return {(s, r) for s, r in rows}


def records(store: Store) -> set[Key]:
    return {(s, r) for s, r in store.query("SELECT source, record_id FROM records_current")}


def partition(store: Store, view: str, keep: set[Key]) -> set[frozenset[Key]]:
    """The persons of ``view`` as sets of records, restricted to ``keep`` (ids ignored)."""
    groups: dict[str, set[Key]] = defaultdict(set)
    for s, r, e in store.query(f"SELECT source, record_id, entity_id FROM ({members_sql(view)})"):
        if (s, r) in keep:
            groups[e].add((s, r))
    return {frozenset(g) for g in groups.values()}


def links(store: Store, view: str, keep: set[Key]) -> dict[Pair, tuple[float, float, str]]:
    """(pair) -> (weight, probability, status) in ``view``, for links of two records in
    ``keep``; weights to 8 decimals."""
    out = {}
    for sl, il, sr, ir, w, p, status in store.query(
            f"SELECT source_l, record_id_l, source_r, record_id_r, match_weight, match_probability, "
            f"status FROM ({links_sql(view)})"):
        if (sl, il) in keep and (sr, ir) in keep:
            out[(sl, il, sr, ir)] = (round(w, 8), round(p, 8), status)
    return out


def entity(store: Store, view: str, key: Key) -> str:
    row = store.query(f"SELECT entity_id FROM ({members_sql(view)}) WHERE source = ? AND record_id = ?",
                      list(key))
    return str(row[0][0])
