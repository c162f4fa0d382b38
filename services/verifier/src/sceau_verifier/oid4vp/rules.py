"""The decisions of OpenID4VP at the verifier, without I/O: what is asked, what an answer must be.

* :func:`dcql_query` — what the employer asks for: an Open Badges 3.0 credential (``ldp_vc``)
  of a given achievement and/or institution, in DCQL (OpenID4VP 1.0 §6).
* :func:`request_object` / :func:`sign_request_object` — the signed request object a wallet
  fetches at ``request_uri`` (client identifier prefix ``decentralized_identifier``: the
  verifier's did:key, so any replica holding the shared key signs the same way).
* :func:`read_vp_token` — the ``vp_token`` of a ``direct_post`` answer, keyed by credential query.
* :func:`presentation_refusal` — which protocol rule an answer breaks (nonce, audience, holder
  proof, holder binding, the query), read from the verifier's usual answer and the documents.

A refused answer records nothing, so the honest wallet can still answer the same request.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

from sceau_credentials.keys import SigningKey
from sceau_credentials.results import INVALID_CHALLENGE_ERROR, INVALID_DOMAIN_ERROR
from sceau_verifier.schemas import VerifyResponse

__all__ = [
    "DCQL_IDS",
    "OB3_TYPE_IRI",
    "Wanted",
    "client_id_of",
    "dcql_query",
    "deep_link",
    "holder_of",
    "presentation_refusal",
    "read_vp_token",
    "request_object",
    "sign_request_object",
    "subject_ids",
]

#: The credential query ids of the DCQL query (``ldp_vc``).
DCQL_IDS: Final = ("ob3_ldp",)
#: ``OpenBadgeCredential`` expanded by the OB 3.0 context (DCQL ``type_values`` are IRIs).
OB3_TYPE_IRI: Final = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"
#: The audience of a request object under static discovery (OpenID4VP 1.0 §5.8).
SELF_ISSUED: Final = "https://self-issued.me/v2"
_MAX_PRESENTATIONS: Final = 4


@dataclass(frozen=True)
class Wanted:
    """What the employer asks for: an achievement (its ``id``) and/or an institution (its DID)."""

    achievement_id: str | None = None
    issuer: str | None = None

    def matches(self, credential: Mapping[str, Any]) -> bool:
        """Whether ``credential`` (a JSON-LD object or a VC-JWT's ``vc`` claim) is what is asked."""
        if self.issuer is not None and _id_of(credential.get("issuer")) != self.issuer:
            return False
        if self.achievement_id is None:
            return True
        subjects = credential.get("credentialSubject")
        for subject in subjects if isinstance(subjects, list) else [subjects]:
            if isinstance(subject, Mapping):
                achievement = subject.get("achievement")
                if _id_of(achievement) == self.achievement_id:
                    return True
        return False


def _id_of(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def client_id_of(key: SigningKey) -> str:
    """The verifier's client identifier: its did:key with the 1.0 prefix."""
    return f"decentralized_identifier:{key.did_key}"


def dcql_query(wanted: Wanted) -> dict[str, Any]:
    """The DCQL query: an OB 3.0 credential with the wanted achievement / issuer values."""
    claims: list[dict[str, Any]] = []
    if wanted.achievement_id is not None:
        claims.append(
            {
                "id": "achievement",
                "path": ["credentialSubject", "achievement", "id"],
                "values": [wanted.achievement_id],
            }
        )
    if wanted.issuer is not None:
        claims.append({"id": "issuer", "path": ["issuer", "id"], "values": [wanted.issuer]})
    ldp: dict[str, Any] = {
        "id": DCQL_IDS[0],
        "format": "ldp_vc",
        "meta": {"type_values": [[OB3_TYPE_IRI]]},
        "claims": claims,
    }
    # Only Data Integrity presentations for now: the engine does not check a presentation
    # secured as a JWT (jwt_vc_json in a jwt_vp_json) against its holder (docs/verifier.md).
    return {"credentials": [ldp]}


def request_object(
    *,
    client_id: str,
    response_uri: str,
    nonce: str,
    state: str,
    wanted: Wanted,
    issued_at: datetime,
    expires_at: datetime,
    client_name: str,
) -> dict[str, Any]:
    """The claims of the request object (OpenID4VP 1.0 §5, ``direct_post``)."""
    return {
        "iss": client_id.removeprefix("decentralized_identifier:"),
        "aud": SELF_ISSUED,
        "client_id": client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query(wanted),
        "client_metadata": {
            "client_name": client_name,
            "vp_formats_supported": {
                "ldp_vc": {
                    "proof_type_values": ["DataIntegrityProof", "Ed25519Signature2020"],
                    "cryptosuite_values": ["eddsa-rdfc-2022"],
                },
            },
        },
        "iat": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_request_object(claims: Mapping[str, Any], key: SigningKey) -> str:
    """The compact JWS of ``claims`` (EdDSA, ``typ`` ``oauth-authz-req+jwt``, kid = did:key URL)."""
    fragment = key.did_key.removeprefix("did:key:")
    header = {"alg": "EdDSA", "typ": "oauth-authz-req+jwt", "kid": f"{key.did_key}#{fragment}"}
    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    return f"{signing_input}.{_b64url(key.sign(signing_input.encode('ascii')))}"


def deep_link(client_id: str, request_uri: str) -> str:
    """The ``openid4vp://`` link (and QR content): the request by reference."""
    return "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def read_vp_token(raw: str | None) -> list[Mapping[str, Any] | str]:
    """The presentations of a ``vp_token`` form field (1.0: ``{query id: [presentation, …]}``).

    Raises:
        ValueError: not JSON, no known query id, or no presentation.
    """
    if raw is None or not raw.strip():
        raise ValueError("no vp_token")
    try:
        token = json.loads(raw)
    except ValueError as exc:
        raise ValueError("vp_token is not JSON") from exc
    if not isinstance(token, Mapping):
        raise ValueError("vp_token is not an object keyed by credential query id")
    found: list[Mapping[str, Any] | str] = []
    for query_id in DCQL_IDS:
        value = token.get(query_id)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            # Data Integrity presentations (JSON objects) only: see dcql_query.
            if not isinstance(item, Mapping) or not item:
                raise ValueError("a presentation is not a JSON object")
            found.append(item)
    if not found or len(found) > _MAX_PRESENTATIONS:
        raise ValueError("vp_token holds no presentation for this request's queries")
    return found


def _signer_did(presentation: Mapping[str, Any] | str) -> str | None:
    """The DID whose key signed the presentation (DI proof method or JWT ``kid``/``iss``)."""
    if isinstance(presentation, str):
        header, claims = _jwt_parts(presentation)
        kid = header.get("kid") if header else None
        if isinstance(kid, str) and kid.startswith("did:"):
            return kid.split("#", 1)[0]
        iss = claims.get("iss") if claims else None
        return iss if isinstance(iss, str) else None
    proofs = presentation.get("proof")
    methods = {
        proof.get("verificationMethod")
        for proof in (proofs if isinstance(proofs, list) else [proofs])
        if isinstance(proof, Mapping)
    }
    if len(methods) != 1:
        return None
    method = methods.pop()
    return method.split("#", 1)[0] if isinstance(method, str) else None


def _jwt_parts(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    parts = token.split(".")
    if len(parts) != 3:
        return None, None
    decoded: list[dict[str, Any] | None] = []
    for part in parts[:2]:
        try:
            value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except ValueError:
            value = None
        decoded.append(value if isinstance(value, dict) else None)
    return decoded[0], decoded[1]


def _credentials(presentation: Mapping[str, Any] | str) -> list[Mapping[str, Any]]:
    """The embedded credentials as JSON objects.

    A VC-JWT gives its ``vc`` claim plus ``sub`` (VCDM 1.1), or its payload (VC-JOSE-COSE).
    """
    if isinstance(presentation, str):
        _, claims = _jwt_parts(presentation)
        vp = claims.get("vp") if claims else None
        items = vp.get("verifiableCredential") if isinstance(vp, Mapping) else None
    else:
        items = presentation.get("verifiableCredential")
    out: list[Mapping[str, Any]] = []
    for item in items if isinstance(items, list) else [items] if items is not None else []:
        if isinstance(item, Mapping):
            envelope = item.get("id")
            if isinstance(envelope, str) and envelope.startswith("data:application/vc+jwt,"):
                item = envelope.removeprefix("data:application/vc+jwt,")
            else:
                out.append(item)
                continue
        if isinstance(item, str):
            _, claims = _jwt_parts(item)
            vc = claims.get("vc") if claims else None
            if vc is None and claims and "@context" in claims:
                vc = claims  # VC-JOSE-COSE: the payload is the credential
            if isinstance(vc, Mapping):
                subject = vc.get("credentialSubject")
                if isinstance(subject, Mapping) and "id" not in subject and claims:
                    subject = {**subject, "id": claims.get("sub")}
                out.append({**vc, "credentialSubject": subject})
    return out


def subject_ids(credential: Mapping[str, Any]) -> set[str]:
    """The ``credentialSubject.id`` values of a credential (whom it was issued to)."""
    subjects = credential.get("credentialSubject")
    return {
        subject["id"]
        for subject in (subjects if isinstance(subjects, list) else [subjects])
        if isinstance(subject, Mapping) and isinstance(subject.get("id"), str)
    }


def _check(answer: VerifyResponse, name: str) -> Any:
    return next((c for c in answer.checks if c.name == name), None)


def presentation_refusal(
    presentation: Mapping[str, Any] | str, answer: VerifyResponse, wanted: Wanted
) -> str | None:
    """The rule ``presentation`` breaks (a refusal reason of ``texts.REFUSALS``), or ``None``.

    ``answer`` is the verifier's usual answer for it, computed with challenge = the request's
    nonce and domain = its client_id: the engine checks those and the holder's signature; this
    adds holder binding (every credential issued to the DID that signed) and the query. The
    credentials' own checks (revoked, expired, untrusted…) are not refusals: they are the
    explained answer the employer reads.
    """
    check = _check(answer, "presentation")
    if check is None or check.status != "passed":
        problem = check.problem_type if check is not None else None
        return "wrong_audience" if problem == INVALID_DOMAIN_ERROR else "wrong_nonce"
    if check.problem_type == INVALID_CHALLENGE_ERROR:  # pragma: no cover - a passed check has none
        return "wrong_nonce"
    proof = _check(answer, "proof")
    if proof is None or proof.status != "passed":
        return "holder_proof"
    holder = _signer_did(presentation)
    credentials = _credentials(presentation)
    if holder is None or not credentials:
        return "holder_binding" if holder is None else "not_requested"
    if any(subject_ids(credential) != {holder} for credential in credentials):
        return "holder_binding"
    if not any(wanted.matches(credential) for credential in credentials):
        return "not_requested"
    return None


def holder_of(presentation: Mapping[str, Any] | str) -> str | None:
    """The DID that signed ``presentation`` (shown to the employer as who presented it)."""
    return _signer_did(presentation)
