"""Run the issuer service: ``python -m sceau_issuer``; settings come from ``ISSUER_*``."""

from __future__ import annotations

import sys

from sceau_issuer.app import create_api
from sceau_issuer.settings import ENV_PREFIX, SERVICE_NAME, IssuerSettings
from sceau_shared.logs import configure_logging
from sceau_shared.runner import serve
from sceau_shared.runtime import http_of, kafka_of, mongo_of


def main() -> int:
    """Load settings, check Kafka and MongoDB, then serve HTTP and consume events."""
    configure_logging(SERVICE_NAME)
    return serve(
        SERVICE_NAME,
        settings_factory=IssuerSettings,
        env_prefix=ENV_PREFIX,
        app_factory=create_api,
        http=http_of,
        kafka=kafka_of,
        mongo=mongo_of,
    )


if __name__ == "__main__":
    sys.exit(main())
