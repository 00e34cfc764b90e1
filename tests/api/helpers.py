"""What the API tests share: a client over a private copy of a resolved world with everyone's
tokens, and checks for the error shape and the gate's refusals."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from accord.api.app import create_app
from worlds import World

USERS = ("admin", "ana", "bea", "casey", "carl", "dana", "olive", "pat", "priya", "tess")
ENFORCEMENT = "removal_order_enforcement"
BENEFITS = "benefit_eligibility_verification"


@dataclass
class Api:
    """A client over a private copy of the session's world, with everyone's tokens."""

    client: TestClient
    db: Path
    world: Any          # accord.synth result of the template world (extract paths, truth)
    agreements_dir: Path
    tokens: dict[str, str]
    enf: str             # the enforcement agreement
    ben: str             # the benefits agreement

    def h(self, user: str, **declared: str) -> dict[str, str]:
        """Authorization for ``user`` plus X-Accord-<Purpose|Agreement|Justification> headers."""
        return {"Authorization": f"Bearer {self.tokens[user]}",
                **{f"X-Accord-{k.title()}": v for k, v in declared.items()}}

    def enforcement(self, user: str = "casey") -> dict[str, str]:
        return self.h(user, purpose=ENFORCEMENT, agreement=self.enf)

    def benefits(self, user: str = "ana") -> dict[str, str]:
        return self.h(user, purpose=BENEFITS, agreement=self.ben)


@dataclass
class Template:
    world: World
    tokens: dict[str, str]
    enf: str
    ben: str


def copy_api(template: Template, folder: Path) -> Api:
    db = folder / "api.duckdb"
    shutil.copyfile(template.world.db, db)
    wal = template.world.db.with_name(template.world.db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, db.with_name(db.name + ".wal"))
    client = TestClient(create_app(db), raise_server_exceptions=False)
    return Api(client, db, template.world.world, template.world.db.with_name("a-agreements"),
               dict(template.tokens), template.enf, template.ben)


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    """The error body of a response, after checking its status, shape and code."""
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "reasons"}, body
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


def refused(r: Any, *words: str) -> list[str]:
    """A 403 refusal from the gate whose reasons mention each of ``words``."""
    reasons: list[str] = error(r, 403, "refused")["reasons"]
    assert reasons
    for w in words:
        assert any(w in reason for reason in reasons), (w, reasons)
    return reasons


SECOND_ADMIN = "adam"


def second_admin(api: Api) -> dict[str, str]:
    """Authorization of a second administrator, added on first use: a grant of a role that
    reads person data (or of oversight) takes effect only when an administrator other than the
    one who asked for it approves it."""
    if SECOND_ADMIN not in api.tokens:
        r = api.client.post("/api/users", headers=api.h("admin"), json={
            "user_id": SECOND_ADMIN, "name": "Adam Admin", "roles": ["admin"]})
        assert r.status_code == 201 and r.json()["roles"] == ["admin"], r.text
        t = api.client.post(f"/api/users/{SECOND_ADMIN}/tokens", headers=api.h("admin"))
        assert t.status_code == 201, t.text
        api.tokens[SECOND_ADMIN] = t.json()["token"]
    return api.h(SECOND_ADMIN)


def add_user(api: Api, body: dict[str, Any], *, token: bool = False) -> dict[str, Any]:
    """Add a user as ``admin`` and approve each pending grant as the second administrator, as
    an agency would; the user as listed then (with a token in ``api.tokens`` if asked)."""
    r = api.client.post("/api/users", headers=api.h("admin"), json=body)
    assert r.status_code == 201, r.text
    for g in r.json()["pending_grants"]:
        ok = api.client.post(f"/api/users/{body['user_id']}/grants/{g['grant_id']}/approval",
                             headers=second_admin(api))
        assert ok.status_code == 200 and ok.json()["state"] == "granted", ok.text
    if token:
        t = api.client.post(f"/api/users/{body['user_id']}/tokens", headers=api.h("admin"))
        assert t.status_code == 201, t.text
        api.tokens[body["user_id"]] = t.json()["token"]
    everyone = api.client.get("/api/users", params={"limit": 100}, headers=api.h("admin")).json()["items"]
    added: dict[str, Any] = next(u for u in everyone if u["user_id"] == body["user_id"])
    assert sorted(added["roles"]) == sorted(set(body["roles"])) and not added["pending_grants"], added
    return added
