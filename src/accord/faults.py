"""Named pause points for crash tests.

When ``ACCORD_PAUSE_AT`` names a point, the process writes ``ACCORD_PAUSE_FILE`` and
sleeps there, so a test can kill it at exactly that moment (e.g. mid-transaction).
Unset in normal use: the check is one environment lookup.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def checkpoint(name: str) -> None:
    if os.environ.get("ACCORD_PAUSE_AT") != name:
        return
    marker = os.environ.get("ACCORD_PAUSE_FILE")
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    while True:  # pragma: no cover - killed by the test
        time.sleep(0.05)
