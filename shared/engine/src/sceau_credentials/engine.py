"""The credential engine's public face: sign a credential in a profile, verify any proof.

Three profiles, one interface (see issue "Credential engine"):

* ``ob3-v2`` (default): VC Data Model 2.0 + OB 3.0.3 context; ``DataIntegrityProof`` with
  ``eddsa-rdfc-2022`` (ours), emitted as a one-element array (the OB 3.0 JSON Schema's form).
* ``ob3-v1``: VC Data Model 1.1 + OB ``context.json`` + ed25519-2020 context;
  ``Ed25519Signature2020`` signed and verified by our implementation for every issuer (didkit's
  proofs are byte-identical for ordinary text but not over control characters, which it leaves
  unescaped in its canonical N-Quads; didkit must never resolve did:web itself either).
* ``jwt``: the ``ob3-v2`` content (VC Data Model 2.0 + OB 3.0.3) as a VC-JOSE-COSE JWT (the
  payload is the credential, ``typ: vc+jwt``): ES256 for a P-256 key, EdDSA for an Ed25519 key,
  ours for every issuer. A VCDM 1.1 credential given to this profile becomes a ``vc``-claim
  VC-JWT as before (didkit for did:key, ours for did:web). Both shapes, in EdDSA, ES256 and
  RS256, are verified (:mod:`sceau_credentials.proofs.jwt`).

Selective disclosure (``ecdsa-sd-2023``, P-256) is signed, derived and verified by
:mod:`sceau_credentials.proofs.ecdsa_sd`; :func:`verify_proof` checks derived proofs.

Verification never raises for bad input: :func:`verify_proof` returns a
:class:`ProofVerification` whose ``problem_type`` is a W3C problem URI and whose ``reason`` says
what went wrong in plain English. It checks the proof (signature, options, key authorization) and
that the key's controller is the credential's issuer; validity dates, status and issuer trust are
checked by :mod:`sceau_credentials.verification`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sceau_credentials.binding import requires_issuer_binding
from sceau_credentials.canonical import Canonicalizer, default_canonicalizer
from sceau_credentials.dids.resolver import DidResolver, split_did_url
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.data_integrity import (
    EDDSA_RDFC_2022,
    VerifiedProof,
    add_proof,
    verify_document_proofs,
)
from sceau_credentials.proofs.didkit_suite import (
    DidkitError,
    didkit_sign_jwt,
    didkit_verify,
)
from sceau_credentials.proofs.ecdsa_sd import is_ecdsa_sd_proof, verify_derived_proofs
from sceau_credentials.proofs.ed25519_signature_2020 import ED25519_SIGNATURE_2020
from sceau_credentials.proofs.errors import (
    PARSING_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.jwt import (
    decode_jwt,
    is_vcdm2_jwt_payload,
    sign_jwt,
    verify_jwt_signature,
)
from sceau_credentials.proofs.rdfc import proofs_of

__all__ = [
    "Profile",
    "ProofVerification",
    "credential_issuer",
    "shared_canonicalizer",
    "sign_credential",
    "verify_proof",
]

_DID_KEY: Final = "did:key:"


class Profile(StrEnum):
    """How a credential is secured (see the module docstring)."""

    OB3_V2 = "ob3-v2"
    OB3_V1 = "ob3-v1"
    JWT = "jwt"


@dataclass(frozen=True, slots=True)
class ProofVerification:
    """The outcome of checking a credential's proof.

    Attributes:
        verified: the proof is valid and made by a key of the credential's issuer.
        problem_type: W3C problem type URI when not verified (VC Data Integrity
            ``https://w3id.org/security#…`` or VC Data Model ``…/vc-data-model#…``), else None.
        reason: what happened, in English, for people.
        verification_method: the DID URL named by the proof (when one could be read).
        issuer: the credential's issuer id (when one could be read).
        credential: the JSON-LD credential (for a VC-JWT: the decoded credential).
        proof_created: the proof's ``created`` date (for a VC-JWT: ``iat`` or ``nbf``).
    """

    verified: bool
    problem_type: str | None
    reason: str
    verification_method: str | None = None
    issuer: str | None = None
    credential: dict[str, Any] | None = None
    proof_created: datetime | None = None


@functools.cache
def shared_canonicalizer() -> Canonicalizer:
    """The canonicalizer used when none is passed in.

    It only memoises work derived from the immutable bundled contexts, so sharing it within the
    process changes no behaviour; services may still pass their own from their composition root.
    """
    return default_canonicalizer()


def credential_issuer(credential: Mapping[str, Any]) -> str | None:
    """Return the issuer id of a credential (``issuer`` may be a string or an object)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _controller(verification_method: str) -> str:
    return split_did_url(verification_method)[0]


async def sign_credential(
    credential: dict[str, Any],
    key: SigningKey | P256SigningKey,
    profile: Profile = Profile.OB3_V2,
    *,
    created: datetime | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> dict[str, Any] | str:
    """Secure ``credential`` in ``profile`` with ``key``; never modifies ``credential``.

    The credential must already be complete and valid for its profile (the OB 3.0 builder checks
    that); this function only refuses what would make the proof meaningless.

    Returns:
        The secured credential (``ob3-v2``, ``ob3-v1``) or the compact VC-JWT (``jwt``).

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` (e.g. issuer is not the key's controller) or
            ``PROOF_TRANSFORMATION_ERROR`` (the credential cannot be canonicalized safely).
    """
    profile = Profile(profile)
    if not isinstance(credential, dict) or "@context" not in credential:
        raise ProofError(PROOF_GENERATION_ERROR, "a JSON-LD credential with @context is required")
    issuer = credential_issuer(credential)
    if issuer != key.controller:
        raise ProofError(
            PROOF_GENERATION_ERROR,
            f"the credential's issuer {issuer!r} is not the signing key's controller "
            f"{key.controller!r}",
        )
    if isinstance(key, P256SigningKey):
        if profile is not Profile.JWT:
            raise ProofError(
                PROOF_GENERATION_ERROR,
                "a P-256 key signs the jwt profile (ES256) or an ecdsa-sd-2023 base proof "
                "(sceau_credentials.proofs.ecdsa_sd), not the Ed25519 profiles",
            )
        return sign_jwt(credential, key)
    moment = created or datetime.now(UTC)
    engine = canonicalizer or shared_canonicalizer()
    uses_did_key = key.controller.startswith(_DID_KEY)
    try:
        if profile is Profile.OB3_V2:
            return add_proof(credential, key, engine, as_array=True, created=moment)
        if profile is Profile.OB3_V1:
            # Ours for every issuer: didkit writes control characters unescaped in its canonical
            # N-Quads, so its proofs over such text fail in every other stack (found by the
            # property-based interop test); for other text both are byte-identical.
            return add_proof(credential, key, engine, suite=ED25519_SIGNATURE_2020, created=moment)
        if uses_did_key and not is_vcdm2_jwt_payload(credential):
            return await didkit_sign_jwt(credential, key)
        return sign_jwt(credential, key)
    except DidkitError as error:
        raise ProofError(PROOF_GENERATION_ERROR, str(error)) from error


def _failure(problem_type: str, reason: str, **known: Any) -> ProofVerification:
    return ProofVerification(verified=False, problem_type=problem_type, reason=reason, **known)


async def verify_proof(
    document: dict[str, Any] | str,
    resolver: DidResolver,
    *,
    canonicalizer: Canonicalizer | None = None,
    now: datetime | None = None,
) -> ProofVerification:
    """Verify the proof of a credential in any profile (JSON-LD object or compact VC-JWT).

    Never raises for bad input: malformed documents, unknown contexts, unresolvable keys and bad
    signatures all come back as ``verified=False`` with a problem type and a reason.
    """
    received: object = document  # callers may pass anything parsed from JSON
    try:
        if isinstance(received, str):
            return await _verify_jwt(received, resolver)
        if not isinstance(received, dict):
            return _failure(PARSING_ERROR, "a credential is a JSON object or a compact VC-JWT")
        return await _verify_linked_data(received, resolver, canonicalizer, now)
    except ProofError as error:
        known: dict[str, Any] = {}
        if isinstance(received, dict):
            known = {"issuer": credential_issuer(received), "credential": received}
        return _failure(error.problem_type, error.reason, **known)
    except Exception as error:  # noqa: BLE001 - the contract is "never raise on bad input"
        return _failure(
            PROOF_VERIFICATION_ERROR,
            f"the proof could not be checked ({type(error).__name__}: {error})",
        )


def _check_issuer(credential: Mapping[str, Any], verification_method: str) -> str:
    issuer = credential_issuer(credential)
    if issuer is None:
        raise ProofError(PARSING_ERROR, "the credential has no issuer id")
    if _controller(verification_method) != issuer:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"the proof was made with {verification_method!r}, a key of "
            f"{_controller(verification_method)!r}, but the credential's issuer is {issuer!r}",
        )
    return issuer


async def _verify_linked_data(
    document: dict[str, Any],
    resolver: DidResolver,
    canonicalizer: Canonicalizer | None,
    now: datetime | None,
) -> ProofVerification:
    proofs = proofs_of(document)
    types = {proof.get("type") for proof in proofs}
    if len(types) != 1:
        raise ProofError(PROOF_VERIFICATION_ERROR, "proofs of different types are not supported")
    proof_type = types.pop()
    engine = canonicalizer or shared_canonicalizer()
    for proof in proofs:
        method = proof.get("verificationMethod")
        if not isinstance(method, str):
            raise ProofError(PROOF_VERIFICATION_ERROR, "the proof has no verificationMethod")
        if requires_issuer_binding(document):
            _check_issuer(document, method)
    if proof_type == ED25519_SIGNATURE_2020.proof_type:
        verified = await verify_document_proofs(
            document, resolver, engine, suite=ED25519_SIGNATURE_2020, now=now
        )
    elif proof_type == EDDSA_RDFC_2022.proof_type and any(map(is_ecdsa_sd_proof, proofs)):
        verified = await verify_derived_proofs(document, resolver, now=now)
    elif proof_type == EDDSA_RDFC_2022.proof_type:
        verified = await verify_document_proofs(
            document, resolver, engine, suite=EDDSA_RDFC_2022, now=now
        )
    else:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"proof type {proof_type!r} is not supported (supported: DataIntegrityProof with "
            "eddsa-rdfc-2022 or ecdsa-sd-2023, Ed25519Signature2020, VC-JWT with EdDSA, ES256 "
            "or RS256)",
        )
    return _success(document, verified)


def _success(document: dict[str, Any], verified: list[VerifiedProof]) -> ProofVerification:
    first = verified[0]
    return ProofVerification(
        verified=True,
        problem_type=None,
        reason=f"the {first.proof.get('type')} proof is valid and was made with the key "
        f"{first.verification_method}",
        verification_method=first.verification_method,
        issuer=credential_issuer(document),
        credential=document,
        proof_created=first.created,
    )


async def _verify_jwt(token: str, resolver: DidResolver) -> ProofVerification:
    decoded = decode_jwt(token)
    method = decoded.verification_method
    known: dict[str, Any] = {
        "verification_method": method,
        "issuer": decoded.issuer,
        "credential": decoded.credential,
    }
    iat = decoded.payload.get("iat", decoded.payload.get("nbf"))
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        known["proof_created"] = datetime.fromtimestamp(iat, UTC)
    if method is None:
        return _failure(PROOF_VERIFICATION_ERROR, "the JWT header has no 'kid'", **known)
    try:
        _check_issuer(decoded.credential, method)
        legacy = not decoded.whole_payload
        if legacy and method.startswith(_DID_KEY) and decoded.header.get("alg") == "EdDSA":
            errors = await didkit_verify(token, verification_method=method)
            if errors:
                raise ProofError(
                    PROOF_VERIFICATION_ERROR,
                    "the JWT signature is not valid (didkit: " + "; ".join(errors) + ")",
                )
        else:  # VC-JOSE-COSE, did:web, and ES256/RS256 whatever the DID method
            await verify_jwt_signature(decoded, resolver)
    except ProofError as error:
        return _failure(error.problem_type, error.reason, **known)
    return ProofVerification(
        verified=True,
        problem_type=None,
        reason=f"the VC-JWT signature is valid and was made by the issuer's key {method}",
        **known,
    )
