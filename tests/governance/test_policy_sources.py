"""An agreement's sources bound every scope issued under it: no record system the agreement does
not name becomes readable, whatever the purpose, action or user. Checked for every sample
agreement and, so that the bound is seen to bite, for copies of each with one source left out
(the systems the full agreement lets a purpose read then include the one left out)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord.governance.agreements import Agreement, parse_agreement
from accord.governance.policy import PERSON_ACTIONS, Decision, Request, decide
from accord.governance.registry import registry
from accord.governance.samples import USERS, write_agreements
from accord.governance.users import Actor

TODAY = date(2026, 11, 23)
ACTORS = [Actor(uid, name, roles, org, True) for uid, name, roles, org in USERS]
PERSON = ("P000000001",)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Agreement]:
    folder: Path = tmp_path_factory.mktemp("agreements")
    return [parse_agreement(p.read_text("utf-8"), registry(), str(p))
            for p in write_agreements(folder, TODAY)]


def _narrowed(a: Agreement) -> list[tuple[str, Agreement]]:
    """(left out, copy of ``a`` without that source), for each of its sources."""
    return [(s, a.model_copy(update={"sources": tuple(x for x in a.sources if x != s)}))
            for s in a.sources if len(a.sources) > 1]


def _person_request(purpose: str) -> dict[str, Any] | None:
    """Every value and statement the purpose's per-person request rules ask for."""
    rules = registry().purposes[purpose].person_requests.values()
    keys = {k for rule in rules for k in (*rule.must_match, *rule.must_state)}
    return {k: "given" for k in keys} or None


def _decisions(a: Agreement) -> list[tuple[str, str, str, Decision]]:
    """(user, purpose, action, decision) of every allowed request under agreement ``a``: every
    sample user, every purpose, every person-data action (a per-person request with all it
    needs supplied, too)."""
    out = []
    for actor in ACTORS:
        for purpose in registry().purposes:
            for action in sorted(PERSON_ACTIONS):
                asks = [Request(action, purpose, a.id, persons=PERSON)]
                if action == "tax.request" or _person_request(purpose):
                    asks.append(Request(action, purpose, a.id, persons=PERSON,
                                        person_request=_person_request(purpose) or {}))
                for request in asks:
                    d = decide(registry(), actor, purpose, a, request, TODAY)
                    if d.allow:
                        out.append((actor.user_id, purpose, action, d))
    return out


def _readable(d: Decision) -> set[str]:
    """Every system the decision lets a reader or the status rules touch."""
    systems = set(d.fields_allowed) | set(d.fields_masked)
    for scope in (d.scope, d.determination_scope):
        if scope is not None:
            systems |= set(scope.systems)
    return systems


def _outside(a: Agreement) -> list[tuple[str, str, str, list[str]]]:
    return [(user, purpose, action, sorted(_readable(d) - set(a.sources)))
            for user, purpose, action, d in _decisions(a) if _readable(d) - set(a.sources)]


def test_every_scope_under_a_sample_agreement_stays_within_its_sources(samples: list[Agreement]) -> None:
    assert {a.purpose for a in samples} >= {"removal_order_enforcement", "benefit_eligibility_verification"}
    for a in samples:
        allowed = _decisions(a)
        assert allowed, f"no request is allowed under {a.id}: the check would prove nothing"
        assert all(d.scope is not None for *_, d in allowed)
        assert _outside(a) == [], a.id


def test_a_source_left_out_of_an_agreement_is_read_by_no_one(samples: list[Agreement]) -> None:
    bites = 0
    for a in samples:
        full = {s for *_, d in _decisions(a) for s in _readable(d)}
        for left_out, narrowed in _narrowed(a):
            assert _outside(narrowed) == [], (a.id, left_out)
            bites += left_out in full
    # The full agreements do let someone read the sources left out: the bound is what keeps
    # them out of the narrowed ones.
    assert bites >= 3
