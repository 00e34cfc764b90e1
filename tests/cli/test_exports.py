"""Audited exports (`--out FILE --format csv|jsonl` on `accord worklist`, `accord finding list`,
`accord disclosures`, `accord audit events`) and verification of a file of queries
(`accord verify --queries FILE.csv --out RESULTS.csv`), driven through the real commands: each
export is the listing's own governed read or action, refused to whoever may not list, recorded
with its format and row count, and accounted for every person it names."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord import services
from accord.cli import app
from accord.store import Store

runner = CliRunner()
BENEFITS = "benefit_eligibility_verification"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = services.demo(tmp_path_factory.mktemp("cli-exports") / "w", persons=400, seed=3)
    enf = next(a for a in result.setup.agreements if a.startswith("CMA-ENF"))
    return {"db": str(result.db), "enf": enf, "ben": enf.replace("ENF", "BEN"),
            "persons_csv": result.world.persons_path}


def _run(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "200"})
    return result.exit_code, result.output


def _event(db: str, seq: int) -> dict[str, Any]:
    with Store(Path(db), read_only=True) as store:
        row = store.query_dicts("SELECT action, decision, outcome, details FROM audit_events WHERE seq = ?",
                                [seq])[0]
    return row | {"details": json.loads(row["details"])}


def _newest_seq(db: str) -> int:
    with Store(Path(db), read_only=True) as store:
        return int(store.scalar("SELECT max(seq) FROM audit_events"))


def _accounted(db: str, seq: int) -> list[tuple[str, str]]:
    with Store(Path(db), read_only=True) as store:
        return [(str(p), str(n)) for p, n in store.query(
            "SELECT person_id, nature FROM disclosures WHERE audit_seq = ? ORDER BY person_id", [seq])]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_worklist_export_is_a_governed_read_accounted_for_every_person(demo: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    db, enf = demo["db"], demo["enf"]
    code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, "--json")
    assert code == 0, text
    listed = json.loads(text)
    assert listed["total"] == listed["eligible"] and listed["limit"] == 50 and listed["offset"] == 0
    code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, "--out", str(tmp_path / "wl.csv"),
                      "--json")
    assert code == 0, text
    done = json.loads(text)
    rows = _csv(tmp_path / "wl.csv")
    assert done["rows"] == len(rows) == listed["eligible"] > 0 and done["format"] == "csv"
    assert [r["person_id"] for r in rows] == sorted(e["person_id"] for e in listed["entries"])[:len(rows)]
    assert json.loads(rows[0]["records"]) and rows[0]["verification"] == "unverified"
    assert stat.S_IMODE((tmp_path / "wl.csv").stat().st_mode) == 0o600
    event = _event(db, done["audit_event"])
    assert (event["action"], event["decision"]) == ("worklist.read", "allow")
    assert event["details"]["export"] == {"file": str(tmp_path / "wl.csv"), "format": "csv",
                                          "rows": len(rows)}
    assert _accounted(db, done["audit_event"]) == [(r["person_id"], "work list export (csv)")
                                                   for r in sorted(rows, key=lambda r: r["person_id"])]
    code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, "--out",
                      str(tmp_path / "wl.jsonl"))
    assert code == 0 and "exported" in text and "audit event" in text, text
    lines = [json.loads(line) for line in (tmp_path / "wl.jsonl").read_text("utf-8").splitlines()]
    assert [x["person_id"] for x in lines] == [r["person_id"] for r in rows]
    assert isinstance(lines[0]["records"], list)


def test_an_export_is_refused_to_whoever_may_not_list(demo: dict[str, Any], tmp_path: Path) -> None:
    db = demo["db"]
    for user, args in (("ana", ["worklist", "--agreement", demo["enf"]]),      # analyst: no work lists
                       ("casey", ["audit", "events"]),                          # caseworker: no audit log
                       ("casey", ["disclosures"]),
                       ("pat", ["finding", "list", "--agreement", demo["enf"]])):
        target = tmp_path / f"{user}-{args[0]}.csv"
        code, text = _run(user, *args, "--db", db, "--out", str(target))
        assert code == 2 and "refused" in text and "audit event" in text, (user, args, text)
        assert not target.exists()
        seq = int(text.rsplit("audit event", 1)[1].strip(" )\n"))
        assert _event(db, seq)["decision"] == "deny"


def test_a_bad_target_is_refused_before_anything_is_read(demo: dict[str, Any], tmp_path: Path) -> None:
    db, enf = demo["db"], demo["enf"]
    kept = tmp_path / "kept.csv"
    kept.write_text("mine\n", encoding="utf-8")
    before = _newest_seq(db)
    for extra, said in ((["--out", str(kept)], "already exists"),
                        (["--out", str(tmp_path / "wl.txt")], "give --format csv or --format jsonl"),
                        (["--out", str(tmp_path / "wl.csv"), "--format", "xlsx"], "csv or jsonl"),
                        (["--out", str(tmp_path / "no" / "wl.csv")], "does not exist"),
                        (["--out", str(tmp_path / "wl.csv"), "--limit", "5"], "leave out --limit"),
                        (["--format", "csv"], "--format goes with --out")):
        code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, *extra)
        assert code == 2 and said in text and "Traceback" not in text, (extra, text)
    assert kept.read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "wl.csv").exists()
    assert _newest_seq(db) == before          # nothing was read, so nothing to record


def test_oversight_exports_the_accounting_and_the_audit_log(demo: dict[str, Any], tmp_path: Path) -> None:
    db = demo["db"]
    code, text = _run("olive", "disclosures", "--db", db, "--json", "--limit", "1000")
    listed = json.loads(text)["items"]
    code, text = _run("olive", "disclosures", "--db", db, "--out", str(tmp_path / "d.jsonl"), "--json")
    assert code == 0, text
    done = json.loads(text)
    exported = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text("utf-8").splitlines()]
    assert exported == listed and done["rows"] == len(listed) > 0
    event = _event(db, done["audit_event"])
    assert event["action"] == "disclosures.read" and event["details"]["export"]["rows"] == len(listed)
    assert event["outcome"] == f"exported {len(listed)} disclosures (jsonl)"

    newest = _newest_seq(db)
    code, text = _run("olive", "audit", "events", "--db", db, "--out", str(tmp_path / "a.csv"), "--json")
    assert code == 0, text
    done = json.loads(text)
    rows = _csv(tmp_path / "a.csv")
    assert [int(r["seq"]) for r in rows] == list(range(newest, 0, -1))   # every event, newest first
    assert done["audit_event"] == newest + 1 and done["rows"] == newest
    assert json.loads(rows[0]["details"]) == _event(db, newest)["details"]
    assert _event(db, done["audit_event"])["details"]["export"] == {
        "file": str(tmp_path / "a.csv"), "format": "csv", "rows": newest}
    code, text = _run("olive", "audit", "events", "--db", db, "--action", "worklist.read", "--before",
                      str(newest), "--out", str(tmp_path / "w.jsonl"))
    assert code == 0, text
    actions = {json.loads(line)["action"] for line in (tmp_path / "w.jsonl").read_text("utf-8").splitlines()}
    assert actions == {"worklist.read"}


def test_findings_export_under_the_agreement(demo: dict[str, Any], tmp_path: Path) -> None:
    db, enf = demo["db"], demo["enf"]
    entry = services.worklist(Path(db), user="casey", agreement=enf, limit=1).entries[0]
    rec = entry.records[0]
    code, text = _run("casey", "finding", "open", "--db", db, "--person", entry.person_id, "--agreement", enf,
                      "--record", f"{rec.source}:{rec.record_id}", "--basis", "final order", "--json")
    assert code == 0, text
    finding = json.loads(text)["finding_id"]
    code, text = _run("carl", "finding", "list", "--db", db, "--agreement", enf, "--out",
                      str(tmp_path / "f.csv"), "--json")
    assert code == 0, text
    done = json.loads(text)
    rows = _csv(tmp_path / "f.csv")
    assert finding in [r["finding_id"] for r in rows] and done["rows"] == len(rows)
    assert json.loads(rows[0]["records"]) and rows[0]["state"] == "pending"
    assert (entry.person_id, "adverse-action findings export (csv)") in _accounted(db, done["audit_event"])
    assert _event(db, done["audit_event"])["details"]["export"]["rows"] == len(rows)


def _queries(demo: dict[str, Any], path: Path) -> list[dict[str, str]]:
    with Path(demo["persons_csv"]).open(encoding="utf-8", newline="") as f:
        people = [r for r in csv.DictReader(f) if r["status"] == "lpr" and r["a_number"]][:3]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ref", "name", "dob", "a_number"])
        for i, p in enumerate(people):
            w.writerow([f"case-{i}", f"{p['given_name']} {p['family_name']}", p["dob"], p["a_number"]])
        w.writerow(["bad-id", "Nobody Here", "1990-01-01", "123456789"])
        w.writerow(["no-id", "Nobody Here", "1990-01-01", ""])
    return people


def test_a_file_of_queries_is_verified_in_one_governed_batch(demo: dict[str, Any], tmp_path: Path) -> None:
    db, ben = demo["db"], demo["ben"]
    people = _queries(demo, tmp_path / "q.csv")
    assert people
    code, text = _run("bea", "verify", "--db", db, "--purpose", BENEFITS, "--agreement", ben,
                      "--queries", str(tmp_path / "q.csv"), "--out", str(tmp_path / "r.csv"), "--json")
    assert code == 0, text
    done = json.loads(text)
    rows = _csv(tmp_path / "r.csv")
    n = len(people)
    assert [(r["line"], r["ref"]) for r in rows] == [(str(i + 2), f"case-{i}") for i in range(n)] + [
        (str(n + 2), "bad-id"), (str(n + 3), "no-id")]
    for p, row in zip(people[:2], rows, strict=False):     # each answered as one verification is
        code, one = _run("bea", "verify", "--db", db, "--purpose", BENEFITS, "--agreement", ben,
                         "--name", f"{p['given_name']} {p['family_name']}", "--dob", p["dob"],
                         "--a-number", p["a_number"], "--json")
        single = json.loads(one)
        assert (row["answer"], row["result"], row["status"] or None, row["reason"]) == (
            single["answer"], single["result"], single["status"], single["reason"])
    bad, missing = rows[-2], rows[-1]
    assert bad["result"] == "invalid query" and "not a valid a_number" in bad["reason"]
    assert missing["answer"] == "institute additional verification"
    verified = sum(r["result"] == "verified" for r in rows)
    assert done == {"file": str(tmp_path / "r.csv"), "format": "csv", "queries": len(rows),
                    "verified": verified, "additional_verification": len(rows) - verified - 1, "invalid": 1,
                    "audit_event": done["audit_event"]}
    event = _event(db, done["audit_event"])
    assert event["action"] == "verify.query" and event["details"]["batch"] == {
        "queries": len(rows), "verified": verified, "additional_verification": len(rows) - verified - 1,
        "invalid": 1}
    accounted = _accounted(db, done["audit_event"])
    assert len(accounted) >= verified > 0
    assert {n for _, n in accounted} == {f"status verification responses (batch of {len(rows)})"}


def test_a_batch_is_refused_to_enforcement_and_bad_files_are_named(demo: dict[str, Any],
                                                                   tmp_path: Path) -> None:
    db, enf, ben = demo["db"], demo["enf"], demo["ben"]
    _queries(demo, tmp_path / "q.csv")
    code, text = _run("casey", "verify", "--db", db, "--purpose", "removal_order_enforcement", "--agreement",
                      enf, "--queries", str(tmp_path / "q.csv"), "--out", str(tmp_path / "r.csv"))
    assert code == 2 and "refused" in text and not (tmp_path / "r.csv").exists()
    (tmp_path / "cols.csv").write_text("name,dob,a_number,nationality\nA B,1990-01-01,012345678,X\n", "utf-8")
    (tmp_path / "cells.csv").write_text("name,dob,a_number\nA B,1990-01-01,012345678\nA B,1990-01-01\n",
                                        "utf-8")
    (tmp_path / "noid.csv").write_text("name,dob\nA B,1990-01-01\n", "utf-8")
    base = ["verify", "--db", db, "--purpose", BENEFITS, "--agreement", ben]
    for args, said in (
            (["--queries", str(tmp_path / "cols.csv"), "--out", str(tmp_path / "r.csv")],
             "line 1: unknown column(s) 'nationality'"),
            (["--queries", str(tmp_path / "cells.csv"), "--out", str(tmp_path / "r.csv")],
             "line 3: 2 cells, the header has 3"),
            (["--queries", str(tmp_path / "noid.csv"), "--out", str(tmp_path / "r.csv")],
             "needs the columns name, dob and a_number or ssn"),
            (["--queries", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "r.csv")], "no such file"),
            (["--queries", str(tmp_path / "q.csv")], "--queries needs --out"),
            (["--queries", str(tmp_path / "q.csv"), "--out", str(tmp_path / "r.csv"), "--name", "A B"],
             "leave out --name"),
            (["--name", "A B", "--dob", "1990-01-01", "--out", str(tmp_path / "r.csv")], "go with --queries"),
            ([], "give --name and --dob")):
        code, text = _run("bea", *base, *args)
        assert code == 2 and said in text and "Traceback" not in text, (args, text)
    assert not (tmp_path / "r.csv").exists()
