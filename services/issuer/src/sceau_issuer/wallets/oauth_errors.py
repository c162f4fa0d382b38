"""Errors of the wallet endpoints, in the shape OAuth 2.0 and OpenID4VCI prescribe.

Wallets read ``{"error": code, "error_description": text}`` (RFC 6749 §5.2, OpenID4VCI 1.0
§6.3 and §8.3.1), not problem details: a wallet library branches on ``error``. Bearer token
failures also carry a ``WWW-Authenticate`` challenge (RFC 6750 §3).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response


class WalletProtocolError(Exception):
    """A refusal a wallet understands: an OAuth/OpenID4VCI error code and an HTTP status."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        """The JSON error response (never cached)."""
        headers = {"Cache-Control": "no-store"}
        if self.error == "invalid_token":
            headers["WWW-Authenticate"] = (
                f'Bearer error="invalid_token", error_description="{self.description}"'
            )
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


async def wallet_error_handler(request: Request, error: Exception) -> Response:
    """The app's handler for :class:`WalletProtocolError` (installed in ``app.configure``)."""
    if not isinstance(error, WalletProtocolError):
        raise error
    return error.response()


def invalid_request(description: str) -> WalletProtocolError:
    """A malformed request (missing or repeated parameter)."""
    return WalletProtocolError("invalid_request", description)


def invalid_grant(description: str) -> WalletProtocolError:
    """An unknown, expired or used pre-authorized code, or a wrong transaction code."""
    return WalletProtocolError("invalid_grant", description)


def invalid_token(description: str) -> WalletProtocolError:
    """A missing, unknown or expired access token (401 with a Bearer challenge)."""
    return WalletProtocolError("invalid_token", description, status=401)


def invalid_proof(description: str) -> WalletProtocolError:
    """A proof of possession that is missing or does not check out."""
    return WalletProtocolError("invalid_proof", description)


def invalid_nonce(description: str) -> WalletProtocolError:
    """A proof whose nonce is not a fresh ``c_nonce`` of this issuer."""
    return WalletProtocolError("invalid_nonce", description)
