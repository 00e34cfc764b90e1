"""The pre-check a case step makes before looking the case up: who may try the action at all.
It never stands in for the purpose-bound decision on person data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from accord.governance.policy import Request, decide, may_attempt
from accord.governance.registry import registry
from accord.governance.users import Actor

CASEWORKER = Actor("casey", "Casey", ("caseworker",), "ICE ERO", True)
ANALYST = Actor("ana", "Ana", ("analyst",), None, True)


def test_a_caseworker_may_attempt_verification_but_not_read_without_a_purpose() -> None:
    reg = registry()
    assert may_attempt(reg, CASEWORKER, "finding.verify").allow
    d = decide(reg, CASEWORKER, None, None, Request("finding.verify", None, None), date(2026, 11, 23))
    assert not d.allow and "purpose" in d.reasons[0]


def test_unknown_deactivated_and_wrong_role_users_may_not_attempt() -> None:
    reg = registry()
    assert not may_attempt(reg, None, "finding.verify").allow
    assert not may_attempt(reg, replace(CASEWORKER, active=False), "finding.verify").allow
    refused = may_attempt(reg, ANALYST, "finding.verify")
    assert not refused.allow and "analyst" in refused.reasons[0]
