"""Helpers the route modules share."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from accord.api.deps import ApiError
from accord.api.schemas import ErrorOut
from accord.errors import AccordError

# Every route may answer with these (besides its own success response).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the request cannot be carried out as asked (message says why)"},
    401: {"model": ErrorOut, "description": "no, unknown, revoked or deactivated bearer token"},
    403: {"model": ErrorOut, "description": "refused by the governance gate (reasons say why; audited)"},
    404: {"model": ErrorOut, "description": "no such resource (or not visible under this purpose)"},
    413: {"model": ErrorOut, "description": "the request body is over the size limit (ACCORD_MAX_BODY_BYTES, "
                                            "default 1 MiB)"},
    422: {"model": ErrorOut, "description": "the request does not match this route's schema"},
    503: {"model": ErrorOut, "description": "the store cannot be opened"},
}


@contextlib.contextmanager
def not_found(kind: str, ident: str) -> Iterator[None]:
    """Answer 404 when the service reports that the ``kind`` named in the path does not exist
    (the services raise their domain error, ``no <kind> '<id>'``, for it)."""
    try:
        yield
    except ApiError:
        raise
    except AccordError as e:
        if re.match(rf"no {re.escape(kind)} {re.escape(repr(ident))}", str(e)):
            raise ApiError(404, "not_found", str(e)) from None
        raise
