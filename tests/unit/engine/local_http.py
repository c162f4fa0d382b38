"""A real HTTP server on 127.0.0.1 for did:web and SSRF tests (threaded, stdlib only).

Routes map a path to a function returning ``(status, headers, body)``; ``body`` may be an
iterable of byte chunks with delays, so tests can serve slow or dripping responses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Body = bytes | Iterable[bytes | float]  # a float in the iterable means "sleep that many seconds"
Route = Callable[[], tuple[int, dict[str, str], Body]]


@dataclass
class LocalServer:
    port: int
    routes: dict[str, Route]
    hits: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    local: LocalServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        local = self.server.local
        path = self.path.split("?", 1)[0]
        local.hits[path] = local.hits.get(path, 0) + 1
        route = local.routes.get(path)
        status: int
        headers: dict[str, str]
        body: Body
        if route is None:
            status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
        else:
            status, headers, body = route()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(body, bytes):
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_header("Connection", "close")
                self.end_headers()
                for part in body:
                    if isinstance(part, float):
                        time.sleep(part)
                    else:
                        self.wfile.write(part)
                        self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[LocalServer]:
    """Run a server on an ephemeral loopback port for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    local = LocalServer(port=server.server_address[1], routes=routes)
    server.local = local
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield local
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def json_route(text: str, content_type: str = "application/did+json") -> Route:
    data = text.encode()
    return lambda: (200, {"Content-Type": content_type}, data)
