"""A store another process holds: which process, and what to do instead.

DuckDB lets one process at a time open a store file; the second gets "Could not set lock on
file ... Conflicting lock is held in ... (PID N)". :func:`busy_message` turns that into one
paragraph: the process that holds it (its command line, from ``/proc``, with any token hidden)
and what to do: stop it, or, when it is ``accord serve``, ask it over HTTP.
"""

from __future__ import annotations

import re
from pathlib import Path

# The read-only oversight and data commands a running server answers (accord.api.routes).
SERVER_ROUTES = (("GET /api/audit/verification", "`accord audit verify`"),
                 ("GET /api/audit/events", "`accord audit events`"),
                 ("GET /api/batches", "`accord batches`"),
                 ("GET /api/quarantine", "`accord quarantine`"),
                 ("GET /api/flags", "`accord flags`"),
                 ("GET /api/quality", "the linkage-quality report"))
_LOCK_HELD = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")
_SECRET_OPTION = re.compile(r"(--token[= ])\S+")


def _one_line(e: BaseException | str) -> str:
    return " ".join(str(e).split())


def holder_command(pid: int) -> str | None:
    """The whole command line of process ``pid`` (``/proc/<pid>/cmdline``) on one line, with any
    ``--token`` value hidden; None when it cannot be read (another system, another user's
    process, gone). ``busy_message`` shortens it for display after deciding what it is."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = " ".join(" ".join(w.decode(errors="replace") for w in raw.split(b"\0")).split())
    if not text:
        return None
    return _SECRET_OPTION.sub(r"\1…", text)


def _shortened(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters: the start (the program) and the end (its arguments, where
    ``accord serve`` and a hidden ``--token`` are), the middle left out."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + " … " + text[-(limit - head - 3):]


def busy_message(path: Path, error: str) -> str | None:
    """The answer to opening a store another process holds (DuckDB's "Could not set lock on
    file ... Conflicting lock is held in ... (PID N)"), in one paragraph: which process holds it
    and what to do; None when ``error`` is not that."""
    held = _LOCK_HELD.search(error)
    if held is None and "Could not set lock" not in error:
        return None
    command = None
    if held is None:
        who = "another process"
    else:
        pid = int(held["pid"])
        command = holder_command(pid)
        who = f"process {pid} ({_shortened(command) if command else _one_line(held['program'])})"
    server = bool(command and re.search(r"\baccord\b.*\bserve\b", command))   # on the whole line
    *first, last = [f"{route} ({said})" for route, said in SERVER_ROUTES]
    routes = f"{', '.join(first)} and {last}"
    what = ("That process is `accord serve`: stop it and run the command again, or ask it" if server
            else "Stop that process and run the command again, or, if it is `accord serve`, ask the "
                 "running server")
    return (f"{path}: the store is in use by {who}, and only one process at a time may open an embedded "
            f"store. {what} over HTTP with one of your API tokens (Authorization: Bearer <token>): it "
            f"answers the read-only oversight and data commands at {routes}; docs/api.md has the details")
