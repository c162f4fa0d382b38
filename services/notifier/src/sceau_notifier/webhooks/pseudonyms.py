"""How a verification webhook names the credential that was checked, without naming the learner.

The verifier's event carries ``sha256(credential id)``: enough for Sceau's own services, but an
institution knows every credential id it issued and would reverse that hash by hashing them all,
learning which learner's credential was checked and when (R56, R69). The webhook therefore
carries ``HMAC-SHA256(k, institution_id + newline + sha256(credential id))``, ``k`` derived with
HKDF-SHA256 from the deployment's ``NOTIFIER_WEBHOOKS__SECRET_KEY``: the same credential always
gets the same value, so an institution can still count checks of one credential, but it cannot
compute the value from an id. The institution id is in the MAC so two institutions never share
a pseudonym.

Changing the secret key changes every pseudonym (counts restart from then on).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"sceau notifier: verification webhook credential pseudonym v1"


class CredentialPseudonyms:
    """Keyed, per-institution pseudonyms of credential id hashes.

    Args:
        key_b64: the deployment's webhook secret key (base64 of 32 bytes); a sub-key is derived
            so the pseudonyms never reuse the key that encrypts endpoint secrets.
    """

    def __init__(self, key_b64: str) -> None:
        master = base64.b64decode(key_b64, validate=True)
        if len(master) != 32:
            raise ValueError("the key must be 32 bytes")
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(master)

    def of(self, institution_id: str, credential_id_hash: str) -> str:
        """The hex pseudonym of a credential (given by its id hash) for one institution."""
        message = f"{institution_id}\n{credential_id_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
