"""Settings of the registry service (environment prefix ``REGISTRY_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import ServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings

SERVICE_NAME = "sceau-registry"
ENV_PREFIX = "REGISTRY_"


class RegistrySettings(ServiceSettings):
    """Settings of the registry, e.g. ``REGISTRY_MONGO__URI`` (nested fields use ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_registry")
    http: HttpSettings = HttpSettings(port=8002, public_base_url="http://127.0.0.1:8002")
