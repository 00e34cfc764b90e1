"""Person-data and casework commands through the CLI: purpose required, refusals exit 2,
the subject report lists the disclosures made through the other commands."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accord.cli import app
from worlds import World, resolved_world

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return resolved_world(tmp_path_factory.mktemp("cli-people"), persons=1500, seed=4)


def _run(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "200"})
    return result.exit_code, result.output


def test_worklist_person_and_subject_report(world: World) -> None:
    db = str(world.db)
    agreements = json.loads(_run("olive", "agreements", "list", "--db", db, "--json")[1])["items"]
    enf = next(a["id"] for a in agreements if a["purpose"] == "removal_order_enforcement")
    code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, "--json")
    assert code == 0, text
    wl = json.loads(text)
    assert set(wl) >= {"entries", "excluded"}
    assert wl["entries"], "expected at least one work-list entry in this world"
    pid = wl["entries"][0]["person_id"]
    code, text = _run("casey", "person", pid, "--db", db, "--json")
    assert code == 2 and "declare a purpose" in text
    code, text = _run("casey", "person", pid, "--db", db, "--purpose", "removal_order_enforcement",
                      "--agreement", enf, "--json")
    assert code == 0, text
    seen = json.loads(text)
    code, text = _run("pat", "subject-report", "--person", pid, "--db", db, "--include-law-enforcement",
                      "--json")
    assert code == 0, text
    report = json.loads(text)
    seqs = {d.get("audit_seq") for d in report["disclosures"]}
    assert {wl["audit_event"], seen["audit_event"]} <= seqs
    code, text = _run("casey", "subject-report", "--person", pid, "--db", db)
    assert code == 2 and "refused" in text
