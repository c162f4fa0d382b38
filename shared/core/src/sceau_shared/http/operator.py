"""Operator authentication, one mechanism for every service that has operator routes.

The check is ASGI middleware that runs *before* routing and body parsing, so a caller without the
operator token learns nothing — not even whether its body would have been valid — and costs no
parsing: it always gets 401 ``application/problem+json``. A service whose token is not configured
answers 401 "disabled" on its operator routes instead of leaving them open.
"""

from __future__ import annotations

import hmac
import json
import logging

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from sceau_shared.errors import PROBLEM_BASE
from sceau_shared.http.problems import PROBLEM_MEDIA_TYPE

__all__ = ["OperatorAuthMiddleware"]

_log = logging.getLogger(__name__)


class OperatorAuthMiddleware:
    """Refuse requests under ``prefixes`` that lack ``Authorization: Bearer <operator token>``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: SecretStr | None,
        prefixes: tuple[str, ...],
        realm: str,
        setting_name: str,
    ) -> None:
        self.app = app
        self._expected = None if token is None else token.get_secret_value().encode()
        self._prefixes = prefixes
        self._realm = realm
        self._setting_name = setting_name

    def _guarded(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self._prefixes)

    def _authorized(self, scope: Scope) -> bool:
        if self._expected is None:
            return False
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                # The scheme is case-insensitive (RFC 9110 §11.1); the token is compared in
                # constant time so response timing does not reveal it.
                scheme, _, presented = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(
                    presented.strip(), self._expected
                )
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not self._guarded(path) or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        _log.warning("operator API call refused: missing or wrong token (%s)", path)
        detail = (
            f"The operator API is disabled: {self._setting_name} is not set."
            if self._expected is None
            else "The operator API needs 'Authorization: Bearer <operator token>'."
        )
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "unauthorized",
                "title": "Authentication required",
                "status": 401,
                "detail": detail,
                "instance": path,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", f'Bearer realm="{self._realm}"'.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
