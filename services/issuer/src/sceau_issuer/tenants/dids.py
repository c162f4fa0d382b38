"""Which DID and verification method an institution's key gets, by DID method.

* did:key (default): the DID *is* the key, so every rotation yields a new DID;
* did:web on the institution's own domain: ``did:web:<domain>``, one DID across rotations;
* registry-hosted did:web: ``did:web:<registry-host>:institutions:<id>`` for institutions without a
  domain (the registry serves the document at ``/institutions/<id>/did.json``).

did:web key fragments are ``key-<version>`` (Ed25519) and ``p256-<version>`` (P-256): stable,
readable, and never reused after rotation. did:key institutions have Ed25519 keys only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sceau_credentials.dids import url_to_did_web
from sceau_credentials.dids.did_web import did_web_to_url
from sceau_credentials.dids.documents import (
    ED25519_2020_SUFFIX,
    KeyState,
    PublishedKey,
    institution_did_document,
)
from sceau_credentials.keys import SigningKey, did_key_from_public_key
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_issuer.errors import DidNotSelfHosted
from sceau_issuer.tenants.models import KeyType, Tenant
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


P256_FRAGMENT = "p256-"


def p256_key(scalar: bytes, did: str, version: int) -> P256SigningKey:
    """Build a P-256 signing key (``#p256-<version>``) of a did:web institution."""
    return P256SigningKey.from_private_key(scalar, did, f"{P256_FRAGMENT}{version}")


def any_signing_key(
    secret: bytes, did: str, version: int, profile: str, key_type: str
) -> SigningKey | P256SigningKey:
    """:func:`signing_key` or :func:`p256_key`, as ``key_type`` says."""
    if key_type == KeyType.P256:
        return p256_key(secret, did, version)
    return signing_key(secret, did, version, profile)


def signing_key(seed: bytes, did: str, version: int, profile: str = "ob3-v2") -> SigningKey:
    """Build the signing key object for a stored seed under its controller DID.

    A did:web document publishes each key twice (see
    ``sceau_credentials.dids.documents``): ``#key-N`` as Multikey (eddsa-rdfc-2022, JWT)
    and ``#key-N-2020`` as Ed25519VerificationKey2020, the type ``Ed25519Signature2020``
    verifiers (profile ``ob3-v1``) require.
    """
    if did.startswith("did:key:"):
        return SigningKey.from_seed(seed, did)
    suffix = ED25519_2020_SUFFIX if profile == "ob3-v1" else ""
    return SigningKey.from_seed(seed, did, f"key-{version}{suffix}")


def self_hosted(tenant: Tenant) -> bool:
    """Whether the institution's DID is a did:web on its own domain (it hosts the document)."""
    return (
        tenant.did_method == DidMethod.WEB
        and bool(tenant.domain)
        and tenant.did == own_domain_did(str(tenant.domain))
    )


def own_domain_document(tenant: Tenant) -> tuple[dict[str, Any], str]:
    """The DID document an own-domain institution must host, and the URL to host it at.

    Every key of the DID is listed except revoked ones: the active key for every relationship,
    rotated keys for ``assertionMethod`` only (credentials they signed keep verifying), each as
    ``#key-N`` (Multikey, eddsa-rdfc-2022 and JWT) and ``#key-N-2020``
    (Ed25519VerificationKey2020, ``ob3-v1``), and the P-256 keys as ``#p256-N`` (Multikey, ES256
    JWTs) — the same rules as the registry-hosted documents.

    Raises:
        DidNotSelfHosted: (409) for did:key and registry-hosted did:web institutions.
    """
    if not self_hosted(tenant):
        if tenant.did.startswith("did:key:"):
            where = "a did:key needs no DID document"
        else:
            url = did_web_to_url(tenant.did, allow_local=True)
            where = f"the registry hosts its DID document at {url}"
        raise DidNotSelfHosted(
            f"institution {tenant.institution_id!r} does not host its own DID "
            f"({tenant.did}): {where}",
            extra={"did": tenant.did, "did_method": tenant.did_method},
        )
    keys = [
        PublishedKey(
            key.verification_method.partition("#")[2],
            key.public_key_multibase,
            KeyState(key.state.value),
        )
        for key in sorted(tenant.keys, key=lambda k: (k.key_type != KeyType.ED25519, k.version))
        if key.did == tenant.did
    ]
    return institution_did_document(tenant.did, keys), did_web_to_url(tenant.did, allow_local=True)
