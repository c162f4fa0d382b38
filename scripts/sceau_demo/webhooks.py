"""The webhook receiver: the college's system, recording the notifier's signed deliveries.

It can be stopped and started again on the same port, so a test can simulate the receiver's
outage and watch the notifier retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class WebhookDelivery:
    """One webhook request as received."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        data: dict[str, Any] = json.loads(self.body)
        return data

    def signed_by(self, secret: str) -> bool:
        """Whether the Standard Webhooks ``v1`` signature matches ``secret`` (``whsec_…``)."""
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.webhook_id}.{self.timestamp}.".encode() + self.body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(hmac.compare_digest(part, expected) for part in self.signature.split())


class WebhookReceiver:
    """A small HTTP server that records webhook deliveries; it can be stopped and started again.

    Stopping closes the socket, so the notifier sees "connection refused" like a real outage.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.deliveries: list[WebhookDelivery] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where the notifier posts."""
        return f"http://127.0.0.1:{self.port}/hooks/sceau"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                delivery = WebhookDelivery(
                    webhook_id=self.headers.get("webhook-id", ""),
                    timestamp=self.headers.get("webhook-timestamp", ""),
                    signature=self.headers.get("webhook-signature", ""),
                    body=body,
                )
                with receiver.lock:
                    receiver.deliveries.append(delivery)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo prints its own summary."""

        return Handler

    def start(self) -> None:
        """Listen (again) on the same port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (connections are refused until :meth:`start`)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def snapshot(self) -> list[WebhookDelivery]:
        """Deliveries received so far (a retried delivery appears once per attempt)."""
        with self.lock:
            return list(self.deliveries)

    def unique(self) -> dict[str, WebhookDelivery]:
        """One delivery per ``webhook-id`` (what a receiver that deduplicates keeps)."""
        return {d.webhook_id: d for d in self.snapshot()}

    def count(self, event_type: str) -> int:
        """Distinct deliveries of one event type."""
        return sum(1 for d in self.unique().values() if d.payload.get("type") == event_type)
