"""Sign-in under abuse: what is typed into the user-id box reaches the audit log only when it is
a well-formed user id (anything else as a keyed hash); a user id that is not ASCII is refused,
not a server error; a client that keeps failing is made to wait (429, Retry-After) while the
user it guessed at still signs in from elsewhere; and a client's failures are recorded one by
one only up to a bound, the rest in one summary event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accord import services
from accord.api.app import create_app
from accord.governance import sessions
from accord.governance.sessions import SignInThrottle
from accord.services.sessions import LoginRefused, LoginThrottled
from accord.store import Store

from .conftest import UiClient
from .ui_world import FORM_TOKEN, UiWorld

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(ui_world: UiWorld, tmp_path: Path) -> Path:
    return ui_world.copy(tmp_path)


def _events(db: Path, action: str = sessions.LOGIN_ACTION) -> list[dict[str, Any]]:
    with Store(db) as store:
        cur = store.con.execute("SELECT user_id, decision, outcome, reasons, details FROM audit_events "
                                "WHERE action = ? ORDER BY seq", [action])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _post_login(client: UiClient, user_id: str, token: str) -> Any:
    m = FORM_TOKEN.search(client.get("/login").text)
    assert m
    return client.post("/login", data={"user_id": user_id, "token": token, "form_token": m.group(1)},
                       follow_redirects=False)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_token_typed_as_the_user_id_never_reaches_the_audit_log(db: Path, ui_world: UiWorld) -> None:
    client = UiClient(create_app(db))
    secret = ui_world.tokens["olive"]
    for _ in range(2):
        r = _post_login(client, secret, "acc_whatever")
        assert r.status_code == 401
        assert secret not in r.text                   # not echoed back into the form either
    r = _post_login(client, "nobody", "acc_whatever")
    assert r.status_code == 401
    first, second, third = _events(db)[-3:]
    assert secret not in str(_events(db))
    assert first["user_id"].startswith("(malformed ") and first["decision"] == "deny"
    assert second["user_id"] == first["user_id"]     # the same text: the same keyed name
    assert third["user_id"] == "nobody"              # a well-formed id is recorded as typed


def test_the_keyed_name_depends_on_the_store(db: Path, ui_world: UiWorld, tmp_path: Path) -> None:
    other = ui_world.copy(tmp_path / "other")
    names = []
    for path in (db, other):
        with Store(path) as store:
            names.append(sessions.audit_name(store, "Not An Id!"))
    assert names[0] != names[1] and all(n.startswith("(malformed ") for n in names)


@pytest.mark.parametrize("user_id", ["cäsey", "casey\u200b", "ｃａｓｅｙ", "Casey"])
def test_a_malformed_user_id_with_a_valid_token_is_refused_and_audited(db: Path, ui_world: UiWorld,
                                                                       user_id: str) -> None:
    client = UiClient(create_app(db), raise_server_exceptions=False)
    before = len(_events(db))
    r = _post_login(client, user_id, ui_world.tokens["casey"])
    assert r.status_code == 401, r.text
    assert "accord_session" not in client.cookies
    added = _events(db)[before:]
    assert [(e["decision"], e["outcome"]) for e in added] == [("deny", "refused")]
    assert added[0]["user_id"].startswith("(malformed ")


def test_a_failing_client_must_wait_but_the_user_it_guessed_at_still_signs_in(db: Path,
                                                                             ui_world: UiWorld) -> None:
    app = create_app(db)
    clock = Clock()
    app.state.ui.clock = clock
    guesser = UiClient(app, client=("203.0.113.7", 40000))
    for _ in range(sessions.THROTTLE_FREE + 1):
        assert _post_login(guesser, "bea", "acc_guess").status_code == 401
    r = _post_login(guesser, "bea", "acc_guess")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == int(sessions.THROTTLE_BASE.total_seconds())
    assert "try again in" in r.text
    # even the right token waits from that address: it is the client that is slowed down ...
    assert _post_login(guesser, "bea", ui_world.tokens["bea"]).status_code == 429
    # ... not the user: bea signs in from her own machine at once
    bea = UiClient(app, client=("198.51.100.20", 40000))
    r = _post_login(bea, "bea", ui_world.tokens["bea"])
    assert r.status_code == 303 and "accord_session" in bea.cookies
    # once its wait has passed the guesser is heard again, and waits twice as long after a failure
    clock.now += sessions.THROTTLE_BASE
    assert _post_login(guesser, "bea", "acc_guess").status_code == 401
    r = _post_login(guesser, "bea", "acc_guess")
    assert r.status_code == 429 and int(r.headers["retry-after"]) == 2 * int(
        sessions.THROTTLE_BASE.total_seconds())
    assert r.headers["cache-control"] == "no-store"


def test_failures_are_recorded_up_to_a_bound_and_then_summarised(db: Path, ui_world: UiWorld) -> None:
    throttle = SignInThrottle(free=1000)           # no waiting here: only the audit's bound
    before = len(_events(db))
    seqs = []
    for i in range(sessions.AUDITED_FAILURES + 7):
        with pytest.raises(LoginRefused) as e:
            services.login(db, "bea", f"acc_guess{i}", now=T0 + timedelta(seconds=i), client="203.0.113.7",
                           throttle=throttle)
        seqs.append(e.value.audit_seq)
    assert all(s is not None for s in seqs[:sessions.AUDITED_FAILURES])
    assert seqs[sessions.AUDITED_FAILURES:] == [None] * 7
    assert len(_events(db)) - before == sessions.AUDITED_FAILURES
    # the next sign-in after the window has closed (anyone's) records the summary first
    later = T0 + sessions.THROTTLE_WINDOW + timedelta(seconds=30)
    ok = services.login(db, "casey", ui_world.tokens["casey"], now=later, client="198.51.100.20",
                        throttle=throttle)
    added = _events(db)[before + sessions.AUDITED_FAILURES:]
    assert [(e["user_id"], e["decision"], e["outcome"]) for e in added] == [
        ("(none)", "deny", "refused (summary)"), ("casey", "allow", "session started")]
    assert "7 further failed sign-ins suppressed" in json.loads(added[0]["reasons"])[0]
    assert '"client":"203.0.113.7"' in added[0]["details"] and ok.user_id == "casey"
    assert throttle.closed(later + sessions.THROTTLE_WINDOW) == []   # summarised once, then forgotten


def test_a_throttled_attempt_is_not_checked_and_is_counted_in_the_summary(db: Path,
                                                                         ui_world: UiWorld) -> None:
    throttle = SignInThrottle(free=0, audited=1)
    with pytest.raises(LoginRefused):
        services.login(db, "bea", "acc_guess", now=T0, client="c1", throttle=throttle)
    with pytest.raises(LoginThrottled) as e:
        services.login(db, "bea", ui_world.tokens["bea"], now=T0, client="c1", throttle=throttle)
    assert e.value.retry_after == int(sessions.THROTTLE_BASE.total_seconds()) and e.value.audit_seq is None
    ok = services.login(db, "bea", ui_world.tokens["bea"], now=T0 + sessions.THROTTLE_BASE, client="c1",
                        throttle=throttle)
    summary = _events(db)[-2]
    assert summary["outcome"] == "refused (summary)"
    assert "1 attempts refused while" in json.loads(summary["reasons"])[0]
    assert ok.user_id == "bea"


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    throttle = SignInThrottle(free=1000, audited=0, max_clients=3)
    for i in range(5):
        assert throttle.failed(f"c{i}", T0 + timedelta(seconds=i)) is False
    assert len(throttle._clients) == 3
    summaries = throttle.closed(T0 + timedelta(seconds=5))      # the forgotten ones are still summarised
    assert sorted(s.client for s in summaries) == ["c0", "c1"]
