"""Configuration and arguments are checked before anything is written; docs stay in step."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from accord.errors import AccordError
from accord.synth import STATUSES, SynthConfig, generate

from .synth_helpers import WrittenWorld

DOCS = Path(__file__).resolve().parents[2] / "docs" / "synth.md"


@pytest.mark.parametrize("changes", [
    {"bad_row_rate": 1.5},
    {"typo_rate": -0.1},
    {"ssn_rate": {"martian": 0.5}},
    {"foreign_born_status_mix": {"lpr": 0.5}},
    {"foreign_born_status_mix": {"citizen_birth": 1.0}},
    {"tax_years": (2026,)},
    {"household_sizes": {0: 1.0}},
    {"death_window_years": 0.0},
])
def test_invalid_config_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(AccordError, match="synth config"):
        dataclasses.replace(SynthConfig(), **changes)  # type: ignore[arg-type]


def test_state_must_have_places(tmp_path: Path) -> None:
    with pytest.raises(AccordError, match="no cities"):
        generate(10, 1, tmp_path, config=SynthConfig(state="ZZ"))


@pytest.mark.parametrize(("persons", "fmt", "seed"), [(0, "csv", 1), (10, "xlsx", 1),
                                                     (10, "csv", -1)])
def test_invalid_arguments_are_refused(tmp_path: Path, persons: int, fmt: str, seed: int) -> None:
    with pytest.raises(AccordError):
        generate(persons, seed, tmp_path / "w", fmt=fmt)
    assert not (tmp_path / "w").exists()


def test_docs_describe_every_setting_status_and_column(csv_world: WrittenWorld) -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_0-9]+)`", text))
    missing = [f.name for f in dataclasses.fields(SynthConfig) if f.name not in documented]
    assert not missing, f"docs/synth.md does not document {missing}"
    assert not [s for s in STATUSES if s not in documented]
    for source, ex in csv_world.extracts.items():
        assert f"`{source}`" in text, source
        for column in ex.table.column_names:
            assert f"`{column}`" in text, f"{source}.{column} not documented"
