"""Registry-specific errors, each a condition of the shared problem-details hierarchy."""

from __future__ import annotations

from sceau_shared.errors import BadRequest, Conflict, InvalidInput, NotFound, Unavailable


class InstitutionNotFound(NotFound):
    type_suffix = "institution-not-found"
    title = "Institution not found"


class ScopeNotFound(NotFound):
    type_suffix = "scope-not-found"
    title = "Accreditation scope not found"


class StatusListNotFound(NotFound):
    type_suffix = "status-list-not-found"
    title = "Status list not found"


class DidDocumentNotFound(NotFound):
    type_suffix = "did-document-not-found"
    title = "DID document not found"


class InstitutionExists(Conflict):
    type_suffix = "institution-exists"
    title = "Institution already registered"


class DidTaken(Conflict):
    """A DID names one institution only: verifications are attributed by it."""

    type_suffix = "did-taken"
    title = "DID already belongs to another institution"


class LifecycleConflict(Conflict):
    type_suffix = "lifecycle-conflict"
    title = "Change not allowed in the institution's current state"


class ConcurrentChange(Conflict):
    type_suffix = "concurrent-change"
    title = "The institution changed meanwhile; retry"


class InvalidGovernanceRequest(InvalidInput):
    type_suffix = "invalid-governance-request"
    title = "Invalid governance request"


class MalformedDid(BadRequest):
    type_suffix = "malformed-did"
    title = "Malformed DID"


class TrustListUnavailable(Unavailable):
    type_suffix = "trust-list-unavailable"
    title = "Trust list not signed yet"
