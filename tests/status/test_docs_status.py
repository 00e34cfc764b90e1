"""docs/status.md stays honest: the tests it names exist; exclusion codes are documented."""

from __future__ import annotations

import re
from pathlib import Path

from accord.status import EXCLUSIONS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "status.md").read_text(encoding="utf-8")


def test_every_test_named_in_the_rule_table_exists() -> None:
    table = DOC.split("## Rule → test", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", table))
    assert len(named) > 20
    defined = set()
    for path in (ROOT / "tests" / "status").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_[a-z0-9_]+)", path.read_text(encoding="utf-8"), re.M))
    assert named - defined == set()


def test_every_exclusion_code_is_documented() -> None:
    assert {c for c in EXCLUSIONS if f"| `{c}` |" not in DOC} == set()
