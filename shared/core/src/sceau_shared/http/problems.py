"""RFC 9457 problem details: one renderer and the exception handlers that use it.

A request that fails because MongoDB or Kafka is down or too slow
(:func:`sceau_shared.transient.is_transient`) is answered ``503`` with ``Retry-After``, never
``500``: the client learns the service is there but a dependency is not, and when to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sceau_shared.errors import PROBLEM_BASE, RateLimited, ServiceError, Unavailable
from sceau_shared.transient import is_transient

PROBLEM_MEDIA_TYPE = "application/problem+json"

_log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What a ``503`` for a dependency outage asks the client to wait before trying again."""


def problem_response(
    status: int,
    *,
    title: str,
    detail: str,
    type_: str = "about:blank",
    instance: str | None = None,
    errors: Sequence[Mapping[str, object]] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, object] | None = None,
) -> JSONResponse:
    """Build an ``application/problem+json`` response."""
    body: dict[str, object] = {"type": type_, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _loc_to_pointer(loc: Sequence[object]) -> str:
    # FastAPI locations start with the part of the request ("body", "query", ...); JSON Pointer the
    # rest.
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc[1:]]
    return "/" + "/".join(parts) if parts else ""


def _validation_errors(exc: RequestValidationError) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        out.append(
            {
                "in": str(loc[0]) if loc else "body",
                "pointer": _loc_to_pointer(loc),
                "field": ".".join(str(p) for p in loc[1:]),
                "message": str(err.get("msg", "invalid")),
                "code": str(err.get("type", "invalid")),
            }
        )
    return out


def _outage(request: Request, exc: BaseException) -> JSONResponse:
    # The database or the broker is down or too slow: say so at once, with when to come back,
    # instead of a 500 after the client's own timeout (the request may be retried as is).
    _log.warning("dependency unavailable on %s: %s", request.url.path, type(exc).__name__)
    return problem_response(
        Unavailable.status,
        title=Unavailable.title,
        detail="A dependency of this service is unavailable; try again shortly.",
        type_=PROBLEM_BASE + Unavailable.type_suffix,
        instance=request.url.path,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _dependency_error(request: Request, exc: Exception) -> JSONResponse:
    if is_transient(exc):
        return _outage(request, exc)
    return await _unhandled(request, exc)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)  # noqa: S101 - registered for ServiceError only
    if exc.status >= 500 and is_transient(exc):
        return _outage(request, exc)
    if exc.status >= 500:
        _log.error("service error on %s: %s", request.url.path, exc.detail)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_=exc.type,
        instance=request.url.path,
        errors=exc.errors,
        headers=headers,
        extra=exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = _validation_errors(exc)
    # A body that is not JSON at all is a 400 (malformed), not a 422 (well-formed but invalid).
    if any(e["code"] == "json_invalid" for e in errors):
        return problem_response(
            400,
            title="Malformed JSON",
            detail="The request body is not valid JSON.",
            type_=PROBLEM_BASE + "malformed-json",
            instance=request.url.path,
            errors=errors,
        )
    return problem_response(
        422,
        title="Invalid input",
        detail=f"{len(errors)} field(s) failed validation.",
        type_=PROBLEM_BASE + "invalid-input",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(
        exc.status_code,
        title=str(exc.detail) if exc.status_code < 500 else "Error",
        detail=str(exc.detail),
        instance=request.url.path,
        headers=headers,
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    if is_transient(exc):
        return _outage(request, exc)
    _log.exception("unhandled error on %s", request.url.path)
    return problem_response(
        500,
        title="Internal error",
        detail="An unexpected error occurred; it has been logged.",
        type_=PROBLEM_BASE + "internal-error",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as problem details."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PyMongoError, _dependency_error)
    app.add_exception_handler(KafkaError, _dependency_error)
    app.add_exception_handler(Exception, _unhandled)
