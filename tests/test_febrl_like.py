"""An extract shaped like the FEBRL benchmark (Australian addresses, 4-digit postcodes, states,
a 7-digit identifier of its own scheme), written here: every column maps onto a canonical
field, ingests without quarantine, and two records that agree on that identifier and differ
by a typo in the name resolve into one person."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from accord.eval.metrics import evaluate
from accord.ingest import ingest_file
from accord.resolve.pipeline import resolve
from accord.store import Store

COLUMNS = ("rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
           "state", "date_of_birth", "soc_sec_id")
GIVEN = ("mitchell", "harley", "madeline", "isabelle", "taylor", "toby", "harry", "lydia", "hollie", "dylan",
         "jack", "chloe", "liam", "olivia", "noah", "emily", "lachlan", "ruby", "cooper", "zoe")
FAMILY = ("green", "mccarthy", "mason", "hathaway", "webb", "stubbs", "vincent", "donaldson", "zilm", "parr",
          "whiteway", "millar", "matthews", "shandley", "egan", "junge", "browne", "drechsler", "white",
          "painter")
STREETS = ("wallaby place", "pridham street", "hoseason street", "gundulu place", "yuranigh court",
           "kent street", "mountain creek road", "mckillop circuit", "hemmings crescent", "blamey crescent")
PLACES = (("cleveland", "2119", "nsw"), ("marsden", "3165", "vic"), ("granville", "4881", "qld"),
          ("utakarra", "6193", "wa"), ("towradgi", "5107", "sa"), ("eaton", "7310", "tas"))
MAPPING = """source: febrl_like
system: ssa-numident
format: csv
file: febrl_like.csv
record_id: rec_id
fields:
  given_name: given_name
  family_name: surname
  street_number: street_number
  street: address_1
  address_line_2: address_2
  city: suburb
  postcode: postcode
  region: state
  dob: {column: date_of_birth, format: "%Y%m%d"}
  other_id: {column: soc_sec_id, namespace: febrl_soc_sec}
"""


def _typo(rng: random.Random, s: str) -> str:
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:] if rng.random() < 0.5 else s[:i] + s[i + 1:]


def _write(folder: Path, persons: int = 400, seed: int = 7) -> tuple[Path, Path]:
    rng = random.Random(seed)
    rows, truth = [], []
    ids = rng.sample(range(1_000_000, 9_999_999), persons)
    for p in range(persons):
        suburb, postcode, state = rng.choice(PLACES)
        base = {"given_name": rng.choice(GIVEN), "surname": rng.choice(FAMILY),
                "street_number": str(rng.randint(1, 200)), "address_1": rng.choice(STREETS),
                "address_2": rng.choice(("delmar", "milton", "", "kenroy park")), "suburb": suburb,
                "postcode": postcode, "state": state,
                "date_of_birth": f"{rng.randint(1920, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
                "soc_sec_id": str(ids[p])}
        copies = [dict(base, rec_id=f"rec-{p}-org")]
        for d in range(rng.choice((0, 0, 1, 2))):
            dup = dict(base, rec_id=f"rec-{p}-dup-{d}")
            field = rng.choice(("given_name", "surname", "address_1", "suburb"))
            dup[field] = _typo(rng, dup[field])
            copies.append(dup)
        for row in copies:
            rows.append(row)
            truth.append(("febrl_like", row["rec_id"], str(p)))
    # The pair the test is about: one identifier, a typo in the given name, no date of birth on
    # the later record, which was written after a move.
    pair = {"given_name": "mitchell", "surname": "kowalczyk", "street_number": "7",
            "address_1": "wallaby place",
            "address_2": "delmar", "suburb": "cleveland", "postcode": "2119", "state": "nsw",
            "date_of_birth": "19560409", "soc_sec_id": "1804974"}
    moved = {"street_number": "54", "address_1": "hoseason street", "address_2": "", "suburb": "granville",
             "postcode": "4881", "state": "qld", "date_of_birth": ""}
    rows += [dict(pair, rec_id="rec-9000-org"),
             dict(pair, rec_id="rec-9000-dup-0", given_name="mitchlel", **moved)]
    truth += [("febrl_like", "rec-9000-org", "9000"), ("febrl_like", "rec-9000-dup-0", "9000")]
    rng.shuffle(rows)
    with (folder / "febrl_like.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with (folder / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("source", "record_id", "person_id"), *truth])
    (folder / "febrl_like.yaml").write_text(MAPPING, encoding="utf-8")
    return folder / "febrl_like.yaml", folder / "truth.csv"


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    folder = tmp_path_factory.mktemp("febrl_like")
    mapping, truth = _write(folder)
    db = folder / "s.duckdb"
    with Store(db) as store:
        quarantined = ingest_file(store, mapping).quarantined
        resolve(store)
    return db, truth, quarantined


def test_every_column_is_mapped_and_stored(resolved: tuple[Path, Path, int]) -> None:
    db, _, quarantined = resolved
    assert quarantined == 0
    with Store(db, read_only=True) as store:
        row = store.query("SELECT given_name, family_name, street_number, street, address_line_2, city, "
                          "postcode, region, CAST(dob AS VARCHAR), other_id FROM records_current "
                          "WHERE record_id = 'rec-9000-org'")
    assert row == [("mitchell", "kowalczyk", "7", "wallaby place", "delmar", "cleveland", "2119", "nsw",
                    "1956-04-09", "febrl_soc_sec:1804974")]


def test_an_agreeing_identifier_carries_a_name_with_a_typo(resolved: tuple[Path, Path, int]) -> None:
    db, truth, _ = resolved
    with Store(db, read_only=True) as store:
        persons = store.query("SELECT DISTINCT entity_id FROM entity_members "
                              "WHERE record_id IN ('rec-9000-org', 'rec-9000-dup-0')")
        assert len(persons) == 1
        assert store.scalar("SELECT count(*) FROM entity_members WHERE entity_id = ?", [persons[0][0]]) == 2
        m = evaluate(store, truth)
    assert m["pair_precision"] == 1.0, m
    assert m["pair_recall"] >= 0.95, m


def test_a_model_with_nothing_to_learn_from_says_so(tmp_path: Path) -> None:
    # Every record of a system under a floor regime (a voter roll) is outside the statistics
    # base, which alone trains the model: EM has nothing to learn from, and the run says so
    # with what to do, instead of scoring with starting guesses in silence.
    mapping, _ = _write(tmp_path, persons=120)
    mapping.write_text(MAPPING.replace("system: ssa-numident", "system: state-voter-roll"),
                       encoding="utf-8")
    with Store(tmp_path / "v.duckdb") as store:
        ingest_file(store, mapping)
        summary = resolve(store)
    (note,) = [m for m in summary.blocking_messages if "not trained" in m]
    assert "holds 0 of" in note and "--labels" in note and "--model" in note


def test_a_trained_model_says_nothing_of_training(resolved: tuple[Path, Path, int]) -> None:
    db, _, _ = resolved
    with Store(db) as store:
        summary = resolve(store)
    assert not [m for m in summary.blocking_messages if "not trained" in m]
