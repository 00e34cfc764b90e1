"""Ingest owns ``records`` and ``ingest_batches``: no module outside ``accord.ingest`` writes
them (a correction is stored by ``accord.ingest.records`` on casework's request)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
WRITE = re.compile(r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|"
                   r"DROP\s+TABLE(?:\s+IF\s+EXISTS)?|CREATE\s+(?:OR\s+REPLACE\s+)?TABLE)\s+\"?"
                   r"(records|ingest_batches)\b(?!_)", re.I)
HELPER = re.compile(r"\b(?:insert_rows|create_table|replace_view)\(\s*[^,)]*"
                    r"[\"'](records|ingest_batches)[\"']")


def writers() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        hits = [m.group(0) for m in WRITE.finditer(text)] + [m.group(0) for m in HELPER.finditer(text)]
        if hits:
            found[str(path.relative_to(SRC))] = hits
    return found


def test_only_ingest_writes_records_and_ingest_batches() -> None:
    outside = {path: hits for path, hits in writers().items() if not path.startswith("ingest/")}
    assert outside == {}, f"modules outside accord.ingest write ingest's tables: {outside}"


def test_the_check_sees_ingest_s_own_writers() -> None:
    """The pattern finds the writes it is meant to find (else the test above proves nothing)."""
    found = writers()
    assert {"ingest/records.py"} <= set(found)
    assert any("records" in h for h in found["ingest/records.py"])
    assert any("ingest_batches" in h for h in found["ingest/records.py"])
    assert WRITE.search('f"INSERT INTO records BY NAME SELECT"')
    assert WRITE.search("INSERT INTO ingest_batches VALUES (?)")
    assert not WRITE.search("INSERT INTO records_current")
