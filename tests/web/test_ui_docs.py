"""docs/ui.md keeps up with the UI: every page and every vendored asset is described."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.routing import APIRoute

from accord.web import STATIC, auth, casework, oversight, people

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ui.md").read_text(encoding="utf-8")


def test_every_page_is_in_the_ui_doc() -> None:
    pages = {re.sub(r"\{[^}]+\}", "{id}", r.path) for m in (auth, people, casework, oversight)
             for r in m.router.routes if isinstance(r, APIRoute) and "GET" in r.methods}
    assert len(pages) >= 8
    assert {p for p in pages if f"`{p}" not in DOC} == set()


def test_vendored_scripts_carry_their_licence_and_version() -> None:
    assert (STATIC / "htmx.LICENSE.txt").read_text(encoding="utf-8").startswith("Zero-Clause BSD")
    version = re.search(r"htmx\]\(https://htmx.org\) (\d+\.\d+\.\d+)", DOC)
    assert version and f'version:"{version.group(1)}"' in (STATIC / "htmx.min.js").read_text(encoding="utf-8")
