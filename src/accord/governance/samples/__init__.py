"""Sample matching agreements and users for the demo and tests (dates set when written)."""

from __future__ import annotations

from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from accord.governance.agreements import MAX_TERM_MONTHS, add_months

AGREEMENTS = ("enforcement", "benefits", "identity")

# user id, name, roles, organisation
USERS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("dana", "Dana Engineer", ("data_engineer",), "Data Office"),
    ("ana", "Ana Analyst", ("analyst",), "State Benefits Agency"),
    ("casey", "Casey Caseworker", ("caseworker",), "DHS ICE Enforcement and Removal Operations"),
    ("carl", "Carl Caseworker", ("caseworker",), "DHS ICE Enforcement and Removal Operations"),
    ("bea", "Bea Benefits", ("caseworker",), "State Benefits Agency"),
    ("tess", "Tess Examiner", ("tax_examiner",), "Internal Revenue Service"),
    ("pat", "Pat Privacy", ("privacy_officer",), "Privacy Office"),
    ("priya", "Priya Privacy", ("privacy_officer",), "Privacy Office"),
    ("olive", "Olive Oversight", ("oversight",), "Office of Inspector General"),
)


def term(today: date) -> tuple[date, date]:
    """An 18-month term starting on the first of this month."""
    start = today.replace(day=1)
    return start, add_months(start, MAX_TERM_MONTHS) - timedelta(days=1)


def write_agreements(out: Path, today: date) -> list[Path]:
    """Write the sample agreements, in force from the first of ``today``'s month, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    start, end = term(today)
    paths = []
    for name in AGREEMENTS:
        text = resources.files("accord.governance.samples").joinpath(f"{name}.yaml").read_text("utf-8")
        path = out / f"{name}.agreement.yaml"
        path.write_text(text.replace("{year}", str(start.year)).replace("{start}", start.isoformat())
                        .replace("{end}", end.isoformat()), "utf-8")
        paths.append(path)
    return paths
