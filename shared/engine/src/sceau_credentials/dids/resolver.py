"""The DID resolver interface, its errors, a composite resolver and verification method lookup.

Proof verification only needs one thing from DIDs: "give me the DID document of this DID" and
then "find the verification method this proof names, and check that the controller authorized
it for this purpose". Keeping that behind the small :class:`DidResolver` protocol lets the
verifier service plug in caching, trust rules or test resolvers without touching proof code.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CompositeResolver",
    "DidResolutionError",
    "DidResolver",
    "ResolutionErrorCode",
    "StaticResolver",
    "did_method",
    "find_verification_method",
    "split_did_url",
]


class ResolutionErrorCode(enum.StrEnum):
    """Why resolution failed; values follow the W3C DID Resolution error names where they exist."""

    INVALID_DID = "invalidDid"
    NOT_FOUND = "notFound"
    METHOD_NOT_SUPPORTED = "methodNotSupported"
    INVALID_DOCUMENT = "invalidDidDocument"
    UNSAFE_URL = "unsafeUrl"
    RETRIEVAL_ERROR = "retrievalError"
    VERIFICATION_METHOD_NOT_FOUND = "verificationMethodNotFound"
    VERIFICATION_METHOD_NOT_AUTHORIZED = "verificationMethodNotAuthorized"


class DidResolutionError(Exception):
    """A DID (or one of its verification methods) could not be resolved; ``code`` says why."""

    def __init__(self, code: ResolutionErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        """The human-readable reason."""
        return str(self)


@runtime_checkable
class DidResolver(Protocol):
    """Anything that turns a DID into its DID document."""

    async def resolve(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did`` (a fragment, if present, is ignored).

        Raises:
            DidResolutionError: if the DID is malformed, unknown or its document unusable.
        """
        ...


def split_did_url(did_url: str) -> tuple[str, str | None]:
    """Split a DID URL into ``(did, fragment or None)``; queries and paths are not supported."""
    did, _, fragment = did_url.partition("#")
    if "?" in did:
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DID, f"DID URL queries are not supported: {did_url!r}"
        )
    return did, (fragment if _ else None)


def did_method(did: str) -> str:
    """Return the method name of a DID (``key`` for ``did:key:…``), validating the shape."""
    parts = did.split(":", 2)
    if len(parts) != 3 or parts[0] != "did" or not parts[1] or not parts[2]:
        raise DidResolutionError(ResolutionErrorCode.INVALID_DID, f"{did!r} is not a DID")
    if not parts[1].isascii() or not parts[1].isalnum() or not parts[1].islower():
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DID, f"{did!r} has an invalid method name {parts[1]!r}"
        )
    return parts[1]


class CompositeResolver:
    """Dispatch to one resolver per DID method (e.g. ``{"key": …, "web": …}``)."""

    def __init__(self, resolvers: Mapping[str, DidResolver]) -> None:
        self._resolvers = dict(resolvers)

    @property
    def methods(self) -> frozenset[str]:
        """The DID methods this resolver handles."""
        return frozenset(self._resolvers)

    async def resolve(self, did: str) -> dict[str, Any]:
        """Resolve ``did`` with the resolver registered for its method."""
        bare, _ = split_did_url(did)
        method = did_method(bare)
        resolver = self._resolvers.get(method)
        if resolver is None:
            supported = ", ".join(f"did:{name}" for name in sorted(self._resolvers)) or "none"
            raise DidResolutionError(
                ResolutionErrorCode.METHOD_NOT_SUPPORTED,
                f"DID method did:{method} is not supported (supported: {supported})",
            )
        return await resolver.resolve(bare)


_METHOD_HOLDERS = (
    "verificationMethod",
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)
"""Document members in which a verification method may be defined (listed or embedded)."""


class StaticResolver:
    """Resolve from DID documents given up front (auditors' offline files, tests).

    Documents are copied on the way in and out so callers cannot alter each other's view.
    """

    def __init__(self, documents: Iterable[Mapping[str, Any]]) -> None:
        self._documents: dict[str, dict[str, Any]] = {}
        for document in documents:
            did = document.get("id")
            if not isinstance(did, str):
                raise DidResolutionError(
                    ResolutionErrorCode.INVALID_DOCUMENT, "DID document has no string 'id'"
                )
            did_method(did)
            self._documents[did] = copy.deepcopy(dict(document))

    async def resolve(self, did: str) -> dict[str, Any]:
        """Return the document registered for ``did``."""
        bare, _ = split_did_url(did)
        document = self._documents.get(bare)
        if document is None:
            raise DidResolutionError(
                ResolutionErrorCode.NOT_FOUND, f"no DID document was provided for {bare}"
            )
        return copy.deepcopy(document)


def _absolute(reference: str, document_id: str) -> str:
    return document_id + reference if reference.startswith("#") else reference


def _reference_id(reference: object, document_id: str) -> str | None:
    """The absolute id of a relationship entry (a DID URL string or an embedded method)."""
    if isinstance(reference, str):
        return _absolute(reference, document_id)
    if isinstance(reference, Mapping) and isinstance(reference.get("id"), str):
        return _absolute(reference["id"], document_id)
    return None


def find_verification_method(
    document: Mapping[str, Any], method_id: str, purpose: str | None = None
) -> dict[str, Any]:
    """Find ``method_id`` in a DID document, optionally checking it is authorized for ``purpose``.

    Methods may be listed in ``verificationMethod`` or embedded in a relationship such as
    ``assertionMethod``; ids may be relative (``#key-1``). A method that is merely *listed* but
    not referenced from the ``purpose`` relationship (``assertionMethod`` for credentials,
    ``authentication`` for presentations) is refused: that is how a controller withdraws a key
    from signing without deleting it.

    Args:
        document: The resolved DID document.
        method_id: The absolute DID URL named by the proof (``did:…#fragment``).
        purpose: The verification relationship required, or ``None`` to skip that check.

    Returns:
        A copy of the verification method with absolute ``id`` and ``controller``.

    Raises:
        DidResolutionError: ``verificationMethodNotFound`` or ``verificationMethodNotAuthorized``.
    """
    document_id = document.get("id")
    if not isinstance(document_id, str):
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DOCUMENT, "DID document has no string 'id'"
        )
    did, fragment = split_did_url(method_id)
    if did != document_id or fragment is None:
        raise DidResolutionError(
            ResolutionErrorCode.VERIFICATION_METHOD_NOT_FOUND,
            f"verification method {method_id!r} is not a fragment of DID document {document_id!r}",
        )

    candidates: list[Any] = []
    for key in _METHOD_HOLDERS:
        value = document.get(key, [])
        candidates.extend(value if isinstance(value, list) else [value])
    found: dict[str, Any] | None = None
    for candidate in candidates:
        if isinstance(candidate, Mapping) and _reference_id(candidate, document_id) == method_id:
            found = copy.deepcopy(dict(candidate))
            break
    if found is None:
        raise DidResolutionError(
            ResolutionErrorCode.VERIFICATION_METHOD_NOT_FOUND,
            f"verification method {method_id!r} is not in the DID document of {document_id!r}",
        )
    found["id"] = method_id
    controller = found.get("controller", document_id)
    found["controller"] = (
        _absolute(controller, document_id) if isinstance(controller, str) else controller
    )

    if purpose is not None:
        relationship = document.get(purpose, [])
        references = relationship if isinstance(relationship, list) else [relationship]
        authorized = any(_reference_id(ref, document_id) == method_id for ref in references)
        if not authorized:
            raise DidResolutionError(
                ResolutionErrorCode.VERIFICATION_METHOD_NOT_AUTHORIZED,
                f"verification method {method_id!r} is not authorized for {purpose!r} "
                f"by {document_id!r}",
            )
    return found
