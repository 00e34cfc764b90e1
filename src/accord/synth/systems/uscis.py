"""USCIS benefit applications: one row per application (receipt).

Only noncitizens apply (naturalisation applications are how citizens by naturalisation
appear). Quirks: receipt numbers as record ids (three-letter service centre + 10 digits);
A-number with an 'A' prefix; names as on the applicant's documents, mixed case with
diacritics kept; the form type maps to benefit_type and the case-status text to
benefit_status through ``values`` maps; SSN with dashes when the applicant had one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from accord.synth import dates, identifiers
from accord.synth.config import STATUS_INDEX as S
from accord.synth.corrupt import BadKind, blanks, dob_errors, ssn_errors
from accord.synth.places import places
from accord.synth.render import NameStyle
from accord.synth.systems.base import Extract, date_field, shuffled
from accord.synth.textops import IntArray, digits, join, strings, take
from accord.synth.world import World

STYLE = NameStyle(fold="none", case="asis", punct="keep", middle=(0.8, 0.1),
                  compound=(0.6, 0.15, 0.15, 0.03, 0.07), nickname=0.1, variant=1.0,
                  forms=0.8, typo=0.8, swap=1.5, stale=1.0)
FORMS = {"I-485": "lpr", "I-90": "lpr", "N-400": "naturalization", "N-600": "naturalization",
         "I-589": "asylum", "I-821": "tps", "I-821D": "daca", "I-360": "vawa",
         "I-914": "t_visa", "I-918": "u_visa", "I-765": "other", "I-539": "other",
         "I-131": "other"}
STATUS_TEXT = {"Case Was Approved": "approved", "Case Was Received": "pending",
               "Request for Evidence Was Sent": "pending", "Interview Was Scheduled": "pending",
               "Case Was Denied": "denied", "Case Approval Was Revoked": "revoked"}
_PENDING = ["Case Was Received", "Request for Evidence Was Sent", "Interview Was Scheduled"]
_CENTRES = ["IOE", "EAC", "WAC", "LIN", "SRC", "MSC", "NBC", "YSC"]
DATE = "%m/%d/%Y"
YEAR = dates.YEAR


@dataclass
class Applications:
    person: list[IntArray]
    form: list[str]
    outcome: list[IntArray]   # 0 approved, 1 pending, 2 denied, 3 revoked
    filed: list[IntArray]
    decided: list[IntArray]

    def add(self, person: IntArray, form: str, outcome: IntArray | int, filed: IntArray,
            decided: IntArray) -> None:
        self.person.append(person)
        self.form.append(form)
        self.outcome.append(np.broadcast_to(np.asarray(outcome, dtype=np.int64),
                                            person.shape).copy())
        self.filed.append(filed)
        self.decided.append(decided)


def applications(world: World) -> Applications:
    rng = world.rng("uscis.apps")
    p, t = world.people, world.timeline
    as_of, n = p.as_of, p.n
    st = p.status
    idx = np.arange(n, dtype=np.int64)
    apps = Applications([], [], [], [], [])
    u = rng.random((8, n))

    def between(lo: IntArray, hi: IntArray, w: np.ndarray) -> IntArray:
        return np.asarray(lo + (w * np.maximum(hi - lo, 0)).astype(np.int64), dtype=np.int64)

    settled = np.isin(st, [S["lpr"], S["citizen_naturalized"]])
    adjusted = settled & ~t.immigrant_visa
    m = idx[adjusted]
    apps.add(m, "I-485", 0, np.maximum(t.lpr_date[m] - (0.5 + 1.5 * u[0][m]) * YEAR,
                                       t.entry[m]).astype(np.int64), t.lpr_date[m])
    natz = st == S["citizen_naturalized"]
    adult = natz & (t.nat_date - p.dob >= 18 * YEAR)
    m = idx[adult]
    apps.add(m, "N-400", 0, np.maximum(t.nat_date[m] - ((0.3 + 0.9 * u[1][m]) * YEAR)
                                       .astype(np.int64), t.lpr_date[m]), t.nat_date[m])
    m = idx[natz & ~adult]
    filed = between(t.nat_date[m], np.full(m.size, as_of - 300), u[1][m])
    apps.add(m, "N-600", 0, filed, filed + (60 + 240 * u[2][m]).astype(np.int64))
    lpr = st == S["lpr"]
    eligible = lpr & (t.lpr_date < as_of - int(4.75 * YEAR))
    m = idx[eligible & (u[2] < 0.15)]
    apps.add(m, "N-400", 1, as_of - (u[3][m] * 300).astype(np.int64) - 30,
             np.full(m.size, dates.NA))
    m = idx[eligible & (u[2] >= 0.15) & (u[2] < 0.18)]
    f = between(t.lpr_date[m] + int(4.75 * YEAR), np.full(m.size, as_of - 400), u[3][m])
    apps.add(m, "N-400", 2, f, f + 200)
    m = idx[lpr & (t.lpr_date < as_of - 10 * YEAR) & (u[4] < 0.5)]
    f = t.lpr_date[m] + int(9.6 * YEAR)
    apps.add(m, "I-90", 0, f, f + (90 + 200 * u[5][m]).astype(np.int64))

    m = idx[st == S["asylum_pending"]]
    apps.add(m, "I-589", 1, t.filed_date[m], np.full(m.size, dates.NA))
    ead = m[u[0][m] < 0.7]
    apps.add(ead, "I-765", 0, t.filed_date[ead] + 150, t.filed_date[ead] + 240)
    granted = (st == S["asylum_granted"]) & (t.court_status < 0)
    m = idx[granted]
    apps.add(m, "I-589", 0, t.filed_date[m], t.status_date[m])

    m = idx[st == S["tps"]]
    apps.add(m, "I-821", 0, t.filed_date[m], t.filed_date[m] + 120)
    ead = m[u[0][m] < 0.85]
    apps.add(ead, "I-765", 0, t.filed_date[ead] + 10, t.filed_date[ead] + 150)
    for k in range(1, 5):  # re-registration every 18 months
        again = t.filed_date[m] + int(k * 1.5 * YEAR)
        ok = (again < as_of - 30) & (u[k][m] < 0.85)
        r = m[ok]
        recent = again[ok] > as_of - 150
        apps.add(r, "I-821", np.where(recent, 1, 0), again[ok],
                 np.where(recent, dates.NA, again[ok] + 120))
    m = idx[st == S["daca"]]
    apps.add(m, "I-821D", 0, t.filed_date[m], t.filed_date[m] + 100)
    for k in range(1, 7):  # renewals every two years
        again = t.filed_date[m] + int(k * 2 * YEAR) - 120
        ok = (again < as_of - 30) & (u[k][m] < 0.9)
        apps.add(m[ok], "I-821D", 0, again[ok], np.minimum(again[ok] + 100, as_of - 1))
        apps.add(m[ok], "I-765", 0, again[ok], np.minimum(again[ok] + 100, as_of - 1))

    vawa = idx[st == S["vawa_t_u_pending"]]
    kind = u[5][vawa]
    for form, lo, hi in (("I-360", 0.0, 0.45), ("I-914", 0.45, 0.55), ("I-918", 0.55, 1.0)):
        m = vawa[(kind >= lo) & (kind < hi)]
        apps.add(m, form, 1, t.filed_date[m], np.full(m.size, dates.NA))
    u_visa = idx[(st == S["in_proceedings"]) & (u[6] < 0.03)]
    apps.add(u_visa, "I-918", 1, between(t.nta_date[u_visa], np.full(u_visa.size, as_of - 30),
                                         u[7][u_visa]), np.full(u_visa.size, dates.NA))
    m = idx[(st == S["in_proceedings"]) & (u[7] < 0.25)]
    apps.add(m, "I-765", 0, t.nta_date[m] + 180, t.nta_date[m] + 300)

    m = idx[(st == S["visa"]) & (u[0] < 0.2)]
    f = between(t.entry[m], np.full(m.size, as_of - 30), u[1][m])
    pending = f > as_of - 200
    apps.add(m, "I-539", np.where(pending, 1, 0), f, np.where(pending, dates.NA, f + 150))

    denied = idx[np.isin(st, [S["in_proceedings"], S["final_order"]]) & (u[2] < 0.12)]
    f = between(t.entry[denied], t.nta_date[denied], u[3][denied])
    apps.add(denied, "I-485", 2, f, np.minimum(f + 300, t.nta_date[denied]))
    referred = idx[(st == S["final_order"]) & (u[4] < 0.25)]
    f = between(t.entry[referred], t.nta_date[referred], u[5][referred])
    apps.add(referred, "I-589", 2, f, np.maximum(t.nta_date[referred] - 10, f))
    revoked = idx[(st == S["final_order"]) & (u[6] < 0.05)]
    f = between(t.entry[revoked], t.nta_date[revoked], u[7][revoked])
    apps.add(revoked, "I-821", 3, f, np.maximum(t.nta_date[revoked] - 30, f))
    travel = idx[(st == S["lpr"]) & t.travels & (u[7] < 0.05)]
    f = between(t.lpr_date[travel], np.full(travel.size, as_of - 200), u[6][travel])
    apps.add(travel, "I-131", 0, f, f + 120)
    return apps


def build(world: World) -> Extract:
    rng = world.rng("uscis")
    p, ids, cfg = world.people, world.ids, world.cfg
    apps = applications(world)
    person = np.concatenate(apps.person)
    form = np.concatenate([np.full(a.size, i, dtype=np.int64) for i, a in enumerate(apps.person)])
    outcome = np.concatenate(apps.outcome)
    filed = np.concatenate(apps.filed)
    decided = np.concatenate(apps.decided)
    # Applications that would be filed after as_of (or before birth) are not in the extract.
    keep = (filed < p.as_of - 1) & (filed > p.dob[person])
    person, form, outcome, filed, decided = (a[keep] for a in (person, form, outcome, filed,
                                                                decided))
    decided = np.where(decided == dates.NA, decided, np.clip(decided, filed, p.as_of - 1))
    person, form, outcome, filed, decided = shuffled(rng, person, form, outcome, filed, decided)
    forms = np.array(apps.form)[form]
    n = person.size
    name = world.renderer.render(person, filed, STYLE, rng)
    pending_text = np.array(_PENDING)[rng.integers(0, len(_PENDING), n)]
    final_text = np.array(["Case Was Approved", "", "Case Was Denied",
                           "Case Approval Was Revoked"])[outcome]
    status_text = np.where(outcome == 1, pending_text, final_text)
    a_num = np.where(ids.a_number[person] >= 0,
                     identifiers.corrupt(ids.a_number[person], cfg.ssn_transposition_rate,
                                         0.0, rng, valid=np.ones(n, dtype=bool)), -1)
    own_ssn = (ids.ssn[person] >= 0) & (ids.ssn_date[person] <= filed)
    ssn = np.where(own_ssn & ~blanks(n, 0.4, rng), ssn_errors(ids.ssn[person], cfg, rng), -1)
    oath = np.where(np.isin(forms, ["N-400", "N-600"]) & (outcome == 0),
                    world.timeline.nat_date[person], dates.NA)
    countries = strings(places().country_names)
    citizenship = take(countries, ids.country[person])
    centre = take(strings(_CENTRES), rng.integers(0, len(_CENTRES), n))
    fiscal = dates.ymd(filed)[0] % 100 + (dates.ymd(filed)[1] >= 10)
    receipt = join([centre, digits(fiscal % 100, 2), digits(identifiers.spread_ids(rng, n, 8), 8)])
    columns = {
        "RECEIPT_NUMBER": receipt,
        "FORM_TYPE": pa.array(forms, pa.string()),
        "A_NUMBER": identifiers.a_number_text(a_num, "prefix"),
        "APPLICANT_LAST": name.family,
        "APPLICANT_FIRST": name.given,
        "APPLICANT_MIDDLE": name.middle,
        "DATE_OF_BIRTH": dates.fmt(dob_errors(p.dob[person], cfg, rng), DATE),
        "GENDER": take(strings(["Male", "Female"]), p.sex[person]),
        "COUNTRY_OF_BIRTH": take(countries, ids.country[person]),
        "COUNTRY_OF_CITIZENSHIP": citizenship,
        "SSN": identifiers.ssn_text(ssn, dashed=True),
        "CASE_STATUS": pa.array(status_text, pa.string()),
        "RECEIVED_DATE": dates.fmt(filed, DATE),
        "STATUS_DATE": dates.fmt(np.where(decided == dates.NA, filed, decided), DATE),
        "OATH_DATE": dates.fmt(oath, DATE),
    }
    return Extract(
        source="uscis", system="uscis-benefits",
        description="USCIS benefit applications (one row per receipt)",
        columns=columns, record_id="RECEIPT_NUMBER",
        fields={
            "a_number": "A_NUMBER",
            "family_name": "APPLICANT_LAST",
            "given_name": "APPLICANT_FIRST",
            "middle_name": "APPLICANT_MIDDLE",
            "dob": date_field("DATE_OF_BIRTH", DATE),
            "sex": {"column": "GENDER", "values": {"Male": "M", "Female": "F"}},
            "country_of_birth": "COUNTRY_OF_BIRTH",
            "citizenship_country": "COUNTRY_OF_CITIZENSHIP",
            "ssn": "SSN",
            "benefit_type": {"column": "FORM_TYPE", "values": dict(FORMS)},
            "benefit_status": {"column": "CASE_STATUS", "values": dict(STATUS_TEXT)},
            "event_date": date_field("RECEIVED_DATE", DATE),
            "benefit_date": date_field("STATUS_DATE", DATE),
            "naturalization_date": date_field("OATH_DATE", DATE),
        },
        person=person,
        optional=["DATE_OF_BIRTH", "COUNTRY_OF_BIRTH", "APPLICANT_MIDDLE", "A_NUMBER"],
        bad_kinds=[BadKind("DATE_OF_BIRTH", "date", date_format=DATE),
                   BadKind("CASE_STATUS", "code", code="Case Status Unavailable"),
                   BadKind("A_NUMBER", "a_number")])

