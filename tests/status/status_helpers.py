"""Small builders for status tests: one Fact per record, dates as ISO text."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from accord.status import Determination, Eligibility, Fact, determine, eligibility

AS_OF = date(2026, 6, 30)
_ids = itertools.count(1)
SOURCES = {"ssa-numident": "ssa", "uscis-benefits": "uscis", "eoir-case": "court",
           "cbp-arrival-departure": "cbp", "ice-enforcement": "ice",
           "irs-individual-returns": "irs", "state-medicaid-mmis": "medicaid",
           "state-voter-roll": "voter"}
DATE_FIELDS = {"death_date", "naturalization_date", "benefit_date", "case_decision_date",
               "entry_date", "exit_date", "encounter_date", "event_date"}


def d(text: str) -> date:
    return date.fromisoformat(text)


def fact(system: str, record_id: str | None = None, *, link: float = 1.0,
         regimes: tuple[str, ...] = ("privacy_act",), **fields: Any) -> Fact:
    values = {k: d(v) if k in DATE_FIELDS and isinstance(v, str) else v for k, v in fields.items()}
    return Fact(source=SOURCES[system], system=system, record_id=record_id or str(next(_ids)),
                link_confidence=link, regimes=regimes, **values)


def court(status: str, decided: str | None = None, nta: str = "2019-01-10", **kw: Any) -> Fact:
    return fact("eoir-case", case_status=status, case_decision_date=decided, event_date=nta, **kw)


def order(decided: str | None = "2021-03-01", **kw: Any) -> Fact:
    return court("final_order", decided, **kw)


def benefit(kind: str, status: str, when: str = "2020-05-01", filed: str | None = None,
            **kw: Any) -> Fact:
    regimes = {"asylum": ("privacy_act", "asylum_208_6"), "vawa": ("privacy_act", "vawa_1367"),
               "t_visa": ("privacy_act", "vawa_1367"), "u_visa": ("privacy_act", "vawa_1367")}
    return fact("uscis-benefits", benefit_type=kind, benefit_status=status, benefit_date=when,
                event_date=filed or when, regimes=regimes.get(kind, ("privacy_act",)), **kw)


def run(*facts: Fact, **kw: Any) -> tuple[Determination, Eligibility]:
    det = determine(list(facts), AS_OF, **kw)
    return det, eligibility(det, "removal_order_enforcement")
