"""Data engineering and quality: sources, ingest batches, quarantine, flagged identity values and
the linkage-quality report. Counts and reasons only; no person values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from accord import services
from accord.api.deps import Db, Limit, Offset, User, page, window
from accord.api.routes.common import ERRORS
from accord.api.schemas import Page, RecordsIn
from accord.services.records import RecordsAddedOut
from accord.services.results import BatchOut, FlagOut, QualityOut, QuarantineOut, SourceOut

router = APIRouter(prefix="/api", tags=["data"], responses=ERRORS)


@router.get("/sources", response_model=Page[SourceOut])
def sources(who: User, db: Db, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Per source: current records, stored versions and the last batch's quarantine count."""
    return page(services.sources(db, user=who, origin="api"), limit, offset)


@router.post("/records", response_model=RecordsAddedOut, status_code=201)
def add_records(body: RecordsIn, who: User, db: Db) -> RecordsAddedOut:
    """Add or change records of one source, as a small extract of it (validated by its stored
    mapping: bad rows quarantined, bad identity values flagged), and resolve them at once
    through the incremental path; returns the batch's reconciliation and every person that
    changed, with its new version (data engineer; audited as an ingest)."""
    return services.add_records(db, body.source, body.rows, user=who, origin="api")


@router.get("/batches", response_model=Page[BatchOut])
def batches(who: User, db: Db, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Ingest batches, newest first, with their reconciliation counts (data engineer); pages
    through every batch."""
    return window(lambda n: services.batches(db, n, user=who, origin="api"), limit, offset)


@router.get("/quarantine", response_model=Page[QuarantineOut])
def quarantine(who: User, db: Db,
               batch: Annotated[int | None, Query(ge=1, le=2**62, description="one batch (default: the "
                                                  "latest batch of every source)")] = None,
               source: Annotated[str | None, Query(max_length=128)] = None,
               limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Quarantined rows grouped by source, field and reason, with example row numbers (raw values
    are person data and are never shown)."""
    return page(services.quarantine_summary(db, batch, source, user=who, origin="api"), limit, offset)


@router.get("/flags", response_model=Page[FlagOut])
def flags(who: User, db: Db,
          batch: Annotated[int | None, Query(ge=1, le=2**62, description="the record versions one batch "
                                             "stored (default: the current records)")] = None,
          source: Annotated[str | None, Query(max_length=128)] = None,
          field: Annotated[str | None, Query(max_length=64, description="one identity field")] = None,
          limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Flagged identity values (stored with the canonical column empty) grouped by source, field
    and reason, with example row numbers (values as written are person data and are never
    shown). Same role as quarantine."""
    return page(services.flags_summary(db, batch, source, field, user=who, origin="api"), limit, offset)


@router.get("/quality", response_model=QualityOut)
def quality(who: User, db: Db) -> QualityOut:
    """Linkage quality without a truth file: records, persons and their sizes, links by status
    with the review queue, identifiers switched off as shared, the latest run's settings and
    model, quarantine by reason. Aggregate counts only (data engineer, privacy officer,
    oversight)."""
    return services.quality(db, user=who, origin="api")
