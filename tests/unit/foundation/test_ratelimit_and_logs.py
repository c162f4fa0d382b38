import json
import logging

import pytest

from sceau_shared.errors import RateLimited
from sceau_shared.http import RateLimiter
from sceau_shared.logs import JsonFormatter, RedactingFilter, redact


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestRateLimiter:
    def test_burst_then_refill(self):
        clock = FakeClock()
        limiter = RateLimiter(60, burst=3, clock=clock)
        for _ in range(3):
            limiter.check("a")
        with pytest.raises(RateLimited) as info:
            limiter.check("a")
        assert info.value.retry_after == 1
        limiter.check("b")  # other clients are not affected
        clock.now += 1.0
        limiter.check("a")

    def test_zero_disables(self):
        limiter = RateLimiter(0)
        for _ in range(1000):
            limiter.check("a")


class TestLogs:
    def test_redacts_emails_and_tokens(self):
        text = redact("sent to jane.doe@example.org with Bearer abcdefghijklmnop")
        assert "jane.doe" not in text
        assert "abcdefghijklmnop" not in text

    def test_filter_and_json_formatter(self):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("a@b.ca",), None)
        RedactingFilter().filter(record)
        line = json.loads(JsonFormatter("svc").format(record))
        assert line["msg"] == "to [email]"
        assert line["service"] == "svc"
