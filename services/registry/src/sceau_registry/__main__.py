"""Run the registry service: ``python -m sceau_registry``; settings come from ``REGISTRY_*``."""

from __future__ import annotations

import sys

from sceau_registry.app import create_api
from sceau_registry.settings import ENV_PREFIX, SERVICE_NAME, RegistrySettings
from sceau_shared.service import run_service


def main() -> int:
    """Load settings, check Kafka and MongoDB, then serve HTTP and consume events."""
    return run_service(
        SERVICE_NAME,
        settings_type=RegistrySettings,
        env_prefix=ENV_PREFIX,
        create_api=create_api,
    )


if __name__ == "__main__":
    sys.exit(main())
