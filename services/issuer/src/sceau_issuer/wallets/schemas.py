"""The JSON documents of OpenID4VCI 1.0 as Sceau writes them: metadata, offers, responses.

One credential issuer per institution, identified by ``{public base URL}/oid4vci/{id}``; it is
its own authorization server (the pre-authorized code flow needs no other). Which credential
configuration an offer names follows how the credential was issued: a VCDM 2.0 credential
with a Data Integrity proof (``ob3-v2``) and a VCDM 1.1 one (``ob3-v1``) travel as ``ldp_vc``,
a VC-JWT (``jwt``) as ``jwt_vc_json``; the delivered copy is signed in the same profile.

OpenID4VCI 1.0 defines ``jwt_vc_json`` for VC Data Model 1.1 JWTs and no identifier for a VCDM
2.0 VC-JOSE-COSE JWT, which the ``jwt`` profile signs since 2026-12: the copy keeps the issued
credential's shape under ``jwt_vc_json`` (docs/wallets.md, "A jwt credential").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sceau_credentials.ob3.constants import (
    OB_V3P0_3_CONTEXT,
    OB_V3P0_CONTEXT,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
)
from sceau_issuer.wallets.holder_proof import PROOF_ALGORITHMS

PRE_AUTHORIZED_GRANT: Final = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME: Final = "openid-credential-offer://"
TX_CODE_LENGTH: Final = 6
CREDENTIAL_TYPES: Final = ["VerifiableCredential", "OpenBadgeCredential"]


@dataclass(frozen=True)
class CredentialConfiguration:
    """One entry of ``credential_configurations_supported`` and the profile that signs it."""

    configuration_id: str
    format: str
    profile: str
    contexts: tuple[str, ...]
    signing: tuple[str, ...]

    def metadata(self, display: list[dict[str, str]]) -> dict[str, Any]:
        """The configuration as the issuer metadata lists it."""
        definition: dict[str, Any] = {"type": list(CREDENTIAL_TYPES)}
        if self.contexts:
            definition = {"@context": list(self.contexts), **definition}
        return {
            "format": self.format,
            "cryptographic_binding_methods_supported": ["did:key", "did:jwk"],
            "credential_signing_alg_values_supported": list(self.signing),
            "proof_types_supported": {
                "jwt": {"proof_signing_alg_values_supported": list(PROOF_ALGORITHMS)}
            },
            "credential_definition": definition,
            "credential_metadata": {"display": display},
        }


CONFIGURATIONS: Final = {
    c.profile: c
    for c in (
        CredentialConfiguration(
            "OpenBadgeCredential_ldp_vc",
            "ldp_vc",
            "ob3-v2",
            (VC_V2_CONTEXT, OB_V3P0_3_CONTEXT),
            ("eddsa-rdfc-2022",),
        ),
        CredentialConfiguration(
            "OpenBadgeCredential_ldp_vc_v1",
            "ldp_vc",
            "ob3-v1",
            (VC_V1_CONTEXT, OB_V3P0_CONTEXT),
            ("Ed25519Signature2020",),
        ),
        CredentialConfiguration(
            "OpenBadgeCredential_jwt_vc_json", "jwt_vc_json", "jwt", (), ("EdDSA", "ES256")
        ),
    )
}
BY_ID: Final = {c.configuration_id: c for c in CONFIGURATIONS.values()}


def configuration_for(profile: str) -> CredentialConfiguration:
    """The configuration a credential issued in ``profile`` is offered in."""
    return CONFIGURATIONS.get(profile, CONFIGURATIONS["ob3-v2"])


def issuer_metadata(issuer_id: str, names: dict[str, str]) -> dict[str, Any]:
    """Credential issuer metadata (OpenID4VCI 1.0 §12.2) of one institution."""
    display = [{"name": name, "locale": lang} for lang, name in names.items() if name]
    badge = [
        {"name": "Titre de compétences (Open Badges 3.0)", "locale": "fr"},
        {"name": "Micro-credential (Open Badges 3.0)", "locale": "en"},
    ]
    return {
        "credential_issuer": issuer_id,
        "credential_endpoint": f"{issuer_id}/credential",
        "nonce_endpoint": f"{issuer_id}/nonce",
        "display": display,
        "credential_configurations_supported": {
            c.configuration_id: c.metadata(badge) for c in CONFIGURATIONS.values()
        },
    }


def authorization_server_metadata(issuer_id: str) -> dict[str, Any]:
    """OAuth 2.0 authorization server metadata (RFC 8414) for the pre-authorized code flow."""
    return {
        "issuer": issuer_id,
        "token_endpoint": f"{issuer_id}/token",
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def credential_offer(
    issuer_id: str, configuration_id: str, code: str, *, with_tx_code: bool
) -> dict[str, Any]:
    """The credential offer object (OpenID4VCI 1.0 §4.1.1) a wallet fetches by reference."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if with_tx_code:
        grant["tx_code"] = {
            "input_mode": "numeric",
            "length": TX_CODE_LENGTH,
            "description": "Code affiché sur votre page / code shown on your page",
        }
    return {
        "credential_issuer": issuer_id,
        "credential_configuration_ids": [configuration_id],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }
