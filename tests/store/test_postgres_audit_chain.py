"""The audit chain on a store several processes write at once (PostgreSQL): every append reads
the chain head inside its transaction under a row lock, so processes appending at the same
moment leave one chain, every event once, that verification accepts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from accord.governance import audit
from accord.store import open_store

pytestmark = pytest.mark.postgres

APPEND = """
import sys
from accord.governance import audit
from accord.store import open_store
url, who, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()                                   # all start together
with open_store(url) as store:
    for i in range(rounds):
        with store.transaction(ledger=True):
            audit.append_many(store, [audit.Event(user_id=who, action="test.append",
                                                  details={"round": i, "n": n}) for n in range(2)])
"""


def test_processes_appending_at_once_leave_one_verified_chain(pg_url: str) -> None:
    open_store(pg_url).close()
    writers, rounds = 4, 25
    procs = [subprocess.Popen([sys.executable, "-c", APPEND, pg_url, f"w{i}", str(rounds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for i in range(writers)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:                                        # go
        assert p.stdin is not None
        p.stdin.write("\n")
        p.stdin.flush()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    with open_store(pg_url) as store:
        check = audit.verify(store)
        assert check.ok, check.problem
        assert check.events == writers * rounds * 2
        seen = store.query("SELECT user_id, details FROM audit_events WHERE action = 'test.append'")
        assert len(seen) == len(set(seen)) == writers * rounds * 2
