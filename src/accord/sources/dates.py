"""Date formats in a mapping: the strptime directives the engine reads (checked when the
mapping loads, so a mistyped directive is an error that names the file, the key and the
directive, not a failure of every row), and the formats a dry run tries on a column whose
dates do not parse (``accord.ingest.dryrun``)."""

from __future__ import annotations

# Directives DuckDB's strptime reads (``%-d`` and the like: without a leading zero).
DIRECTIVES = frozenset("aAwdbBmyYHIpMSfzZjUWcxXgGuVn%")
UNPADDED = frozenset("dmyHIMSj")
# A directive that gives the year; without one every date would fall in 1900.
YEARS = frozenset("YyGx")
COMMON = "%Y %y %m %d %b %B %j %H %M %S"

# Formats a dry run tries on dates that do not parse, most usual first: the suggestion is the
# one that reads the most values (ties are all named: 03/04/2001 is either).
CANDIDATES: tuple[str, ...] = (
    "%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y%m%d", "%Y/%m/%d", "%m-%d-%Y", "%d-%m-%Y", "%d.%m.%Y",
    "%m/%d/%y", "%d/%m/%y", "%d %b %Y", "%d-%b-%Y", "%b %d %Y", "%b %d, %Y", "%d %B %Y",
    "%B %d, %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d%m%Y",
    "%m%d%Y", "%Y-%m",
)


def directives(fmt: str) -> list[str]:
    """The directives of ``fmt`` as written (``%Y``, ``%-d``, ``%%``), in order."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] != "%":
            i += 1
            continue
        token = fmt[i:i + 3] if fmt[i + 1:i + 2] == "-" else fmt[i:i + 2]
        out.append(token)
        i += len(token)
    return out


def format_problem(fmt: str) -> str | None:
    """What is wrong with the date format ``fmt``, or None: an unknown directive, a lone
    ``%`` at the end, or no year."""
    found = directives(fmt)
    for d in found:
        letter = d[-1] if len(d) > 1 else ""
        if d.startswith("%-"):
            ok = len(d) == 3 and letter in UNPADDED
        else:
            ok = len(d) == 2 and letter in DIRECTIVES
        if not ok:
            if d in ("%", "%-"):
                return f"format {fmt!r} ends with a lone '%' (write %% for a percent sign)"
            return (f"unknown date directive {d!r} in {fmt!r}; strptime directives include "
                    f"{COMMON} (e.g. %Y-%m-%d)")
    if not any(d[-1] in YEARS for d in found if d != "%%"):
        return (f"format {fmt!r} has no year directive (%Y or %y), so every date would fall in "
                "1900; write the format with strptime directives, e.g. %Y-%m-%d for 2024-03-31")
    return None
