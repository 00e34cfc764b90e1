"""Validated, idempotent, atomic ingestion of extracts into the store."""

from accord.ingest.pipeline import IngestResult, ingest_file

__all__ = ["IngestResult", "ingest_file"]
