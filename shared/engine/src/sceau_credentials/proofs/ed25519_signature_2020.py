"""``Ed25519Signature2020``: the legacy Linked Data proof Open Badges 3.0 / VCDM 1.1 wallets know.

The suite (W3C CCG, and the legacy section of "Data Integrity EdDSA Cryptosuites v1.0") signs
exactly like ``eddsa-rdfc-2022`` — SHA-256 of the canonical proof options, then of the canonical
document, Ed25519, base58btc ``proofValue`` — with ``type: Ed25519Signature2020``, no
``cryptosuite``, and an ``Ed25519VerificationKey2020`` (or Multikey) verification method.

didkit signs this suite for did:key issuers (:mod:`.didkit_suite`). This implementation exists
because didkit resolves did:web DIDs over the network itself — which we must not allow, and which
makes the interpreter crash at exit — so did:web-issued credentials are signed and verified here,
over keys our own resolver fetched. Both produce byte-identical proofs (Ed25519 is deterministic),
which ``tests/unit/engine/test_ed25519_signature_2020.py`` checks.
"""

from __future__ import annotations

from typing import Final

from sceau_credentials.proofs.data_integrity import RdfcSuite

__all__ = ["ED25519_SIGNATURE_2020", "ED25519_SIGNATURE_2020_CONTEXT"]

ED25519_SIGNATURE_2020_CONTEXT: Final = "https://w3id.org/security/suites/ed25519-2020/v1"

ED25519_SIGNATURE_2020: Final = RdfcSuite(
    proof_type="Ed25519Signature2020",
    cryptosuite=None,
    method_types=frozenset({"Ed25519VerificationKey2020", "Multikey"}),
)
