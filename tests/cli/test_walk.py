"""A walk through the commands of the README and docs/cli.md on a small world, as a new user
would take it: each step with good input must succeed, and each with bad input must fail with
one error line (or one JSON error under --json) and a non-zero exit code, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

from accord.cli import app

ENFORCEMENT = "removal_order_enforcement"
BENEFITS = "benefit_eligibility_verification"


class Walk:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "walk.duckdb"
        self.steps: list[str] = []

    def run(self, *args: str | Path, user: str | None = None, env: dict[str, str] | None = None) -> Result:
        argv = [str(a) for a in args]
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200", "ACCORD_USER": user or "",
                                                    "ACCORD_DB": "", **(env or {})})
        shown = f"accord {' '.join(argv)} (as {user})"
        self.steps.append(shown)
        assert "Traceback" not in result.output, (shown, result.output)
        # an exception the boundary let through would end the run as an exception, not an exit
        assert result.exception is None or isinstance(result.exception, SystemExit), (shown, result.exception)
        return result

    def ok(self, *args: str | Path, user: str | None = None, **kw: Any) -> Result:
        result = self.run(*args, user=user, **kw)
        assert result.exit_code == 0, (self.steps[-1], result.output)
        return result

    def json(self, *args: str | Path, user: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", user=user).stdout)

    def bad(self, *args: str | Path, user: str | None = None, code: int | None = None, says: str = "",
            **kw: Any) -> Result:
        result = self.run(*args, user=user, **kw)
        assert result.exit_code != 0, (self.steps[-1], result.output)
        if code is not None:
            assert result.exit_code == code, (self.steps[-1], result.output)
        if "--json" in [str(a) for a in args] and result.stdout.strip().startswith("{"):
            said = json.loads(result.stdout)["error"]["message"]
        else:
            # usage errors are typer's own box; every other error is one line
            assert result.stderr.startswith(("error: ", "Usage:", "╭")), (self.steps[-1], result.stderr)
            if result.stderr.startswith("error: "):
                assert len(result.stderr.strip().splitlines()) == 1, (self.steps[-1], result.stderr)
            said = " ".join(result.stderr.split())
        assert says in said, (self.steps[-1], says, said)
        return result


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Walk:
    return Walk(tmp_path_factory.mktemp("walk"))


def test_the_walk(walk: Walk) -> None:
    w, db, here = walk, walk.db, walk.folder
    world = here / "world"

    # --- a world, a store, its extracts ---
    w.bad("synth", "--persons", "120", "--out", world, "--format", "xml", code=2, says="--format must be")
    w.ok("synth", "--persons", "300", "--seed", "3", "--out", world)   # its work list has an entry
    w.bad("sources", "--db", db, user="dana", code=3, says="no such store")
    w.ok("init", "--db", db, "--samples")
    w.bad("init", "--db", db, code=3, says="a store already exists")
    w.bad("ingest", "--db", db, here / "nope.yaml", user="dana", code=2, says="nope.yaml")
    bad_dates = world / "bad-dates.yaml"
    bad_dates.write_text((world / "court.mapping.yaml").read_text().replace("%Y-%m-%d", "%Q-%m"))
    w.bad("ingest", "--db", db, bad_dates, "--json", user="dana")      # a bad date format: an error
    bad_dates.unlink()
    w.bad("ingest", "--db", db, world, user="ana", code=2, says="refused: ingest")
    w.ok("ingest", "--db", db, world, user="dana")
    assert w.json("sources", "--db", db, user="dana")
    batches = w.json("batches", "--db", db, user="dana")
    w.ok("quarantine", "--db", db, "--batch", batches["items"][0]["batch"], user="dana")
    w.bad("quarantine", "--db", db, "--batch", "999", user="dana", code=1, says="no batch 999")
    w.ok("flags", "--db", db, user="dana")
    w.bad("flags", "--db", db, "--field", "tax_year", user="dana", code=2, says="not an identity field")

    # --- resolve, evaluate ---
    a_file = here / "a-file"
    a_file.write_text("x")
    w.bad("resolve", "--db", db, "--settings", here / "none.yaml",
          user="dana", code=2, says="no such settings file")
    w.bad("resolve", "--db", db, "--model-out", here / "no" / "m.json",
          user="dana", code=2, says="does not exist")
    w.bad("resolve", "--db", db, "--charts", a_file, user="dana", code=2, says="a file of that name exists")
    w.bad("resolve", "--db", db, "--model", world / "truth.csv",
          user="dana", code=2, says="not a model saved")
    w.bad("resolve", "--db", db, user="casey", code=2, says="refused: resolve")
    w.bad("resolve", "--db", db, "--redo", user="dana", code=2, says="no resolution run yet")
    model = here / "model.json"
    run = w.json("resolve", "--db", db, "--model-out", model, "--charts", here / "charts", user="dana")
    assert run["entities"] > 0 and model.is_file()
    w.ok("resolve", "--db", db, "--model", model, user="dana")
    redo = w.json("resolve", "--db", db, "--redo", user="dana")     # nothing is waiting
    assert redo["records"] == 0 and redo["waiting"] == 0
    assert w.json("evaluate", "--db", db, "--truth", world / "truth.csv", user="dana")["pair_f1"] > 0.5
    w.bad("evaluate", "--db", db, "--truth", world / "persons.csv",
          user="dana", code=2, says="not a truth file")
    w.bad("evaluate", "--db", db, "--truth", here / "none.csv",
          user="dana", code=2, says="no such truth file")

    # --- governance: users, agreements, audit, disclosures ---
    w.ok("users", "list", "--db", db, user="admin")
    w.bad("users", "add", "zed", "--role", "wizard", "--name", "Zed", "--db", db, user="admin", code=2)
    w.bad("users", "tokens", "nobody", "--db", db, user="admin", code=1, says="no user 'nobody'")
    agreements = w.json("agreements", "list", "--db", db, user="olive")
    enf = next(a["id"] for a in agreements["items"] if a["purpose"] == ENFORCEMENT)
    ben = next(a["id"] for a in agreements["items"] if a["purpose"] == BENEFITS)
    w.ok("agreements", "show", enf, "--db", db, user="olive")
    w.bad("agreements", "show", "NOPE", "--db", db, user="olive", code=1, says="no agreement 'NOPE'")
    w.bad("agreements", "add", here / "none.yaml", "--db", db, user="pat", code=2)
    w.ok("audit", "verify", "--db", db, user="olive")
    w.bad("audit", "verify", "--db", db, "--head", here / "none.json", user="olive", code=2,
          says="not an exported audit head")
    w.ok("audit", "events", "--db", db, "--limit", "5", user="olive")

    # --- people, under a purpose ---
    listed = w.json("worklist", "--db", db, "--agreement", enf, user="casey")
    w.bad("worklist", "--db", db, "--agreement", "NOPE", user="casey", code=1, says="no agreement 'NOPE'")
    w.bad("worklist", "--db", db, "--agreement", enf, "--limit", "0", user="casey", code=2, says="--limit")
    entry = listed["entries"][0]
    pid = entry["person_id"]
    declared = ["--purpose", ENFORCEMENT, "--agreement", enf]
    w.ok("person", pid, "--db", db, *declared, user="casey")
    w.bad("person", pid, "--db", db, user="casey", code=2, says="declare a purpose")
    w.bad("person", "P999999999", "--db", db, *declared,
          user="casey", code=1, says="not found in this purpose")
    w.bad("person", "P999999999", "--db", db, *declared, "--json", user="casey", code=1, says="not found")
    w.ok("explain", pid, "--db", db, *declared, user="casey")
    w.bad("explain", "P999999999", "--db", db, *declared, user="casey", code=1, says="not found")
    hits = w.json("search", "--db", db, *declared, "--name", entry["name"], "--dob", entry["dob"],
                  user="casey")
    assert pid in [h["person_id"] for h in hits["hits"]]
    w.bad("search", "--db", db, *declared, user="casey", code=2)
    if entry.get("a_number"):
        w.ok("verify", "--db", db, "--purpose", BENEFITS, "--agreement", ben, "--name", entry["name"],
             "--dob", entry["dob"], "--a-number", entry["a_number"], user="bea")
    w.ok("disclosures", "--db", db, "--person", pid, user="pat")
    w.bad("disclosures", "--db", db, "--agreement", "NOPE", user="pat", code=1, says="no agreement 'NOPE'")

    # --- rights and safeguards ---
    report = w.json("subject-report", "--person", pid, "--db", db, user="pat")
    assert report["person_id"] == pid and report["records"]
    w.bad("subject-report", "--person", "NOPE", "--db", db, user="pat", code=1, says="no person 'NOPE'")
    w.bad("subject-report", "--person", pid, "--db", db, user="casey", code=2, says="refused")
    w.ok("dispute", "list", "--db", db, user="pat")
    w.bad("dispute", "show", "D-999", "--db", db, user="pat", code=1, says="no dispute 'D-999'")
    w.bad("dispute", "handle", "D-999", "--action", "acknowledge", "--db", db, user="pat", code=1)
    w.ok("finding", "list", "--agreement", enf, "--db", db, user="casey")
    w.bad("finding", "list", "--agreement", "NOPE", "--db", db, user="casey", code=1, says="no agreement")
    w.bad("annotation", "approve", "A-999", "--db", db, user="pat", code=1, says="no annotation 'A-999'")

    # --- stores: the environment, foreign files, URLs, copies ---
    w.ok("sources", user="dana", env={"ACCORD_DB": str(db)})
    foreign = here / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE mine (a INTEGER)")
    con.close()
    w.bad("sources", "--db", foreign, user="dana", code=3, says="not an Accord store")
    w.bad("sources", "--db", "postgresql://nobody@127.0.0.1:1/accord",
          user="dana", code=3, says="cannot connect")
    w.bad("sources", "--db", foreign, "--json", user="dana", code=3, says="not an Accord store")
    copy = here / "copy.duckdb"
    shutil.copy(foreign, copy)
    w.bad("store", "copy", "--from", db, "--to", copy, user="admin")
    w.bad("nonsense", code=2)
    w.bad("person", code=2)
    assert len(w.steps) > 60
