"""``ecdsa-sd-2023``: selective disclosure Data Integrity proofs (W3C VC DI ECDSA, section 3).

Three parties, three operations:

* the **issuer** signs a *base proof* (:func:`add_base_proof`): every canonical N-Quad that is
  not *mandatory* is signed with a fresh one-time P-256 key, and the issuer's P-256 key signs
  the proof configuration, that one-time public key and the hash of the mandatory quads. The
  base proof also holds the HMAC key that hides blank node labels; it goes to the holder only;
* the **holder** derives a *disclosure* (:func:`derive`): the document reduced to the
  mandatory pointers plus the ones they choose (e.g. everything except
  ``/credentialSubject/result``), with only the signatures of the quads kept;
* the **verifier** checks the derived proof (:func:`verify_derived_proofs`): the issuer's
  signature over the mandatory quads and a signature for every other quad shown.

A base proof is not meant to be shown to verifiers; verifying one is refused with a reason.
P-256 keys only (the suite allows P-384 as well; nothing here issues those). The W3C test vectors
are reproduced byte for byte (``tests/unit/engine/test_ecdsa_sd_vectors.py``) and interop with
Digital Bazaar's ``@digitalbazaar/ecdsa-sd-2023-cryptosuite`` is tested in every direction.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from sceau_credentials.canonical import CanonicalizationError
from sceau_credentials.cbor import CborError
from sceau_credentials.cbor import decode as cbor_decode
from sceau_credentials.cbor import encode as cbor_encode
from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.document_loader import UnknownContextError
from sceau_credentials.jsonld_safety import UnsafeDocumentError
from sceau_credentials.keys import InvalidKeyError
from sceau_credentials.keys_p256 import (
    P256SigningKey,
    es256_sign,
    es256_verify,
    p256_public_key_from_multikey_bytes,
    p256_public_multikey_bytes,
)
from sceau_credentials.multiformats import (
    MultiformatError,
    base64url_nopad_decode,
    multibase_decode,
    multibase_encode,
)
from sceau_credentials.proofs.data_integrity import RdfcSuite, VerifiedProof, check_proof_options
from sceau_credentials.proofs.errors import (
    PROOF_GENERATION_ERROR,
    PROOF_TRANSFORMATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.jws import public_key_for_algorithm
from sceau_credentials.proofs.methods import resolve_verification_method
from sceau_credentials.proofs.rdfc import SigningInput, format_datetime, proofs_of
from sceau_credentials.proofs.sd_primitives import (
    JsonPointerError,
    LabelMapError,
    SdJsonLd,
    given_label_map,
    hmac_label_map,
    select_json_ld,
)

__all__ = [
    "ECDSA_SD_2023",
    "BaseProofValue",
    "DerivedProofValue",
    "add_base_proof",
    "default_sd_processor",
    "derive",
    "is_ecdsa_sd_proof",
    "parse_base_proof_value",
    "parse_derived_proof_value",
    "serialize_base_proof_value",
    "serialize_derived_proof_value",
    "verify_derived_proofs",
]

ECDSA_SD_2023: Final = RdfcSuite(
    proof_type="DataIntegrityProof",
    cryptosuite="ecdsa-sd-2023",
    method_types=frozenset({"Multikey", "JsonWebKey", "JsonWebKey2020"}),
)
_BASE_HEADER: Final = bytes([0xD9, 0x5D, 0x00])
_DERIVED_HEADER: Final = bytes([0xD9, 0x5D, 0x01])
_SIGNATURE_BYTES: Final = 64
_PUBLIC_KEY_BYTES: Final = 35
_HMAC_KEY_BYTES: Final = 32


@functools.cache
def default_sd_processor() -> SdJsonLd:
    """The JSON-LD processor used when none is passed.

    It only memoises work derived from the immutable bundled contexts, so sharing it within the
    process changes no behaviour.
    """
    return SdJsonLd()


def is_ecdsa_sd_proof(proof: Mapping[str, Any]) -> bool:
    """True for a ``DataIntegrityProof`` with ``cryptosuite: ecdsa-sd-2023``."""
    return proof.get("type") == ECDSA_SD_2023.proof_type and (
        proof.get("cryptosuite") == ECDSA_SD_2023.cryptosuite
    )


# --- proof values ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BaseProofValue:
    """What the issuer gives the holder (secret: ``hmac_key`` unlinks blank node labels)."""

    base_signature: bytes
    public_key: bytes
    """The one-time P-256 key as multicodec bytes (``0x80 0x24`` + compressed point)."""
    hmac_key: bytes
    signatures: list[bytes]
    mandatory_pointers: list[str]


@dataclass(frozen=True, slots=True)
class DerivedProofValue:
    """What the holder gives a verifier."""

    base_signature: bytes
    public_key: bytes
    signatures: list[bytes]
    label_map: dict[str, str]
    """Canonical label (``c14nN``) → HMAC label (``u…``) of every blank node disclosed."""
    mandatory_indexes: list[int]


def _check_common(base_signature: object, public_key: object, signatures: object) -> None:
    if not isinstance(base_signature, bytes) or len(base_signature) != _SIGNATURE_BYTES:
        raise ValueError("baseSignature must be 64 bytes")
    if not isinstance(public_key, bytes) or len(public_key) != _PUBLIC_KEY_BYTES:
        raise ValueError("publicKey must be 35 bytes")
    if not isinstance(signatures, list) or not all(
        isinstance(item, bytes) and len(item) == _SIGNATURE_BYTES for item in signatures
    ):
        raise ValueError("signatures must be 64-byte strings")


def serialize_base_proof_value(value: BaseProofValue) -> str:
    """Encode a base proof value: ``u`` + base64url(``d9 5d 00`` + CBOR array)."""
    payload = [
        value.base_signature,
        value.public_key,
        value.hmac_key,
        list(value.signatures),
        list(value.mandatory_pointers),
    ]
    return multibase_encode(_BASE_HEADER + cbor_encode(payload), "base64url")


def _payload(proof_value: object, header: bytes, other: bytes) -> list[Any]:
    if not isinstance(proof_value, str):
        raise ProofError(PROOF_VERIFICATION_ERROR, "proofValue is missing or not a string")
    try:
        data = multibase_decode(proof_value, expect="base64url")
    except MultiformatError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"proofValue: {error}") from error
    if data.startswith(other):
        kind = "base" if other == _BASE_HEADER else "derived"
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"this ecdsa-sd-2023 proof is a {kind} proof"
            + (
                ": only the holder uses it, to derive a disclosure for verifiers"
                if kind == "base"
                else ", not a base proof"
            ),
        )
    if not data.startswith(header):
        raise ProofError(PROOF_VERIFICATION_ERROR, "proofValue is not an ecdsa-sd-2023 value")
    try:
        payload = cbor_decode(data[len(header) :])
    except CborError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"proofValue: {error}") from error
    if not isinstance(payload, list) or len(payload) != 5:
        raise ProofError(PROOF_VERIFICATION_ERROR, "proofValue must hold five components")
    return payload


def parse_base_proof_value(proof_value: object) -> BaseProofValue:
    """Decode a base proof value.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when it is not a well-formed base proof value.
    """
    base_signature, public_key, hmac_key, signatures, pointers = _payload(
        proof_value, _BASE_HEADER, _DERIVED_HEADER
    )
    try:
        _check_common(base_signature, public_key, signatures)
        if not isinstance(hmac_key, bytes) or len(hmac_key) != _HMAC_KEY_BYTES:
            raise ValueError("hmacKey must be 32 bytes")
        if not isinstance(pointers, list) or not all(isinstance(p, str) for p in pointers):
            raise ValueError("mandatoryPointers must be strings")
    except ValueError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"base proofValue: {error}") from error
    return BaseProofValue(base_signature, public_key, hmac_key, signatures, pointers)


def serialize_derived_proof_value(value: DerivedProofValue) -> str:
    """Encode a derived proof value: ``u`` + base64url(``d9 5d 01`` + CBOR array).

    The label map is compressed as the spec says: ``c14nN`` → N, ``u…`` → its bytes.
    """
    compressed = {
        int(label[len("c14n") :]): base64url_nopad_decode(replacement[1:])
        for label, replacement in value.label_map.items()
    }
    payload = [
        value.base_signature,
        value.public_key,
        list(value.signatures),
        compressed,
        list(value.mandatory_indexes),
    ]
    return multibase_encode(_DERIVED_HEADER + cbor_encode(payload), "base64url")


def parse_derived_proof_value(proof_value: object) -> DerivedProofValue:
    """Decode a derived proof value.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when it is not a well-formed derived value (a
            base proof value gets its own explanation).
    """
    base_signature, public_key, signatures, compressed, indexes = _payload(
        proof_value, _DERIVED_HEADER, _BASE_HEADER
    )
    try:
        _check_common(base_signature, public_key, signatures)
        if not isinstance(compressed, dict) or not all(
            isinstance(label, bytes) for label in compressed.values()
        ):
            raise ValueError("the label map must map integers to byte strings")
        if len(set(compressed.values())) != len(compressed):
            # Honest maps are injective (HMACs of distinct labels); a map sending two blank
            # nodes to one label would let a holder split a node the issuer signed as one.
            raise ValueError("the label map gives two blank nodes the same label")
        if not isinstance(indexes, list) or not all(isinstance(i, int) for i in indexes):
            raise ValueError("mandatoryIndexes must be integers")
    except ValueError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"derived proofValue: {error}") from error
    label_map = {
        f"c14n{index}": multibase_encode(label, "base64url") for index, label in compressed.items()
    }
    return DerivedProofValue(base_signature, public_key, signatures, label_map, indexes)


# --- shared steps ------------------------------------------------------------------------------


def _transformation(what: str, error: Exception) -> ProofError:
    return ProofError(PROOF_TRANSFORMATION_ERROR, f"{what}: {error}")


def _proof_hash(
    document: Mapping[str, Any], options: Mapping[str, Any], sd: SdJsonLd
) -> tuple[str, bytes]:
    config = {"@context": copy.deepcopy(document.get("@context"))}
    config.update({key: copy.deepcopy(value) for key, value in options.items()})
    config.pop("proofValue", None)
    try:
        canonical = sd.canonicalizer.canonicalize(config)
    except (UnknownContextError, UnsafeDocumentError, CanonicalizationError) as error:
        raise _transformation("proof configuration", error) from error
    return canonical, hashlib.sha256(canonical.encode("utf-8")).digest()


def _mandatory_hash(quads: Sequence[str]) -> bytes:
    return hashlib.sha256("".join(quads).encode("utf-8")).digest()


def _unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    return {name: copy.deepcopy(value) for name, value in document.items() if name != "proof"}


# --- issuer: base proof ------------------------------------------------------------------------


def create_base_proof(
    document: Mapping[str, Any],
    key: P256SigningKey,
    *,
    mandatory_pointers: Sequence[str] = (),
    sd: SdJsonLd | None = None,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
    hmac_key: bytes | None = None,
    proof_key: ec.EllipticCurvePrivateKey | None = None,
) -> dict[str, Any]:
    """Create an ``ecdsa-sd-2023`` base proof for ``document`` (its own ``proof`` is ignored).

    Args:
        document: the credential (JSON-LD with ``@context``).
        key: the issuer's P-256 key.
        mandatory_pointers: JSON pointers every disclosure must reveal (e.g. ``/issuer``,
            ``/validFrom``): they are signed together by the issuer's key.
        sd: the JSON-LD processor (default: bundled contexts).
        created: the proof's date (default: now).
        proof_purpose: the proof purpose.
        hmac_key: the 32-byte HMAC key (default: random). Only test vectors pass one.
        proof_key: the one-time P-256 key (default: fresh). Only test vectors pass one: reusing
            it across credentials would link them.

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` (bad document or pointer) or
            ``PROOF_TRANSFORMATION_ERROR`` (cannot be canonicalized safely).
    """
    if not isinstance(document, Mapping) or "@context" not in document:
        raise ProofError(PROOF_GENERATION_ERROR, "a JSON-LD document with @context is required")
    processor = sd or default_sd_processor()
    unsecured = _unsecured(document)
    options: dict[str, Any] = {
        "type": ECDSA_SD_2023.proof_type,
        "cryptosuite": ECDSA_SD_2023.cryptosuite,
        "created": format_datetime(created or datetime.now(UTC)),
        "verificationMethod": key.verification_method,
        "proofPurpose": proof_purpose,
    }
    _, proof_hash = _proof_hash(unsecured, options, processor)
    if hmac_key is None:
        hmac_key = secrets.token_bytes(_HMAC_KEY_BYTES)
    if len(hmac_key) != _HMAC_KEY_BYTES:
        raise ProofError(PROOF_GENERATION_ERROR, "the HMAC key must be 32 bytes")
    try:
        expanded, compact = processor.skolemize(unsecured)
        canonical, label_map = processor.canonical_with_labels(
            processor.nquads(expanded), hmac_label_map(hmac_key)
        )
        mandatory = processor.group(compact, canonical, label_map, list(mandatory_pointers))
    except JsonPointerError as error:
        raise ProofError(PROOF_GENERATION_ERROR, str(error)) from error
    except (UnknownContextError, UnsafeDocumentError, CanonicalizationError) as error:
        raise _transformation("document", error) from error
    one_time = proof_key or ec.generate_private_key(ec.SECP256R1())
    signatures = [
        es256_sign(one_time, quad.encode("utf-8")) for quad in mandatory.non_matching.values()
    ]
    public_key = p256_public_multikey_bytes(one_time.public_key())
    to_sign = proof_hash + public_key + _mandatory_hash(list(mandatory.matching.values()))
    value = BaseProofValue(
        base_signature=key.sign(to_sign),
        public_key=public_key,
        hmac_key=hmac_key,
        signatures=signatures,
        mandatory_pointers=list(mandatory_pointers),
    )
    return {**options, "proofValue": serialize_base_proof_value(value)}


def add_base_proof(
    document: Mapping[str, Any],
    key: P256SigningKey,
    *,
    as_array: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Return a copy of ``document`` with a new base proof (see :func:`create_base_proof`).

    ``as_array`` emits ``proof`` as a one-element array (the Open Badges 3.0 JSON Schema form).
    """
    proof = create_base_proof(document, key, **options)
    secured = _unsecured(document)
    secured["proof"] = [proof] if as_array else proof
    return secured


# --- holder: derived proof ---------------------------------------------------------------------


def _base_proof_of(document: Mapping[str, Any]) -> dict[str, Any]:
    candidates = [proof for proof in proofs_of(document) if is_ecdsa_sd_proof(proof)]
    if len(candidates) != 1:
        raise ProofError(
            PROOF_GENERATION_ERROR,
            f"expected one ecdsa-sd-2023 base proof, found {len(candidates)}",
        )
    return dict(candidates[0])


def derive(
    secured: Mapping[str, Any],
    selective_pointers: Sequence[str],
    *,
    sd: SdJsonLd | None = None,
) -> dict[str, Any]:
    """Derive a disclosure from a document with a base proof.

    Args:
        secured: the document with its ``ecdsa-sd-2023`` base proof (as the issuer sent it).
        selective_pointers: JSON pointers to reveal besides the mandatory ones
            (:func:`~.sd_primitives.pointers_except` builds "all but these").
        sd: the JSON-LD processor (default: bundled contexts).

    Returns:
        The revealed document with its derived proof (``proof`` in the same form, object or
        one-element array, as in ``secured``).

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` (no base proof, nothing selected, bad pointer),
            ``PROOF_VERIFICATION_ERROR`` (malformed base proof value) or
            ``PROOF_TRANSFORMATION_ERROR``.
    """
    processor = sd or default_sd_processor()
    base_proof = _base_proof_of(secured)
    base = parse_base_proof_value(base_proof.get("proofValue"))
    if not base.mandatory_pointers and not selective_pointers:
        raise ProofError(PROOF_GENERATION_ERROR, "nothing is selected for disclosure")
    unsecured = _unsecured(secured)
    combined_pointers = [*base.mandatory_pointers, *selective_pointers]
    try:
        expanded, compact = processor.skolemize(unsecured)
        canonical, label_map = processor.canonical_with_labels(
            processor.nquads(expanded), hmac_label_map(base.hmac_key)
        )
        mandatory = processor.group(compact, canonical, label_map, base.mandatory_pointers)
        selective = processor.group(compact, canonical, label_map, list(selective_pointers))
        combined = processor.group(compact, canonical, label_map, combined_pointers)
        reveal = select_json_ld(unsecured, combined_pointers)
        id_map = processor.canonical_id_map(combined.deskolemized_nquads)
    except JsonPointerError as error:
        raise ProofError(PROOF_GENERATION_ERROR, str(error)) from error
    except (UnknownContextError, UnsafeDocumentError, CanonicalizationError) as error:
        raise _transformation("document", error) from error
    if len(base.signatures) != len(mandatory.non_matching):
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"the base proof has {len(base.signatures)} signatures for "
            f"{len(mandatory.non_matching)} non-mandatory statements: the document changed",
        )
    mandatory_indexes = [
        position for position, index in enumerate(combined.matching) if index in mandatory.matching
    ]
    signatures = [
        signature
        for index, signature in zip(mandatory.non_matching, base.signatures, strict=True)
        if index in selective.matching
    ]
    verifier_labels = {
        canonical_label: label_map[source] for source, canonical_label in id_map.items()
    }
    derived = {name: value for name, value in base_proof.items() if name != "@context"}
    derived["proofValue"] = serialize_derived_proof_value(
        DerivedProofValue(
            base_signature=base.base_signature,
            public_key=base.public_key,
            signatures=signatures,
            label_map=verifier_labels,
            mandatory_indexes=mandatory_indexes,
        )
    )
    assert reveal is not None  # noqa: S101 - combined_pointers is not empty (checked above)
    reveal["proof"] = [derived] if isinstance(secured.get("proof"), list) else derived
    return reveal


# --- verifier ----------------------------------------------------------------------------------


def verify_derived_proof_with_key(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: ec.EllipticCurvePublicKey,
    *,
    sd: SdJsonLd | None = None,
) -> SigningInput:
    """Check one derived proof's signatures over ``document`` (only the cryptography).

    Returns:
        The intermediates: canonical (relabelled) document, proof configuration and hashes.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` / ``PROOF_TRANSFORMATION_ERROR``.
    """
    processor = sd or default_sd_processor()
    value = parse_derived_proof_value(proof.get("proofValue"))
    unsecured = _unsecured(document)
    canonical_config, proof_hash = _proof_hash(unsecured, proof, processor)
    try:
        quads = processor.canonical_document_with_labels(
            unsecured, given_label_map(value.label_map)
        )
    except LabelMapError as error:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"statements were added after the disclosure was made ({error})",
        ) from error
    except (UnknownContextError, UnsafeDocumentError, CanonicalizationError) as error:
        raise _transformation("document", error) from error
    indexes = set(value.mandatory_indexes)
    if any(index < 0 or index >= len(quads) for index in indexes):
        raise ProofError(PROOF_VERIFICATION_ERROR, "mandatoryIndexes point outside the document")
    mandatory = [quad for index, quad in enumerate(quads) if index in indexes]
    others = [quad for index, quad in enumerate(quads) if index not in indexes]
    if len(value.signatures) != len(others):
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"the proof has {len(value.signatures)} signatures for {len(others)} disclosed "
            "statements: statements were added or removed after the disclosure was made",
        )
    try:
        one_time = p256_public_key_from_multikey_bytes(value.public_key)
    except InvalidKeyError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"proof publicKey: {error}") from error
    for quad, signature in zip(others, value.signatures, strict=True):
        if not es256_verify(one_time, signature, quad.encode("utf-8")):
            raise ProofError(
                PROOF_VERIFICATION_ERROR,
                "a disclosed statement does not match its signature: the document was changed "
                "after it was signed",
            )
    mandatory_hash = _mandatory_hash(mandatory)
    if not es256_verify(
        public_key, value.base_signature, proof_hash + value.public_key + mandatory_hash
    ):
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            "the issuer's signature does not match: the mandatory statements or the proof "
            "options were changed, or another key signed",
        )
    canonical_document = "".join(quads)
    return SigningInput(
        canonical_document=canonical_document,
        canonical_proof_config=canonical_config,
        document_hash=hashlib.sha256(canonical_document.encode("utf-8")).digest(),
        proof_config_hash=proof_hash,
    )


async def verify_derived_proofs(
    document: Mapping[str, Any],
    resolver: DidResolver,
    *,
    sd: SdJsonLd | None = None,
    expected_purpose: str = "assertionMethod",
    now: datetime | None = None,
) -> list[VerifiedProof]:
    """Verify every ``ecdsa-sd-2023`` derived proof of a disclosed document.

    Checks proof options (as for every Data Integrity proof), resolves the issuer's key
    (authorized for ``expected_purpose``, P-256), then the signatures.

    Raises:
        ProofError: the first failure, with its W3C problem type.
    """
    moment = now or datetime.now(UTC)
    verified: list[VerifiedProof] = []
    for proof in proofs_of(document):
        created = check_proof_options(
            ECDSA_SD_2023,
            proof,
            expected_purpose=expected_purpose,
            challenge=None,
            domain=None,
            now=moment,
        )
        parse_derived_proof_value(proof.get("proofValue"))  # refuse malformed before resolving
        method = await resolve_verification_method(
            resolver,
            proof.get("verificationMethod"),
            expected_purpose,
            allowed_types=ECDSA_SD_2023.method_types,
        )
        try:
            public_key = public_key_for_algorithm(method, "ES256")
        except InvalidKeyError as error:
            raise ProofError(PROOF_VERIFICATION_ERROR, str(error)) from error
        assert isinstance(public_key, ec.EllipticCurvePublicKey)  # noqa: S101 - ES256 gives EC
        data = verify_derived_proof_with_key(document, proof, public_key, sd=sd)
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
