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

Before any route runs, three small ASGI middlewares see every request: ``NoStore`` marks every
answer but the static assets ``Cache-Control: no-store`` (answers carry person data);
``AuthenticateFirst`` checks the bearer token of every API route that needs one (all but
``/api/health``) before anything reads the request's body (an anonymous caller gets 401 however
large or malformed its body); ``LimitBody`` refuses a body over the size limit
(``ACCORD_MAX_BODY_BYTES``, default 1 MiB) by its Content-Length, or as soon as the bytes
received pass it, with 413. ``/docs`` is Swagger UI served from the vendored copy under
``/static/vendor/swagger-ui`` (nothing loads from another host).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord import __version__
from accord.api.deps import AUTHENTICATED, STORE_UNAVAILABLE, ApiError, current_user, user_for_token
from accord.api.routes import admin, casework, data, people
from accord.api.schemas import MAX_PAGE, HealthOut, VerifyIn
from accord.errors import AccordError, NotFound, StoreError
from accord.governance.gate import PolicyDenied
from accord.store.target import StoreTarget
from accord.web import install_ui
from accord.web.core import error_page, is_api, plain_error_page

__all__ = ["MAX_BODY", "MAX_PAGE", "ApiError", "VerifyIn", "create_app", "current_user"]

log = logging.getLogger("accord.api")

MAX_BODY = 1024 * 1024            # bytes a request body may have, unless ACCORD_MAX_BODY_BYTES says
MAX_BODY_SETTING = "ACCORD_MAX_BODY_BYTES"
SWAGGER_UI = "/static/vendor/swagger-ui"   # swagger-ui-dist, vendored (see its README.txt)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def error_response(status: int, code: str, message: str, reasons: list[str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "reasons": list(reasons or [])}},
                        status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def answer(request: Request, status: int, code: str, message: str, reasons: list[str] | None = None,
           headers: dict[str, str] | None = None, *, audit_event: int | None = None,
           incident: str | None = None) -> Response:
    """An error: the JSON shape on the API's paths, an HTML page (with a link home) on the UI's."""
    if is_api(request.url.path):
        return error_response(status, code, message, reasons, headers)
    return error_page(request, status, message, reasons, audit_event=audit_event, incident=incident,
                      headers=headers)


class BodyTooLarge(StarletteHTTPException):
    """A request body over the limit: raised while it is being received (the route reading it
    re-raises HTTP errors, so the app's handler answers 413 in the path's shape)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


class LimitBody:
    """Refuse request bodies over ``limit`` bytes before they are read: by their Content-Length
    at once, and, for a body sent without one (chunked), as soon as the bytes received pass it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isdecimal() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        message = str(BodyTooLarge(self.limit).detail)
        response = (error_response(413, "too_large", message) if is_api(request.url.path)
                    else plain_error_page(request, 413, message[:1].upper() + message[1:] + "."))
        await response(scope, receive, send)


class AuthenticateFirst:
    """Check the bearer token of a request to an API path that needs one (every path whose
    operations the OpenAPI description marks as needing the token: all but ``/api/health``)
    before anything reads the request's body: FastAPI reads a route's body before it solves the
    route's dependencies, so ``current_user`` alone would come too late. The user is left in the
    request's state, where ``current_user`` finds it."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app, self.api = app, api
        self._secured: list[re.Pattern[str]] | None = None

    def _needs_token(self, path: str) -> bool:
        if self._secured is None:
            paths = self.api.openapi()["paths"]
            self._secured = [compile_path(p)[0] for p, ops in paths.items()
                             if any(op.get("security") for op in ops.values())]
        return any(rx.match(path) for rx in self._secured)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_api(scope["path"]) and self._needs_token(scope["path"]):
            scheme, token = get_authorization_scheme_param(Headers(scope=scope).get("authorization"))
            try:
                user = await user_for_token(self.api.state.db, token if scheme.lower() == "bearer" else None)
            except ApiError as e:
                headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
                await error_response(e.status, e.code, e.message, e.reasons, headers)(scope, receive, send)
                return
            scope.setdefault("state", {})[AUTHENTICATED] = user
        await self.app(scope, receive, send)


class NoStore:
    """``Cache-Control: no-store`` on every answer but the static assets: API answers and pages
    carry person data, which no browser or proxy cache may keep."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


def max_body_setting() -> int:
    """The request-body limit: ``ACCORD_MAX_BODY_BYTES`` when set (a whole number of bytes),
    else ``MAX_BODY``."""
    text = os.environ.get(MAX_BODY_SETTING, "").strip()
    if not text:
        return MAX_BODY
    if not text.isdecimal() or int(text) < 1:
        raise AccordError(f"{MAX_BODY_SETTING}={text!r}: give the largest request body in bytes "
                          "(e.g. 1048576)")
    return int(text)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, e: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
        return error_response(e.status, e.code, e.message, e.reasons, headers)

    @app.exception_handler(PolicyDenied)
    def _denied(request: Request, e: PolicyDenied) -> Response:
        return answer(request, 403, "refused", str(e), list(e.reasons), audit_event=e.audit_seq)

    @app.exception_handler(NotFound)
    def _not_found(request: Request, e: NotFound) -> Response:
        return answer(request, 404, "not_found", str(e))

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


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(db: StoreTarget, *, max_body: int | None = None, lifespan: Lifespan | None = None) -> FastAPI:
    """The API and the web UI over the store at ``db``; request bodies are limited to
    ``max_body`` bytes (default: :func:`max_body_setting`). ``lifespan`` runs around the app's
    life in a server (a worker process keeps its store open in it: ``accord.api.workers``)."""
    app = FastAPI(title="Accord", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Purpose-bound person data with evidence, confidence and audit. Send "
                              "`Authorization: Bearer <token>` and, for person data, `X-Accord-Purpose` "
                              "and `X-Accord-Agreement`. Every list is paged (at most "
                              f"{MAX_PAGE}); every error is `{{\"error\": {{code, message, reasons}}}}`.")
    app.state.db = db
    install_error_handlers(app)

    @app.get("/api/health", response_model=HealthOut, tags=["health"])
    def health() -> dict[str, Any]:
        """Liveness; no data, no token needed."""
        return {"status": "ok", "version": __version__}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the vendored copy: the page where tokens are pasted loads nothing
        from another host."""
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="Accord API",
                                   swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
                                   swagger_favicon_url="data:,",
                                   swagger_ui_parameters={"validatorUrl": None})
        page.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'")
        page.headers["X-Frame-Options"] = "DENY"
        page.headers["Referrer-Policy"] = "same-origin"
        return page

    for module in (people, casework, admin, data):
        app.include_router(module.router)

    install_ui(app)
    # The last added runs first: no-store on every answer, then the token, then the body size.
    app.add_middleware(LimitBody, limit=max_body if max_body is not None else max_body_setting())
    app.add_middleware(AuthenticateFirst, api=app)
    app.add_middleware(NoStore)
    return app
