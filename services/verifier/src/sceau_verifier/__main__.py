"""Run the verifier service: ``python -m sceau_verifier``; settings come from ``VERIFIER_*``."""

from __future__ import annotations

import sys

from sceau_shared.logs import configure_logging
from sceau_shared.runner import serve
from sceau_shared.runtime import http_of, kafka_of, mongo_of
from sceau_verifier.app import create_api
from sceau_verifier.settings import ENV_PREFIX, SERVICE_NAME, VerifierSettings


def main() -> int:
    """Load settings, check Kafka and MongoDB, then serve HTTP and consume events."""
    configure_logging(SERVICE_NAME)
    return serve(
        SERVICE_NAME,
        settings_factory=VerifierSettings,
        env_prefix=ENV_PREFIX,
        app_factory=create_api,
        http=http_of,
        kafka=kafka_of,
        mongo=mongo_of,
        workers=lambda settings: settings.workers,
        worker_factory="sceau_verifier.app:app_from_environment",
    )


if __name__ == "__main__":
    sys.exit(main())
