"""FastAPI application over the service layer.

Every person-data route needs a bearer token (``accord users token``) and declares its
purpose (``X-Accord-Purpose``) and, where the purpose needs one, its agreement
(``X-Accord-Agreement``); the governance gate decides and audits each request exactly as for
the CLI. The API opens no store and decides no policy: routes call ``accord.services``.

Errors are JSON ``{"error": {"code", "message", "reasons"}}`` on every ``/api`` path: refusals
(401, 403, with the gate's reasons), unknown routes (404), wrong methods (405), invalid input
(422) and unexpected failures (500, logged with an incident id; no internals in the answer).
Every other path belongs to the web UI and gets the same errors as an HTML page with a link home.
Routes are listed in docs/api.md.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord import __version__
from accord.api.deps import STORE_UNAVAILABLE, ApiError, current_user
from accord.api.routes import admin, casework, data, people
from accord.api.schemas import MAX_PAGE, HealthOut, VerifyIn
from accord.errors import AccordError, StoreError
from accord.governance.gate import PolicyDenied
from accord.web import install_ui
from accord.web.core import error_page, is_api

__all__ = ["MAX_PAGE", "ApiError", "VerifyIn", "create_app", "current_user"]

log = logging.getLogger("accord.api")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def error_response(status: int, code: str, message: str, reasons: list[str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "reasons": list(reasons or [])}},
                        status_code=status, headers=headers)


def answer(request: Request, status: int, code: str, message: str, reasons: list[str] | None = None,
           headers: dict[str, str] | None = None, *, audit_event: int | None = None,
           incident: str | None = None) -> Response:
    """An error: the JSON shape on the API's paths, an HTML page (with a link home) on the UI's."""
    if is_api(request.url.path):
        return error_response(status, code, message, reasons, headers)
    return error_page(request, status, message, reasons, audit_event=audit_event, incident=incident,
                      headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, e: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        return error_response(e.status, e.code, e.message, e.reasons, headers)

    @app.exception_handler(PolicyDenied)
    def _denied(request: Request, e: PolicyDenied) -> Response:
        return answer(request, 403, "refused", str(e), list(e.reasons), audit_event=e.audit_seq)

    @app.exception_handler(StoreError)
    def _store(request: Request, e: StoreError) -> Response:
        log.error("store unavailable: %s", e)   # the message names server paths: log it, answer plainly
        return answer(request, 503, "store_unavailable", STORE_UNAVAILABLE)

    @app.exception_handler(AccordError)
    def _accord_error(request: Request, e: AccordError) -> Response:
        return answer(request, 400, "bad_request", str(e))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, e: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(x) for x in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
                    for err in e.errors()[:10]]
        return answer(request, 422, "invalid_request", problems[0] if problems else "invalid request",
                      problems)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, e: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(e.status_code, "http_error")
        message = {404: f"no route {request.url.path}" if is_api(request.url.path)
                   else "There is no page at this address.",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(e.status_code,
                                                                                      str(e.detail))
        return answer(request, e.status_code, code, message, headers=dict(e.headers or {}))

    @app.exception_handler(Exception)
    def _unexpected(request: Request, e: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        # a sync handler runs in a worker thread: hand the exception to the log explicitly
        log.error("incident %s: unexpected error on %s %s", incident, request.method, request.url.path,
                  exc_info=e)
        return answer(request, 500, "internal_error",
                      f"unexpected error (incident {incident}); it has been logged", incident=incident)


def create_app(db: Path) -> FastAPI:
    app = FastAPI(title="Accord", version=__version__,
                  description="Purpose-bound person data with evidence, confidence and audit. Send "
                              "`Authorization: Bearer <token>` and, for person data, `X-Accord-Purpose` "
                              "and `X-Accord-Agreement`. Every list is paged (at most "
                              f"{MAX_PAGE}); every error is `{{\"error\": {{code, message, reasons}}}}`.")
    app.state.db = Path(db)
    install_error_handlers(app)

    @app.get("/api/health", response_model=HealthOut, tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness; no data, no token needed."""
        return {"status": "ok", "version": __version__}

    for module in (people, casework, admin, data):
        app.include_router(module.router)

    install_ui(app)
    return app
