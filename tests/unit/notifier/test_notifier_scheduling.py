"""Backoff, reminder times on a fake clock, LinkedIn links and message identities."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sceau_notifier.backoff import Backoff
from sceau_notifier.mail.linkedin import add_to_profile_url
from sceau_notifier.mail.locale import format_date
from sceau_notifier.mail.message import message_id, recipient_hash
from sceau_notifier.mail.smtp import client_options
from sceau_notifier.service.reminders import days_left, reminder_key, reminder_slots
from sceau_notifier.settings import ReminderSettings, RetrySettings, SmtpSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap() -> None:
    backoff = Backoff(
        RetrySettings(base_delay_s=5, factor=3, max_delay_s=100, jitter=0.3, max_attempts=6),
        rng=random.Random(42),
    )
    assert [backoff.nominal_delay(n) for n in range(1, 6)] == [5, 15, 45, 100, 100]
    for attempts in range(1, 6):
        nominal = backoff.nominal_delay(attempts)
        for _ in range(50):
            assert 0.7 * nominal <= backoff.delay(attempts) <= nominal
    assert backoff.next_attempt(5, T0) is not None
    assert backoff.next_attempt(6, T0) is None


def test_jitter_spreads_retries() -> None:
    backoff = Backoff(RetrySettings(base_delay_s=10, jitter=0.5), rng=random.Random(1))
    assert len({round(backoff.delay(2), 3) for _ in range(20)}) > 10


def test_reminder_slots_default_offsets_and_expiry() -> None:
    settings = ReminderSettings()
    valid_until = T0 + timedelta(days=365)
    slots = reminder_slots(issued_at=T0, valid_until=valid_until, settings=settings)
    assert [s.days for s in slots] == [90, 30, 7, 0]
    assert slots[0].due_at == valid_until - timedelta(days=90)
    assert slots[-1].due_at == valid_until


def test_reminders_before_issuance_are_skipped() -> None:
    slots = reminder_slots(
        issued_at=T0, valid_until=T0 + timedelta(days=20), settings=ReminderSettings()
    )
    assert [s.days for s in slots] == [7, 0]


def test_configurable_offsets_are_sorted_and_deduplicated() -> None:
    settings = ReminderSettings(offsets_days=[7, 60, 7, 1], on_expiry=False)
    assert settings.offsets_days == [60, 7, 1]
    slots = reminder_slots(issued_at=T0, valid_until=T0 + timedelta(days=90), settings=settings)
    assert [s.days for s in slots] == [60, 7, 1]


def test_days_left_on_a_fake_clock() -> None:
    expiry = T0 + timedelta(days=30)
    assert days_left(expiry, expiry - timedelta(days=30)) == 30
    assert days_left(expiry, expiry - timedelta(days=6, hours=12)) == 7
    assert days_left(expiry, expiry + timedelta(days=1)) == 0
    assert reminder_key("e1", 30) == "e1.r30"


def test_linkedin_link_carries_the_documented_parameters() -> None:
    url = add_to_profile_url(
        name="Secourisme",
        organization_name="Cégep de Sainte-Foy",
        issued_at=datetime(2026, 3, 5, tzinfo=UTC),
        expires_at=datetime(2028, 3, 5, tzinfo=UTC),
        cert_url="https://verify.sceau.example/",
        cert_id="urn:uuid:1",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Secourisme",
        "organizationName": "Cégep de Sainte-Foy",
        "issueYear": "2026",
        "issueMonth": "3",
        "expirationYear": "2028",
        "expirationMonth": "3",
        "certUrl": "https://verify.sceau.example/",
        "certId": "urn:uuid:1",
    }


def test_dates_in_prose() -> None:
    assert format_date(datetime(2026, 11, 1, tzinfo=UTC), "fr") == "1er novembre 2026"
    assert format_date(datetime(2026, 8, 24, tzinfo=UTC), "fr") == "24 août 2026"
    assert format_date(datetime(2026, 8, 24, tzinfo=UTC), "en") == "August 24, 2026"


def test_message_ids_and_recipient_hashes_are_stable() -> None:
    assert message_id("e1.r30", "sceau.example") == "<notif.e1.r30@sceau.example>"
    assert message_id("a:b c", "d") == "<notif.a-b-c@d>"
    assert recipient_hash(" Zoe@Example.org ") == recipient_hash("zoe@example.org")
    assert "zoe" not in recipient_hash("zoe@example.org")


def test_smtp_tls_modes_map_to_client_options() -> None:
    assert client_options(SmtpSettings(tls="tls"))["use_tls"] is True
    starttls = client_options(SmtpSettings(tls="starttls"))
    assert starttls["start_tls"] is True
    assert starttls["use_tls"] is False
    plain = client_options(SmtpSettings(tls="none", username="u", password="p"))
    assert plain["start_tls"] is False
    assert plain["use_tls"] is False
    assert plain["password"] == "p"
