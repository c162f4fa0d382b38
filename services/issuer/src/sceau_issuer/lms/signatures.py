"""Checking an inbound completion event's Standard Webhooks signature (the receiver's rules).

The signature itself is :mod:`sceau_shared.standard_webhooks` (the notifier signs with it); this
module adds what a receiver must refuse: a missing or malformed header, a timestamp more than
five minutes from now in either direction (a captured delivery cannot be replayed later), and a
signature made by no secret the institution holds (its current one, and the previous one for a
while after a rotation). Every refusal is the same 401 with a ``reason`` and FR/EN details, so an
LMS administrator can tell a clock problem from a wrong secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sceau_issuer.errors import LmsSignatureInvalid
from sceau_shared.standard_webhooks import verify

TOLERANCE_S = 300
"""How far (seconds) ``webhook-timestamp`` may be from the issuer's clock, either way."""

ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)
_ID = re.compile(r"^[\x21-\x2d\x2f-\x7e]{1,200}$")  # printable ASCII, no '.' (the delimiter)
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
MAX_SIGNATURE_HEADER = 4096

_WHY: dict[str, tuple[str, str]] = {
    "missing-header": (
        "the webhook-id, webhook-timestamp and webhook-signature headers are required",
        "les en-têtes webhook-id, webhook-timestamp et webhook-signature sont obligatoires",
    ),
    "malformed-header": (
        "webhook-id must be 1 to 200 printable characters without '.', and webhook-timestamp "
        "whole seconds since 1970",
        "webhook-id doit compter de 1 à 200 caractères imprimables sans « . », et "
        "webhook-timestamp des secondes entières depuis 1970",
    ),
    "timestamp-out-of-tolerance": (
        "webhook-timestamp is more than 5 minutes from the issuer's clock: check the sender's "
        "clock, and send each delivery when it is signed",
        "webhook-timestamp s'écarte de plus de 5 minutes de l'horloge de l'émetteur : vérifiez "
        "l'horloge de l'expéditeur et envoyez chaque livraison dès sa signature",
    ),
    "no-matching-signature": (
        "no v1 signature matches the body under the institution's secret: sign "
        "'<webhook-id>.<webhook-timestamp>.<raw body>' with HMAC-SHA256 keyed by the "
        "base64-decoded part of the whsec_ secret, and send the body unchanged",
        "aucune signature v1 ne correspond au corps avec le secret de l'établissement : signez "
        "« <webhook-id>.<webhook-timestamp>.<corps brut> » en HMAC-SHA256 avec la partie décodée "
        "(base64) du secret whsec_, et envoyez le corps tel quel",
    ),
}


def _refusal(reason: str) -> LmsSignatureInvalid:
    """The 401 of one refusal ``reason``."""
    en, fr = _WHY.get(reason, _WHY["no-matching-signature"])
    return LmsSignatureInvalid(en, extra={"reason": reason, "detail_en": en, "detail_fr": fr})


def verify_delivery(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Return the delivery's ``webhook-id`` when one of ``secrets`` signed it recently.

    Args:
        headers: the request headers (looked up in lower case, as HTTP/2 and Starlette give them).
        body: the raw body, exactly as received (it is what was signed).
        secrets: the institution's ``whsec_`` secrets still accepted (none: always refused).
        now: the issuer's clock (Unix seconds), passed in so tests can move it.
        tolerance_s: how far the timestamp may be from ``now``.

    Raises:
        LmsSignatureInvalid: (401) with a ``reason``: missing-header, malformed-header,
            timestamp-out-of-tolerance or no-matching-signature.
    """
    webhook_id = headers.get(ID_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not webhook_id or not timestamp or not signature:
        raise _refusal("missing-header")
    if (
        not _ID.match(webhook_id)
        or not _TIMESTAMP.match(timestamp)
        or len(signature) > MAX_SIGNATURE_HEADER
    ):
        raise _refusal("malformed-header")
    sent_at = int(timestamp)
    if abs(now - sent_at) > tolerance_s:
        raise _refusal("timestamp-out-of-tolerance")
    for secret in secrets:
        if verify(secret, webhook_id, sent_at, body, signature):
            return webhook_id
    raise _refusal("no-matching-signature")
