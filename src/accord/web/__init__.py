"""The web UI: server-rendered pages over the same services and gate as the CLI and API."""

from __future__ import annotations

from fastapi import FastAPI


def install_ui(app: FastAPI) -> None:
    """Mount the UI's pages and static assets on the API's application (``app.state.db``)."""
