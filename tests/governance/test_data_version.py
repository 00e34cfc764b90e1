"""The store's data version as governance uses it: every governance write moves it (once, when
its transaction commits; never on a rollback), appends to the audit ledger never do, and what
a server keeps (the user a token belongs to, a user, an agreement, a read) is never served after
a change made through any store object on the file. The interface itself is tested in
tests/test_store_interface.py."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord import services
from accord.api.app import create_app
from accord.governance import audit, sessions, users
from accord.governance.agreements import add_agreement
from accord.governance.gate import Gate, PolicyDenied
from accord.governance.ledger import DISCLOSURE_COLUMNS
from accord.governance.policy import Decision, Request
from accord.governance.registry import registry
from accord.services.context import governed, keep_open, kept, release
from accord.store import Store, open_store
from worlds import TODAY, governed_store

ROE = "removal_order_enforcement"


class _Nothing:
    def touched(self) -> tuple[list[str], list[tuple[str, str]]]:
        return [], []


def _decision(gate: Gate, user: str, request: Request) -> Decision:
    """The gate's decision on ``request``, as a read that discloses nothing gets it (a
    refusal's reasons when it is refused)."""
    try:
        return gate.read(user, request, lambda d: _Nothing(), nature="test").decision
    except PolicyDenied as e:
        return Decision(False, e.reasons)


def _moves(store: Store, change: Callable[[], object]) -> int:
    before = store.data_version()
    change()
    return store.data_version() - before


def test_every_governance_write_moves_the_data_version_and_ledger_appends_do_not(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    agreement_file = next((tmp_path / "a-agreements").glob("enforcement*.yaml"))
    now = datetime.now(UTC)
    with open_store(db) as store:
        token = users.issue_token(store, "ana", "admin")
        actor = users.get_actor(store, "ana")
        assert actor is not None
        writes: dict[str, Callable[[], object]] = {
            "add a user": lambda: users.add_user(store, "zed", "Zed", ["data_engineer"], None, "admin"),
            "issue a token": lambda: users.issue_token(store, "zed", "admin"),
            "register a user": lambda: users.register_user(store, "yan", "Yan", None, "admin"),
            "ask for a role": lambda: users.request_grants(store, "yan", ["analyst"], "admin"),
            "approve a grant": lambda: users.approve_grant(
                store, users.list_grants(store, state="pending", user_id="yan")[0].grant_id, "admin2"),
            "remove a role": lambda: users.remove_role(store, "zed", "data_engineer", "admin"),
            "revoke a token": lambda: users.revoke_token(store, "ana", token),
            "deactivate a user": lambda: users.deactivate_user(store, "zed"),
            "add an agreement version": lambda: add_agreement(
                store, _rewritten(agreement_file, tmp_path, title="Changed"), registry(), "admin"),
            "start a web session": lambda: sessions.start(store, actor, token, now),
            "keep a store setting": lambda: store.put_meta("test_key", "1"),
        }
        moved = {what: _moves(store, change) for what, change in writes.items()}
        assert moved == dict.fromkeys(writes, 1)
        ledger = {
            "an audit event": lambda: audit.append(store, audit.Event(user_id="olive", action="audit.read")),
            "accounting rows": lambda: store.insert_rows(
                "disclosures", DISCLOSURE_COLUMNS,
                [[1, now, "P1", "[]", "view", ROE, None, "casey", "ICE", None, True, False, TODAY]],
                ledger=True),
            "a read": lambda: users.list_users(store),
        }
        assert {what: _moves(store, change) for what, change in ledger.items()} == dict.fromkeys(ledger, 0)
        assert audit.verify(store).ok


def test_the_data_version_moves_when_a_transaction_commits_and_not_for_audit_events(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    keep_open(db)
    try:
        with governed(db, today=TODAY) as gate:
            store = gate.store
            start = store.data_version()
            with gate.act("olive", "audit.read"):
                pass
            store.query("SELECT count(*) FROM users")
            assert store.data_version() == start              # an audit event and a read: no change
            with store.transaction():
                store.write("UPDATE users SET name = 'Dana D.' WHERE user_id = 'dana'")
                assert store.data_version() == start          # not before the commit
            assert store.data_version() == start + 1          # once committed
            with pytest.raises(RuntimeError), store.transaction():
                store.write("UPDATE users SET name = 'x' WHERE user_id = 'dana'")
                raise RuntimeError("abandon")
            assert store.data_version() == start + 1          # rolled back: nothing changed
            assert store.stored_data_version() == start + 1   # type: ignore[attr-defined]
    finally:
        release(db)


def test_a_value_read_before_a_change_is_never_served_after_it(tmp_path: Path) -> None:
    db = governed_store(tmp_path)
    keep_open(db)
    try:
        with governed(db, today=TODAY) as gate:
            cache, at = gate.store.shared.cache, gate.store.data_version()
            cache.put("kept", at, "old")
            assert cache.get("kept", at) == "old"

            def other_thread() -> None:                       # another connection commits ...
                with governed(db, today=TODAY) as other:
                    assert other.store is not gate.store
                    other.store.write("UPDATE users SET organisation = 'X' WHERE user_id = 'ana'")

            t = threading.Thread(target=other_thread)
            t.start()
            t.join()
            now = gate.store.data_version()
            assert now == at + 1 and cache.get("kept", now) is None   # filed under the old version
            cache.put("late", at, "read before the change")           # ... while a read was under way:
            assert cache.get("late", at) is None and cache.get("late", now) is None   # not kept at all
            with gate.act("ana", "agreements.read") as act:                 # the user as it is now
                assert act.actor is not None and act.actor.organisation == "X"
    finally:
        release(db)


# --- a server's kept values and another writer ----------------------------------------------------

def _rewritten(path: Path, folder: Path, **fields: str) -> Path:
    """The agreement file with some top-level fields replaced (a new version of it)."""
    text = path.read_text("utf-8")
    for key, value in fields.items():
        text = re.sub(rf"(?m)^{key}: .*$", f'{key}: "{value}"', text)
    out = folder / f"changed-{len(list(folder.glob('changed-*')))}.yaml"
    out.write_text(text, "utf-8")
    return out


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A store kept open as ``accord serve`` keeps it, with the API over it."""
    db = governed_store(tmp_path)
    with open_store(db) as store:
        tokens = {u: users.issue_token(store, u, "admin") for u in ("olive", "ana")}
    keep_open(db)
    try:
        yield db, TestClient(create_app(db), raise_server_exceptions=False), tokens
    finally:
        release(db)


def _token_key(token: str) -> tuple[str, str]:
    return ("token", hashlib.sha256(token.encode()).hexdigest())


def test_a_token_revoked_through_another_store_object_is_refused_on_the_next_request(server) -> None:  # type: ignore[no-untyped-def]
    db, client, tokens = server
    h = {"Authorization": f"Bearer {tokens['olive']}"}
    assert client.get("/api/agreements", headers=h).status_code == 200
    assert kept(db, _token_key(tokens["olive"])) == "olive"          # the server keeps who it is
    # Another writer: a store object of its own on the file (a second process cannot open the
    # file while the server holds it, below), revoking the token in its own transaction.
    with open_store(db) as other, other.transaction():
        users.revoke_token(other, "olive", tokens["olive"])
    assert kept(db, _token_key(tokens["olive"])) is None
    assert client.get("/api/agreements", headers=h).status_code == 401


def test_a_user_deactivated_through_another_store_object_is_refused_on_the_next_request(server) -> None:  # type: ignore[no-untyped-def]
    db, client, tokens = server
    h = {"Authorization": f"Bearer {tokens['ana']}"}
    assert client.get("/api/agreements", headers=h).status_code == 200
    with governed(db, today=TODAY) as gate, gate.act("ana", "agreements.read") as act:
        assert act.actor is not None                               # kept by the gate too
    with open_store(db) as other:
        users.deactivate_user(other, "ana")
    assert client.get("/api/agreements", headers=h).status_code == 401
    with (governed(db, today=TODAY) as gate, pytest.raises(PolicyDenied, match="deactivated"),
          gate.act("ana", "agreements.read")):
        pass


def test_an_agreement_changed_through_another_store_object_is_seen_on_the_next_request(
        server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = server
    enforcement = next(a.id for a in services.agreements(db, user="olive") if a.purpose == ROE)
    request = Request("person.view", ROE, enforcement, None, ("P000000001",))
    with governed(db, today=TODAY) as gate:
        assert _decision(gate, "casey", request).allow             # the agreement is kept
    ended = TODAY - timedelta(days=30)
    changed = _rewritten(next((tmp_path / "a-agreements").glob("enforcement*.yaml")), tmp_path,
                         start=(ended - timedelta(days=300)).isoformat(), end=ended.isoformat())
    with open_store(db) as other:
        add_agreement(other, changed, registry(), "admin")
    with governed(db, today=TODAY) as gate:
        d = _decision(gate, "casey", request)
    assert not d.allow and any("expired" in r for r in d.reasons)


def test_no_second_process_can_write_while_the_server_holds_the_store(server) -> None:  # type: ignore[no-untyped-def]
    """Why the other writer above is a store object of this process: on the embedded store a
    second process is refused while the server holds the file (every writer then shares this
    process's data version; a store on a server engine reads it from the database)."""
    db, _, _ = server
    probe = subprocess.run([sys.executable, "-c", "import sys\nfrom accord.store import open_store\n"
                            "open_store(sys.argv[1])", str(db)], capture_output=True, text=True)
    assert probe.returncode != 0 and "in use by process" in probe.stderr


def test_the_store_guard_is_on_here(store_guard: Any) -> None:
    assert store_guard is not None and store_guard.violations == []
