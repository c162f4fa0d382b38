"""Reading documents for display and events: the credential inside a VC-JWT, the id hash.

These never decide anything about validity (the engine does); they only let the verifier show and
report what a document claims.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sceau_credentials.ob3.fields import id_of

__all__ = ["credential_id_hash", "jwt_credential"]


def credential_id_hash(document: Mapping[str, Any] | str) -> str:
    """sha256 hex of the credential's id, or of the document itself when it has none.

    The event must let an institution count checks of one credential without telling anyone
    which learner it belongs to: a hash of the (random, opaque) credential URN does that.
    """
    if isinstance(document, str):
        payload = jwt_credential(document)
        identifier = id_of(payload.get("id")) if payload else None
        return hashlib.sha256((identifier or document).encode()).hexdigest()
    identifier = id_of(document.get("id"))
    if identifier is None:
        identifier = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(identifier.encode()).hexdigest()


def _b64url_json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def jwt_credential(token: str) -> dict[str, Any] | None:
    """The credential a VC-JWT carries (its ``vc`` or ``vp`` claim with JWT claims folded in).

    Used for display and event fields only, after (or regardless of) the engine's verdict; it
    never decides anything.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = _b64url_json(parts[1])
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(claims, dict):
        return None
    inner = claims.get("vc") if isinstance(claims.get("vc"), dict) else claims.get("vp")
    if not isinstance(inner, dict):
        return claims if "credentialSubject" in claims else None
    document = dict(inner)
    # VC-JWT (VCDM 1.1 §6.3.1): registered claims stand for these properties.
    if isinstance(claims.get("jti"), str):
        document.setdefault("id", claims["jti"])
    if isinstance(claims.get("iss"), str) and "issuer" not in document:
        document["issuer"] = claims["iss"]
    for claim, prop in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        value = claims.get(claim)
        if isinstance(value, int | float) and not isinstance(value, bool) and prop not in document:
            try:
                moment = datetime.fromtimestamp(value, UTC)
            except (OverflowError, OSError, ValueError):
                continue
            document[prop] = moment.isoformat().replace("+00:00", "Z")
    return document
