"""Issuer error conditions, each mapped to its problem-details status by its base class."""

from __future__ import annotations

from sceau_shared.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    Unauthorized,
)


def field_problem(path: str, message: str, code: str) -> dict[str, object]:
    """One ``errors[]`` entry of a body field (``a.0.b``), with its JSON Pointer (``/a/0/b``)."""
    return {
        "in": "body",
        "pointer": "/" + path.replace(".", "/"),
        "field": path,
        "message": message,
        "code": code,
    }


class InstitutionNotFound(NotFound):
    type_suffix = "institution-not-found"


class KeyNotFound(NotFound):
    type_suffix = "key-not-found"


class KeyConflict(Conflict):
    type_suffix = "key-conflict"


class SettingsMalformed(BadRequest):
    """An institution settings body that is not a JSON document."""

    type_suffix = "settings-malformed"
    title = "Malformed settings"


class SettingsInvalid(InvalidInput):
    """An institution settings body with an unknown, missing or mistyped setting."""

    type_suffix = "settings-invalid"
    title = "Invalid settings"


class InvalidApiKey(Unauthorized):
    type_suffix = "invalid-api-key"


class MissingScope(Forbidden):
    type_suffix = "missing-scope"


class InstitutionNotActive(Forbidden):
    type_suffix = "institution-not-active"


class AchievementNotFound(NotFound):
    type_suffix = "achievement-not-found"


class AchievementConflict(Conflict):
    type_suffix = "achievement-conflict"


class AchievementIncomplete(InvalidInput):
    type_suffix = "achievement-incomplete"


class CredentialNotFound(NotFound):
    type_suffix = "credential-not-found"


class AlreadyIssued(Conflict):
    type_suffix = "already-issued"


class IdempotencyMismatch(InvalidInput):
    type_suffix = "idempotency-key-reused"


class StatusTransitionRefused(Conflict):
    type_suffix = "status-transition-refused"


class BatchNotFound(NotFound):
    type_suffix = "batch-not-found"


class SeriesNotFound(NotFound):
    type_suffix = "series-not-found"


class ClaimLinkInvalid(NotFound):
    type_suffix = "claim-link-invalid"


class NotAccredited(Forbidden):
    """The registry has not accredited the institution for this achievement type (or level)."""

    type_suffix = "not-accredited"


class PrerequisiteMissing(Conflict):
    """A progressive series component asked for a learner without the earlier components."""

    type_suffix = "prerequisite-missing"


class DidNotSelfHosted(Conflict):
    """The institution's DID is not a did:web on its own domain (nothing for it to host)."""

    type_suffix = "did-not-self-hosted"


class LearnerLinkInvalid(NotFound):
    """A learner page token that is unknown, tampered with or expired (all look alike)."""

    type_suffix = "learner-link-invalid"


class ConsentRequired(Conflict):
    """The learner has not accepted the credential, so it cannot be shared yet."""

    type_suffix = "consent-required"


class ShareNotFound(NotFound):
    """An unknown share token, or a share of a credential its learner has not accepted."""

    type_suffix = "share-not-found"


class ShareGone(ServiceError):
    """A share that existed and no longer opens (``reason``: revoked or expired)."""

    status = 410
    type_suffix = "share-gone"


class LearnerFormInvalid(InvalidInput):
    """A learner page form the page cannot act on (label, expiry, address)."""

    type_suffix = "learner-form-invalid"


class WalletOfferNotFound(NotFound):
    """A credential offer that is unknown, another institution's, expired or already taken."""

    type_suffix = "wallet-offer-not-found"


class LmsSignatureInvalid(Unauthorized):
    """An LMS completion event whose Standard Webhooks signature or timestamp does not hold."""

    type_suffix = "lms-signature-invalid"
    title = "Invalid webhook signature"


class LmsPayloadMalformed(BadRequest):
    """An LMS completion event whose (correctly signed) body is not a JSON object."""

    type_suffix = "lms-payload-malformed"
    title = "Malformed completion event"


class LmsPayloadInvalid(InvalidInput):
    """An LMS completion event without what issuing needs (learner e-mail, course, fields)."""

    type_suffix = "lms-payload-invalid"
    title = "Completion event cannot be issued"


class LmsCourseNotMapped(InvalidInput):
    """A completion of an LMS course the institution has mapped to no achievement."""

    type_suffix = "lms-course-not-mapped"
    title = "Course not mapped"


class LmsAchievementUnknown(NotFound):
    """A completion naming (or mapped to) an achievement with no published version here."""

    type_suffix = "lms-achievement-unknown"
    title = "Achievement not published"


class LmsMappingNotFound(NotFound):
    """No mapping of this LMS course at this institution."""

    type_suffix = "lms-mapping-not-found"


class InsightsLinkInvalid(NotFound):
    """An insights page link that is unknown, tampered with or expired (all look alike)."""

    type_suffix = "insights-link-invalid"


class WalletExchangeNotFound(NotFound):
    """A VC-API exchange that is unknown or another institution's (both look alike)."""

    type_suffix = "wallet-exchange-not-found"


class WalletExchangeGone(ServiceError):
    """A VC-API exchange that existed and no longer delivers (expired, or already taken)."""

    status = 410
    type_suffix = "wallet-exchange-gone"


class WalletPresentationInvalid(BadRequest):
    """A DIDAuth presentation that does not prove the holder's key for this exchange."""

    type_suffix = "wallet-presentation-invalid"


class NotEndorser(Forbidden):
    """The registry does not recognise the institution as an endorser of this achievement type."""

    type_suffix = "not-endorser"


class SelfEndorsement(Conflict):
    """An institution asked to endorse its own achievement."""

    type_suffix = "self-endorsement"


class EndorsementNotFound(NotFound):
    """No such endorsement offered to (or signed by) this institution."""

    type_suffix = "endorsement-not-found"


class EndorsementConflict(Conflict):
    """The endorsement was already decided otherwise (accepted, then rejected, or the reverse)."""

    type_suffix = "endorsement-conflict"
