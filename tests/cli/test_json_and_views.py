"""`--json` on the commands that had none (with the paging fields of lists), `accord quality`,
`accord search --tin`, and the person view in text showing attributes and links in full."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from accord import services
from accord.cli import app

runner = CliRunner()
BENEFITS = "benefit_eligibility_verification"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = services.demo(tmp_path_factory.mktemp("cli-json") / "w", persons=400, seed=5)
    enf = next(a for a in result.setup.agreements if a.startswith("CMA-ENF"))
    return {"db": str(result.db), "enf": enf, "ben": enf.replace("ENF", "BEN"),
            "persons_csv": result.world.persons_path}


def _run(user: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"ACCORD_USER": user, "COLUMNS": "100"})
    return result.exit_code, result.output


def test_administration_commands_print_json(demo: dict[str, Any], tmp_path: Path) -> None:
    db = demo["db"]
    code, text = _run("admin", "users", "add", "erin", "--role", "analyst", "--name", "Erin", "--org",
                      "State Benefits Agency", "--db", db, "--json")
    assert code == 0, text
    added = json.loads(text)
    assert added["user_id"] == "erin" and [g["role"] for g in added["pending_grants"]] == ["analyst"]
    grant = added["pending_grants"][0]["grant_id"]
    code, text = _run("adam", "users", "approve-grant", grant, "--db", db, "--json")
    assert code == 2      # no such administrator: refused, not JSON
    code, text = _run("admin", "users", "reject-grant", grant, "--reason", "not needed", "--db", db, "--json")
    assert code == 0 and json.loads(text)["state"] == "rejected", text
    code, text = _run("admin", "users", "token", "erin", "--db", db, "--json")
    token = json.loads(text)
    assert token["user_id"] == "erin" and token["token"].startswith("acc_")
    code, text = _run("admin", "users", "deactivate", "erin", "--db", db, "--json")
    assert code == 0 and json.loads(text)["active"] is False, text
    code, text = _run("admin", "users", "list", "--db", db, "--json")
    listed = json.loads(text)
    assert listed["total"] == len(listed["items"]) and listed["next_offset"] is None
    assert "erin" in [u["user_id"] for u in listed["items"]]
    shown = json.loads(_run("pat", "agreements", "show", demo["ben"], "--db", db, "--json")[1])
    again = tmp_path / "agreement.yaml"
    again.write_text(yaml.safe_dump({k: v for k, v in shown.items() if k not in ("state", "ends_on")}),
                     encoding="utf-8")
    code, text = _run("pat", "agreements", "add", str(again), "--db", db, "--json")
    assert code == 0, text
    assert json.loads(text)["id"] == demo["ben"] and json.loads(text)["version"] == 2


def test_data_commands_print_json_with_paging(demo: dict[str, Any], tmp_path: Path) -> None:
    db = demo["db"]
    code, text = _run("dana", "batches", "--db", db, "--limit", "3", "--json")
    first = json.loads(text)
    assert code == 0 and len(first["items"]) == 3 and first["next_offset"] == 3
    code, text = _run("dana", "batches", "--db", db, "--limit", "3", "--offset", "3", "--json")
    second = json.loads(text)
    assert {b["batch"] for b in first["items"]}.isdisjoint(b["batch"] for b in second["items"])
    sources = json.loads(_run("dana", "sources", "--db", db, "--json")[1])
    assert sources["total"] == len(sources["items"]) == 8
    code, text = _run("dana", "synth", "--persons", "30", "--seed", "2", "--out", str(tmp_path / "s"),
                      "--json")
    assert code == 0, text
    world = json.loads(text)
    assert world["persons"] == 30 and len(world["extracts"]) == 8 and Path(world["truth"]).is_file()


def test_worklist_pages_under_json(demo: dict[str, Any]) -> None:
    db, enf = demo["db"], demo["enf"]
    whole = json.loads(_run("casey", "worklist", "--db", db, "--agreement", enf, "--json")[1])
    eligible = whole["eligible"]
    assert eligible == whole["candidates"] - sum(whole["excluded"].values()) == whole["total"]
    page = json.loads(_run("casey", "worklist", "--db", db, "--agreement", enf, "--limit", "1", "--json")[1])
    assert (page["limit"], page["offset"], page["total"]) == (1, 0, eligible)
    assert page["next_offset"] == (1 if eligible > 1 else None)
    past = json.loads(_run("casey", "worklist", "--db", db, "--agreement", enf, "--offset", str(eligible),
                           "--json")[1])
    assert past["entries"] == [] and past["next_offset"] is None and past["offset"] == eligible
    code, text = _run("casey", "worklist", "--db", db, "--agreement", enf, "--limit", "1")
    assert code == 0 and ("more: --offset 1" in text) == (eligible > 1)


def test_quality_counts_for_oversight_only(demo: dict[str, Any]) -> None:
    db = demo["db"]
    code, text = _run("olive", "quality", "--db", db, "--json")
    assert code == 0, text
    q = json.loads(text)
    assert q["entities"]["persons"] > 0 and q["records"]["current"] > 0 and q["latest_run"]["run_id"] == 1
    code, text = _run("olive", "quality", "--db", db)
    assert code == 0 and "linkage quality as of" in text and "records per person" in text
    assert f"{q['entities']['persons']:,}" in text
    code, text = _run("casey", "quality", "--db", db)
    assert code == 2 and "refused" in text


def test_search_by_tin_and_the_person_view_in_full(demo: dict[str, Any]) -> None:
    db, ben = demo["db"], demo["ben"]
    with Path(demo["persons_csv"]).open(encoding="utf-8", newline="") as f:
        p = next(r for r in csv.DictReader(f) if r["status"] == "lpr" and r["ssn"])
    base = ["search", "--db", db, "--purpose", BENEFITS, "--agreement", ben, "--json"]
    by_tin = json.loads(_run("ana", *base, "--tin", p["ssn"])[1])
    by_ssn = json.loads(_run("ana", *base, "--ssn", p["ssn"])[1])
    assert by_tin["hits"] and by_tin["limit"] == 20
    assert by_tin["hits"][0]["person_id"] == by_ssn["hits"][0]["person_id"]
    code, text = _run("ana", *base, "--tin", "123-45-6789")
    assert code == 2 and "tin" in text
    pid = by_tin["hits"][0]["person_id"]
    view = ["person", pid, "--db", db, "--purpose", BENEFITS, "--agreement", ben]
    shown = json.loads(_run("ana", *view, "--json")[1])["person"]
    code, text = _run("ana", *view)
    assert code == 0, text
    assert "attributes" in text and "…" not in text
    flat = "".join(text.split())
    for attribute in shown["attributes"]:
        assert attribute["field"] in text
        for value in attribute["values"]:
            assert "".join(str(value["value"]).split()) in flat      # wrapped, never cut
    if shown["links"]:
        assert "links" in text and f"{shown['links'][0]['match_weight']:+.2f}" in text
