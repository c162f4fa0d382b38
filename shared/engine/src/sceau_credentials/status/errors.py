"""Status-list errors, each carrying the problem type its specification assigns.

Bitstring Status List v1.0 §3.5 names STATUS_RETRIEVAL_ERROR, STATUS_VERIFICATION_ERROR and
STATUS_LIST_LENGTH_ERROR, and its algorithms raise the VC Data Model's RANGE_ERROR (index outside
the list) and MALFORMED_VALUE_ERROR (a value that breaks a MUST). Carrying the URI on the exception
lets the verifier report the exact W3C problem type without a translation table.
"""

from __future__ import annotations

from typing import ClassVar

from sceau_credentials.results import (
    MALFORMED_VALUE_ERROR,
    RANGE_ERROR,
    STATUS_LIST_LENGTH_ERROR,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
)

__all__ = [
    "StatusListError",
    "StatusListFullError",
    "StatusListLengthError",
    "StatusMalformedError",
    "StatusRangeError",
    "StatusRetrievalError",
    "StatusVerificationError",
]


class StatusListError(Exception):
    """Base class. ``problem_type`` is the W3C problem-type URI for this error."""

    problem_type: ClassVar[str] = MALFORMED_VALUE_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StatusMalformedError(StatusListError):
    """A status entry or list value is malformed (bad encoding, not GZIP, wrong type...)."""

    problem_type = MALFORMED_VALUE_ERROR


class StatusListLengthError(StatusListError):
    """The decoded list holds fewer entries than the group-privacy minimum (131,072)."""

    problem_type = STATUS_LIST_LENGTH_ERROR


class StatusRangeError(StatusListError):
    """An index (times ``statusSize``) falls outside the bitstring."""

    problem_type = RANGE_ERROR


class StatusRetrievalError(StatusListError):
    """The status list credential could not be fetched."""

    problem_type = STATUS_RETRIEVAL_ERROR


class StatusVerificationError(StatusListError):
    """The status list credential failed verification (proof, issuer, purpose, dates)."""

    problem_type = STATUS_VERIFICATION_ERROR


class StatusListFullError(StatusListError):
    """Every index of a list has been allocated (the allocator rolls over to a new list)."""

    problem_type = RANGE_ERROR
