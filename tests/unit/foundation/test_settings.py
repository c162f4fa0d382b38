import pytest
from pydantic import ValidationError

from sceau_notifier.settings import NotifierSettings
from sceau_shared.runner import describe_settings_error
from sceau_shared.settings import KafkaSettings, MongoSettings


class TestSettings:
    def test_nested_env_vars_reach_sub_models(self, monkeypatch):
        monkeypatch.setenv("NOTIFIER_KAFKA__BOOTSTRAP_SERVERS", "k1:9092, k2:9093")
        monkeypatch.setenv("NOTIFIER_MONGO__DATABASE", "notes")
        settings = NotifierSettings(_env_file=None)
        assert settings.kafka.bootstrap_servers == "k1:9092,k2:9093"
        assert settings.mongo.database == "notes"

    def test_each_service_owns_its_database_by_default(self):
        assert NotifierSettings(_env_file=None).mongo.database == "sceau_notifier"

    @pytest.mark.parametrize("servers", ["", "no-port", "host:notaport", "host:70000"])
    def test_bad_bootstrap_servers_are_refused(self, servers):
        with pytest.raises(ValidationError):
            KafkaSettings(bootstrap_servers=servers)

    @pytest.mark.parametrize("uri", ["http://x", "localhost:27017", ""])
    def test_bad_mongo_uris_are_refused(self, uri):
        with pytest.raises(ValidationError):
            MongoSettings(uri=uri)

    def test_uri_is_secret_in_repr(self):
        settings = MongoSettings(uri="mongodb://user:hunter2@db:27017/")
        assert "hunter2" not in repr(settings)

    def test_settings_error_is_one_line_naming_the_variable(self, monkeypatch):
        monkeypatch.setenv("NOTIFIER_MONGO__URI", "bogus")
        with pytest.raises(ValidationError) as info:
            NotifierSettings(_env_file=None)
        line = describe_settings_error(info.value, "NOTIFIER_")
        assert "\n" not in line
        assert "NOTIFIER_MONGO__URI" in line

    def test_a_partial_nested_override_keeps_the_service_defaults(self, monkeypatch):
        """One ``ISSUER_HTTP__*`` variable used to bring back the generic 1 MiB body limit."""
        import base64
        import os

        from sceau_issuer.settings import IssuerSettings

        monkeypatch.setenv("ISSUER_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
        monkeypatch.setenv("ISSUER_HTTP__PUBLIC_BASE_URL", "https://sceau.example.edu")
        monkeypatch.setenv("ISSUER_MONGO__URI", "mongodb://db:27017/")
        settings = IssuerSettings(_env_file=None)
        assert settings.http.public_base_url == "https://sceau.example.edu"
        assert settings.http.max_body_bytes == 8 * 1024 * 1024
        assert settings.http.port == 8001
        assert settings.mongo.database == "sceau_issuer"
        assert settings.mongo.uri.get_secret_value() == "mongodb://db:27017/"

    def test_partial_overrides_merge_at_every_depth(self, monkeypatch):
        monkeypatch.setenv("NOTIFIER_EMAIL_RETRY__MAX_ATTEMPTS", "9")
        monkeypatch.setenv("NOTIFIER_HTTP__HOST", "0.0.0.0")  # noqa: S104 - a value under test
        settings = NotifierSettings(_env_file=None)
        assert settings.email_retry.max_attempts == 9
        assert settings.email_retry.base_delay_s == 30.0  # the notifier's own default, kept
        assert settings.http.port == 8004

    def test_topic_prefix(self):
        assert KafkaSettings(topic_prefix="t1.").topic("a.b.v1") == "t1.a.b.v1"


def test_several_workers_need_a_worker_factory(capsys):
    """A service without a per-worker app factory refuses ``workers > 1`` in one line."""
    from pydantic_settings import BaseSettings

    from sceau_shared.runner import EXIT_BAD_CONFIG, serve
    from sceau_shared.settings import HttpSettings

    class Plain(BaseSettings):
        http: HttpSettings = HttpSettings()

    def never(_settings: Plain):
        raise AssertionError("no app may be built")

    code = serve(
        "sceau-test",
        settings_factory=Plain,
        env_prefix="TEST_",
        app_factory=never,
        http=lambda s: s.http,
        kafka=lambda s: None,
        mongo=lambda s: None,
        workers=lambda s: 3,
    )
    assert code == EXIT_BAD_CONFIG
    assert "3 workers asked for" in capsys.readouterr().err


def test_verifier_workers_setting_is_bounded(monkeypatch):
    from sceau_verifier.settings import VerifierSettings

    monkeypatch.setenv("VERIFIER_WORKERS", "2")
    assert VerifierSettings().workers == 2
    monkeypatch.setenv("VERIFIER_WORKERS", "0")
    with pytest.raises(ValidationError):
        VerifierSettings()
