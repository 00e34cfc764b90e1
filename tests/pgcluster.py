"""A private PostgreSQL cluster for the tests: initdb and pg_ctl from Debian's postgresql package
(`make test` installs it when missing) in a temporary folder, listening on a Unix socket there
only. Started once per test session; each test gets a database of its own.

PostgreSQL refuses to run as root: under root the cluster runs as the package's `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    path = found[0] if found else shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: the PostgreSQL tests need Debian's postgresql package "
                           "(`make test` installs it)")
    return path


class Cluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        self.data = self.root / "data"
        self.socket = self.root
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.root, self.user)
        os.chmod(self.root, 0o755)
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.root / "log"), "start")

    def _run(self, *argv: str) -> None:
        cmd = ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# Fixtures (a pytest plugin of tests/conftest.py).

@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A new, empty database of the private cluster."""
    return pg_cluster.new_database()
