"""Real-browser fixtures: Debian's Chromium driven by Playwright against `accord serve` in a
subprocess on a free port, over a small demo store built once per session.

Chromium must be installed (`make browser` installs Debian's package); without it these tests
fail with that instruction. Nothing is ever downloaded by a test tool (no `playwright install`).
Screenshots are kept under test-artifacts/browser/ at the repository root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from web.ui_world import UiWorld, build

CHROMIUM = Path(os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


@dataclass(frozen=True)
class Server:
    url: str
    world: UiWorld
    db: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accord() -> list[str]:
    script = Path(sys.executable).with_name("accord")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from accord.cli import main; main()"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Server]:
    world = build(tmp_path_factory.mktemp("browser-world"))
    db = world.copy(tmp_path_factory.mktemp("browser-store"))
    port = _free_port()
    log = (artifacts / "server.log").open("w", encoding="utf-8")
    command = [*_accord(), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"accord serve exited with {proc.returncode}; see {artifacts / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"accord serve did not answer on {url} within 60 s")
            time.sleep(0.2)
        yield Server(url, world, db)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
                    "package. Run `make browser` (it installs it with apt), or set ACCORD_CHROMIUM to a "
                    "Chromium binary. Tests never download a browser.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Playwright starts Chromium with a fresh temporary profile (user-data dir) every launch.
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
