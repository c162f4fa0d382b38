"""Dropping a finished run's topics on the real broker (``sceau_dev.testing.topics``)."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from sceau_dev.testing.polling import eventually
from sceau_dev.testing.topics import drop_topics

pytestmark = pytest.mark.integration


async def _topics(servers: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _present(servers: str, names: set[str]) -> bool:
    return names <= await _topics(servers)


async def test_only_the_prefixed_topics_are_dropped(kafka_settings):
    servers, prefix = kafka_settings.bootstrap_servers, kafka_settings.topic_prefix
    mine = [f"{prefix}a.v1", f"{prefix}b.v1"]
    other = f"other-{prefix}a.v1"  # contains the prefix, does not start with it
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=1, replication_factor=1) for name in [*mine, other]]
        )
    finally:
        await admin.close()
    await eventually(
        lambda: _present(servers, {*mine, other}), timeout_s=30, message="the three topics exist"
    )

    assert await drop_topics(servers, prefix) == sorted(mine)

    async def gone() -> bool:
        left = await _topics(servers)
        return not left & set(mine) and other in left

    await eventually(
        gone, timeout_s=30, message="the prefixed topics are gone, the other one is kept"
    )
    assert await drop_topics(servers, prefix) == []
    await drop_topics(servers, f"other-{prefix}")


async def test_an_empty_prefix_is_refused(kafka_settings):
    with pytest.raises(ValueError, match="prefix is required"):
        await drop_topics(kafka_settings.bootstrap_servers, "")
