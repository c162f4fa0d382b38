"""Verification results: one entry per check, each with a W3C problem type and a bilingual reason.

Why a result object rather than exceptions: a verifier must tell an employer *which* part of a
credential failed (a revoked credential still has a valid signature; an unregistered issuer still
signed correctly), and ``inconclusive`` ("we could not find out") must never be confused with
``passed``. The verifier service renders these checks as they are; the reasons come in English and
French because every human-facing text in Sceau does.

Problem-type URIs are the ones the specifications define, checked against the specification
sources:

* VC Data Model 2.0 §7.2 "Problem Details": ``https://www.w3.org/TR/vc-data-model#<CODE>``.
* VC Data Integrity 1.0 "Processing Errors": ``https://w3id.org/security#<CODE>``.
* Bitstring Status List 1.0 "Processing Errors": ``https://www.w3.org/ns/credentials/status-list#<CODE>``.

Conditions the specifications do not name (expired, revoked, issuer not registered, ...) use
Sceau's own problem namespace (``https://sceau.dev/problems/``, the base the HTTP layer uses too).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field, computed_field

# --- VC Data Model 2.0 (https://www.w3.org/TR/vc-data-model-2.0/#problem-details) -------------
_VCDM: Final = "https://www.w3.org/TR/vc-data-model#"
PARSING_ERROR: Final = _VCDM + "PARSING_ERROR"  # code -64
CRYPTOGRAPHIC_SECURITY_ERROR: Final = _VCDM + "CRYPTOGRAPHIC_SECURITY_ERROR"  # code -65
MALFORMED_VALUE_ERROR: Final = _VCDM + "MALFORMED_VALUE_ERROR"  # code -66
RANGE_ERROR: Final = _VCDM + "RANGE_ERROR"  # code -67

# --- VC Data Integrity 1.0 (https://www.w3.org/TR/vc-data-integrity/#processing-errors) -------
_SEC: Final = "https://w3id.org/security#"
PROOF_GENERATION_ERROR: Final = _SEC + "PROOF_GENERATION_ERROR"  # code -16
PROOF_VERIFICATION_ERROR: Final = _SEC + "PROOF_VERIFICATION_ERROR"  # code -17
PROOF_TRANSFORMATION_ERROR: Final = _SEC + "PROOF_TRANSFORMATION_ERROR"  # code -18
INVALID_DOMAIN_ERROR: Final = _SEC + "INVALID_DOMAIN_ERROR"  # code -19
INVALID_CHALLENGE_ERROR: Final = _SEC + "INVALID_CHALLENGE_ERROR"  # code -20

# --- Bitstring Status List 1.0 (https://www.w3.org/TR/vc-bitstring-status-list/#processing-errors)
_BSL: Final = "https://www.w3.org/ns/credentials/status-list#"
STATUS_RETRIEVAL_ERROR: Final = _BSL + "STATUS_RETRIEVAL_ERROR"  # code -128
STATUS_VERIFICATION_ERROR: Final = _BSL + "STATUS_VERIFICATION_ERROR"  # code -129
STATUS_LIST_LENGTH_ERROR: Final = _BSL + "STATUS_LIST_LENGTH_ERROR"  # code -130

# --- Sceau's own problem types, for outcomes the specifications do not name -------------------
_SCEAU: Final = "https://sceau.dev/problems/"
CREDENTIAL_EXPIRED: Final = _SCEAU + "credential-expired"
CREDENTIAL_NOT_YET_VALID: Final = _SCEAU + "credential-not-yet-valid"
CREDENTIAL_REVOKED: Final = _SCEAU + "credential-revoked"
CREDENTIAL_SUSPENDED: Final = _SCEAU + "credential-suspended"
CREDENTIAL_STATUS_SET: Final = _SCEAU + "credential-status-set"
ISSUER_NOT_TRUSTED: Final = _SCEAU + "issuer-not-trusted"
ISSUER_TRUST_UNKNOWN: Final = _SCEAU + "issuer-trust-unknown"

#: Integer codes the specifications assign, for systems that want them (RFC 9457 ``code``).
PROBLEM_CODES: Final[Mapping[str, int]] = {
    PARSING_ERROR: -64,
    CRYPTOGRAPHIC_SECURITY_ERROR: -65,
    MALFORMED_VALUE_ERROR: -66,
    RANGE_ERROR: -67,
    PROOF_GENERATION_ERROR: -16,
    PROOF_VERIFICATION_ERROR: -17,
    PROOF_TRANSFORMATION_ERROR: -18,
    INVALID_DOMAIN_ERROR: -19,
    INVALID_CHALLENGE_ERROR: -20,
    STATUS_RETRIEVAL_ERROR: -128,
    STATUS_VERIFICATION_ERROR: -129,
    STATUS_LIST_LENGTH_ERROR: -130,
}


class CheckName(StrEnum):
    """The checks a verification runs, in the order it runs them."""

    STRUCTURE = "structure"
    PROOF = "proof"
    VALIDITY = "validity"
    STATUS = "status"
    ISSUER = "issuer"
    PRESENTATION = "presentation"


class CheckStatus(StrEnum):
    """Outcome of one check. ``inconclusive`` means "could not be determined", never "fine"."""

    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


class Outcome(StrEnum):
    """Overall answer. Same values as the verifier's ``VerificationOutcome`` event enum."""

    VERIFIED = "verified"
    NOT_VERIFIED = "not-verified"
    INCONCLUSIVE = "inconclusive"


class Check(BaseModel):
    """One verification check with a machine-readable problem type and a bilingual reason.

    ``required`` says whether the check counts towards ``VerificationResult.verified``. Issuer
    trust is informative by default: a credential from an unregistered issuer still *verifies*
    cryptographically, and the verifier shows "issuer not in registry" beside it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: CheckName
    status: CheckStatus
    problem_type: str | None = None
    reason_en: str
    reason_fr: str
    details: dict[str, Any] = Field(default_factory=dict)
    required: bool = True

    @classmethod
    def passed(
        cls,
        name: CheckName,
        reason_en: str,
        reason_fr: str,
        *,
        details: Mapping[str, Any] | None = None,
        required: bool = True,
    ) -> Check:
        """Build a passed check."""
        return cls(
            name=name,
            status=CheckStatus.PASSED,
            reason_en=reason_en,
            reason_fr=reason_fr,
            details=dict(details or {}),
            required=required,
        )

    @classmethod
    def failed(
        cls,
        name: CheckName,
        problem_type: str | None,
        reason_en: str,
        reason_fr: str,
        *,
        details: Mapping[str, Any] | None = None,
        required: bool = True,
    ) -> Check:
        """Build a failed check."""
        return cls(
            name=name,
            status=CheckStatus.FAILED,
            problem_type=problem_type,
            reason_en=reason_en,
            reason_fr=reason_fr,
            details=dict(details or {}),
            required=required,
        )

    @classmethod
    def inconclusive(
        cls,
        name: CheckName,
        problem_type: str | None,
        reason_en: str,
        reason_fr: str,
        *,
        details: Mapping[str, Any] | None = None,
        required: bool = True,
    ) -> Check:
        """Build an inconclusive check."""
        return cls(
            name=name,
            status=CheckStatus.INCONCLUSIVE,
            problem_type=problem_type,
            reason_en=reason_en,
            reason_fr=reason_fr,
            details=dict(details or {}),
            required=required,
        )

    def reason(self, lang: str) -> str:
        """Return the reason in ``lang`` ("fr" or anything else for English)."""
        return self.reason_fr if lang.lower().startswith("fr") else self.reason_en


class VerificationWarning(BaseModel):
    """Something worth showing that does not change the outcome (e.g. an unknown extra field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problem_type: str | None = None
    message_en: str
    message_fr: str


class CredentialSummary(BaseModel):
    """What a displayer needs to show next to the checks, read from the (verified) document.

    Every field is optional: a malformed document yields a summary with whatever could be read.
    ``achievement_name_fr``/``_en`` come from the achievement and its ``related`` language
    variants (see docs/credentials.md, "Both languages").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str | None = None
    credential_id: str | None = None
    types: tuple[str, ...] = ()
    issuer_id: str | None = None
    issuer_name: str | None = None
    subject_id: str | None = None
    achievement_id: str | None = None
    achievement_type: str | None = None
    achievement_name: str | None = None
    achievement_names: dict[str, str] = Field(default_factory=dict)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class VerificationResult(BaseModel):
    """The full answer for one credential or presentation.

    ``verified`` is true only when every *required* check passed (and, for a presentation, every
    embedded credential verified). ``outcome`` separates "not verified" (something failed) from
    "inconclusive" (nothing failed but something could not be determined, e.g. an unreachable
    status list), so the verifier never shows an unreachable list as valid.
    """

    # "ignore": a dumped result carries the computed ``verified``/``outcome``; reloading it
    # recomputes them instead of trusting the stored values.
    model_config = ConfigDict(frozen=True, extra="ignore")

    checks: tuple[Check, ...]
    warnings: tuple[VerificationWarning, ...] = ()
    credential: CredentialSummary | None = None
    credentials: tuple[VerificationResult, ...] = ()
    is_presentation: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def verified(self) -> bool:
        """True when every required check passed and every embedded credential verified."""
        own = bool(self.checks) and all(
            c.status is CheckStatus.PASSED for c in self.checks if c.required
        )
        return own and all(r.verified for r in self.credentials)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> Outcome:
        """Verified, not verified (a required check failed) or inconclusive."""
        if self.verified:
            return Outcome.VERIFIED
        required = [c for c in self.checks if c.required]
        if not required or any(c.status is CheckStatus.FAILED for c in required):
            return Outcome.NOT_VERIFIED
        if any(r.outcome is Outcome.NOT_VERIFIED for r in self.credentials):
            return Outcome.NOT_VERIFIED
        return Outcome.INCONCLUSIVE

    def check(self, name: CheckName) -> Check | None:
        """Return the check called ``name``, if it ran."""
        return next((c for c in self.checks if c.name is name), None)

    @property
    def failed_checks(self) -> list[str]:
        """Names of required checks that did not pass (for events and logs)."""
        return [
            c.name.value for c in self.checks if c.required and c.status is not CheckStatus.PASSED
        ]


class ProofOutcome(Protocol):
    """What a proof verifier reports (``engine.ProofVerification`` has this shape).

    Declared structurally so that the orchestrator and the status checker depend on the shape,
    not on the proof engine module, and unit tests can inject a fake verifier.
    """

    @property
    def verified(self) -> bool: ...

    @property
    def problem_type(self) -> str | None: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def verification_method(self) -> str | None: ...

    @property
    def issuer(self) -> str | None: ...

    @property
    def credential(self) -> Mapping[str, Any] | None: ...

    @property
    def proof_created(self) -> datetime | None: ...


#: ``verify_proof(document, resolver)``; the resolver is a ``dids.DidResolver``.
ProofVerifier = Callable[[Any, Any], Awaitable[ProofOutcome]]
