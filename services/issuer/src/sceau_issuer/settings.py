"""Settings of the issuer service (environment prefix ``ISSUER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import ServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings

SERVICE_NAME = "sceau-issuer"
ENV_PREFIX = "ISSUER_"


class IssuerSettings(ServiceSettings):
    """Settings of the issuer, e.g. ``ISSUER_MONGO__URI`` (nested fields use ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_issuer")
    http: HttpSettings = HttpSettings(port=8001, public_base_url="http://127.0.0.1:8001")
