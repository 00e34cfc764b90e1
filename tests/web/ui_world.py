"""The small world the UI tests share (in-process and real-browser): a demo store built by the
service layer, everyone's tokens, and one work-list entry of the enforcement agreement whose
person has linked records (so its page has a waterfall to draw)."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord import services
from accord.services.people_results import WorklistEntryOut

ENFORCEMENT = "removal_order_enforcement"
# The smallest worlds found to give an enforcement work-list entry; tried in order.
CANDIDATES = ((400, 3), (400, 2), (600, 5), (1000, 8))


@dataclass(frozen=True)
class UiWorld:
    db: Path
    tokens: dict[str, str]
    enf: str                   # the enforcement agreement
    ben: str                   # the benefits agreement
    entry: WorklistEntryOut    # a work-list entry of ``enf`` (person_id, name, dob, records, ...)

    def copy(self, folder: Path, name: str = "ui.duckdb") -> Path:
        """A private copy of the store (tests that write work on their own copy)."""
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / name
        shutil.copyfile(self.db, db)
        wal = self.db.with_name(self.db.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, db.with_name(db.name + ".wal"))
        return db


def build(folder: Path) -> UiWorld:
    tried = []
    for persons, seed in CANDIDATES:
        result = services.demo(folder / f"w{persons}-{seed}", persons=persons, seed=seed)
        agreements = result.setup.agreements
        enf = next(a for a in agreements if a.startswith("CMA-ENF"))
        ben = next(a for a in agreements if a.startswith("CMA-BEN"))
        wl = services.worklist(result.db, user="casey", agreement=enf, limit=20)
        for entry in wl.entries:
            if len(entry.records) >= 2:
                return UiWorld(result.db, dict(result.setup.tokens), enf, ben, entry)
        tried.append(f"{persons} persons, seed {seed}: {len(wl.entries)} entries")
    raise AssertionError("no demo world gave an enforcement work-list entry with linked records: "
                         + "; ".join(tried))


CSRF = re.compile(r'name="csrf" value="([^"]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "page has no form token"
    return m.group(1)


def login(client: Any, user: str, token: str, next_path: str = "/") -> Any:
    """Sign ``client`` in through the login form; returns the final response."""
    page = client.get("/login")
    m = FORM_TOKEN.search(page.text)
    assert m, page.text
    return client.post("/login", data={"user_id": user, "token": token, "form_token": m.group(1),
                                       "next": next_path})
