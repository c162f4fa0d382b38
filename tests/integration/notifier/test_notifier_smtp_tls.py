"""SMTP transport settings against a real aiosmtpd server: STARTTLS with a certificate and AUTH."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from notifier_support import SinkHandler, free_port
from pydantic import SecretStr

from sceau_notifier.mail.message import Outgoing
from sceau_notifier.mail.smtp import SmtpPool, SmtpSendError
from sceau_notifier.settings import SmtpSettings

pytestmark = pytest.mark.integration


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == b"sceau" and auth_data.password == b"s3cret-pass"
    )
    return AuthResult(success=ok)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, SinkHandler, Path]]:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    handler = SinkHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield port, handler, cert
    finally:
        controller.stop()


MESSAGE = Outgoing(
    envelope_from="no-reply@sceau.example",
    recipient="zoe@example.org",
    data=b"Subject: t\r\nMessage-ID: <notif.x@sceau.example>\r\n\r\nhello\r\n",
)


async def test_starttls_with_a_trusted_certificate_and_auth(
    tls_server: tuple[int, SinkHandler, Path],
) -> None:
    port, handler, cert = tls_server
    client_ctx = ssl.create_default_context(cafile=str(cert))
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        tls="starttls",
        username="sceau",
        password=SecretStr("s3cret-pass"),
        pool_size=2,
    )
    pool = SmtpPool(settings, tls_context=client_ctx)
    try:
        await pool.send(MESSAGE)
        await pool.send(MESSAGE)  # reuses the open, upgraded connection
    finally:
        await pool.close()
    assert len(handler.messages) == 2
    assert handler.messages[0][1] == ["zoe@example.org"]


async def test_an_untrusted_certificate_or_wrong_password_is_refused(
    tls_server: tuple[int, SinkHandler, Path],
) -> None:
    port, handler, cert = tls_server
    untrusted = SmtpPool(
        SmtpSettings(
            host="127.0.0.1",
            port=port,
            tls="starttls",
            username="sceau",
            password=SecretStr("s3cret-pass"),
            timeout_s=5,
        )
    )
    with pytest.raises(SmtpSendError) as refused:
        await untrusted.send(MESSAGE)
    assert not refused.value.permanent
    await untrusted.close()
    wrong = SmtpPool(
        SmtpSettings(
            host="127.0.0.1",
            port=port,
            tls="starttls",
            username="sceau",
            password=SecretStr("nope"),
            timeout_s=5,
        ),
        tls_context=ssl.create_default_context(cafile=str(cert)),
    )
    with pytest.raises(SmtpSendError):
        await wrong.send(MESSAGE)
    await wrong.close()
    assert handler.messages == []
