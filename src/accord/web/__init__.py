"""The web UI: server-rendered pages over the same services and gate as the CLI and API.

Pages are Jinja2 templates rendered on the server; htmx (vendored under ``static/``) only
makes links and forms swap the page body without a full reload, so every page reads and
works without JavaScript. See docs/ui.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from accord.web.core import FormRejected, LoginNeeded, UiConfig, current_user, login_redirect, render

STATIC = Path(__file__).parent / "static"


def install_ui(app: FastAPI) -> None:
    """Mount the UI's pages and static assets on the API's application (``app.state.db``)."""
    from accord.web import auth, casework, oversight, people

    app.state.ui = UiConfig(app.state.db)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, people, casework, oversight):
        app.include_router(module.router)

    @app.exception_handler(LoginNeeded)
    async def _login_needed(_: Request, e: LoginNeeded) -> Response:
        return login_redirect(e)

    @app.exception_handler(FormRejected)
    def _form_rejected(request: Request, _: FormRejected) -> HTMLResponse:
        try:
            user = current_user(request)
        except LoginNeeded:
            user = None
        return render(request, "rejected.html", user, status=403)
