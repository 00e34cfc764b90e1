"""The command line starts without the heavy layers: importing ``accord.cli``, or asking any
command for its help, loads neither the services nor what they bring (the store engines,
FastAPI, pyarrow, numpy, pydantic); a command loads them when it runs. Checked in a fresh
interpreter, by what it has imported, not by a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import accord

HEAVY = ("fastapi", "duckdb", "accord.services", "pyarrow", "numpy", "pydantic", "accord.store",
         "uvicorn")
SRC = Path(accord.__file__).resolve().parents[1]


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running ``code``."""
    script = (f"import json, sys\n{code}\n"
              f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_command_line_loads_no_service_engine_or_web_layer() -> None:
    assert _loaded_after("import accord.cli") == []


@pytest.mark.parametrize("argv", [["--help"], ["ingest", "--help"], ["resolve", "--help"],
                                  ["users", "add", "--help"], ["serve", "--help"], ["--version"]])
def test_help_loads_no_service_engine_or_web_layer(argv: list[str]) -> None:
    code = ("import contextlib, io\n"
            f"sys.argv = ['accord', *{argv!r}]\n"
            "from accord.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main()")
    assert _loaded_after(code) == []


def test_a_command_that_runs_loads_the_services(tmp_path: Path) -> None:
    """The other side: the services are there when a command needs them (here to refuse a store
    that does not exist), so the check above is not passing for want of loading anything."""
    code = ("import contextlib, io\n"
            f"sys.argv = ['accord', 'sources', '--db', {str(tmp_path / 'none.duckdb')!r}, '--user', 'x']\n"
            "from accord.cli import main\n"
            "with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main()")
    assert "accord.services" in _loaded_after(code)
