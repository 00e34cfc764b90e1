"""On PostgreSQL, where other processes write while a server keeps values: a token another
process revokes, or a user another process deactivates, is refused on the next lookup; a kept
answer is never served after a change committed elsewhere."""

from __future__ import annotations

import subprocess
import sys

import pytest

from accord.governance import users
from accord.store import Store, open_store

pytestmark = pytest.mark.postgres

OTHER = """
import sys
from accord.governance import users
from accord.store import open_store
url, what, token = sys.argv[1:4]
with open_store(url) as store:
    if what == "revoke":
        users.revoke_token(store, "dana", token)
    else:
        users.deactivate_user(store, "dana")
"""


def lookup(store: Store, token: str) -> str | None:
    """As the server looks a token up: kept for the store's data version."""
    actor = store.reuse(("token", token), lambda: users.actor_for_token(store, token))
    return actor.user_id if actor is not None else None


@pytest.mark.parametrize("what", ["revoke", "deactivate"])
def test_a_change_by_another_process_is_seen_on_the_next_lookup(pg_url: str, what: str) -> None:
    with open_store(pg_url) as store:
        users.add_user(store, "admin", "Admin", ["admin"], None, "setup")
        users.add_user(store, "dana", "Dana", ["data_engineer"], None, "admin")
        token = users.issue_token(store, "dana", "admin")
        assert lookup(store, token) == "dana"
        kept_at = store.data_version()
        assert store.shared.cache.get(("token", token), kept_at) is not None      # kept
        subprocess.run([sys.executable, "-c", OTHER, pg_url, what, token], check=True)
        assert lookup(store, token) is None                                       # refused at once
        assert store.data_version() > kept_at
