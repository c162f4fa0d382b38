"""The start-up warm-up signs and verifies a throwaway credential with the real engine."""

from sceau_credentials.ob3.validation import schema_problems
from sceau_credentials.warmup import warm_up_signing, warm_up_verification


async def test_warm_up_signs_a_valid_open_badge_and_verifies_it() -> None:
    signed = await warm_up_signing()
    assert signed["proof"]
    assert schema_problems(signed) == []
    assert await warm_up_verification()
