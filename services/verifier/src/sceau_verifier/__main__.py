"""Run the verifier service: ``python -m sceau_verifier``; settings come from ``VERIFIER_*``."""

from __future__ import annotations

import sys

from sceau_shared.service import run_service
from sceau_verifier.app import create_api
from sceau_verifier.settings import ENV_PREFIX, SERVICE_NAME, VerifierSettings


def main() -> int:
    """Load settings, check Kafka, then serve HTTP and consume events (``workers`` processes)."""
    return run_service(
        SERVICE_NAME,
        settings_type=VerifierSettings,
        env_prefix=ENV_PREFIX,
        create_api=create_api,
        workers=lambda settings: settings.workers,
        worker_factory="sceau_verifier.app:app_from_environment",
    )


if __name__ == "__main__":
    sys.exit(main())
