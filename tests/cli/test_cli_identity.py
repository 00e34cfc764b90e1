"""The command line's trust boundary: `--user` is taken on trust and its audit events say so
(origin "cli, unauthenticated OS user <login>"); with `--token` (or ACCORD_TOKEN) the token is
checked as the API checks a bearer token, a wrong one is refused (exit 2) and audited, and the
events say "cli, token-authenticated". The store file and its write-ahead log are the owner's
only (mode 0600)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app
from accord.cli.common import os_login
from accord.services.context import governed

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("cli-identity") / "s.duckdb"
    result = services.init(db, samples=True, tokens=True)
    return {"db": str(db), "tokens": result.tokens}


def _last_event(db: str) -> dict[str, Any]:
    with governed(Path(db)) as gate:
        row = gate.store.query("SELECT user_id, action, decision, origin, reasons FROM audit_events "
                               "ORDER BY seq DESC LIMIT 1")[0]
    return dict(zip(("user_id", "action", "decision", "origin", "reasons"), row, strict=True))


def _invoke(args: list[str], **env: str) -> Any:
    return runner.invoke(app, args, env={"COLUMNS": "200", "ACCORD_USER": "", "ACCORD_TOKEN": "", **env})


def test_without_a_token_the_user_is_taken_on_trust_and_the_event_says_so(store: dict[str, Any]) -> None:
    r = _invoke(["users", "list", "--db", store["db"], "--user", "admin", "--json"])
    assert r.exit_code == 0, r.output
    event = _last_event(store["db"])
    assert (event["user_id"], event["action"]) == ("admin", "users.read")
    assert event["origin"] == f"cli, unauthenticated OS user {os_login()}"
    assert os_login() and os_login() != "unknown"


def test_a_token_authenticates_the_user_who_then_need_not_be_named(store: dict[str, Any]) -> None:
    r = _invoke(["users", "list", "--db", store["db"], "--token", store["tokens"]["admin"], "--json"])
    assert r.exit_code == 0, r.output
    assert "admin" in [u["user_id"] for u in json.loads(r.output)["items"]]
    event = _last_event(store["db"])
    assert (event["user_id"], event["action"], event["origin"]) == ("admin", "users.read",
                                                                     "cli, token-authenticated")
    # ACCORD_TOKEN works the same, with --user naming the token's own user
    r = _invoke(["users", "list", "--db", store["db"], "--user", "admin", "--json"],
                ACCORD_TOKEN=store["tokens"]["admin"])
    assert r.exit_code == 0, r.output
    assert _last_event(store["db"])["origin"] == "cli, token-authenticated"


@pytest.mark.parametrize(("user", "token_of"), [("admin", None), ("admin", "olive"), (None, None)])
def test_a_wrong_token_is_refused_before_the_command_and_audited(store: dict[str, Any], user: str | None,
                                                                 token_of: str | None) -> None:
    token = store["tokens"][token_of] if token_of else "acc_not-a-token"
    args = ["users", "list", "--db", store["db"], "--token", token, "--json"]
    r = _invoke([*args, "--user", user] if user else args)
    assert r.exit_code == 2, r.output
    assert "--token refused" in r.output and "audit event" in r.output
    assert token not in r.output
    event = _last_event(store["db"])
    assert (event["user_id"], event["action"], event["decision"]) == (user or "(none)", "session.token",
                                                                      "deny")
    assert event["origin"] == "cli, token-authenticated" and token not in str(event)


def test_a_token_typed_as_the_user_id_is_not_written_to_the_audit_log(store: dict[str, Any]) -> None:
    secret = store["tokens"]["olive"]
    r = _invoke(["users", "list", "--db", store["db"], "--user", secret, "--token", "acc_wrong"])
    assert r.exit_code == 2, r.output
    event = _last_event(store["db"])
    assert event["action"] == "session.token" and event["user_id"].startswith("(malformed ")
    assert secret not in str(event)


def test_every_command_acting_as_a_user_offers_a_token() -> None:
    for command in (["users", "list"], ["search"], ["audit", "verify"], ["users", "revoke-token"]):
        text = _invoke([*command, "--help"]).output
        assert "--token" in text and "ACCORD_TOKEN" in text, command


def test_a_new_store_and_its_write_ahead_log_are_the_owners_only(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    r = _invoke(["init", "--db", str(db), "--samples"])
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    wal = db.with_name(db.name + ".wal")
    with governed(db) as gate:          # a write while the store is open: DuckDB makes a new log
        gate.store.con.execute("CHECKPOINT")
        gate.store.con.execute("INSERT INTO accord_meta VALUES ('probe', 'x')")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
