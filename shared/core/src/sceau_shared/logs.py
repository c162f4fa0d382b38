"""JSON logs that carry the current trace id, with secrets and contact details kept out.

Log records are one JSON object per line (``ts``, ``level``, ``logger``, ``msg``, ``trace_id``,
``span_id``). :class:`RedactingFilter` masks e-mail addresses and bearer/API tokens that slip into
a message, as a last line of defence: code must still never log them on purpose.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from opentelemetry import trace

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_TOKEN = re.compile(r"(?i)(bearer\s+|api[_-]?key[=:\s]+|sk_)[A-Za-z0-9._~+/=-]{8,}")


def redact(text: str) -> str:
    """Mask e-mail addresses and token-looking strings in ``text``."""
    text = _EMAIL.sub("[email]", text)
    return _TOKEN.sub(lambda m: m.group(1) + "[secret]", text)


class RedactingFilter(logging.Filter):
    """Rewrite each record's message with :func:`redact` applied."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place and keep the record."""
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the active span's trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            payload["trace_id"] = format(ctx.trace_id, "032x")
            payload["span_id"] = format(ctx.span_id, "016x")
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(service: str, *, level: str = "INFO", json_output: bool = True) -> None:
    """Configure the root logger for a service process (called once by the entrypoint)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if json_output:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty about transient coordinator states; warnings are enough.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    # WeasyPrint (the issuer's PDF certificates) logs every rendering step at INFO.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
