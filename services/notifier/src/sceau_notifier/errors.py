"""The notifier's domain errors, each a condition the operator API answers as a problem.

They subclass the shared hierarchy (:mod:`sceau_shared.errors`), so the one problem handler renders
them with the status and problem type of their parent: the subclasses name the condition for the
code and the logs, not a new kind of answer.
"""

from __future__ import annotations

from sceau_shared.errors import Conflict, InvalidInput, NotFound, Unavailable

__all__ = [
    "DeliveryNotFound",
    "DeliveryNotReplayable",
    "EmailNotFound",
    "EmailNotReplayable",
    "EndpointNotFound",
    "EndpointUrlRefused",
    "WebhooksNotConfigured",
]


class EndpointNotFound(NotFound):
    """No such endpoint for this institution (another institution's id included)."""


class EndpointUrlRefused(InvalidInput):
    """An endpoint URL the SSRF policy refuses (scheme, host or resolved address)."""


class DeliveryNotFound(NotFound):
    """No such webhook delivery."""


class DeliveryNotReplayable(Conflict):
    """Only deliveries that failed for good can be replayed."""


class EmailNotFound(NotFound):
    """No such learner e-mail in the ledger."""


class EmailNotReplayable(Conflict):
    """Only e-mails that failed for good can be replayed."""


class WebhooksNotConfigured(Unavailable):
    """The key that encrypts endpoint secrets is not configured."""
