"""Verifiable presentations: sign (eddsa-rdfc-2022) and verify, with challenge and domain checks.

A presentation proves that whoever shows credentials controls the holder's key *now*, for *this*
verifier: the proof's ``proofPurpose`` is ``authentication``, its ``challenge`` is the nonce the
verifier issued (refused with ``INVALID_CHALLENGE_ERROR`` otherwise — replay protection) and its
``domain`` names the verifier (``INVALID_DOMAIN_ERROR`` otherwise — relay protection). Each
embedded credential is then verified on its own with :func:`~sceau_credentials.engine.
verify_proof` (its issuer, not the holder, signed it).

Presentation proofs may be ``DataIntegrityProof``/``eddsa-rdfc-2022`` (what we sign) or the
legacy ``Ed25519Signature2020`` that VC Data Model 1.1 wallets still produce; both are checked by
our own implementation over keys our resolver returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sceau_credentials.canonical import Canonicalizer
from sceau_credentials.dids.resolver import DidResolver, split_did_url
from sceau_credentials.engine import ProofVerification, shared_canonicalizer, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.proofs.data_integrity import (
    EDDSA_RDFC_2022,
    add_proof,
    verify_document_proofs,
)
from sceau_credentials.proofs.ed25519_signature_2020 import ED25519_SIGNATURE_2020
from sceau_credentials.proofs.errors import (
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.rdfc import proofs_of

__all__ = ["PresentationVerification", "sign_presentation", "verify_presentation"]

_SUITES = {suite.proof_type: suite for suite in (EDDSA_RDFC_2022, ED25519_SIGNATURE_2020)}


@dataclass(frozen=True, slots=True)
class PresentationVerification:
    """Outcome of verifying a presentation and every credential in it.

    ``verified`` is true only if the presentation proof *and* every credential proof verified.
    """

    verified: bool
    problem_type: str | None
    reason: str
    holder: str | None = None
    verification_method: str | None = None
    credentials: list[ProofVerification] = field(default_factory=list)


def sign_presentation(
    presentation: Mapping[str, Any],
    key: SigningKey,
    *,
    challenge: str,
    domain: str | None = None,
    created: datetime | None = None,
    canonicalizer: Canonicalizer | None = None,
) -> dict[str, Any]:
    """Sign ``presentation`` as its holder (``authentication`` purpose, eddsa-rdfc-2022).

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` / ``PROOF_TRANSFORMATION_ERROR``.
    """
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder_id is not None and holder_id != key.controller:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"the presentation's holder {holder_id!r} is not the key's controller "
            f"{key.controller!r}",
        )
    return add_proof(
        presentation,
        key,
        canonicalizer or shared_canonicalizer(),
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
        created=created,
    )


_ENVELOPED_JWT = "data:application/vc+jwt,"


def _embedded(presentation: Mapping[str, Any]) -> list[Any]:
    """The credentials to verify; a VCDM 2.0 ``EnvelopedVerifiableCredential`` yields its JWT."""
    value = presentation.get("verifiableCredential", [])
    credentials = []
    for item in value if isinstance(value, list) else [value]:
        if (
            isinstance(item, Mapping)
            and item.get("type") == "EnvelopedVerifiableCredential"
            and isinstance(item.get("id"), str)
            and item["id"].startswith(_ENVELOPED_JWT)
        ):
            credentials.append(item["id"][len(_ENVELOPED_JWT) :])
        else:
            credentials.append(item)
    return credentials


async def verify_presentation(
    presentation: object,
    resolver: DidResolver,
    *,
    challenge: str | None,
    domain: str | None = None,
    canonicalizer: Canonicalizer | None = None,
    now: datetime | None = None,
    holder_only: bool = False,
) -> PresentationVerification:
    """Verify a presentation's proof (with the expected challenge/domain) and its credentials.

    Args:
        presentation: the presentation as parsed from JSON (anything is accepted).
        resolver: resolves the holder's and the issuers' DIDs.
        challenge: the nonce this verifier issued; ``None`` skips the check (only for
            presentations that were not requested with one).
        domain: the verifier's domain the proof must name, or ``None`` to skip that check.
        canonicalizer: the RDFC-1.0 engine (default: the shared one).
        now: the time to check proof expiry against (default: now).
        holder_only: check the presentation's own proof (and its holder) only, not the
            embedded credentials (a caller that verifies them one by one itself).

    Never raises for bad input: the result says what failed and why.
    """
    if not isinstance(presentation, dict):
        return PresentationVerification(False, PARSING_ERROR, "a presentation is a JSON object")
    types = presentation.get("type")
    if "VerifiablePresentation" not in (types if isinstance(types, list) else [types]):
        return PresentationVerification(
            False, PARSING_ERROR, "the document is not a VerifiablePresentation"
        )
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    try:
        proofs = proofs_of(presentation)
        suite = _SUITES.get(str(proofs[0].get("type")))
        if suite is None:
            raise ProofError(
                PROOF_VERIFICATION_ERROR,
                f"presentation proof type {proofs[0].get('type')!r} is not supported",
            )
        verified = await verify_document_proofs(
            presentation,
            resolver,
            canonicalizer or shared_canonicalizer(),
            suite=suite,
            expected_purpose="authentication",
            challenge=challenge,
            domain=domain,
            now=now,
        )
    except ProofError as error:
        return PresentationVerification(False, error.problem_type, error.reason, holder_id)
    except Exception as error:  # noqa: BLE001 - never raise on bad input
        return PresentationVerification(
            False,
            PROOF_VERIFICATION_ERROR,
            f"the presentation could not be checked ({type(error).__name__}: {error})",
            holder_id,
        )
    method = verified[0].verification_method
    if holder_id is not None and split_did_url(method)[0] != holder_id:
        return PresentationVerification(
            False,
            PROOF_VERIFICATION_ERROR,
            f"the presentation was signed with {method!r}, not by its holder {holder_id!r}",
            holder_id,
            method,
        )
    if holder_only:
        return PresentationVerification(
            True,
            None,
            f"the presentation proof is valid (holder key {method})",
            holder_id,
            method,
        )
    results = [
        await verify_proof(credential, resolver, canonicalizer=canonicalizer, now=now)
        for credential in _embedded(presentation)
    ]
    failed = [result for result in results if not result.verified]
    if failed:
        return PresentationVerification(
            False,
            failed[0].problem_type,
            f"the presentation proof is valid but {len(failed)} of {len(results)} credential(s) "
            f"did not verify: {failed[0].reason}",
            holder_id,
            method,
            results,
        )
    return PresentationVerification(
        True,
        None,
        f"the presentation proof is valid (holder key {method}) and all {len(results)} "
        "credential(s) verified",
        holder_id,
        method,
        results,
    )
