"""The one error proof code raises, carrying the W3C problem type verifiers report."""

from __future__ import annotations

from sceau_credentials.results import (
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_TRANSFORMATION_ERROR,
    PROOF_VERIFICATION_ERROR,
)

__all__ = [
    "INVALID_CHALLENGE_ERROR",
    "INVALID_DOMAIN_ERROR",
    "MALFORMED_VALUE_ERROR",
    "PARSING_ERROR",
    "PROOF_GENERATION_ERROR",
    "PROOF_TRANSFORMATION_ERROR",
    "PROOF_VERIFICATION_ERROR",
    "ProofError",
]


class ProofError(Exception):
    """Signing or verifying a proof failed.

    Attributes:
        problem_type: the W3C problem type URI (VC Data Integrity ``https://w3id.org/security#…``
            or VC Data Model 2.0 ``https://www.w3.org/TR/vc-data-model#…``).
        reason: a human explanation in English, safe to show (never contains key material).
    """

    def __init__(self, problem_type: str, reason: str) -> None:
        super().__init__(reason)
        self.problem_type = problem_type
        self.reason = reason
