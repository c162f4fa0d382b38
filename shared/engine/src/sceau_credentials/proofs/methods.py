"""From a proof's ``verificationMethod`` to the public key allowed to have made it."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sceau_credentials.dids.resolver import (
    DidResolutionError,
    DidResolver,
    find_verification_method,
    split_did_url,
)
from sceau_credentials.keys import InvalidKeyError, public_key_from_method
from sceau_credentials.proofs.errors import PROOF_VERIFICATION_ERROR, ProofError

__all__ = ["resolve_public_key", "resolve_verification_method"]


async def resolve_public_key(
    resolver: DidResolver,
    verification_method: object,
    purpose: str,
    *,
    allowed_types: frozenset[str] | None = None,
) -> tuple[Ed25519PublicKey, dict[str, Any]]:
    """Resolve an Ed25519 ``verification_method`` authorized for ``purpose`` (see below).

    Returns:
        The public key and the verification method object (absolute ``id`` and ``controller``).

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` as :func:`resolve_verification_method` does, or
            when the method does not hold an Ed25519 key.
    """
    method = await resolve_verification_method(
        resolver, verification_method, purpose, allowed_types=allowed_types
    )
    try:
        return public_key_from_method(method), method
    except InvalidKeyError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, str(error)) from error


async def resolve_verification_method(
    resolver: DidResolver,
    verification_method: object,
    purpose: str,
    *,
    allowed_types: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Resolve ``verification_method`` and check its controller authorized it for ``purpose``.

    Key material is left to the caller, which knows which algorithm it expects.

    Args:
        resolver: resolves the DID part of the method's URL.
        verification_method: the proof's ``verificationMethod`` (must be a DID URL string).
        purpose: the verification relationship required (``assertionMethod``, ``authentication``).
        allowed_types: verification method types the suite accepts (``None``: any Ed25519 one).

    Returns:
        The verification method object (absolute ``id`` and ``controller``).

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when the method cannot be resolved, is not
            authorized for ``purpose`` or is not of an allowed type.
    """
    if not isinstance(verification_method, str) or not verification_method.startswith("did:"):
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"verificationMethod {verification_method!r} is not a DID URL",
        )
    try:
        did, fragment = split_did_url(verification_method)
        if fragment is None:
            raise ProofError(
                PROOF_VERIFICATION_ERROR,
                f"verificationMethod {verification_method!r} has no fragment",
            )
        document = await resolver.resolve(did)
        method = find_verification_method(document, verification_method, purpose)
    except DidResolutionError as error:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"cannot use verification method {verification_method!r}: {error}",
        ) from error
    if allowed_types is not None and method.get("type") not in allowed_types:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"verification method {verification_method!r} has type {method.get('type')!r}; "
            f"this proof suite accepts {', '.join(sorted(allowed_types))}",
        )
    if method.get("controller") != did:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"verification method {verification_method!r} is controlled by "
            f"{method.get('controller')!r}, not by {did!r}",
        )
    return method
