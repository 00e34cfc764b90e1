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


def _change(store: Store) -> None:
    with store.transaction():
        store.put_meta("probe", str(store.data_version()))


def test_one_request_reads_the_data_version_once_and_the_next_reads_it_afresh(pg_url: str) -> None:
    with open_store(pg_url) as server, open_store(pg_url) as other:
        reads: list[str] = []
        real = server._execute

        def counting(sql: str, params: object) -> object:
            if "accord_data_version" in sql and sql.lstrip().upper().startswith("SELECT"):
                reads.append(sql)
            return real(sql, params)  # type: ignore[arg-type]

        server._execute = counting  # type: ignore[method-assign]
        with server.pinned():
            first = server.data_version()
            _change(other)                                  # another process commits meanwhile
            assert [server.data_version() for _ in range(5)] == [first] * 5
            assert len(reads) == 1                          # one round trip for the request
        with server.pinned():
            assert server.data_version() == first + 1       # the next request sees the change
            _change(server)                                 # its own change: seen at once
            assert server.data_version() == first + 2
        assert server.data_version() == other.data_version() == first + 2   # unpinned: always read
