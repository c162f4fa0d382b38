"""Data Integrity proofs with Ed25519 over RDFC-1.0: ``eddsa-rdfc-2022`` (and the shared engine).

``eddsa-rdfc-2022`` (W3C "Data Integrity EdDSA Cryptosuites v1.0") is what Open Badges 3.0
certification requires and what VC Data Model 2.0 wallets verify: a ``DataIntegrityProof`` with
``cryptosuite: eddsa-rdfc-2022``, signed by a Multikey verification method. The legacy
``Ed25519Signature2020`` suite (:mod:`.ed25519_signature_2020`) runs through the same engine with
different proof options, so both are described by an :class:`RdfcSuite`.

Signing and verifying reproduce every intermediate of the W3C vc-di-eddsa test vectors
(``tests/unit/engine/test_eddsa_rdfc_2022.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sceau_credentials.canonical import Canonicalizer
from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.json_copy import json_copy
from sceau_credentials.keys import SigningKey
from sceau_credentials.nquads import QuadOrder
from sceau_credentials.proofs.errors import (
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.methods import resolve_public_key
from sceau_credentials.proofs.rdfc import (
    SigningInput,
    check_signature,
    decode_proof_value,
    format_datetime,
    parse_datetime,
    proofs_of,
    sign_input,
    signing_input,
)

__all__ = [
    "EDDSA_RDFC_2022",
    "RdfcSuite",
    "VerifiedProof",
    "add_proof",
    "check_proof_options",
    "create_proof",
    "verify_document_proofs",
    "verify_proof_with_key",
]


@dataclass(frozen=True, slots=True)
class RdfcSuite:
    """What distinguishes one RDFC + Ed25519 proof suite from another."""

    proof_type: str
    cryptosuite: str | None
    method_types: frozenset[str]
    """Verification method types the suite accepts."""


EDDSA_RDFC_2022: Final = RdfcSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="eddsa-rdfc-2022",
    # Multikey is the suite's method type; Ed25519VerificationKey2020 carries the same
    # publicKeyMultibase and the Digital Bazaar verifier accepts it too.
    method_types=frozenset({"Multikey", "Ed25519VerificationKey2020"}),
)


@dataclass(frozen=True, slots=True)
class VerifiedProof:
    """A proof that verified, with what it tells about who signed and when."""

    proof: dict[str, Any]
    verification_method: str
    controller: str
    created: datetime | None
    signing_input: SigningInput


def _proof_options(
    suite: RdfcSuite,
    key: SigningKey,
    *,
    created: datetime | None,
    proof_purpose: str,
    challenge: str | None,
    domain: str | None,
) -> dict[str, Any]:
    options: dict[str, Any] = {"type": suite.proof_type}
    if suite.cryptosuite is not None:
        options["cryptosuite"] = suite.cryptosuite
    options["created"] = format_datetime(created or datetime.now(UTC))
    options["verificationMethod"] = key.verification_method
    options["proofPurpose"] = proof_purpose
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    return options


def create_proof(
    document: Mapping[str, Any],
    key: SigningKey,
    canonicalizer: Canonicalizer,
    *,
    suite: RdfcSuite = EDDSA_RDFC_2022,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
) -> tuple[dict[str, Any], SigningInput]:
    """Create a proof for ``document`` (any existing ``proof`` is ignored, never signed).

    Returns:
        The proof object (with ``proofValue``) and the signing intermediates.

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` for an unusable document,
            ``PROOF_TRANSFORMATION_ERROR`` when it cannot be canonicalized.
    """
    if not isinstance(document, Mapping) or "@context" not in document:
        raise ProofError(PROOF_GENERATION_ERROR, "a JSON-LD document with @context is required")
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options = _proof_options(
        suite,
        key,
        created=created,
        proof_purpose=proof_purpose,
        challenge=challenge,
        domain=domain,
    )
    data = signing_input(unsecured, options, canonicalizer)
    _, proof_value = sign_input(data, key)
    return {**options, "proofValue": proof_value}, data


def add_proof(
    document: Mapping[str, Any],
    key: SigningKey,
    canonicalizer: Canonicalizer,
    *,
    as_array: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Return a copy of ``document`` secured with a new proof (see :func:`create_proof`).

    Args:
        document: the credential or presentation to secure.
        key: the signing key (its verification method is named in the proof).
        canonicalizer: the RDFC-1.0 engine.
        as_array: emit ``proof`` as a one-element array (the Open Badges 3.0 JSON Schema models
            ``proof`` as an array; JSON-LD gives both forms the same meaning).
        **options: passed to :func:`create_proof` (``created``, ``proof_purpose``, ...).
    """
    proof, _ = create_proof(document, key, canonicalizer, **options)
    secured = {name: json_copy(value) for name, value in document.items() if name != "proof"}
    secured["proof"] = [proof] if as_array else proof
    return secured


def check_proof_options(
    suite: RdfcSuite,
    proof: Mapping[str, Any],
    *,
    expected_purpose: str,
    challenge: str | None,
    domain: str | None,
    now: datetime,
) -> datetime | None:
    """Check a proof's options (type, cryptosuite, purpose, dates, challenge, domain).

    Returns:
        The proof's ``created`` date, if it has one.

    Raises:
        ProofError: with the matching W3C problem type.
    """
    if proof.get("type") != suite.proof_type:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"proof type {proof.get('type')!r} is not {suite.proof_type!r}",
        )
    if suite.cryptosuite is not None and proof.get("cryptosuite") != suite.cryptosuite:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"cryptosuite {proof.get('cryptosuite')!r} is not {suite.cryptosuite!r}",
        )
    if proof.get("proofPurpose") != expected_purpose:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"proofPurpose {proof.get('proofPurpose')!r} does not match the expected "
            f"{expected_purpose!r}",
        )
    created = parse_datetime(proof["created"], "created") if "created" in proof else None
    if "expires" in proof and parse_datetime(proof["expires"], "expires") < now:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"the proof expired at {proof['expires']}")
    if challenge is not None and proof.get("challenge") != challenge:
        raise ProofError(
            INVALID_CHALLENGE_ERROR,
            f"proof challenge {proof.get('challenge')!r} does not match the expected challenge",
        )
    if domain is not None:
        proof_domain = proof.get("domain")
        domains = proof_domain if isinstance(proof_domain, list) else [proof_domain]
        if domain not in domains:
            raise ProofError(
                INVALID_DOMAIN_ERROR,
                f"proof domain {proof_domain!r} does not match the expected {domain!r}",
            )
    return created


def verify_proof_with_key(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: Any,
    canonicalizer: Canonicalizer,
    *,
    suite: RdfcSuite = EDDSA_RDFC_2022,
) -> SigningInput:
    """Check one proof's signature over ``document`` (its own ``proof`` member is ignored).

    Only the cryptography: options and key authorization are the caller's business (see
    :func:`verify_document_proofs`). Useful for vectors and for keys already resolved.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` / ``PROOF_TRANSFORMATION_ERROR``.
    """
    signature = decode_proof_value(proof.get("proofValue"))
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    context = options.pop("@context", None)
    if context is not None:
        # A proof may carry its own @context; it must then be a prefix of the document's.
        proof_context = context if isinstance(context, list) else [context]
        document_context = unsecured.get("@context")
        document_context = (
            document_context if isinstance(document_context, list) else [document_context]
        )
        if document_context[: len(proof_context)] != proof_context:
            raise ProofError(
                PROOF_VERIFICATION_ERROR,
                "the proof's @context does not match the beginning of the document's @context",
            )
    data = signing_input(unsecured, options, canonicalizer)
    try:
        check_signature(public_key, signature, data)
    except ProofError:
        # Signed by an implementation that sorts N-Quads in code point order (RDFC-1.0 as
        # written) rather than the UTF-16 order we sign in: same quads, other line order.
        spec_order = signing_input(unsecured, options, canonicalizer, QuadOrder.CODE_POINTS)
        if spec_order.hash_data == data.hash_data:
            raise
        check_signature(public_key, signature, spec_order)
        return spec_order
    return data


async def verify_document_proofs(
    document: Mapping[str, Any],
    resolver: DidResolver,
    canonicalizer: Canonicalizer,
    *,
    suite: RdfcSuite = EDDSA_RDFC_2022,
    expected_purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
) -> list[VerifiedProof]:
    """Verify every proof of a secured document (a proof set needs all of them to verify).

    Checks, in order: proof shape and options (type, cryptosuite, purpose, dates, challenge,
    domain), the verification method (resolved through ``resolver``, controlled by its DID and
    authorized for ``expected_purpose``), then the signature over the canonical forms.

    Raises:
        ProofError: the first failure, with its W3C problem type.
    """
    moment = now or datetime.now(UTC)
    verified: list[VerifiedProof] = []
    for proof in proofs_of(document):
        created = check_proof_options(
            suite,
            proof,
            expected_purpose=expected_purpose,
            challenge=challenge,
            domain=domain,
            now=moment,
        )
        decode_proof_value(proof.get("proofValue"))  # refuse a malformed proof before resolving
        public_key, method = await resolve_public_key(
            resolver,
            proof.get("verificationMethod"),
            expected_purpose,
            allowed_types=suite.method_types,
        )
        data = verify_proof_with_key(document, proof, public_key, canonicalizer, suite=suite)
        verified.append(
            VerifiedProof(
                proof=dict(proof),
                verification_method=str(method["id"]),
                controller=str(method["controller"]),
                created=created,
                signing_input=data,
            )
        )
    return verified
