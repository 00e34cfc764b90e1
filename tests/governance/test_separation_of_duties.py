"""Separation of duties: roles the registry declares incompatible are never held by one user, and
a role that reads person data (or oversight) takes effect only when a second administrator, not
the one who asked, approves the grant. `accord init` is the one bootstrapping exception."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app
from accord.governance.gate import PolicyDenied
from accord.governance.registry import RegistryError, build_registry, raw_registry, registry
from accord.governance.users import RoleConflict, SecondApproverRequired, UserError
from accord.store import Store
from worlds import governed_store

PERSON_DATA_ROLES = ("analyst", "tax_examiner", "caseworker", "privacy_officer")
BENEFITS = "State Benefits Agency"


def _pairs(*groups: tuple[str, ...]) -> set[tuple[str, str]]:
    a, b = groups if len(groups) == 2 else (groups[0], groups[0])
    return {(x, y) if x < y else (y, x) for x in a for y in b if x != y}


# --- the registry -----------------------------------------------------------------------------------------


def test_the_packaged_registry_separates_the_duties_a_privacy_officer_asks_for() -> None:
    reg = registry()
    declared = {c.roles for c in reg.conflicts(reg.roles)}
    required = (_pairs(("caseworker", "privacy_officer", "oversight"))
                | _pairs(("analyst", "tax_examiner"), ("privacy_officer", "oversight"))
                | _pairs(("admin",), (*PERSON_DATA_ROLES, "oversight"))
                | _pairs(("tax_examiner",), ("analyst", "caseworker")))
    assert required <= declared
    # every pair a user could hold together is still allowed, and says why the others are not
    assert {p for p in itertools.combinations(sorted(reg.roles), 2) if p not in declared} == {
        ("admin", "data_engineer"), ("analyst", "caseworker")}
    assert all(c.rule and c.reason for c in reg.conflicts(reg.roles))


def test_roles_that_read_person_data_need_a_second_approver() -> None:
    reg = registry()
    assert {r for r in reg.roles if reg.needs_second_approver(r)} == {*PERSON_DATA_ROLES, "oversight"}
    assert {r for r in reg.roles if reg.reads_person_data(r)} == set(PERSON_DATA_ROLES)


def _with(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(raw_registry())
    change(raw)
    return raw


def _rule(raw: dict[str, Any], name: str) -> dict[str, Any]:
    rule: dict[str, Any] = next(r for r in raw["roles"]["incompatible"] if r["rule"] == name)
    return rule


@pytest.mark.parametrize(("change", "fragment"), [
    pytest.param(lambda r: _rule(r, "act_review_audit")["roles"].append("auditor"),
                 "incompatible[0].roles: unknown role 'auditor'", id="unknown role"),
    pytest.param(lambda r: _rule(r, "tax_wall")["with"].append("nobody"),
                 "with: unknown role 'nobody'", id="unknown role in with"),
    pytest.param(lambda r: r["roles"]["incompatible"].remove(_rule(r, "act_review_audit")),
                 "must be incompatible", id="the two-approver rule's roles made compatible"),
    pytest.param(lambda r: _rule(r, "administrator_reads_no_person_data_and_audits_no_one")["with"].remove(
        "oversight"), "admin (users.manage) and oversight (audit.read) must be incompatible",
                 id="an admin who audits themself"),
    pytest.param(lambda r: _rule(r, "readers_do_not_review_or_audit_themselves")["roles"].remove("analyst"),
                 "must be incompatible", id="an analyst who reviews their own reads"),
    pytest.param(lambda r: r["roles"]["caseworker"].update(second_approver=False),
                 "caseworker.second_approver", id="a person-data role without a second approver"),
    pytest.param(lambda r: r["roles"]["incompatible"].append(
        {"rule": "again", "roles": ["caseworker"], "with": ["oversight"], "reason": "x"}),
                 "already incompatible by rule act_review_audit", id="a pair declared twice"),
    pytest.param(lambda r: r["roles"]["incompatible"].append(
        {"rule": "self", "roles": ["analyst"], "with": ["analyst"], "reason": "x"}),
                 "incompatible with itself", id="a role incompatible with itself"),
    pytest.param(lambda r: r["roles"]["incompatible"].append({"rule": "no reason", "roles": ["a", "b"]}),
                 "reason", id="a rule without its reason"),
    pytest.param(lambda r: r["roles"]["admin"]["actions"].append("audit.read"),
                 "one role cannot hold both users.manage and audit.read", id="one role with both duties"),
])
def test_a_registry_that_drops_a_separation_of_duties_is_refused(change: Any, fragment: str) -> None:
    with pytest.raises(RegistryError, match=r"registry/roles\.yaml") as e:
        build_registry(_with(change))
    assert fragment in str(e.value)


def test_an_agency_may_add_an_incompatibility() -> None:
    reg = build_registry(_with(lambda r: r["roles"]["incompatible"].append(
        {"rule": "analysts_do_not_act", "roles": ["analyst"], "with": ["caseworker"],
         "reason": "detection and adverse action by different people"})))
    assert [c.rule for c in reg.conflicts(["analyst", "caseworker"])] == ["analysts_do_not_act"]
    assert reg.version != registry().version


# --- grants through the service layer ----------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = governed_store(tmp_path)
    services.add_user(path, "adam", "Adam Admin", ["admin"], None, user="admin")    # no person data: at once
    return path


def _roles(db: Path, user_id: str) -> list[str]:
    row = next(u for u in services.list_users(db, user="admin") if u.user_id == user_id)
    return list(row.roles)


def _last_event(db: Path, action: str = "users.manage") -> dict[str, Any]:
    with Store(db) as store:
        cur = store.con.execute("SELECT user_id, action, decision, outcome, details FROM audit_events "
                                "WHERE action = ? ORDER BY seq DESC LIMIT 1", [action])
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone() or (), strict=True))
    row["details"] = json.loads(row["details"])
    return row


def test_a_person_data_role_takes_effect_only_when_a_second_admin_approves(db: Path) -> None:
    added = services.add_user(db, "nina", "Nina Analyst", ["analyst"], BENEFITS, user="admin")
    assert added.roles == [] and [g.role for g in added.pending_grants] == ["analyst"]
    grant = added.pending_grants[0].grant_id
    with pytest.raises(PolicyDenied, match=r"agreements\.read"):
        services.agreements(db, user="nina")                      # not yet an analyst
    with pytest.raises(SecondApproverRequired, match="cannot also approve"):
        services.approve_grant(db, grant, user="admin")           # the requester
    assert _last_event(db)["action"] == "users.manage" and _last_event(db)["outcome"].startswith("failed")
    assert _roles(db, "nina") == []
    with pytest.raises(PolicyDenied, match=r"users\.manage"):
        services.approve_grant(db, grant, user="pat")             # not an administrator
    approved = services.approve_grant(db, grant, user="adam")
    assert approved.state == "granted" and approved.decided_by == "adam"
    assert approved.requested_by == "admin"
    assert _roles(db, "nina") == ["analyst"]
    assert services.agreements(db, user="nina")
    event = _last_event(db)
    assert (event["user_id"], event["action"], event["decision"]) == ("adam", "users.manage", "allow")
    assert "approved" in event["outcome"] and event["details"]["requested_by"] == "admin"
    with pytest.raises(UserError, match="granted, not pending"):
        services.approve_grant(db, grant, user="adam")


def test_roles_without_person_data_take_effect_at_once(db: Path) -> None:
    added = services.add_user(db, "dave", "Dave Engineer", ["data_engineer"], None, user="admin")
    assert added.roles == ["data_engineer"] and added.pending_grants == []
    assert services.list_grants(db, user="admin", user_id="dave")[0].state == "granted"


def test_oversight_also_needs_a_second_approver(db: Path) -> None:
    added = services.add_user(db, "ida", "Ida Inspector", ["oversight"], "OIG", user="admin")
    assert added.roles == [] and added.pending_grants[0].role == "oversight"


def test_one_user_cannot_be_given_the_roles_that_bypass_the_two_approver_rule(db: Path) -> None:
    three = ["caseworker", "privacy_officer", "oversight"]
    with pytest.raises(RoleConflict, match=r"caseworker and privacy_officer together \(rule act_review_aud"):
        services.add_user(db, "mal", "Mal", three, None, user="admin")
    assert "mal" not in {u.user_id for u in services.list_users(db, user="admin")}   # nothing half-made
    assert _last_event(db)["details"]["refused_incompatible"] == [
        "caseworker + oversight (act_review_audit)", "caseworker + privacy_officer (act_review_audit)",
        "oversight + privacy_officer (act_review_audit)"]
    # nor one role at a time: a pending grant counts, and so does a role in effect
    services.add_user(db, "mal", "Mal", ["caseworker"], None, user="admin")
    with pytest.raises(RoleConflict, match="caseworker and privacy_officer"):
        services.grant_roles(db, "mal", ["privacy_officer"], user="admin")
    pending = services.list_grants(db, user="admin", state="pending", user_id="mal")
    services.approve_grant(db, pending[0].grant_id, user="adam")
    with pytest.raises(RoleConflict, match="caseworker and oversight"):
        services.grant_roles(db, "mal", ["oversight"], user="adam")
    with pytest.raises(RoleConflict, match="admin and caseworker"):
        services.grant_roles(db, "mal", ["admin"], user="adam")
    assert _roles(db, "mal") == ["caseworker"]


def test_an_admin_cannot_grant_themself_a_person_data_role_or_oversight(db: Path) -> None:
    for role in (*PERSON_DATA_ROLES, "oversight"):
        with pytest.raises(RoleConflict, match=f"admin and {role}|{role} and admin"):
            services.grant_roles(db, "adam", [role], user="admin")


def test_a_grant_can_be_rejected_or_withdrawn_and_then_never_approved(db: Path) -> None:
    g = services.add_user(db, "tom", "Tom Tax", ["tax_examiner"], "IRS", user="admin").pending_grants[0]
    with pytest.raises(UserError, match="reason"):
        services.reject_grant(db, g.grant_id, "  ", user="adam")
    rejected = services.reject_grant(db, g.grant_id, "no need to know", user="adam")
    assert rejected.state == "rejected" and rejected.note == "no need to know"
    with pytest.raises(UserError, match="rejected, not pending"):
        services.approve_grant(db, g.grant_id, user="adam")
    assert _roles(db, "tom") == []
    assert services.list_grants(db, user="admin", state="pending") == []
    with pytest.raises(UserError, match="no grant 'G-999999'"):
        services.approve_grant(db, "G-999999", user="adam")


def test_a_deactivated_users_grant_cannot_take_effect(db: Path) -> None:
    g = services.add_user(db, "una", "Una", ["analyst"], BENEFITS, user="admin").pending_grants[0]
    services.deactivate_user(db, "una", user="adam")
    with pytest.raises(UserError, match="deactivated"):
        services.approve_grant(db, g.grant_id, user="adam")


def test_init_is_the_bootstrapping_exception(tmp_path: Path) -> None:
    path = governed_store(tmp_path)
    users = {u.user_id: u for u in services.list_users(path, user="admin")}
    assert users["casey"].roles == ["caseworker"] and users["pat"].roles == ["privacy_officer"]
    assert all(not u.pending_grants and not u.conflicts for u in users.values())
    grants = services.list_grants(path, user="admin")
    assert {g.user_id for g in grants} == set(users)
    assert all(g.state == "granted" and g.decided_by is None and "accord init" in g.note
               for g in grants)


def test_users_already_holding_incompatible_roles_are_marked_not_stripped(db: Path) -> None:
    with Store(db) as store:      # a store from before the rules (test-only write)
        store.con.execute("UPDATE users SET roles = ['caseworker', 'oversight', 'privacy_officer'] "
                          "WHERE user_id = 'casey'")
    casey = next(u for u in services.list_users(db, user="admin") if u.user_id == "casey")
    assert casey.roles == ["caseworker", "oversight", "privacy_officer"]      # nothing dropped silently
    assert len(casey.conflicts) == 3 and all("act_review_audit" in c for c in casey.conflicts)
    result = CliRunner().invoke(app, ["users", "list", "--db", str(db)],
                                env={"ACCORD_USER": "admin", "COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "! caseworker and oversight are incompatible" in result.output
    assert "hold incompatible roles: casey" in result.output
    with pytest.raises(RoleConflict):
        services.grant_roles(db, "casey", ["analyst"], user="admin")       # put it right first
    services.remove_role(db, "casey", "oversight", user="admin")
    fixed = services.remove_role(db, "casey", "privacy_officer", user="admin")
    assert fixed.roles == ["caseworker"] and fixed.conflicts == []
    with pytest.raises(UserError, match="does not hold"):
        services.remove_role(db, "casey", "oversight", user="admin")


# --- the command line -------------------------------------------------------------------------------------


def _run(user: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "250"})
    return result.exit_code, result.output


def test_the_grant_commands(db: Path) -> None:
    d = str(db)
    code, text = _run("admin", "users", "add", "cleo", "--role", "caseworker", "--name", "Cleo",
                      "--org", "DHS ICE Enforcement and Removal Operations", "--db", d)
    assert code == 0 and "awaiting a second administrator's approval: caseworker (grant G-" in text, text
    code, text = _run("admin", "users", "grants", "--state", "pending", "--db", d, "--json")
    assert code == 0, text
    [grant] = json.loads(text)["items"]
    assert grant["user_id"] == "cleo" and grant["requested_by"] == "admin"
    code, text = _run("admin", "users", "approve-grant", grant["grant_id"], "--db", d)
    assert code == 2 and "cannot also approve" in text
    code, text = _run("adam", "users", "approve-grant", grant["grant_id"], "--db", d)
    assert code == 0 and "cleo now holds caseworker" in text, text
    code, text = _run("adam", "users", "grant", "cleo", "--role", "privacy_officer", "--db", d)
    assert code == 2 and "caseworker and privacy_officer" in text and "act_review_audit" in text
    code, text = _run("adam", "users", "grant", "cleo", "--role", "analyst", "--db", d)
    assert code == 0 and "awaiting" in text
    pending = services.list_grants(db, user="admin", state="pending")[0].grant_id
    code, text = _run("admin", "users", "reject-grant", pending, "--reason", "not needed", "--db", d)
    assert code == 0 and "rejected" in text
    code, text = _run("admin", "users", "remove-role", "cleo", "--role", "caseworker", "--db", d)
    assert code == 0 and "roles now: none" in text
    code, text = _run("pat", "users", "grants", "--db", d)
    assert code == 2 and "users.read" in text
