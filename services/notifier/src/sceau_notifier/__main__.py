"""Run the notifier service: ``python -m sceau_notifier``; settings come from ``NOTIFIER_*``."""

from __future__ import annotations

import sys

from sceau_notifier.app import create_api
from sceau_notifier.settings import ENV_PREFIX, SERVICE_NAME, NotifierSettings
from sceau_shared.service import run_service


def main() -> int:
    """Load settings, check Kafka and MongoDB, then serve HTTP and consume events."""
    return run_service(
        SERVICE_NAME, settings_type=NotifierSettings, env_prefix=ENV_PREFIX, create_api=create_api
    )


if __name__ == "__main__":
    sys.exit(main())
