"""Which DID and verification method an institution's key gets, by DID method.

* did:key (default): the DID *is* the key, so every rotation yields a new DID;
* did:web on the institution's own domain: ``did:web:<domain>``, one DID across rotations;
* registry-hosted did:web: ``did:web:<registry-host>:institutions:<id>`` for institutions without a
  domain (the registry serves the document at ``/institutions/<id>/did.json``).

did:web key fragments are ``key-<version>``: stable, readable, and never reused after rotation.
"""

from __future__ import annotations

from urllib.parse import quote

from sceau_shared.credentials.dids import url_to_did_web
from sceau_shared.credentials.dids.documents import ED25519_2020_SUFFIX
from sceau_shared.credentials.keys import SigningKey, did_key_from_public_key
from sceau_shared.events import DidMethod


def hosted_did(registry_public_url: str, institution_id: str) -> str:
    """Return the registry-hosted did:web DID of an institution."""
    return url_to_did_web(
        f"{registry_public_url.rstrip('/')}/institutions/{quote(institution_id, safe='')}"
    )


def own_domain_did(domain: str) -> str:
    """Return the did:web DID of an institution's own domain (``example.edu[:port]``)."""
    return url_to_did_web(f"https://{domain.strip().strip('/')}")


def controller_for(
    method: str,
    *,
    seed: bytes,
    institution_id: str,
    domain: str | None,
    hosted: str | None,
    registry_public_url: str,
) -> str:
    """Return the controller DID a key with ``seed`` signs under."""
    if method == DidMethod.WEB and domain:
        return own_domain_did(domain)
    if method in (DidMethod.WEB, DidMethod.HOSTED_WEB):
        return hosted or hosted_did(registry_public_url, institution_id)
    return did_key_from_public_key(SigningKey.from_seed(seed).public_key_bytes)


def signing_key(seed: bytes, did: str, version: int, profile: str = "ob3-v2") -> SigningKey:
    """Build the signing key object for a stored seed under its controller DID.

    A did:web document publishes each key twice (see
    ``sceau_shared.credentials.dids.documents``): ``#key-N`` as Multikey (eddsa-rdfc-2022, JWT)
    and ``#key-N-2020`` as Ed25519VerificationKey2020, the type ``Ed25519Signature2020``
    verifiers (profile ``ob3-v1``) require.
    """
    if did.startswith("did:key:"):
        return SigningKey.from_seed(seed, did)
    suffix = ED25519_2020_SUFFIX if profile == "ob3-v1" else ""
    return SigningKey.from_seed(seed, did, f"key-{version}{suffix}")
