"""Memory figures of the running process, for the benches (Linux /proc; ru_maxrss elsewhere)."""

from __future__ import annotations

import os
import resource


def peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM). Not ru_maxrss: Linux
    carries that across fork and exec, so a child would report its parent's size at the fork
    (the world generated in the parent) whenever that is the larger."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB/bytes


def rss_mb() -> float:
    """Resident memory now (the imports' share, before any work)."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
