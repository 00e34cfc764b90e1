"""Fixtures for the in-process UI tests: one demo world per session; each module works on its
own copy of the store through starlette's TestClient (no ports, no browser)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app

from .ui_world import UiWorld, build, csrf_of, login


@pytest.fixture(scope="session")
def ui_world(tmp_path_factory: pytest.TempPathFactory) -> UiWorld:
    return build(tmp_path_factory.mktemp("ui-world"))


@pytest.fixture(scope="module")
def ui_db(ui_world: UiWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ui_world.copy(tmp_path_factory.mktemp("ui-copy"))


class UiClient(TestClient):
    """A browser-like client with its own cookie jar and, once signed in, its form token."""

    csrf: str = ""


Client = Callable[..., UiClient]


@pytest.fixture(scope="module")
def client_for(ui_db: Path, ui_world: UiWorld) -> Client:
    """client_for(user=None): a fresh browser-like client over the module's store, signed in as
    ``user`` when given (each has its own cookie jar). ``client.csrf`` holds its form token."""

    def make(user: str | None = None) -> UiClient:
        client = UiClient(create_app(ui_db), follow_redirects=True)
        if user is not None:
            r = login(client, user, ui_world.tokens[user])
            assert r.status_code == 200, r.text
            client.csrf = csrf_of(r.text)
        return client

    return make
