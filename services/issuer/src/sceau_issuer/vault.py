"""Secrets derived from the master key: key encryption at rest, claim tokens, API-key hashes.

One master key (a setting, never logged) is expanded with HKDF into independent sub-keys, so a
leak of one derived secret (say the claim-link MAC key) says nothing about the key that encrypts
private signing keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DecryptionError(Exception):
    """A stored secret does not decrypt under the master key (wrong key or tampered record)."""


@dataclass(frozen=True)
class EncryptedSecret:
    """An AES-256-GCM ciphertext and its nonce, as stored in MongoDB."""

    nonce: bytes
    ciphertext: bytes

    def to_doc(self) -> dict[str, bytes | str]:
        """Return the stored form (the algorithm is recorded for future migrations)."""
        return {"alg": "A256GCM", "nonce": self.nonce, "ciphertext": self.ciphertext}

    @classmethod
    def from_doc(cls, doc: dict[str, object]) -> EncryptedSecret:
        """Parse the stored form."""
        nonce, ciphertext = doc.get("nonce"), doc.get("ciphertext")
        if not isinstance(nonce, bytes) or not isinstance(ciphertext, bytes):
            raise DecryptionError("stored secret is malformed")
        return cls(nonce=nonce, ciphertext=ciphertext)


class Vault:
    """Every master-key-derived operation of the issuer, behind one object passed in."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(_derive(master_key, "sceau-issuer/key-encryption/v1"))
        self._claim_key = _derive(master_key, "sceau-issuer/claim-link/v1")
        self._api_key_pepper = _derive(master_key, "sceau-issuer/api-key-hash/v1")
        self._id_key = _derive(master_key, "sceau-issuer/credential-id/v1")
        self._learner_key = _derive(master_key, "sceau-issuer/learner-link/v1")
        self._contact_key = _derive(master_key, "sceau-issuer/learner-contact/v1")
        self._share_key = _derive(master_key, "sceau-issuer/share-link/v1")
        self._wallet_key = _derive(master_key, "sceau-issuer/oid4vci/v1")
        self._insights_key = _derive(master_key, "sceau-issuer/insights-page/v1")

    def credential_id(self, dedupe: str) -> str:
        """Derive a credential's id from what makes it unique (tenant, recipient, version).

        Deriving the id (instead of drawing it at random) makes "issue at most once" a property of
        the primary key, which every MongoDB-protocol server enforces and looks up cheaply; keying
        the derivation keeps ids unguessable from a learner's email.
        """
        digest = hmac.new(self._id_key, dedupe.encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    # --- private keys at rest ----------------------------------------------------------------

    def encrypt(self, plaintext: bytes, *, context: str) -> EncryptedSecret:
        """Encrypt ``plaintext``; ``context`` (e.g. institution + key id) is bound as AAD.

        Binding the context means a ciphertext copied onto another institution's record fails
        to decrypt instead of silently signing for the wrong tenant.
        """
        nonce = os.urandom(NONCE_BYTES)
        return EncryptedSecret(nonce, self._aead.encrypt(nonce, plaintext, context.encode()))

    def decrypt(self, secret: EncryptedSecret, *, context: str) -> bytes:
        """Decrypt a secret stored by :meth:`encrypt` with the same ``context``."""
        try:
            return self._aead.decrypt(secret.nonce, secret.ciphertext, context.encode())
        except InvalidTag as exc:
            raise DecryptionError("secret does not decrypt under the master key") from exc

    # --- API keys ----------------------------------------------------------------------------

    def hash_api_key(self, secret: str) -> str:
        """Return the stored hash of an API key secret (HMAC-SHA256 with a derived pepper).

        API key secrets are 256-bit random values, so a keyed fast hash is enough; the pepper
        keeps a stolen database from being checked offline against guesses.
        """
        return hmac.new(self._api_key_pepper, secret.encode(), hashlib.sha256).hexdigest()

    # --- claim links -------------------------------------------------------------------------

    def claim_token(self, *, credential_id: str, institution_id: str, ttl_s: int) -> str:
        """Return a signed, expiring token naming one credential (URL-safe)."""
        claims = {"c": credential_id, "i": institution_id, "e": int(time.time()) + ttl_s}
        return _sign_token(self._claim_key, claims)

    def read_claim_token(self, token: str, *, now: float | None = None) -> tuple[str, str] | None:
        """Return ``(institution_id, credential_id)`` for a valid, unexpired token, else None."""
        return _read_token(self._claim_key, token, purpose=None, now=now)

    # --- learner pages -----------------------------------------------------------------------

    def learner_token(self, *, credential_id: str, institution_id: str, ttl_s: int) -> str:
        """Return a signed, expiring token opening the learner's page of one credential.

        Its MAC key is derived for this purpose only (and the body names the purpose), so a claim
        token never opens a learner page and the other way round.
        """
        claims = {
            "p": "learner",
            "c": credential_id,
            "i": institution_id,
            "e": int(time.time()) + ttl_s,
        }
        return _sign_token(self._learner_key, claims)

    def read_learner_token(self, token: str, *, now: float | None = None) -> tuple[str, str] | None:
        """Return ``(institution_id, credential_id)`` for a valid learner token, else None."""
        return _read_token(self._learner_key, token, purpose="learner", now=now)

    def contact_key(self, email_norm: str) -> str:
        """A keyed hash of a normalised e-mail address (the learner-contact index's key).

        Keyed, so the index does not let a stolen database be checked against guessed addresses.
        """
        return hmac.new(self._contact_key, email_norm.encode(), hashlib.sha256).hexdigest()

    def share_token(self, share_id: str) -> str:
        """The bearer token of a share: 32 bytes derived from its random public id.

        Derived rather than stored, so the learner's page can show a share's link and QR code
        again while the database keeps only the token's SHA-256 (a leaked database opens no
        share) and the public id (which alone opens nothing).
        """
        return _b64(hmac.new(self._share_key, share_id.encode(), hashlib.sha256).digest())

    # --- wallets (OpenID4VCI) ----------------------------------------------------------------

    def wallet_secret(self, label: str, offer_id: str) -> bytes:
        """32 bytes derived from a wallet offer's public id for ``label`` (code, tx code).

        Derived like share tokens: the learner's page can show an offer again while the
        database keeps only the pre-authorized code's hash.
        """
        message = f"{label}:{offer_id}".encode()
        return hmac.new(self._wallet_key, message, hashlib.sha256).digest()

    def wallet_nonce(self, *, institution_id: str, ttl_s: int) -> str:
        """A signed, expiring ``c_nonce`` for one institution's credential endpoint."""
        claims = {
            "p": "nonce",
            "c": _b64(os.urandom(16)),
            "i": institution_id,
            "e": int(time.time()) + ttl_s,
        }
        return _sign_token(self._wallet_key, claims)

    def read_wallet_nonce(self, nonce: str, *, now: float | None = None) -> str | None:
        """The institution a valid, unexpired ``c_nonce`` was made for, else None."""
        claims = _read_token(self._wallet_key, nonce, purpose="nonce", now=now)
        return claims[0] if claims is not None else None

    def wallet_access_token(self, grant: WalletGrant, *, ttl_s: int) -> str:
        """A signed, expiring OpenID4VCI access token naming its grant.

        The credential endpoint reads the grant from the token itself (no database read per
        delivery); the code's single use is the grant's insert at the token endpoint, and the
        delivery's single use its reservation under the offer's key.
        """
        claims = {
            "p": "access",
            "c": grant.credential_id,
            "i": grant.institution_id,
            "k": grant.offer_key,
            "f": grant.configuration_id,
            "r": _b64(os.urandom(16)),
            "e": int(time.time()) + ttl_s,
        }
        return _sign_token(self._wallet_key, claims)

    def read_wallet_access_token(
        self, token: str, *, now: float | None = None
    ) -> WalletGrant | None:
        """The grant a valid, unexpired access token names, else None."""
        claims = _read_claims(self._wallet_key, token, purpose="access", now=now)
        if claims is None:
            return None
        fields = (claims.get("i"), claims.get("c"), claims.get("k"), claims.get("f"))
        if not all(isinstance(value, str) for value in fields):
            return None
        institution_id, credential_id, offer_key, configuration_id = (str(v) for v in fields)
        return WalletGrant(institution_id, credential_id, offer_key, configuration_id)

    # --- insights page links -------------------------------------------------------------------

    def insights_token(self, *, institution_id: str, ttl_s: int) -> str:
        """A signed, expiring token opening an institution's insights page (aggregates only)."""
        claims = {"p": "insights", "c": "", "i": institution_id, "e": int(time.time()) + ttl_s}
        return _sign_token(self._insights_key, claims)

    def read_insights_token(self, token: str, *, now: float | None = None) -> str | None:
        """The institution a valid, unexpired insights page token names, else None."""
        claims = _read_token(self._insights_key, token, purpose="insights", now=now)
        return claims[0] if claims is not None else None


@dataclass(frozen=True)
class WalletGrant:
    """What an OpenID4VCI access token grants: one credential of one offer, in one format."""

    institution_id: str
    credential_id: str
    offer_key: str
    configuration_id: str


def _sign_token(key: bytes, claims: dict[str, object]) -> str:
    """``base64url(JSON claims).base64url(HMAC-SHA256)``: the shape of every token we hand out."""
    body = json.dumps(claims, separators=(",", ":")).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def _read_claims(
    key: bytes, token: str, *, purpose: str | None, now: float | None
) -> dict[str, object] | None:
    """The claims of a token MAC-signed with ``key``, of ``purpose`` and unexpired, else None.

    ``purpose`` None means a token whose body names none (claim links predate purposes).
    """
    if len(token) > 512 or token.count(".") != 1:
        return None
    body_text, mac_text = token.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    expected = hmac.new(key, body, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        claims = json.loads(body)
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    if purpose is not None and claims.get("p") != purpose:
        return None
    expires = claims.get("e")
    if not isinstance(expires, int) or expires < (time.time() if now is None else now):
        return None
    return claims


def _read_token(
    key: bytes, token: str, *, purpose: str | None, now: float | None
) -> tuple[str, str] | None:
    """``(institution_id, credential_id)`` of a valid, unexpired token of ``purpose``, else None.

    ``purpose`` None means a token whose body names none (claim links predate purposes).
    """
    claims = _read_claims(key, token, purpose=purpose, now=now)
    if claims is None:
        return None
    credential_id, institution_id = claims.get("c"), claims.get("i")
    if not isinstance(credential_id, str) or not isinstance(institution_id, str):
        return None
    return institution_id, credential_id
