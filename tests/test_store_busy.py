"""A store another process holds: opening it says which process holds it and what to do (stop
it, or ask the running server's API), and the command line prints that as one paragraph and
exits non-zero. The holder is a real second process that opens the store for writing, says
"ready" and waits; nothing here waits on time."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from accord.errors import StoreError
from accord.store import SERVER_ROUTES, Store, busy_message

HOLD = """
import sys
from accord.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()      # until the test closes our stdin
store.close()
"""
PROC = Path("/proc/self/cmdline").exists()


class Holder:
    def __init__(self, db: Path, *extra: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "holds-the-store", *extra],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()          # blocks until the store is open
        assert line.strip() == "ready", f"the holding process did not open the store: {line!r}"
        self.pid = self.process.pid

    def release(self) -> None:
        self.process.communicate(timeout=60)           # closes its stdin, reads to the end
        assert self.process.returncode == 0


Hold = Callable[..., Holder]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    Store(path).close()
    return path


@pytest.fixture
def hold(db: Path) -> Iterator[Hold]:
    holders: list[Holder] = []

    def start(*extra: str) -> Holder:
        holders.append(Holder(db, *extra))
        return holders[-1]

    yield start
    for h in holders:
        if h.process.poll() is None:
            h.release()


def _says_what_to_do(said: str) -> None:
    assert "\n" not in said, "one paragraph"
    assert "only one process at a time" in said
    assert "stop" in said.lower() and "run the command again" in said
    for route, _ in SERVER_ROUTES:
        assert route in said
    for route in ("/api/audit/verification", "/api/audit/events", "/api/batches", "/api/quarantine",
                  "/api/flags", "/api/quality"):
        assert route in said
    assert "Authorization: Bearer" in said


@pytest.mark.parametrize("read_only", [False, True])
def test_opening_a_held_store_names_the_holder_and_what_to_do(db: Path, hold: Hold,
                                                               read_only: bool) -> None:
    holder = hold()
    with pytest.raises(StoreError) as e:
        Store(db, read_only=read_only)
    said = str(e.value)
    assert said.startswith(f"{db}: the store is in use by process {holder.pid} (")
    if PROC:
        assert "holds-the-store" in said            # its command line, from /proc
    assert "if it is `accord serve`" in said
    _says_what_to_do(said)
    holder.release()
    Store(db).close()                                # free again once the holder is gone


def test_the_holders_token_is_not_shown(db: Path, hold: Hold) -> None:
    hold("--token", "s3cret-token-value")
    with pytest.raises(StoreError) as e:
        Store(db)
    assert "s3cret-token-value" not in str(e.value)
    if PROC:
        assert "--token …" in str(e.value)


@pytest.mark.skipif(not PROC, reason="the holder's command line comes from /proc")
@pytest.mark.parametrize("padding", [0, 400])
def test_a_holder_that_is_accord_serve_is_named_so(db: Path, hold: Hold, padding: int) -> None:
    # A long interpreter path or script before `accord serve` (as on a CI machine) must not hide
    # it: what the holder is is decided on its whole command line, which is shortened only to show.
    hold(*(["--pad", "p" * padding] if padding else []), "accord", "serve", "--db", str(db))
    with pytest.raises(StoreError) as e:
        Store(db)
    said = str(e.value)
    assert "That process is `accord serve`: stop it and run the command again, or ask it" in said
    assert len(said) < 2000, "the holder's command line is shortened for display"
    _says_what_to_do(said)


CLI = "from accord.cli import main; main()"


@pytest.mark.parametrize("command", [["audit", "events", "--user", "olive"], ["batches", "--user", "dana"],
                                     ["serve", "--port", "1"]])
def test_the_command_line_prints_one_paragraph_and_exits_non_zero(db: Path, hold: Hold,
                                                                  command: list[str]) -> None:
    """``serve`` does not catch Accord errors itself: the command line's error boundary does."""
    holder = hold()
    run = subprocess.run([sys.executable, "-c", CLI, *command, "--db", str(db)], capture_output=True,
                         text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")},
                              "COLUMNS": "80"})
    assert run.returncode == 3, run.stderr     # the store is busy (docs/cli.md)
    assert "Traceback" not in run.stderr
    said = run.stderr.strip()
    assert said.startswith("error: ") and f"process {holder.pid}" in said
    _says_what_to_do(said.removeprefix("error: "))


def test_other_errors_are_not_taken_for_a_busy_store(tmp_path: Path) -> None:
    assert busy_message(tmp_path, "IO Error: Cannot open file: Permission denied") is None
    said = busy_message(tmp_path, 'IO Error: Could not set lock on file "x": Conflicting lock is held '
                                  "in /opt/other/bin/tool (PID 999999999). See also https://duckdb.org")
    assert said is not None and "process 999999999 (/opt/other/bin/tool)" in said
