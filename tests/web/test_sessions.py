"""Sign-in sessions in the service layer: only hashes are stored, every sign-in, refusal,
sign-out and expiry is audited, sessions end on idle time, maximum length, a revoked token or
a deactivated user, and repeated failures slow down the client that makes them, never locking
the user out (tests/web/test_sign_in_abuse.py has more)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord import services
from accord.governance import sessions
from accord.store import Store

from .ui_world import UiWorld

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(ui_world: UiWorld, tmp_path: Path) -> Path:
    return ui_world.copy(tmp_path)


def _last_events(db: Path, n: int = 1) -> list[tuple[str, str, str, str]]:
    with Store(db) as store:
        rows = store.query("SELECT user_id, action, decision, outcome FROM audit_events ORDER BY seq DESC "
                           "LIMIT ?", [n])
    return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]


def test_login_stores_only_a_hash_and_is_audited(db: Path, ui_world: UiWorld) -> None:
    result = services.login(db, "casey", ui_world.tokens["casey"], now=T0)
    assert result.user_id == "casey" and len(result.session_id) >= 40
    with Store(db) as store:
        rows = store.query("SELECT session_sha256, user_id, token_sha256 FROM web_sessions")
        dump = str(store.query("SELECT * FROM web_sessions"))
    assert rows == [(hashlib.sha256(result.session_id.encode()).hexdigest(), "casey",
                     hashlib.sha256(ui_world.tokens["casey"].encode()).hexdigest())]
    assert result.session_id not in dump and result.csrf_token not in dump
    assert _last_events(db) == [("casey", "session.login", "allow", "session started")]
    now = services.current_session(db, result.session_id, now=T0 + timedelta(minutes=5))
    assert now.user is not None and now.user.user_id == "casey" and now.user.roles == ["caseworker"]
    assert now.csrf_token == result.csrf_token


@pytest.mark.parametrize(("user", "token_of"), [("casey", "carl"), ("casey", None), ("nobody", "casey"),
                                                 ("", "casey")])
def test_a_wrong_pair_is_refused_with_one_answer_and_audited(db: Path, ui_world: UiWorld, user: str,
                                                             token_of: str | None) -> None:
    token = ui_world.tokens[token_of] if token_of else "acc_forged"
    with pytest.raises(services.LoginRefused) as e:
        services.login(db, user, token, now=T0)
    assert e.value.reasons == (services.sessions.REFUSED,)
    assert _last_events(db) == [(user or "(none)", "session.login", "deny", "refused")]
    with Store(db) as store:
        assert store.scalar("SELECT count(*) FROM web_sessions") == 0


def test_logout_ends_the_session_for_good(db: Path, ui_world: UiWorld) -> None:
    s = services.login(db, "carl", ui_world.tokens["carl"], now=T0)
    assert services.logout(db, s.session_id, now=T0 + timedelta(minutes=1)) is True
    assert _last_events(db) == [("carl", "session.logout", "allow", "session ended")]
    ended_earlier = services.current_session(db, s.session_id, now=T0 + timedelta(minutes=2))
    assert ended_earlier.user is None and ended_earlier.ended is None
    assert services.logout(db, s.session_id) is False


def test_idle_and_maximum_time_end_a_session(db: Path, ui_world: UiWorld) -> None:
    idle = services.login(db, "casey", ui_world.tokens["casey"], now=T0)
    used = T0 + timedelta(hours=1)
    assert services.current_session(db, idle.session_id, now=used).user is not None  # a request
    # 8 hours after the login but not after the last request: still open
    assert services.current_session(db, idle.session_id,
                                    now=used + sessions.IDLE - timedelta(minutes=1)).user is not None
    quiet = services.login(db, "casey", ui_world.tokens["casey"], now=T0)
    gone = services.current_session(db, quiet.session_id, now=T0 + sessions.IDLE + timedelta(minutes=1))
    assert gone.user is None and gone.ended is not None and "without activity" in gone.ended
    assert _last_events(db)[0][:2] == ("casey", "session.end")
    assert services.current_session(db, quiet.session_id, now=T0).ended is None   # ended for good

    busy = services.login(db, "casey", ui_world.tokens["casey"], now=T0)
    t = T0
    while t < T0 + sessions.MAXIMUM - timedelta(hours=1):       # active all day long
        t += timedelta(hours=1)
        assert services.current_session(db, busy.session_id, now=t).user is not None
    ended = services.current_session(db, busy.session_id, now=T0 + sessions.MAXIMUM)
    assert ended.user is None and ended.ended is not None and "maximum" in ended.ended


def test_a_revoked_token_or_a_deactivated_user_ends_the_session(db: Path, ui_world: UiWorld) -> None:
    a = services.login(db, "casey", ui_world.tokens["casey"], now=T0)
    b = services.login(db, "carl", ui_world.tokens["carl"], now=T0)
    with Store(db) as store:
        store.con.execute("UPDATE user_tokens SET revoked_at = now() WHERE token_sha256 = ?",
                          [hashlib.sha256(ui_world.tokens["casey"].encode()).hexdigest()])
        store.con.execute("UPDATE users SET active = FALSE WHERE user_id = 'carl'")
    assert "revoked" in str(services.current_session(db, a.session_id, now=T0).ended)
    assert "no longer active" in str(services.current_session(db, b.session_id, now=T0).ended)


def test_repeated_failures_slow_the_client_and_never_lock_the_user_out(db: Path, ui_world: UiWorld) -> None:
    throttle = sessions.SignInThrottle()
    for _ in range(sessions.THROTTLE_FREE + 1):
        with pytest.raises(services.LoginRefused):
            services.login(db, "bea", "acc_guess", now=T0, client="203.0.113.7", throttle=throttle)
    with pytest.raises(services.sessions.LoginThrottled):                 # that client waits ...
        services.login(db, "bea", ui_world.tokens["bea"], now=T0, client="203.0.113.7", throttle=throttle)
    ok = services.login(db, "bea", ui_world.tokens["bea"], now=T0, client="198.51.100.20",
                        throttle=throttle)                               # ... bea does not
    assert ok.user_id == "bea"
    later = T0 + sessions.THROTTLE_BASE
    assert services.login(db, "bea", ui_world.tokens["bea"], now=later, client="203.0.113.7",
                          throttle=throttle).user_id == "bea"
