"""The command line's one error boundary (docs/cli.md): every error is one line on stderr (or one
JSON object under --json) with the exit code of its kind, never a traceback; unknown ids are
not found (exit 1; 404 in the API), the same for a person the purpose may not see; a command
checks its output paths before it changes the store; an unexpected exception is an internal
error recorded with its incident, never as done."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from accord import services
from accord.api.app import create_app
from accord.cli import app
from worlds import World, resolved_world

ENFORCEMENT = "removal_order_enforcement"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("cli-errors"), persons=300, seed=3)


@pytest.fixture
def db(world: World, tmp_path: Path) -> Path:
    """A copy of the world's store for a test that may change it."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(world.db, copy)
    return copy


def run(*args: str | Path, user: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args],
                              env={"COLUMNS": "200", "ACCORD_USER": user or "", **(env or {})})


def error(result: Result, code: int, *fragments: str) -> str:
    """The one error line of a failed command (stdout empty), with each of ``fragments``."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    said = " ".join(result.stderr.split())
    for fragment in fragments:
        assert fragment in said, (fragment, said)
    return said


def json_error(result: Result, code: int, kind: str) -> dict[str, Any]:
    assert result.exit_code == code, result.output
    assert result.stderr == ""
    body: dict[str, Any] = json.loads(result.stdout)["error"]
    assert body["kind"] == kind
    return body


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _runs_and_resolve_events(db: Path) -> tuple[int, list[str]]:
    return (query(db, "SELECT count(*) FROM resolution_runs")[0][0],
            [o for (o,) in query(db, "SELECT outcome FROM audit_events WHERE action = 'resolve' "
                                     "ORDER BY seq")])


# --- output paths are checked before anything changes ---------------------------------------------


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--model-out", "missing/model.json", "--model-out {p}: the folder {d} does not exist"),
    ("--model-out", ".", "is a folder"),
    ("--charts", "a-file", "--charts {p}: a file of that name exists"),
    ("--model", "missing.json", "--model {p}: no such model file"),
    ("--model", "list.json", "not a model saved by `accord resolve --model-out`"),
    ("--model", "format7.json", "model format 7, and this accord reads format 1"),
    ("--model", "truth.csv", "not a model saved by `accord resolve --model-out` (not JSON"),
    ("--settings", "missing.yaml", "--settings {p}: no such settings file"),
])
def test_resolve_refuses_a_bad_file_before_it_changes_the_store(db: Path, tmp_path: Path, world: World,
                                                                option: str, value: str, said: str) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "list.json").write_text("[1, 2]\n")
    (tmp_path / "format7.json").write_text('{"format": 7}\n')
    shutil.copy(world.world.truth_path, tmp_path / "truth.csv")
    path = tmp_path / value
    before = _runs_and_resolve_events(db)
    result = run("resolve", "--db", db, option, path, user="dana")
    error(result, 2, said.format(p=path, d=path.parent))
    assert _runs_and_resolve_events(db) == before          # no run, and not even a failed one
    assert not (tmp_path / "missing").exists()


def test_an_unexpected_error_is_an_internal_error_recorded_as_failed_with_no_run_stored(
        db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import accord.resolve.explain

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the chart writer broke")

    monkeypatch.setattr(accord.resolve.explain, "write_model_charts", broken)
    runs, events = _runs_and_resolve_events(db)
    said = error(run("resolve", "--db", db, user="dana"), 70,
                 "internal error: RuntimeError: the chart writer broke", "audit incident",
                 "this is a bug in accord", "ACCORD_TRACEBACK=1")
    incident = said.split("audit incident ")[1].split(":")[0]
    after_runs, after_events = _runs_and_resolve_events(db)
    assert after_runs == runs                               # the run was rolled back ...
    assert after_events == [*events, f"failed: RuntimeError (incident {incident})"]   # ... and failed


def test_an_internal_error_under_json_and_with_accord_traceback(db: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import accord.ingest.summary

    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(accord.ingest.summary, "sources", broken)
    body = json_error(run("sources", "--db", db, "--json", user="dana"), 70, "internal")
    assert body["message"].startswith("internal error: KeyError: 'oops' (audit incident ")
    assert query(db, "SELECT outcome FROM audit_events ORDER BY seq DESC LIMIT 1")[0][0].startswith(
        "failed: KeyError (incident ")
    shown = run("sources", "--db", db, user="dana", env={"ACCORD_TRACEBACK": "1"})
    assert shown.exit_code == 70 and "Traceback" in shown.stderr and "error: internal error" in shown.stderr


# --- unknown ids are not found, and a person the purpose may not see is not found alike ---------------


def _hidden_from_enforcement(db: Path) -> str:
    """A person all of whose records are withheld from the enforcement purpose (a floor)."""
    from accord.governance.registry import registry
    from accord.governance.scope import under_regimes_sql
    from accord.governance.visibility import withheld_regimes

    reg = registry()
    rows = query(db, f"""SELECT e.entity_id
                         FROM entity_members e JOIN records_current r USING (source, record_id)
                         GROUP BY e.entity_id
                         HAVING bool_and({under_regimes_sql(reg, withheld_regimes(reg, ENFORCEMENT), 'r')})
                         ORDER BY 1""")
    assert rows, "this world has a person whose records are all under a floor"
    return str(rows[0][0])


@pytest.mark.parametrize("command", ["person", "explain"])
def test_an_unknown_person_and_one_the_purpose_may_not_see_get_the_same_not_found(
        world: World, command: str) -> None:
    hidden = _hidden_from_enforcement(world.db)
    agreement = next(a.id for a in services.agreements(world.db, user="olive") if a.purpose == ENFORCEMENT)
    answers = []
    for pid in (hidden, "P999999999"):
        for fmt in ([], ["--json"]):
            result = run(command, pid, "--db", world.db, "--purpose", ENFORCEMENT, "--agreement", agreement,
                         *fmt, user="casey")
            if fmt:
                body = json_error(result, 1, "not_found")
                assert body["message"] == f"{pid}: not found in this purpose's view"
            else:
                error(result, 1, f"{pid}: not found in this purpose's view")
            answers.append((result.exit_code, result.stdout.replace(pid, "<id>"),
                            result.stderr.replace(pid, "<id>")))
    assert answers[:2] == answers[2:]
    action = "person.view" if command == "person" else "person.explain"
    outcomes = query(world.db, f"SELECT outcome FROM audit_events WHERE action = '{action}' "
                               "ORDER BY seq DESC LIMIT 4")
    assert {o for (o,) in outcomes} == {"nothing disclosed"}


@pytest.mark.parametrize(("args", "user", "said"), [
    (["subject-report", "--person", "NOPE"], "pat", "no person 'NOPE'"),
    (["quarantine", "--batch", "999"], "dana", "no batch 999"),
    (["flags", "--source", "nope"], "dana", "no source 'nope'"),
    (["disclosures", "--agreement", "NOPE"], "pat", "no agreement 'NOPE'"),
    (["worklist", "--agreement", "NOPE"], "casey", "no agreement 'NOPE'"),
    (["finding", "list", "--agreement", "NOPE"], "casey", "no agreement 'NOPE'"),
    (["agreements", "show", "NOPE"], "olive", "no agreement 'NOPE'"),
    (["users", "tokens", "nobody"], "admin", "no user 'nobody'"),
    (["dispute", "show", "D-999"], "pat", "no dispute 'D-999'"),
    (["finding", "step", "F-999", "--step", "verify"], "casey", "no finding 'F-999'"),
    (["annotation", "approve", "A-999"], "pat", "no annotation 'A-999'"),
])
def test_an_unknown_id_is_not_found_exit_1(world: World, args: list[str], user: str, said: str) -> None:
    error(run(*args, "--db", world.db, user=user), 1, said)


def test_an_unknown_agreement_is_refused_first_to_a_role_that_may_not_read_work_lists(world: World) -> None:
    error(run("worklist", "--agreement", "NOPE", "--db", world.db, user="ana"), 2,
          "refused: worklist.read", "not among the actions")


def test_the_api_answers_404_for_unknown_ids(world: World) -> None:
    tokens = {u: services.issue_token(world.db, u, user="admin") for u in ("pat", "dana", "casey")}
    client = TestClient(create_app(world.db))

    def get(path: str, user: str, **params: Any) -> dict[str, Any]:
        r = client.get(path, params=params, headers={"Authorization": f"Bearer {tokens[user]}"})
        assert r.status_code == 404, (path, r.text)
        body: dict[str, Any] = r.json()["error"]
        assert body["code"] == "not_found"
        return body

    assert "no person 'NOPE'" in get("/api/subject-reports/NOPE", "pat")["message"]
    assert get("/api/quarantine", "dana", batch=999)["message"] == "no batch 999 (see `accord batches`)"
    assert "no agreement 'NOPE'" in get("/api/disclosures", "pat", agreement="NOPE")["message"]
    assert "no agreement 'NOPE'" in get("/api/worklists/NOPE", "casey")["message"]


# --- stores, truth files, the environment, JSON errors ---------------------------------------------


def test_evaluate_names_the_columns_a_wrong_truth_file_lacks(world: World) -> None:
    said = error(run("evaluate", "--db", world.db, "--truth", world.world.persons_path, user="dana"), 2,
                 "not a truth file: it has no source, record_id columns", "source,record_id,person_id")
    assert "Binder" not in said


def test_a_foreign_duckdb_file_is_not_a_store_and_is_left_as_it_was(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE mine (a INTEGER)")
    con.close()
    error(run("sources", "--db", foreign, user="dana"), 3, "not an Accord store")
    error(run("ingest", "--db", foreign, "nope.yaml", user="dana"), 2, "nope.yaml")
    assert query(foreign, "SELECT table_name FROM information_schema.tables") == [("mine",)]


def test_an_unreachable_postgresql_url_is_a_store_error_and_makes_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    error(run("sources", "--db", "postgresql://nobody@127.0.0.1:1/accord", user="dana"), 3,
          "postgresql://nobody@127.0.0.1:1/accord: cannot connect to the PostgreSQL store")
    assert list(tmp_path.iterdir()) == []


def test_accord_db_names_the_store_and_a_missing_one_is_exit_3(world: World, tmp_path: Path) -> None:
    listed = run("sources", "--json", user="dana", env={"ACCORD_DB": str(world.db)})
    items = json.loads(listed.stdout)["items"]
    assert listed.exit_code == 0 and {s["source"] for s in items} >= {"court", "ssa"}
    error(run("sources", user="dana", env={"ACCORD_DB": str(tmp_path / "typo.duckdb")}), 3, "no such store")
    assert not (tmp_path / "typo.duckdb").exists()


def test_under_json_a_refusal_is_a_json_error_with_its_audit_event(world: World) -> None:
    body = json_error(run("sources", "--db", world.db, "--json", user="casey"), 2, "refused")
    assert body["message"].startswith("refused: sources.read") and isinstance(body["audit_event"], int)
    seq = body["audit_event"]
    assert query(world.db, f"SELECT decision FROM audit_events WHERE seq = {seq}") == [("deny",)]


def test_an_error_after_a_json_result_keeps_stdout_one_json_document(world: World) -> None:
    """ingest of several extracts stops at the first when the user may not ingest: the list it
    printed says so per extract, and the error that ends the command is a line on stderr."""
    mappings = [ex.mapping_path for ex in world.world.extracts[:2]]
    result = run("ingest", "--db", world.db, *mappings, "--json", user="ana")
    assert result.exit_code == 2, result.output
    listed = json.loads(result.stdout)
    assert [x["mapping"] for x in listed] == [str(mappings[0])] and "refused" in listed[0]["error"]
    assert result.stderr.startswith("error: refused: ingest")
