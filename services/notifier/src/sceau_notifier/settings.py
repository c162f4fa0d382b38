"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import ServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings

SERVICE_NAME = "sceau-notifier"
ENV_PREFIX = "NOTIFIER_"


class NotifierSettings(ServiceSettings):
    """Settings of the notifier, e.g. ``NOTIFIER_MONGO__URI`` (nested fields use ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_notifier")
    http: HttpSettings = HttpSettings(port=8004, public_base_url="http://127.0.0.1:8004")
