"""Golden SQL: the SQL the resolution steps generate, pinned in files per dialect (DuckDB, and
the Spark SQL it transpiles to), so that every change to it shows in review.

Tests only compare the generated SQL with the files. Rewriting them is a deliberate step of
its own, whose diff is then reviewed::

    python -m accord.sql.golden --update          # rewrite the files that differ
    python -m accord.sql.golden                   # list the files that differ (exit 1 if any)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from accord.resolve.blocking import pairs_sql
from accord.resolve.comparisons import gammas_sql, pair_frame_sql
from accord.resolve.settings import default_settings
from accord.sql.pipeline import DIALECT, transpile

DIALECTS = (DIALECT, "spark")
FOLDER = Path("tests/resolve/golden")    # from the repository's root


# The pinned steps: name -> builder of its SQL (DuckDB dialect).
STEPS: dict[str, Callable[[], str]] = {
    "pairs": lambda: pairs_sql(default_settings().blocking, "resolve_features"),
    "pair_frame": lambda: pair_frame_sql("pairs", "resolve_features"),
    "gammas": lambda: gammas_sql("frame"),
}


def generated(step: str, dialect: str = DIALECT) -> str:
    """The SQL of ``step`` in ``dialect``, as its golden file holds it."""
    return transpile(STEPS[step](), dialect) + "\n"


def path(folder: Path, step: str, dialect: str = DIALECT) -> Path:
    return folder / f"{step}.{dialect}.sql"


def differing(folder: Path) -> list[Path]:
    """The golden files in ``folder`` that are missing or differ from the generated SQL."""
    return [path(folder, step, dialect) for step in STEPS for dialect in DIALECTS
            if not path(folder, step, dialect).is_file()
            or path(folder, step, dialect).read_text("utf-8") != generated(step, dialect)]


def update(folder: Path) -> list[Path]:
    """Rewrite the golden files that differ; returns them."""
    changed = differing(folder)
    for p in changed:
        step, dialect = p.name.removesuffix(".sql").split(".")
        p.write_text(generated(step, dialect), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m accord.sql.golden", description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the golden files that differ")
    parser.add_argument("--dir", type=Path, default=FOLDER, help=f"the golden folder (default {FOLDER})")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"{args.dir}: no such folder (run from the repository's root, or give --dir)")
    files = update(args.dir) if args.update else differing(args.dir)
    for p in files:
        print(f"{'rewrote' if args.update else 'differs'}: {p}")
    if not files:
        print("golden SQL up to date")
    return 0 if args.update or not files else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
