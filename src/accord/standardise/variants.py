"""Name variant keys from the nickname and name-variant tables.

Two data files feed it (see their headers for sources):
- ``nicknames.csv``: (name, nickname) pairs. BILL is a nickname of WILLIAM; AL of ALAN, ALBERT
  and ALFRED. Pairs are not transitive.
- ``name_variants.csv``: groups. A ``spelling`` group lists interchangeable spellings of one
  name (MOHAMMED/MUHAMMAD/MOHAMED...); its first member is the canonical spelling. An
  ``equivalent`` group links a name across romanisation systems or languages
  (ZHANG/CHANG/CHEUNG, JOSE/JOSEPH) whose members may each also be an unrelated name.

For every listed name and part (given or family) this module derives:
- ``key``: one canonical name. A spelling maps to its group's canonical spelling; a nickname
  that belongs to exactly one full name maps to that name (BILL -> WILLIAM, and BILLY ->
  WILLIAM); a nickname of several names (AL), or one that is also a given name in its own right
  (JACK, MAX: ``nickname_is_given_name``), keeps its own spelling as key. Two names share a key
  only when both unambiguously stand for the same name, so equal keys never join two different
  full names (BILL and BOB stay apart; ALBERT and ALFRED never meet through AL).
- ``keys``: every name it may stand for, for a pairwise "may be the same name" test
  (``list_has_any(a.keys, b.keys)``): the key, each full name of a nickname, and one id per
  equivalent group (written ``~`` + the group id, so it never equals a real name). AL's keys
  are [AL, ALAN, ALBERT, ALFRED, ...]: AL may be ALAN or ALBERT, while ALAN and ALBERT stay
  different. CHANG's keys hold both ~ZHANG/CHANG/... and ~JANG/CHANG: CHANG may be ZHANG or
  JANG, ZHANG and JANG never meet.

Family names use spelling and equivalent groups of part family/any; given names also use the
nickname pairs. Names not listed have no row: the caller falls back to the name itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import duckdb
import pyarrow as pa

from accord.standardise.reference import csv_rows

PARTS = ("given", "family")
TABLE = "__std_variants"


@dataclass(frozen=True)
class VariantEntry:
    part: str
    name: str
    key: str
    keys: tuple[str, ...]


def _applies(row_part: str, part: str) -> bool:
    return row_part in (part, "any")


def _squash(name: str) -> str:
    # Multi-word entries (ABDUL RAHMAN) are looked up without spaces, like given_concat.
    return name.replace(" ", "")


@cache
def variant_entries() -> tuple[VariantEntry, ...]:
    """Key and keys for every name the tables list, per part (sorted by part, name)."""
    groups = csv_rows("name_variants.csv")
    nick_rows = csv_rows("nicknames.csv")
    out: list[VariantEntry] = []
    for part in PARTS:
        spelling: dict[str, str] = {}
        equivalents: dict[str, set[str]] = defaultdict(set)
        for r in groups:
            if not _applies(r["part"], part):
                continue
            name, gid = _squash(r["name"]), r["group"]
            if r["kind"] == "spelling":
                canonical = _squash(gid)
                if spelling.get(name, canonical) != canonical:
                    raise ValueError(f"name_variants.csv: {name} ({part}) is in two spelling "
                                     f"groups: {spelling[name]} and {canonical}")
                spelling[name] = canonical
            elif r["kind"] == "equivalent":
                equivalents[name].add("~" + gid)
            else:
                raise ValueError(f"name_variants.csv: unknown kind {r['kind']!r}")

        def spell(n: str, table: dict[str, str] = spelling) -> str:
            return table.get(n, n)

        full_names: dict[str, set[str]] = defaultdict(set)  # nickname -> the names it stands for
        formal: set[str] = set()
        standalone: set[str] = set()
        if part == "given":
            for r in nick_rows:
                name, nick = spell(_squash(r["name"])), spell(_squash(r["nickname"]))
                if name == nick:
                    continue
                full_names[nick].add(name)
                formal.add(name)
                if r["nickname_is_given_name"] == "1":
                    standalone.add(nick)
        names = set(spelling) | set(equivalents) | set(full_names) | formal
        # Equivalent-group ids reach every spelling of a member, not only the listed one.
        eq_by_canonical: dict[str, set[str]] = defaultdict(set)
        for n, ids in equivalents.items():
            eq_by_canonical[spell(n)] |= ids
        for n in sorted(names):
            s = spell(n)
            stands_for = set(full_names.get(s, ()))
            if not stands_for or s in formal or s in standalone:
                stands_for.add(s)
            key = next(iter(stands_for)) if len(stands_for) == 1 else s
            keys = {key} | stands_for | eq_by_canonical.get(s, set())
            out.append(VariantEntry(part, n, key, tuple(sorted(keys))))
    return tuple(out)


def lookup(name: str, part: str = "given") -> VariantEntry | None:
    """The entry for one folded name (spaces ignored), or None when the tables do not list it."""
    return _index().get((part, _squash(name)))


@cache
def _index() -> dict[tuple[str, str], VariantEntry]:
    return {(e.part, e.name): e for e in variant_entries()}


@cache
def _arrow() -> pa.Table:
    """The entries as one Arrow table, made once per process (an incremental update
    standardises a few records many times over)."""
    entries = variant_entries()
    return pa.table({
        "part": pa.array([e.part for e in entries], pa.string()),
        "name": pa.array([e.name for e in entries], pa.string()),
        "key": pa.array([e.key for e in entries], pa.string()),
        "keys": pa.array([list(e.keys) for e in entries], pa.list_(pa.string())),
    })


def register(con: duckdb.DuckDBPyConnection, table: str = TABLE) -> int:
    """Create temp table ``table(part, name, key, keys)`` from the data files; returns rows."""
    arrow = _arrow()
    view = f"{table}_arrow"
    con.register(view, arrow)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return int(arrow.num_rows)
