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

from typing import ClassVar

from sceau_shared.errors import BadRequest, NotFound, ServiceError, Unavailable

__all__ = [
    "MalformedBody",
    "Oid4vpNotConfigured",
    "Oid4vpRefused",
    "Oid4vpStoreUnavailable",
    "Oid4vpUnauthorized",
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


class Oid4vpNotConfigured(Unavailable):
    """OpenID4VP needs its store and request key; this deployment set neither (or one)."""

    type_suffix = "oid4vp-not-configured"
    title = "Presentation requests not configured"

    def __init__(self) -> None:
        super().__init__(
            "OpenID4VP presentation requests are not configured on this verifier.",
            extra={
                "detail_fr": "Les demandes de présentation OpenID4VP ne sont pas configurées "
                "sur ce vérificateur.",
                "detail_en": "OpenID4VP presentation requests are not configured on this verifier.",
            },
        )


class Oid4vpStoreUnavailable(Unavailable):
    """The request store (MongoDB) did not answer within its deadline."""

    type_suffix = "oid4vp-unavailable"
    title = "Presentation requests unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Presentation requests are unavailable right now; try again shortly.",
            extra={
                "detail_fr": "Les demandes de présentation sont indisponibles pour le moment; "
                "réessayez sous peu.",
                "detail_en": "Presentation requests are unavailable right now; try again shortly.",
            },
        )


class Oid4vpRefused(ServiceError):
    """A wallet's answer (or request fetch) refused: nothing is recorded for the request.

    ``reason`` is stable (``wrong_nonce``, ``wrong_audience``, ``holder_binding``, …); the
    problem carries the texts in both languages and OAuth's ``error`` / ``error_description``
    too, since the reader is a wallet library.
    """

    type_suffix = "oid4vp-refused"
    title = "Presentation refused"

    #: reason -> (status, OAuth error code)
    _STATUS: ClassVar[dict[str, tuple[int, str]]] = {
        "not_found": (404, "invalid_request"),
        "expired": (410, "invalid_request"),
        "already_answered": (409, "invalid_request"),
    }

    def __init__(self, reason: str, detail_en: str, detail_fr: str) -> None:
        status, error = self._STATUS.get(reason, (400, "invalid_request"))
        super().__init__(
            detail_en,
            extra={
                "reason": reason,
                "detail_fr": detail_fr,
                "detail_en": detail_en,
                "error": error,
                "error_description": detail_en,
            },
        )
        self.reason = reason
        self.status = status  # type: ignore[misc]


class Oid4vpUnauthorized(NotFound):
    """The employer's read token does not open this request (told as "not found")."""

    type_suffix = "oid4vp-request-not-found"
    title = "Presentation request not found"
