"""Build the MIME bytes of a learner e-mail, with a Message-ID derived from its key.

The Message-ID is a function of the notification key only, and the bytes are built once and
stored: an e-mail re-sent after a crash (sent, but not yet recorded as sent) is byte for byte the
same message, so mail clients and operators recognise the duplicate.

The message is written out directly (see :func:`build_mime`) because building it with the
:mod:`email` package cost more CPU than sending it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr

from sceau_notifier.mail.render import RenderedEmail

_SAFE_KEY = re.compile(r"[^A-Za-z0-9.-]")


@dataclass(frozen=True)
class Outgoing:
    """One message ready for SMTP: envelope and bytes."""

    envelope_from: str
    recipient: str
    data: bytes


def message_id(key: str, domain: str) -> str:
    """Return ``<notif.{key}@{domain}>`` with the key reduced to dot-atom characters."""
    cleaned = _SAFE_KEY.sub("-", key).strip(".-") or "x"
    return f"<notif.{cleaned}@{domain}>"


def recipient_hash(email: str) -> str:
    """Return the pseudonymous id operators use to look up deliveries to an address.

    sha256 of the trimmed, lower-cased address: logs and the delivery log carry this, never the
    address itself.
    """
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _one_line(value: str) -> str:
    # No CR/LF may reach a header (header injection); collapse all whitespace.
    return " ".join(value.split())


_ENCODED_WORD_BYTES = 45  # 60 base64 characters: "=?utf-8?b?" + 60 + "?=" stays within 75


def encode_words(value: str) -> str:
    """RFC 2047 ``B`` encoded words, folded; never splits a character across two words."""
    words: list[str] = []
    chunk = ""
    for char in value:
        if len((chunk + char).encode()) > _ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = ""
        chunk += char
    if chunk:
        words.append(chunk)
    encoded = ["=?utf-8?b?" + base64.b64encode(w.encode()).decode("ascii") + "?=" for w in words]
    return "\r\n ".join(encoded)


def header_text(value: str) -> str:
    """Unstructured header text: as is when short printable ASCII, else encoded words."""
    value = _one_line(value)
    if value.isascii() and value.isprintable() and len(value) <= 60:
        return value
    return encode_words(value)


def mailbox(name: str | None, address: str) -> str:
    """``Display Name <address>`` with the name quoted or encoded as needed."""
    name = _one_line(name or "")
    address = _one_line(address)
    if not name:
        return address
    if name.isascii() and name.isprintable() and len(name) <= 60:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{encode_words(name)} <{address}>"


@functools.lru_cache(maxsize=8)
def _from_header(sender: str) -> str:
    # The sender is a setting: parse and encode it once, not for every message.
    name, address = parseaddr(sender)
    return mailbox(name, address)


def _part(content_type: str, text: str) -> str:
    body = base64.encodebytes(text.encode()).decode("ascii").replace("\n", "\r\n")
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{body}"
    )


def build_mime(
    rendered: RenderedEmail,
    *,
    key: str,
    sender: str,
    to_address: str,
    to_name: str | None,
    language: str,
    message_id_domain: str,
    date: datetime,
    reply_to: str | None = None,
) -> bytes:
    """Assemble a multipart/alternative message (plain text first, then HTML) as bytes.

    Written out directly rather than through :mod:`email`'s generator: the generator re-folds
    every header and cost more CPU than the SMTP exchange. Both parts are base64, whose alphabet
    has no ``_``, so the boundary (``=_`` + a digest of the key) can never occur in the content.
    """
    boundary = "=_sceau_" + hashlib.sha256(key.encode()).hexdigest()[:32]
    headers = [
        f"Subject: {header_text(rendered.subject)}",
        f"From: {_from_header(sender)}",
        f"To: {mailbox(to_name, to_address)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id(key, message_id_domain)}",
        f"Content-Language: {_one_line(language)}",
        # RFC 3834: tells auto-responders not to answer an automatic message.
        "Auto-Submitted: auto-generated",
    ]
    reply = parseaddr(reply_to)[1] if reply_to and "@" in reply_to else ""
    if "@" in reply:
        headers.append(f"Reply-To: {_one_line(reply)}")
    headers += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    message = (
        "\r\n".join(headers)
        + "\r\n\r\n"
        + f"--{boundary}\r\n"
        + _part("text/plain", rendered.text)
        + f"--{boundary}\r\n"
        + _part("text/html", rendered.html)
        + f"--{boundary}--\r\n"
    )
    return message.encode("ascii")


def envelope_sender(sender: str) -> str:
    """The address part of the From setting, used as the SMTP envelope sender."""
    return parseaddr(sender)[1]
