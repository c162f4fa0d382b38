"""The verifier's own errors: unreadable requests (4xx problems) and unreachable sources.

Two families, kept apart on purpose:

* request errors (:class:`MalformedBody`, :class:`UnsupportedMediaType`) are
  :class:`~sceau_shared.errors.ServiceError` problems the HTTP layer turns into 400/415 answers;
* share errors (:class:`ShareNotFound`, :class:`ShareGone`, :class:`SharesUnavailable`) answer
  ``GET /s/{token}``: a page in the viewer's language, or problem details for JSON clients;
* source errors (:class:`RegistryUnavailable`, :class:`StatusListUnavailable`) never reach the
  client as errors: the verification turns them into an *inconclusive* check, so an outage of the
  registry can never make a credential look valid, nor fail the request.
"""

from __future__ import annotations

from sceau_shared.errors import BadRequest, NotFound, ServiceError, Unavailable

__all__ = [
    "MalformedBody",
    "RegistryUnavailable",
    "ShareGone",
    "ShareNotFound",
    "SharesUnavailable",
    "StatusListUnavailable",
    "UnsupportedMediaType",
]


class MalformedBody(BadRequest):
    """The body cannot be read at all (not JSON, not UTF-8, nested deeper than any credential)."""

    type_suffix = "malformed-body"
    title = "Malformed request body"


class UnsupportedMediaType(BadRequest):
    """The body's media type is neither JSON nor a JWT."""

    status = 415
    type_suffix = "unsupported-media-type"
    title = "Unsupported media type"


class RegistryUnavailable(Exception):
    """The registry could not answer (network, timeout, unexpected status or body)."""


class StatusListUnavailable(Exception):
    """A status list could not be obtained (refused URL, network, HTTP status, bad body)."""


class ShareNotFound(NotFound):
    """No share has this token (or its credential is not shared): nothing to show, nothing told."""

    type_suffix = "share-not-found"
    title = "Share not found"


class ShareGone(ServiceError):
    """The share existed but the learner revoked it, or it expired (``reason`` says which)."""

    status = 410
    type_suffix = "share-gone"
    title = "Share gone"

    def __init__(self, reason: str) -> None:
        detail = f"This share link is no longer valid ({reason})."
        super().__init__(detail, extra={"reason": reason})
        self.reason = reason


class SharesUnavailable(Unavailable):
    """The issuer could not say what the share is (network, timeout, unexpected answer)."""

    type_suffix = "shares-unavailable"
    title = "Share service unavailable"
