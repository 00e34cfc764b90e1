"""A source's registration (the ``sources`` table): the record system a source is bound to,
checked before each batch; the registration each batch updates; what a source holds
(``accord sources show``); and retiring a source that holds no records.

A source is bound to the record system (and so the legal regime) its first batch named, and
cannot change it. A system that is not in the authority registry is refused with the nearest
registered name: records of an unregistered system are withheld from every purpose, so a typo
would otherwise bind the source to a system no purpose can read. A source bound by mistake
(no record stored under it: every row quarantined, say) can be retired, which frees its name;
its batches and quarantined rows stay as history (each batch names its system).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from accord.errors import AccordError
from accord.sources.mapping import MappingFile
from accord.store import Store


class RetireRefused(AccordError):
    """A source that cannot be retired (it holds records), with the reason."""


def unknown_system(system: str, systems: Collection[str]) -> str | None:
    """Why ``system`` cannot be used (not in the registry, with the nearest name), or None."""
    if system in systems:
        return None
    close = difflib.get_close_matches(system, sorted(systems), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (f"unknown record system {system!r}; {hint}A source's system decides the legal regime of "
            f"its records and must be one of the authority registry's: {', '.join(sorted(systems))}")


def check_system(store: Store, mf: MappingFile, systems: Collection[str] | None) -> None:
    """Refuse a system outside ``systems`` (the registry's; None: not checked) and a source
    that would change the system it is registered for."""
    if systems is not None:
        problem = unknown_system(mf.spec.system, systems)
        if problem is not None:
            raise mf.error(("system",), problem)
    row = store.query("SELECT system FROM sources WHERE source = ?", [mf.spec.source])
    if row and row[0][0] != mf.spec.system:
        raise mf.error(("system",), f"source {mf.spec.source!r} is registered for record system "
                       f"{row[0][0]!r}; a source cannot change its record system (legal regime). If it "
                       f"was registered by mistake and holds no records, `accord sources retire "
                       f"{mf.spec.source}` frees its name")


def register(store: Store, mf: MappingFile, batch_id: int) -> None:
    """Record ``batch_id`` of the source: a new source, or its current mapping and last batch."""
    store.insert("sources", {
        "source": mf.spec.source, "system": mf.spec.system, "format": mf.spec.format,
        "mapping_yaml": mf.text, "mapping_sha256": mf.sha256, "first_batch": batch_id,
        "last_batch": batch_id},
        on_conflict="ON CONFLICT (source) DO UPDATE SET format = excluded.format, "
                    "mapping_yaml = excluded.mapping_yaml, mapping_sha256 = excluded.mapping_sha256, "
                    "last_batch = excluded.last_batch")


@dataclass
class SourceBatch:
    """One batch of a source as ``sources show`` lists it: where it came from, the mapping it
    was read with (its hash: compare it with the current mapping's) and its reconciliation."""

    batch: int
    system: str
    file_name: str
    file_sha256: str
    mapping_path: str
    mapping_sha256: str
    user_id: str
    finished_at: str
    rows_read: int
    accepted: int
    unchanged: int
    quarantined: int
    flagged: int


@dataclass
class SourceDetail:
    source: str
    system: str
    format: str
    mapping_sha256: str
    mapping_yaml: str
    first_batch: int
    last_batch: int
    records: int
    versions: int
    batches: list[SourceBatch] = field(default_factory=list)


def known_sources(store: Store) -> list[str]:
    return [str(s) for (s,) in store.query("SELECT source FROM sources ORDER BY source")]


def _missing(store: Store, source: str) -> AccordError:
    names = known_sources(store)
    close = difflib.get_close_matches(source, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = f" (sources: {', '.join(names)})" if names else " (the store has no sources yet)"
    return AccordError(f"no source {source!r} in the store{hint}{listed}")


def _holdings(store: Store, source: str) -> tuple[int, int]:
    """(records, versions) the source holds."""
    records, versions = store.query(
        "SELECT count(DISTINCT record_id), count(*) FROM records WHERE source = ?", [source])[0]
    return int(records), int(versions)


def source_detail(store: Store, source: str) -> SourceDetail:
    """The source's registration, the mapping stored with its last batch, what it holds, and
    every batch (oldest first) with the hash of the mapping it was read with."""
    rows = store.query("SELECT source, system, format, mapping_sha256, mapping_yaml, first_batch, "
                       "last_batch FROM sources WHERE source = ?", [source])
    if not rows:
        raise _missing(store, source)
    s: tuple[Any, ...] = rows[0]
    records, versions = _holdings(store, source)
    batches = [SourceBatch(int(b), str(sy), str(fn), str(fh), str(mp), str(mh), str(u), str(at),
                           int(r), int(a), int(un), int(q), int(fl))
               for b, sy, fn, fh, mp, mh, u, at, r, a, un, q, fl in store.query(
                   "SELECT batch_id, system, file_name, file_sha256, mapping_path, mapping_sha256, "
                   "user_id, CAST(finished_at AS VARCHAR), rows_read, accepted, unchanged, "
                   "quarantined, flagged FROM ingest_batches WHERE source = ? ORDER BY batch_id",
                   [source])]
    return SourceDetail(str(s[0]), str(s[1]), str(s[2]), str(s[3]), str(s[4]), int(s[5]), int(s[6]),
                        records, versions, batches)


@dataclass
class Retired:
    source: str
    system: str
    batches: int


def retire(store: Store, source: str) -> Retired:
    """Remove the registration of ``source``, which must hold no records (any version); its
    batches and quarantined rows stay. Raises ``RetireRefused`` with the reason otherwise."""
    rows = store.query("SELECT system FROM sources WHERE source = ?", [source])
    if not rows:
        raise _missing(store, source)
    records, versions = _holdings(store, source)
    if versions:
        raise RetireRefused(
            f"source {source!r} holds {records:,} records ({versions:,} versions) and cannot be "
            "retired: stored records keep their source, system and provenance. Only a source "
            "registered by mistake that holds no records can be retired")
    batches = int(store.scalar("SELECT count(*) FROM ingest_batches WHERE source = ?", [source]))
    store.write("DELETE FROM sources WHERE source = ?", [source])
    return Retired(source, str(rows[0][0]), batches)
