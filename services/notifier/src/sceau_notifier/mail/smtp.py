"""Send messages over SMTP with a small pool of persistent connections (aiosmtplib).

Opening an SMTP session (TCP, greeting, EHLO, STARTTLS, AUTH) costs several round trips, so
connections are kept open and reused; several of them let a batch of e-mails go out concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

import aiosmtplib

from sceau_notifier.mail.message import Outgoing
from sceau_notifier.settings import SmtpSettings


class SmtpSendError(Exception):
    """Sending failed; ``permanent`` tells whether retrying could ever help (a 5xx answer)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def client_options(settings: SmtpSettings) -> dict[str, Any]:
    """Translate settings into aiosmtplib client arguments (TLS mode, credentials, timeout)."""
    options: dict[str, Any] = {
        "hostname": settings.host,
        "port": settings.port,
        "timeout": settings.timeout_s,
        "use_tls": settings.tls == "tls",
        "start_tls": settings.tls == "starttls",
        "validate_certs": settings.validate_certs,
    }
    if settings.tls == "none":
        options["start_tls"] = False
    if settings.username:
        options["username"] = settings.username
        options["password"] = settings.password.get_secret_value() if settings.password else ""
    return options


_CLOSE_GRACE_S = 0.05


class SmtpPool:
    """Up to ``pool_size`` open SMTP connections shared by concurrent senders."""

    def __init__(
        self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self._settings = settings
        self._tls_context = tls_context
        self._idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        self._slots = asyncio.Semaphore(settings.pool_size)
        self._all: set[aiosmtplib.SMTP] = set()

    @property
    def size(self) -> int:
        """How many messages may be in flight at once."""
        return self._settings.pool_size

    async def _connect(self) -> aiosmtplib.SMTP:
        options = client_options(self._settings)
        if self._tls_context is not None:
            options["tls_context"] = self._tls_context
        client = aiosmtplib.SMTP(**options)
        try:
            await client.connect()
        except BaseException:
            # A connection that fails after the socket opened (TLS or login refused) must not
            # leak its transport: every retry would otherwise hold one more socket.
            with contextlib.suppress(Exception):
                client.close()
            # Let the transport (a TLS one needs several loop turns) finish closing.
            await asyncio.sleep(_CLOSE_GRACE_S)
            raise
        self._all.add(client)
        return client

    async def _discard(self, client: aiosmtplib.SMTP) -> None:
        self._all.discard(client)
        with contextlib.suppress(Exception):
            client.close()
        await asyncio.sleep(0)  # let the transport finish closing

    async def send(self, message: Outgoing) -> None:
        """Send one message; raise :class:`SmtpSendError` saying whether to retry."""
        async with self._slots:
            client: aiosmtplib.SMTP | None = None
            try:
                client = self._idle.get_nowait() if not self._idle.empty() else None
                if client is None or not client.is_connected:
                    if client is not None:
                        await self._discard(client)
                    client = await self._connect()
                try:
                    await self._sendmail(client, message)
                except aiosmtplib.SMTPServerDisconnected:
                    # An idle connection the server closed; one fresh connection, then give up.
                    await self._discard(client)
                    client = await self._connect()
                    await self._sendmail(client, message)
            except aiosmtplib.SMTPResponseException as exc:
                if client is not None:
                    await self._discard(client)
                raise SmtpSendError(
                    f"SMTP {exc.code}: {exc.message[:200]}", permanent=500 <= exc.code < 600
                ) from exc
            except aiosmtplib.SMTPRecipientsRefused as exc:
                if client is not None:
                    await self._discard(client)
                codes = [r.code for r in exc.recipients]
                permanent = all(500 <= c < 600 for c in codes)
                raise SmtpSendError(f"recipient refused ({codes})", permanent=permanent) from exc
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if client is not None:
                    await self._discard(client)
                raise SmtpSendError(f"{type(exc).__name__}: {exc}"[:300], permanent=False) from exc
            else:
                self._idle.put_nowait(client)

    @staticmethod
    async def _sendmail(client: aiosmtplib.SMTP, message: Outgoing) -> None:
        errors, _ = await client.sendmail(message.envelope_from, [message.recipient], message.data)
        if errors:
            # A single recipient: a refusal of it raises SMTPRecipientsRefused before this.
            raise aiosmtplib.SMTPRecipientsRefused([])

    async def close(self) -> None:
        """Close every connection (QUIT when possible)."""
        for client in list(self._all):
            with contextlib.suppress(Exception):
                if client.is_connected:
                    await client.quit()
            await self._discard(client)
        while not self._idle.empty():
            self._idle.get_nowait()
        # TLS transports finish closing over several loop turns; give them that time so none is
        # left half-closed when the caller's event loop ends.
        await asyncio.sleep(_CLOSE_GRACE_S)
