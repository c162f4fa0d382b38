"""Who is asking for trust answers: the deployment's verifiers get their own rate bucket.

Every public route is rate limited per client address. The public verifier, though, asks the
registry on behalf of all its own users — from one address (or a few) — so in the shared bucket
its users' lookups would be refused with 429 long before any of them misbehaved (issue 18,
item 8). A verifier that presents the deployment's verifier token (``X-Sceau-Registry-Token``,
``REGISTRY_VERIFIER_TOKEN`` here and ``VERIFIER_TRUST__REGISTRY_TOKEN`` there) draws from its own
bucket of ``verifier_rate_limit_per_minute`` instead; anyone else, and a wrong token, draws from
the public one. The token is compared in constant time and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from pydantic import SecretStr

from sceau_shared.http import RateLimiter

__all__ = ["TOKEN_HEADER", "CallerLimiter"]

TOKEN_HEADER: Final = "x-sceau-registry-token"  # noqa: S105 - a header name, not a secret


class CallerLimiter:
    """The public per-address bucket, and a separate one for callers holding the verifier token.

    Args:
        per_minute: the public limit per client address (0: none).
        verifier_token: the deployment's verifier token (``None``: every caller is public).
        verifier_per_minute: the limit per verifier address (0: none).
    """

    def __init__(
        self, per_minute: int, *, verifier_token: SecretStr | None, verifier_per_minute: int
    ) -> None:
        self._public = RateLimiter(per_minute)
        self._verifiers = RateLimiter(verifier_per_minute)
        self._digest = (
            hashlib.sha256(verifier_token.get_secret_value().encode()).digest()
            if verifier_token is not None
            else None
        )

    def is_verifier(self, token: str | None) -> bool:
        """Whether ``token`` is the deployment's verifier token."""
        if token is None or self._digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._digest)

    def check(self, client: str, token: str | None = None) -> None:
        """Take a token from the caller's bucket or raise ``RateLimited`` (Retry-After)."""
        (self._verifiers if self.is_verifier(token) else self._public).check(client)
