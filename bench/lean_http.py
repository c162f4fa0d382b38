"""A lean HTTP/1.1 load generator: one kept-alive connection per client, bytes in, bytes out.

The benchmarks run the load generator on the same two cores as the system under test. httpx
costs about 1.6 ms of CPU per request here (``bench/single_http.py --client httpx`` reports it),
a tenth of a single issue's whole cost, taken from the services being measured. This client
writes a prepared request and reads the answer by its ``Content-Length``: ~0.2 ms. It is for
benchmarks only: no TLS, no redirects, no chunked bodies (the services answer with a length).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """What a request got back."""

    status: int
    body: bytes


class LeanConnection:
    """One kept-alive connection to ``base`` (``http://host:port``), reopened when closed."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError("the lean client speaks plain http://host:port only")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._fixed += f"Host: {parts.netloc}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, body: Any, headers: dict[str, str]) -> Answer:
        """POST ``body`` as JSON with extra ``headers``; the whole answer."""
        payload = json.dumps(body, separators=(",", ":")).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = (
            f"POST {path} HTTP/1.1\r\n{self._fixed}{extra}Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        ).encode()
        if self._writer is None:
            await self._open()
        assert self._reader is not None  # noqa: S101 - opened
        assert self._writer is not None  # noqa: S101 - opened
        self._writer.write(head + payload)
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        close = False
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value.strip())
            elif lowered == b"transfer-encoding":
                raise ValueError("chunked answers are not supported by the lean client")
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        answer = Answer(status, await self._reader.readexactly(length))
        if close:
            await self.close()
        return answer

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
        self._reader = self._writer = None
