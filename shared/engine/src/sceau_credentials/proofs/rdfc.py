"""The pipeline RDFC-based Ed25519 proof suites share: canonicalize, hash, sign or check.

``eddsa-rdfc-2022`` and the older ``Ed25519Signature2020`` differ only in their proof options; both
sign ``SHA-256(canonical proof configuration) || SHA-256(canonical document)`` with Ed25519 and
encode the signature as base58btc multibase. Every intermediate is kept in :class:`SigningInput`
so tests can compare each one with the W3C vectors.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sceau_credentials.canonical import CanonicalizationError, Canonicalizer
from sceau_credentials.document_loader import UnknownContextError
from sceau_credentials.json_copy import json_copy
from sceau_credentials.jsonld_safety import UnsafeDocumentError
from sceau_credentials.keys import SigningKey
from sceau_credentials.multiformats import (
    MultiformatError,
    multibase_decode,
    multibase_encode,
)
from sceau_credentials.nquads import QuadOrder
from sceau_credentials.proofs.errors import (
    PROOF_GENERATION_ERROR,
    PROOF_TRANSFORMATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)

__all__ = [
    "SigningInput",
    "check_signature",
    "decode_proof_value",
    "format_datetime",
    "parse_datetime",
    "proofs_of",
    "sign_input",
    "signing_input",
]

_DATETIME: Final = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True, slots=True)
class SigningInput:
    """Every intermediate value of an RDFC Ed25519 proof, named as in the W3C test vectors."""

    canonical_document: str
    """``canonDoc…``: canonical N-Quads of the document without its proof."""
    canonical_proof_config: str
    """``proofCanon…``: canonical N-Quads of the proof options with the document's context."""
    document_hash: bytes
    """``docHash…``: SHA-256 of the canonical document."""
    proof_config_hash: bytes
    """``proofHash…``: SHA-256 of the canonical proof configuration."""

    @property
    def hash_data(self) -> bytes:
        """``combinedHash…``: proof configuration hash followed by document hash (64 bytes)."""
        return self.proof_config_hash + self.document_hash


def format_datetime(moment: datetime) -> str:
    """Return ``moment`` as an XML Schema dateTimeStamp in UTC with seconds precision."""
    if moment.tzinfo is None:
        raise ValueError("a proof date must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: object, field: str) -> datetime:
    """Parse an XML Schema dateTimeStamp (with offset) as found in ``created``/``expires``.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when the value is not such a date-time.
    """
    if not isinstance(value, str) or not _DATETIME.match(value):
        raise ProofError(
            PROOF_VERIFICATION_ERROR, f"proof {field} {value!r} is not an XML Schema dateTime"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ProofError(
            PROOF_VERIFICATION_ERROR, f"proof {field} {value!r} is not a valid date-time"
        ) from error
    return parsed


def proofs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return the proof(s) of a secured document as a list (a proof may be an object or array).

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when there is no proof or it is not objects.
    """
    proof = document.get("proof")
    if proof is None:
        raise ProofError(PROOF_VERIFICATION_ERROR, "the document has no proof")
    proofs = proof if isinstance(proof, list) else [proof]
    if not proofs or not all(isinstance(item, Mapping) for item in proofs):
        raise ProofError(PROOF_VERIFICATION_ERROR, "proof must be an object or array of objects")
    return proofs


def _canonicalize(
    document: Mapping[str, Any], canonicalizer: Canonicalizer, what: str, order: QuadOrder
) -> str:
    try:
        return canonicalizer.canonicalize(document, order)
    except UnknownContextError as error:
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"{what}: {error}") from error
    except UnsafeDocumentError as error:
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"{what}: {error}") from error
    except CanonicalizationError as error:
        raise ProofError(PROOF_TRANSFORMATION_ERROR, f"{what}: {error}") from error


def signing_input(
    unsecured_document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    canonicalizer: Canonicalizer,
    order: QuadOrder = QuadOrder.UTF16_CODE_UNITS,
) -> SigningInput:
    """Canonicalize and hash the document and the proof configuration.

    The proof configuration is ``proof_options`` without ``proofValue`` and with the document's
    ``@context`` (VC Data Integrity, "proof configuration" step of the RDFC suites). ``order`` is
    how N-Quads lines are sorted (:class:`~sceau_credentials.nquads.QuadOrder`): both orders
    agree except on rare mixes of astral and U+E000 to U+FFFF characters.

    Raises:
        ProofError: ``PROOF_TRANSFORMATION_ERROR`` when either cannot be canonicalized.
    """
    config = {key: json_copy(value) for key, value in proof_options.items()}
    config.pop("proofValue", None)
    config["@context"] = json_copy(unsecured_document.get("@context"))
    canonical_config = _canonicalize(config, canonicalizer, "proof configuration", order)
    canonical_document = _canonicalize(unsecured_document, canonicalizer, "document", order)
    return SigningInput(
        canonical_document=canonical_document,
        canonical_proof_config=canonical_config,
        document_hash=hashlib.sha256(canonical_document.encode("utf-8")).digest(),
        proof_config_hash=hashlib.sha256(canonical_config.encode("utf-8")).digest(),
    )


def sign_input(data: SigningInput, key: SigningKey) -> tuple[bytes, str]:
    """Sign the hash data; return the raw signature and its base58btc multibase ``proofValue``."""
    try:
        signature = key.sign(data.hash_data)
    except ValueError as error:  # pragma: no cover - cryptography never fails on valid keys
        raise ProofError(PROOF_GENERATION_ERROR, f"signing failed: {error}") from error
    return signature, multibase_encode(signature, "base58btc")


def decode_proof_value(value: object) -> bytes:
    """Decode a base58btc multibase ``proofValue`` into a 64-byte Ed25519 signature.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when it is missing, malformed or the wrong size.
    """
    if not isinstance(value, str):
        raise ProofError(PROOF_VERIFICATION_ERROR, "proofValue is missing or not a string")
    try:
        signature = multibase_decode(value, expect="base58btc")
    except MultiformatError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, f"proofValue: {error}") from error
    if len(signature) != 64:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"proofValue decodes to {len(signature)} bytes; an Ed25519 signature has 64",
        )
    return signature


def check_signature(public_key: Ed25519PublicKey, signature: bytes, data: SigningInput) -> None:
    """Verify the Ed25519 signature over the hash data.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` when the signature does not match.
    """
    try:
        public_key.verify(signature, data.hash_data)
    except InvalidSignature as error:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            "the signature does not match the document: it was changed after signing, or signed "
            "with another key",
        ) from error
