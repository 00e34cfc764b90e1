"""Person-data operations: every one is a ``gate.read`` under a declared purpose."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from accord.governance.policy import Request
from accord.governance.tax_request import release
from accord.services.context import governed


def tax_request(db: Path, *, user: str, purpose: str, agreement: str | None, full_name: str, tin: str,
                address: str | dict[str, str], taxable_periods: str, statutory_authority: str, reason: str,
                justification: str | None = None, origin: str = "cli",
                today: date | None = None) -> dict[str, Any]:
    """A per-person request for tax return information (6103(i)(2)): released only when name,
    TIN and address all match one IRS record, and only the fields the authority allows."""
    person_request = {"full_name": full_name, "tin": tin, "address": address,
                      "taxable_periods": taxable_periods, "statutory_authority": statutory_authority,
                      "reason": reason}
    with governed(db, origin=origin, today=today) as gate:
        governed_result = gate.read(
            user, Request("tax.request", purpose, agreement, justification or reason,
                          person_request=person_request),
            lambda d: release(gate.store, gate.registry, d, person_request),
            nature="tax return information (per-person request)")
        return governed_result.value.to_dict() | {"audit_event": governed_result.audit_seq}
