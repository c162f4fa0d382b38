"""The verifier's own errors: unreadable requests (4xx problems) and unreachable sources.

Two families, kept apart on purpose:

* request errors (:class:`MalformedBody`, :class:`UnsupportedMediaType`) are
  :class:`~sceau_shared.errors.ServiceError` problems the HTTP layer turns into 400/415 answers;
* source errors (:class:`RegistryUnavailable`, :class:`StatusListUnavailable`) never reach the
  client as errors: the verification turns them into an *inconclusive* check, so an outage of the
  registry can never make a credential look valid, nor fail the request.
"""

from __future__ import annotations

from sceau_shared.errors import BadRequest

__all__ = [
    "MalformedBody",
    "RegistryUnavailable",
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
