"""Domain errors that carry their HTTP status and RFC 9457 problem type.

Hierarchy::

    ServiceError (500, generic)
    ├── BadRequest (400)
    │   └── InvalidInput (422)        -- semantic validation failures, with field paths
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)                -- also used for another tenant's resources (never leak
    existence)
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── RateLimited (429)            -- carries ``retry_after`` seconds
    └── Unavailable (503)            -- a dependency (Kafka, Mongo, a remote document) is down

Services subclass these by *condition* (``CredentialNotFound(NotFound)``). One exception handler
(``sceau_shared.http.problems``) renders every one of them as ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

PROBLEM_BASE = "https://sceau.dev/problems/"


class ServiceError(Exception):
    """Base of all errors a service turns into a problem response."""

    status: ClassVar[int] = 500
    type_suffix: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, object]] = (),
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.extra = dict(extra or {})

    @property
    def type(self) -> str:
        """Return the problem type URI."""
        return PROBLEM_BASE + self.type_suffix


class BadRequest(ServiceError):
    status = 400
    type_suffix = "bad-request"
    title = "Bad request"


class InvalidInput(BadRequest):
    status = 422
    type_suffix = "invalid-input"
    title = "Invalid input"


class Unauthorized(ServiceError):
    status = 401
    type_suffix = "unauthorized"
    title = "Authentication required"


class Forbidden(ServiceError):
    status = 403
    type_suffix = "forbidden"
    title = "Not allowed"


class NotFound(ServiceError):
    status = 404
    type_suffix = "not-found"
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    type_suffix = "conflict"
    title = "Conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    type_suffix = "payload-too-large"
    title = "Payload too large"


class RateLimited(ServiceError):
    status = 429
    type_suffix = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class Unavailable(ServiceError):
    status = 503
    type_suffix = "unavailable"
    title = "Service unavailable"
