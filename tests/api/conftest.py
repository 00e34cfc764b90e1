"""Fixtures for the API tests: one resolved world per session with a token for every sample
user; each test module works on its own copy of that store (routes write: disputes, findings,
users, audit events), so modules stay independent and the world is built once."""

from __future__ import annotations

import pytest

from accord import services
from worlds import resolved_world

from .helpers import BENEFITS, ENFORCEMENT, USERS, Api, Template, copy_api


@pytest.fixture(scope="session")
def api_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    world = resolved_world(tmp_path_factory.mktemp("api-world"), persons=1500, seed=4)
    tokens = {u: services.issue_token(world.db, u, user="admin") for u in USERS}
    rows = services.agreements(world.db, user="olive")
    enf = next(a.id for a in rows if a.purpose == ENFORCEMENT)
    ben = next(a.id for a in rows if a.purpose == BENEFITS)
    return Template(world, tokens, enf, ben)


@pytest.fixture(scope="module")
def api(api_template: Template, tmp_path_factory: pytest.TempPathFactory) -> Api:
    return copy_api(api_template, tmp_path_factory.mktemp("api-copy"))


