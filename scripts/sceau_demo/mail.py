"""The SMTP sink: a real SMTP server on loopback that keeps what the notifier sends.

The learners' e-mails are part of what the story shows and checks, so the demo (and the
end-to-end tests) receive them over real SMTP rather than reading the notifier's database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class CapturedMail:
    """One message the notifier handed to the SMTP sink."""

    envelope_to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The parsed message."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)  # noqa: S101 - policy.default builds these
        return parsed


class _MailHandler:
    """aiosmtpd handler that keeps every message in memory."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._sink.lock:
            self._sink.messages.append(CapturedMail(list(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[CapturedMail] = []
        self.lock = threading.Lock()
        self._controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        """Start listening."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def snapshot(self) -> list[CapturedMail]:
        """The messages received so far."""
        with self.lock:
            return list(self.messages)

    def unique(self) -> list[CapturedMail]:
        """One message per Message-ID (a resend after a crash repeats the Message-ID)."""
        seen: dict[str, CapturedMail] = {}
        for mail in self.snapshot():
            seen.setdefault(str(mail.message.get("Message-ID", id(mail))), mail)
        return list(seen.values())
