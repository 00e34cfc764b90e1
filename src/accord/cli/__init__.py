"""Command line: parses, calls services, prints. No SQL and no policy here.

Commands live in modules by area; importing them registers them on ``app``.
"""

from __future__ import annotations

import os
import sys

from accord.cli import (  # noqa: F401  (registers the commands)
    admin,
    casework,
    data,
    mappings,
    people,
    sources,
    store,
)
from accord.cli.common import add_token_option, app

__all__ = ["app", "main"]

add_token_option(app)   # every command that acts as a user takes --token (ACCORD_TOKEN) too


def main() -> None:
    if not sys.stdout.isatty():
        os.environ.setdefault("COLUMNS", "120")
    app()
