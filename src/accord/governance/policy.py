"""The policy decision: ``decide(actor, purpose, agreement, request) -> Decision``.

Pure (no store): everything it needs is passed in, so every rule is testable by itself.
Default deny; every refusal carries reasons a person can read. Least privilege: an action
must be one of the actor's roles' actions, the purpose one of its roles' purposes, and the
fields readable are those the routine use, the statutory floors and the agreement all allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from accord.governance.agreements import Agreement
from accord.governance.registry import Registry
from accord.governance.scope import Scope, freeze, issue
from accord.governance.tax_periods import periods_text, stated_periods  # read alike by the release
from accord.governance.users import Actor
from accord.governance.visibility import purpose_view, withheld_regimes
from accord.sources.fields import catalogue
from accord.status.eligibility import ELIGIBILITY_PURPOSES

# Actions that read person data: they need a purpose (and the purpose's agreement).
PERSON_ACTIONS = frozenset({
    "person.search", "person.view", "person.explain", "verify.query", "tax.request",
    "worklist.read", "subject.report", "subject.search", "finding.read", "finding.open", "finding.verify",
})


# Actions done only under some purposes. Verification (SAVE) answers a benefit-granting or
# identity question about a person who asked for something; it is no enforcement tool.
ACTION_PURPOSES: dict[str, frozenset[str]] = {
    "verify.query": frozenset({"benefit_eligibility_verification", "identity_verification"}),
    "subject.search": frozenset({"subject_access"}),
}


# Finding the one person a request under an own-records purpose concerns, before it can name
# them (a subject-access request names a person by name, date of birth or an identifier): the
# search may compare only these identifying fields, over every person, and answers with person
# ids and how well they matched (``accord.governance.subject_search``), never record values.
IDENTIFYING_ACTIONS = frozenset({"subject.search"})
IDENTIFYING_FIELDS = frozenset({"given_name", "family_name", "dob", "ssn", "tin", "itin", "a_number"})


# Steps on a finding taken under its agreement that read no person values but are the
# recipient agency's to take (552a(p)): only a user of a recipient party of the agreement.
RECIPIENT_ACTIONS = frozenset({"finding.notice", "finding.decide"})


# Actions that say who signs in or out: a sign-in (or its refusal), a sign-out, a session's
# end, a command line's token check. Open to anyone, known or not, active or not, because the
# user is not established yet (or no longer is): the credentials decide, checked by the action
# itself, which refuses through the gate (``Activity.refuse``). They read no person data and
# change nothing but the web sessions.
SESSION_ACTIONS = frozenset({"session.login", "session.logout", "session.end", "session.token"})


# Actions whose answer includes a status determination (issued a determination scope).
DETERMINING_ACTIONS = frozenset({"person.view", "worklist.read", "verify.query", "finding.open",
                                 "subject.report"})


@dataclass(frozen=True)
class Request:
    """What a caller asks to do."""

    action: str
    purpose: str | None = None
    agreement: str | None = None
    justification: str | None = None
    persons: tuple[str, ...] = ()
    # A per-person request for information under a request-only regime (26 U.S.C. 6103):
    # the identifying values supplied and the statements the purpose's rule requires.
    person_request: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    allow: bool
    reasons: tuple[str, ...]
    scope: Scope | None = None
    fields_allowed: dict[str, list[str]] = field(default_factory=dict)
    fields_masked: dict[str, list[str]] = field(default_factory=dict)
    law_enforcement: bool = False
    agreement: Agreement | None = None
    match_required: tuple[str, ...] = ()   # per-person request: what must all match the record
    # Facts the status rules may USE (never show) to keep a person out of an adverse purpose:
    # protected applications, citizenship codes. Issued only with a disclosure scope.
    determination_scope: Scope | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"allow": self.allow, "reasons": list(self.reasons), "fields_allowed": self.fields_allowed,
                "fields_masked": self.fields_masked, "law_enforcement": self.law_enforcement,
                "agreement": self.agreement.id if self.agreement else None}


def deny(*reasons: str) -> Decision:
    return Decision(False, tuple(reasons))


def may_attempt(registry: Registry, actor: Actor | None, action: str) -> Decision:
    """Whether a user may try an action at all (known, active, the action one of its roles'),
    before anything about a particular case is looked up. Not an allow for person data: a
    person-data action still needs :func:`decide` with its purpose and agreement."""
    if actor is None:
        return deny("unknown user: every action needs a registered user id")
    if not actor.active:
        return deny(f"user {actor.user_id} is deactivated")
    if action not in registry.actions(list(actor.roles)):
        return deny(f"{action} is not among the actions of {actor.user_id}'s roles "
                    f"({', '.join(actor.roles)})")
    return Decision(True, (f"{action} is an action of role(s) {', '.join(actor.roles)}",))


def decide(registry: Registry, actor: Actor | None, purpose_name: str | None,
           agreement: Agreement | None, request: Request, today: date) -> Decision:
    """Decide one request. ``agreement`` is the agreement the caller named, looked up (None
    when none was named or it does not exist; ``request.agreement`` keeps the name)."""
    if request.action in SESSION_ACTIONS:
        return Decision(True, (f"{request.action} is open to anyone: the credentials decide",))
    if actor is None:
        return deny("unknown user: every action needs a registered user id")
    if not actor.active:
        return deny(f"user {actor.user_id} is deactivated")
    allowed_actions = registry.actions(list(actor.roles))
    if request.action not in allowed_actions:
        return deny(f"{request.action} is not among the actions of {actor.user_id}'s roles "
                    f"({', '.join(actor.roles)})")
    if request.action not in PERSON_ACTIONS:
        if request.action in RECIPIENT_ACTIONS:
            if agreement is None:
                return deny(f"no matching agreement {request.agreement!r} is on record")
            refused = _not_recipient(actor, agreement)
            if refused is not None:
                return refused
        return Decision(True, (f"{request.action} is an action of role(s) {', '.join(actor.roles)}",))

    if not purpose_name:
        return deny("declare a purpose: person data is read only for a declared, lawful purpose")
    purpose = registry.purposes.get(purpose_name)
    if purpose is None:
        return deny(f"unknown purpose {purpose_name!r} (known: {', '.join(registry.purposes)})")
    if purpose_name not in registry.role_purposes(list(actor.roles)):
        return deny(f"{actor.user_id}'s roles ({', '.join(actor.roles)}) do not work under {purpose_name}")
    if not purpose.person_data:
        return deny(f"{purpose_name} does not read person data")
    only = ACTION_PURPOSES.get(request.action)
    if only is not None and purpose_name not in only:
        return deny(f"{request.action} is not done under {purpose_name} (only under "
                    f"{', '.join(sorted(only))})")

    if purpose.needs_agreement:
        if not request.agreement:
            return deny(f"{purpose_name} is a matching program: name the matching agreement it runs under")
        if agreement is None:
            return deny(f"no matching agreement {request.agreement!r} is on record")
        if agreement.purpose != purpose_name:
            return deny(f"agreement {agreement.id} is for {agreement.purpose}, not {purpose_name}")
        if not agreement.in_force(today):
            return deny(f"agreement {agreement.id} is {agreement.state(today)} "
                        f"({agreement.start} to {agreement.ends_on}); it authorises nothing today")
        refused = _not_recipient(actor, agreement)
        if refused is not None:
            return refused
    elif request.agreement and agreement is None:
        return deny(f"no matching agreement {request.agreement!r} is on record")

    identifying = request.action in IDENTIFYING_ACTIONS
    if purpose.own_records_only and len(request.persons) != 1 and not identifying:
        return deny(f"{purpose_name} covers one person's own records: name exactly one person")
    if identifying and request.persons:
        return deny(f"{request.action} finds the person a request concerns: it names none")

    if request.action == "tax.request" or request.person_request is not None:
        return _person_request(registry, purpose_name, agreement, request)

    everything = catalogue()
    identity = {n for n, f in everything.items() if f.kind == "identity"}
    systems: dict[str, set[str]] = {}
    masked: dict[str, list[str]] = {}
    for system in registry.systems:
        access = registry.access(system, purpose_name)
        if access is None:
            continue
        if agreement is not None and system not in agreement.sources:
            continue
        fields = set(everything) if access == "full" else set(identity)
        if agreement is not None:
            fields &= set(agreement.data_elements)
        if identifying:
            fields &= IDENTIFYING_FIELDS
        systems[system] = fields
        masked[system] = sorted(set(everything) - fields)
    if not systems:
        return deny(f"no record system may be read for {purpose_name}"
                    + (f" under agreement {agreement.id}" if agreement else ""))
    persons = frozenset(request.persons) if purpose.own_records_only and not identifying else None
    withheld = withheld_regimes(registry, purpose_name)
    view = purpose_view(registry, purpose_name)
    scope = issue(Scope(freeze(systems), withheld, persons, view))
    determination = None
    if request.action in DETERMINING_ACTIONS:
        # The status rests on the records the purpose may see, never on withheld ones (their
        # absence must be indistinguishable from their presence). A purpose with an
        # eligibility rule may also use the facts (and the A-number and date of birth that tie
        # records together) of shown records whose fields it may not see, when the record's
        # regime allows protective use: only to keep a person out, and the answer then says
        # no more than "not eligible for this purpose".
        facts = {n for n, f in everything.items() if f.kind == "fact"} | {"a_number", "dob"}
        protective = set(registry.protective_systems()) if purpose_name in ELIGIBILITY_PURPOSES else set()
        determination = issue(Scope(
            freeze({s: fields | (facts if s in protective else set()) for s, fields in systems.items()}),
            withheld, persons, view))
    reasons = [f"{purpose_name} ({purpose.authority})"]
    if agreement is not None:
        reasons.append(f"under agreement {agreement.id} ({agreement.start} to {agreement.ends_on})")
    reasons.append("systems: " + ", ".join(sorted(systems)))
    return Decision(True, tuple(reasons), scope, {k: sorted(v) for k, v in systems.items()}, masked,
                    purpose.law_enforcement, agreement, determination_scope=determination)


def _not_recipient(actor: Actor, agreement: Agreement) -> Decision | None:
    """A refusal when the actor is not with a recipient party of the agreement."""
    recipients = {p.name for p in agreement.recipients()}
    if actor.organisation in recipients:
        return None
    return deny(f"{actor.user_id} ({actor.organisation or 'no organisation'}) is not with a "
                f"recipient party of agreement {agreement.id} ({', '.join(sorted(recipients))})")


def _person_request(registry: Registry, purpose_name: str, agreement: Agreement | None,
                    request: Request) -> Decision:
    """A per-person request under a request-only regime (tax return information). Allowed
    only when every element the rule asks for is supplied and the taxable periods it states
    name tax years; the reader then releases only on a full match of every element, for
    those periods (``accord.governance.tax_request``)."""
    purpose = registry.purposes[purpose_name]
    pr = request.person_request or {}
    for regime_name, rule in purpose.person_requests.items():
        systems = [s for s, sys_ in registry.systems.items() if sys_.regime == regime_name
                   and (agreement is None or s in agreement.sources)]
        if not systems:
            continue
        missing = [k for k in (*rule.must_match, *rule.must_state) if not str(pr.get(k) or "").strip()]
        if missing:
            return deny(f"a request under {rule.authority} must supply {', '.join(missing)}")
        stated: list[str] = []
        if "taxable_periods" in rule.must_state:
            periods = stated_periods(pr.get("taxable_periods"))
            if not periods:
                return deny(f"a request under {rule.authority} must state its taxable periods as tax years "
                            "(such as 2024, 2022-2024 or 2021, 2023); the periods given name none")
            stated.append(f"only return information of the taxable periods stated ({periods_text(periods)})")
        release = set(rule.release) & (set(agreement.data_elements) if agreement else set(rule.release))
        if not release:
            return deny(f"agreement {agreement.id if agreement else ''} names none of the fields "
                        f"{rule.authority} may release")
        scope = issue(Scope(freeze({s: release | _match_fields(rule.must_match, rule.must_state)
                                    for s in systems}),
                            frozenset(registry.withheld_regimes(purpose_name))))
        return Decision(True, (f"per-person request under {rule.authority}",
                               f"released only if {', '.join(rule.must_match)} all match one record in full",
                               *stated,
                               "fields released: " + ", ".join(sorted(release))),
                        scope, {s: sorted(release) for s in systems}, {}, purpose.law_enforcement,
                        agreement, tuple(rule.must_match))
    return deny(f"{purpose_name} has no per-person request route to the requested information")


def _match_fields(must_match: tuple[str, ...], must_state: tuple[str, ...] = ()) -> set[str]:
    """The fields the reader compares (never released): every name part a record may carry,
    the address parts, and the tax year when the request states taxable periods."""
    out = {"tax_year"} if "taxable_periods" in must_state else set()
    for m in must_match:
        if m == "address":
            out |= {"street", "city", "state", "zip"}
        elif m == "full_name":
            out |= {"given_name", "middle_name", "family_name", "given_names", "full_name", "name_suffix"}
        else:
            out.add(m)
    return out
