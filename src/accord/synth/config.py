"""Configuration of the synthetic world: every documented rate, with its default.

Rates are probabilities in [0, 1] unless said otherwise. docs/synth.md documents each
field; ``tests/synth`` checks that the documentation names every field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from accord.errors import AccordError

# The true immigration/citizenship status of a person (persons.csv ``status``).
STATUSES: tuple[str, ...] = (
    "citizen_birth",        # born a US citizen
    "citizen_naturalized",  # became a citizen by naturalisation (or derived it from a parent)
    "lpr",                  # lawful permanent resident (green card)
    "visa",                 # in status on a nonimmigrant visa (student, worker, ...)
    "asylum_pending",       # affirmative asylum application pending with USCIS
    "asylum_granted",       # granted asylum (by USCIS or an immigration judge)
    "tps",                  # Temporary Protected Status
    "daca",                 # Deferred Action for Childhood Arrivals
    "vawa_t_u_pending",     # VAWA self-petition, T visa or U visa application pending
    "in_proceedings",       # in removal proceedings before an immigration court
    "final_order",          # has a final order of removal, still in the US
    "departed",             # left the US (removed, voluntary departure, or left on their own)
    "no_status",            # no lawful status and no proceedings (entered without
                            # inspection or overstayed), never encountered
)
STATUS_INDEX: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
FOREIGN_BORN_STATUSES = STATUSES[1:]


def _foreign_born_mix() -> dict[str, float]:
    return {
        "citizen_naturalized": 0.40,
        "lpr": 0.22,
        "visa": 0.07,
        "asylum_pending": 0.035,
        "asylum_granted": 0.03,
        "tps": 0.03,
        "daca": 0.012,
        "vawa_t_u_pending": 0.008,
        "in_proceedings": 0.045,
        "final_order": 0.015,
        "departed": 0.035,
        "no_status": 0.10,
    }


def _household_sizes() -> dict[int, float]:
    return {1: 0.28, 2: 0.34, 3: 0.15, 4: 0.13, 5: 0.06, 6: 0.03, 7: 0.01}


def _ssn_rate() -> dict[str, float]:
    return {
        "citizen_birth": 0.995, "citizen_naturalized": 0.99, "lpr": 0.97, "visa": 0.55,
        "asylum_pending": 0.45, "asylum_granted": 0.95, "tps": 0.9, "daca": 0.95,
        "vawa_t_u_pending": 0.35, "in_proceedings": 0.25, "final_order": 0.2,
        "departed": 0.4, "no_status": 0.0,
    }


def _filing_rate() -> dict[str, float]:
    return {
        "citizen_birth": 0.78, "citizen_naturalized": 0.84, "lpr": 0.8, "visa": 0.65,
        "asylum_pending": 0.45, "asylum_granted": 0.72, "tps": 0.78, "daca": 0.85,
        "vawa_t_u_pending": 0.4, "in_proceedings": 0.35, "final_order": 0.25,
        "departed": 0.6, "no_status": 0.45,
    }


def _inspected_entry_rate() -> dict[str, float]:
    return {
        "citizen_naturalized": 0.85, "lpr": 0.85, "visa": 1.0, "asylum_pending": 0.55,
        "asylum_granted": 0.6, "tps": 0.4, "daca": 0.3, "vawa_t_u_pending": 0.5,
        "in_proceedings": 0.35, "final_order": 0.3, "departed": 0.95, "no_status": 0.45,
    }


def _encounter_rate() -> dict[str, float]:
    # People in proceedings or with final orders are encountered when their case starts
    # (charging_encounter_rate); these rates are for everyone else.
    return {
        "citizen_birth": 0.0002, "citizen_naturalized": 0.0005, "lpr": 0.005, "visa": 0.002,
        "asylum_pending": 0.3, "asylum_granted": 0.1, "tps": 0.03, "daca": 0.01,
        "vawa_t_u_pending": 0.1, "departed": 0.3, "no_status": 0.05,
    }


def _medicaid_rate() -> dict[str, float]:
    return {
        "citizen_birth": 0.18, "citizen_naturalized": 0.15, "lpr": 0.12, "visa": 0.01,
        "asylum_pending": 0.05, "asylum_granted": 0.3, "tps": 0.03, "daca": 0.02,
        "vawa_t_u_pending": 0.1, "in_proceedings": 0.04, "final_order": 0.03,
        "departed": 0.0, "no_status": 0.05,
    }


@dataclass(frozen=True)
class SynthConfig:
    """Every knob of the synthetic world. Defaults are documented in docs/synth.md."""

    # --- the world ---------------------------------------------------------------------
    as_of: date = date(2026, 6, 30)
    tax_years: tuple[int, ...] = (2022, 2023, 2024, 2025)
    state: str = "TX"                  # the state whose Medicaid file and voter roll exist
    focal_state_share: float = 0.8     # households living in that state
    household_sizes: dict[int, float] = field(default_factory=_household_sizes)
    couple_rate: float = 0.75          # households of 2+ headed by a couple
    immigrant_household_rate: float = 0.16
    foreign_spouse_rate: float = 0.04  # US-born households where the spouse was born abroad
    foreign_born_status_mix: dict[str, float] = field(default_factory=_foreign_born_mix)
    twin_rate: float = 0.03            # households with 2+ children whose first two are twins
    move_rate: float = 0.25            # households that moved in the last years
    death_window_years: float = 6.0    # deceased people in the world died within this window

    # --- who is in which system ----------------------------------------------------------
    ssn_rate: dict[str, float] = field(default_factory=_ssn_rate)
    filing_rate: dict[str, float] = field(default_factory=_filing_rate)
    inspected_entry_rate: dict[str, float] = field(default_factory=_inspected_entry_rate)
    encounter_rate: dict[str, float] = field(default_factory=_encounter_rate)
    # Removal cases started by enforcement (in proceedings, final orders, removals, voluntary
    # departures) whose charging encounter, with the A-number, is in the ICE extract.
    charging_encounter_rate: float = 1.0
    medicaid_rate: dict[str, float] = field(default_factory=_medicaid_rate)
    itin_rate: float = 0.5             # adults without an SSN who have an ITIN
    itin_before_ssn_rate: float = 0.15  # foreign-born SSN holders who filed with an ITIN first
    borrowed_ssn_rate: float = 0.08    # adults without an SSN who use someone else's SSN
    citizen_travel_rate: float = 0.08  # US-born citizens with border-crossing records
    voter_registration_rate: float = 0.72
    erroneous_registration_rate: float = 0.002  # adult noncitizens wrongly on the voter roll
    dead_voter_retention_rate: float = 0.5      # deceased voters not yet removed from the roll
    asylum_defensive_rate: float = 0.3  # asylum grants made by an immigration judge

    # --- known failure modes of the record systems --------------------------------------
    stale_ssa_citizenship_rate: float = 0.65  # naturalised, SSA still says noncitizen
    erroneous_death_rate: float = 0.001       # living SSN holders with a death in SSA
    death_reporting_rate: float = 0.97        # real deaths that reach SSA
    ssa_name_update_rate: float = 0.6         # name changes reported to SSA

    # --- names ---------------------------------------------------------------------------
    married_name_change_rate: float = 0.7   # times the origin's propensity (origins.yaml)
    naturalization_name_change_rate: float = 0.05
    compound_surname_rate: float = 0.6      # people of compound-surname origins with two
    stale_name_rate: float = 0.1            # records after a name change still showing the old
    nickname_rate: float = 0.12             # per record, when the given name has a nickname
    variant_rate: float = 0.15              # per record, when the name has a spelling variant
    particle_variant_rate: float = 0.35     # per record, family names with de la / al- / van
    name_swap_rate: float = 0.008           # given and family name swapped (x4 family-first)
    typo_rate: float = 0.015                # per name field per record

    # --- dates and identifiers ---------------------------------------------------------------
    dob_swap_rate: float = 0.008            # day and month swapped (when both <= 12)
    dob_off_by_one_rate: float = 0.008      # one day or one year off
    ssn_transposition_rate: float = 0.004   # two adjacent digits swapped
    ssn_digit_error_rate: float = 0.002     # one digit mistyped
    missing_rate: float = 0.01              # optional identity values left blank
    address_typo_rate: float = 0.01

    # --- structurally bad rows (exercise ingest quarantine) ------------------------------
    bad_row_rate: float = 0.002

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not 0.0 <= v <= 1.0 and f.name != "death_window_years":
                raise AccordError(f"synth config: {f.name} must be between 0 and 1, got {v}")
            if isinstance(v, dict) and f.name != "household_sizes":
                for k, r in v.items():
                    if k not in STATUSES:
                        raise AccordError(f"synth config: {f.name} has unknown status {k!r}")
                    if not 0.0 <= r <= 1.0:
                        raise AccordError(f"synth config: {f.name}[{k}] must be in [0, 1]")
        mix = self.foreign_born_status_mix
        if "citizen_birth" in mix or not mix or abs(sum(mix.values()) - 1.0) > 1e-6:
            raise AccordError("synth config: foreign_born_status_mix must cover foreign-born "
                              "statuses only and sum to 1")
        if not self.household_sizes or min(self.household_sizes) < 1:
            raise AccordError("synth config: household_sizes needs sizes >= 1")
        if not self.tax_years or max(self.tax_years) >= self.as_of.year:
            raise AccordError("synth config: tax_years must end before the as_of year")
        if self.death_window_years <= 0 or self.death_window_years > 30:
            raise AccordError("synth config: death_window_years must be in (0, 30]")

    def rate(self, table: str, status: str) -> float:
        """A per-status rate from one of the per-status tables (0 when not listed)."""
        values: dict[str, float] = getattr(self, table)
        return values.get(status, 0.0)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, dict):
                v = {str(k): x for k, x in v.items()}
            out[f.name] = v
        return out
