"""docs/api.md lists exactly the routes the app serves (method and path), no more, no fewer."""

from __future__ import annotations

import re
from pathlib import Path

from accord.api.app import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `(/[^`]*)` \|", re.M)


def _served() -> set[tuple[str, str]]:
    spec = create_app(Path("unused.duckdb")).openapi()
    return {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    documented = ROW.findall(DOC.read_text(encoding="utf-8"))
    assert len(documented) == len(set(documented)), "a route is listed twice"
    served = _served()
    assert served - set(documented) == set(), "routes missing from docs/api.md"
    assert set(documented) - served == set(), "docs/api.md lists routes the app does not serve"


def test_the_readme_points_at_the_api_doc() -> None:
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    assert "(docs/api.md)" in readme
