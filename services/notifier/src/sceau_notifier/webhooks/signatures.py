"""Standard Webhooks signatures of the webhooks the notifier sends (the shared implementation).

Kept under this name for the notifier's callers; the code lives in
:mod:`sceau_shared.standard_webhooks` because the issuer verifies the same signatures on the LMS
completion events it receives.
"""

from __future__ import annotations

from sceau_shared.standard_webhooks import (
    SECRET_BYTES,
    SECRET_PREFIX,
    generate_secret,
    secret_key_bytes,
    sign,
    verify,
)

__all__ = ["SECRET_BYTES", "SECRET_PREFIX", "generate_secret", "secret_key_bytes", "sign", "verify"]
