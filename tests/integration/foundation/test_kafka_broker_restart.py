"""Restart the Kafka broker while a producer is sending: nothing acknowledged is lost or doubled.

This test runs its own broker (free ports, temporary data folder) so it can stop it without
disturbing the shared one other tests use.
"""

import asyncio
import contextlib
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from pymongo.errors import DuplicateKeyError

from sceau_dev.infra import kafka_server
from sceau_dev.infra.manager import default_cache_dir
from sceau_dev.infra.process import free_port
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 300


def _progress(message: str) -> None:
    print(f"[restart-test] {message}")


@pytest.fixture
def broker_config(tmp_path: Path) -> kafka_server.KafkaConfig:
    port = free_port()
    controller = free_port()
    return kafka_server.KafkaConfig(
        port=port,
        controller_port=controller,
        data_dir=tmp_path / "kafka",
        log_file=tmp_path / "kafka.log",
        heap="384m",
    )


async def test_acknowledged_messages_survive_a_broker_restart(
    broker_config, mongo_client, mongo_settings
):
    cache = default_cache_dir()
    pid = await asyncio.to_thread(
        kafka_server.start, broker_config, cache, _progress, timeout_s=120
    )
    topic = "restart-test"
    acked: set[int] = set()
    settings = KafkaSettings(bootstrap_servers=broker_config.bootstrap, request_timeout_s=5)
    broker = create_broker(settings, client_id="restart-test")
    await broker.connect()
    publisher = EventPublisher(broker, settings, producer="restart-test")
    restarted = asyncio.Event()

    async def produce() -> None:
        for i in range(TOTAL):
            # The application retries a send until it is acknowledged; a retry after an ack that
            # was lost in the restart may write the message twice: the consumer must absorb it.
            while True:
                try:
                    await publisher.publish_raw(
                        topic=topic,
                        key=str(i % 7).encode(),
                        payload=str(i).encode(),
                        event_id=str(i),
                        event_type="test",
                    )
                except KafkaError:
                    await asyncio.sleep(0.2)
                    continue
                acked.add(i)
                break
            await asyncio.sleep(0.005)

    async def restart() -> None:
        nonlocal pid
        while len(acked) < TOTAL // 3:  # noqa: ASYNC110 - waiting on the producer's progress
            await asyncio.sleep(0.01)
        await asyncio.to_thread(kafka_server.stop, pid)
        await asyncio.sleep(1.0)
        pid = await asyncio.to_thread(
            kafka_server.start, broker_config, cache, _progress, timeout_s=120
        )
        restarted.set()

    try:
        await asyncio.wait_for(asyncio.gather(produce(), restart()), timeout=240)
        assert restarted.is_set()
        assert acked == set(range(TOTAL))

        # An idempotent consumer: the effect (one document per message id) is applied once.
        effects = mongo_client[mongo_settings.database]["effects"]
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=broker_config.bootstrap,
            group_id="restart-test",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        deliveries = 0
        try:
            while await effects.count_documents({}) < TOTAL:
                batch = await consumer.getmany(timeout_ms=2000)
                for records in batch.values():
                    for record in records:
                        deliveries += 1
                        # Dedupe on the message id: a message written twice has one effect.
                        with contextlib.suppress(DuplicateKeyError):
                            await effects.insert_one({"_id": int(record.value)})
                await consumer.commit()
        finally:
            await consumer.stop()
        ids = [doc["_id"] async for doc in effects.find({})]
        assert sorted(ids) == sorted(acked)  # nothing lost, each effect once
        assert deliveries >= TOTAL
    finally:
        await broker.stop()
        await asyncio.to_thread(kafka_server.stop, pid)
