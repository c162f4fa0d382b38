"""FastStream internals the event publisher needs: the live aiokafka producer, and replacing it.

FastStream has no public way to reach the ``AIOKafkaProducer`` it connected, nor to reconnect the
producer alone. :class:`sceau_shared.kafka.EventPublisher` needs both: ``send_detached`` hands
high-volume events straight to aiokafka's batcher, and after a broker restart aiokafka's idempotent
producer can be stuck on ``OutOfOrderSequenceNumber`` for good, so the publisher swaps in a fresh
one without touching the consumers.

Internals used (checked against FastStream 0.7.x, 0.7.8 installed; ``faststream<0.8`` in
``shared/core/pyproject.toml``):

* ``KafkaBroker._connection_kwargs`` — the keyword arguments FastStream builds its
  ``AIOKafkaProducer`` from (client id, bootstrap servers, acks, idempotence, security);
* ``broker.config.producer._producer.producer`` — the producer state object of
  ``AioKafkaFastProducerImpl`` and the ``AIOKafkaProducer`` it holds once connected;
* ``broker.config.producer.connect(producer, serializer=, codec=)`` / ``disconnect()`` and its
  ``serializer`` / ``codec`` attributes — the same steps ``KafkaBrokerConfig.connect`` takes for
  the producer (it reads ``fd_config._serializer``; the producer keeps what it was given).

What breaks if they move: ``send_detached`` raises :class:`UnsupportedLibraryError` (the verifier
then publishes its ``VerificationCompletedV1`` events through nothing), and a producer stuck after a
broker restart is never replaced, so every publish keeps failing until the service restarts.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from sceau_shared.compat import reaching_into

__all__ = ["connected_producer", "connection_kwargs", "replace_producer"]

_MODULE = "sceau_shared.compat.faststream"


def connection_kwargs(broker: KafkaBroker) -> dict[str, Any]:
    """Return a copy of the keyword arguments FastStream builds its aiokafka clients from."""
    with reaching_into("faststream", "KafkaBroker._connection_kwargs", _MODULE):
        return dict(broker._connection_kwargs)


def connected_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """Return the broker's connected ``AIOKafkaProducer``, or ``None`` before it connected."""
    with reaching_into("faststream", "broker.config.producer._producer", _MODULE):
        state: Any = broker.config.producer._producer  # type: ignore[attr-defined]
    if not state:  # FastStream's "not connected" state is falsy and raises on ``.producer``
        return None
    with reaching_into("faststream", "broker.config.producer._producer.producer", _MODULE):
        producer = state.producer
    return producer if isinstance(producer, AIOKafkaProducer) else None


async def replace_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """Disconnect the broker's producer and connect a fresh one built the same way; return it.

    The consumers are left alone. The new producer is started before this returns.
    """
    with reaching_into("faststream", "broker.config.producer serializer/codec", _MODULE):
        fast_producer: Any = broker.config.producer
        serializer, codec = fast_producer.serializer, fast_producer.codec
    fresh = AIOKafkaProducer(**connection_kwargs(broker))
    await fast_producer.disconnect()
    await fast_producer.connect(fresh, serializer=serializer, codec=codec)
    return fresh
