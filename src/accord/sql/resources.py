"""What the embedded engine may use while a stage runs, and giving memory back between steps.

``engine_resources`` applies a memory limit and a thread count to a connection for the length
of a stage (ingest, resolve) and restores the connection's own afterwards. Beyond the limit
DuckDB spills its working tables and join partitions to its temporary directory instead of
growing.

``release_memory`` hands freed memory back to the operating system. DuckDB frees its working
memory into its allocator (jemalloc on Linux), which keeps the pages for reuse and returns
them only after a decay period, and only while it is busy: a step that used 300 MB leaves the
process 300 MB larger long after the memory was freed, and Python work that follows (NumPy,
Arrow) then adds to it. Purging between steps keeps the process's resident size close to what
is actually in use. It changes no data and is a no-op where the allocator cannot be reached.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import duckdb

from accord.sql.backend import DuckDBBackend
from accord.sql_text import lit

MIB = 1024 ** 2
_UNITS = {"B": 1, "KB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12,
          "KIB": 2 ** 10, "MIB": 2 ** 20, "GIB": 2 ** 30, "TIB": 2 ** 40}
SIZE = r"\d+(\.\d+)?\s*([KMGT]i?B|B)"


def parse_size(text: str) -> int:
    """Bytes in a size such as ``300MB``, ``1.5GiB`` or ``4096B``."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*", text, flags=re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def machine_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def auto_budget(wanted: int, floor: int = 256 * MIB) -> int:
    """``wanted`` bytes, at least ``floor`` and at most half the machine's memory."""
    budget = max(floor, wanted)
    total = machine_memory()
    return min(budget, total // 2) if total else budget


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return str(con.execute(f"SELECT current_setting({lit(name)})").fetchall()[0][0])


@contextlib.contextmanager
def engine_resources(con: Any, budget: int | None, threads: int | None) -> Iterator[None]:
    """Apply the memory limit (bytes) and thread count for a stage, then restore the
    connection's own. ``con``: a DuckDB connection (``accord.sql.backend.compute_connection``),
    or a backend over one (``DuckDBBackend``)."""
    con = con.con if isinstance(con, DuckDBBackend) else con
    wanted = {"memory_limit": f"{budget // MIB}MiB" if budget else None,
              "threads": str(threads) if threads else None}
    saved: dict[str, str] = {}
    try:
        for name, value in wanted.items():
            if value is None:
                continue
            saved[name] = _setting(con, name)
            con.execute(f"SET {name} = {lit(value)}")
        yield
    finally:
        for name, value in saved.items():
            with contextlib.suppress(Exception):  # never mask the stage's own error
                # The engine's default exactly when it was the default (the setting reads
                # back rounded, "18.8 GiB"), else the value it read back.
                con.execute(f"RESET {name}")
                if _setting(con, name) != value:
                    con.execute(f"SET {name} = {lit(value)}")


_PURGE_ALL_ARENAS = b"arena.4096.purge"  # 4096: jemalloc's "every arena"


@functools.cache
def _purgers() -> tuple[Callable[[], object], ...]:
    out: list[Callable[[], object]] = []
    try:  # DuckDB's bundled jemalloc (Linux builds)
        import _duckdb  # type: ignore[import-not-found,unused-ignore]

        mallctl = ctypes.CDLL(_duckdb.__file__).duckdb_je_mallctl
        mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_size_t]
        mallctl.restype = ctypes.c_int
        if mallctl(_PURGE_ALL_ARENAS, None, None, None, 0) == 0:
            out.append(functools.partial(mallctl, _PURGE_ALL_ARENAS, None, None, None, 0))
    except (ImportError, OSError, AttributeError, TypeError):
        pass
    try:  # the C library's allocator (Python, NumPy and parts of the engine)
        trim = ctypes.CDLL("libc.so.6").malloc_trim
        trim.argtypes = [ctypes.c_size_t]
        out.append(functools.partial(trim, 0))
    except (OSError, AttributeError):
        pass
    return tuple(out)


def release_memory() -> None:
    """Return the memory the engine, Arrow and the C allocator have freed to the operating
    system."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    for purge in _purgers():
        purge()
