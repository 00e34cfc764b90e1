"""The operations the CLI, the HTTP API and the UI share.

Nothing here prints: each operation returns plain data (dataclasses / dicts) and reports
progress through an optional callback. Front ends decide how to show it. Every operation on a
store runs as a named user through the governance gate (``accord.governance.gate``).
"""

from accord.services.admin import (
    add_agreement,
    add_user,
    agreements,
    audit_events,
    audit_head,
    audit_verify,
    authenticate,
    disclosures,
    init,
    issue_token,
    list_users,
    show_agreement,
)
from accord.services.casework import (
    approve_annotation,
    file_dispute,
    finding_step,
    handle_dispute,
    open_finding,
    request_annotation,
    subject_report,
)
from accord.services.data import (
    DemoResult,
    batches,
    demo,
    evaluate,
    ingest,
    quarantine_summary,
    resolve,
    sources,
    synth,
)
from accord.services.people import explain, person, search, tax_request, verify, worklist
from accord.services.quality import quality
from accord.services.sessions import LoginRefused, current_session, login, logout

__all__ = [
    "DemoResult",
    "LoginRefused",
    "add_agreement",
    "add_user",
    "agreements",
    "approve_annotation",
    "audit_events",
    "audit_head",
    "audit_verify",
    "authenticate",
    "batches",
    "current_session",
    "demo",
    "disclosures",
    "evaluate",
    "explain",
    "file_dispute",
    "finding_step",
    "handle_dispute",
    "ingest",
    "init",
    "issue_token",
    "list_users",
    "login",
    "logout",
    "open_finding",
    "person",
    "quality",
    "quarantine_summary",
    "request_annotation",
    "resolve",
    "search",
    "show_agreement",
    "sources",
    "subject_report",
    "synth",
    "tax_request",
    "verify",
    "worklist",
]
