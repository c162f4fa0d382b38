"""HTTP plumbing shared by every service: problem details, probes, body limits, rate limits."""

from sceau_shared.http.app import ReadinessCheck, create_base_app
from sceau_shared.http.problems import (
    PROBLEM_MEDIA_TYPE,
    install_problem_handlers,
    problem_response,
)
from sceau_shared.http.ratelimit import RateLimiter

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "RateLimiter",
    "ReadinessCheck",
    "create_base_app",
    "install_problem_handlers",
    "problem_response",
]
