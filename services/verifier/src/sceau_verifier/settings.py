"""Settings of the verifier service (environment prefix ``VERIFIER_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import ServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings

SERVICE_NAME = "sceau-verifier"
ENV_PREFIX = "VERIFIER_"


class VerifierSettings(ServiceSettings):
    """Settings of the verifier, e.g. ``VERIFIER_MONGO__URI`` (nested fields use ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_verifier")
    http: HttpSettings = HttpSettings(port=8003, public_base_url="http://127.0.0.1:8003")
