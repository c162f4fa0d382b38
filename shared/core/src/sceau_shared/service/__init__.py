"""The service skeleton: every Sceau service is assembled by the same few pieces from here.

A service describes itself once with a :class:`ServiceDefinition` (name, settings type, its
composition root, its consumer router, its HTTP routers) and :func:`create_service_app` turns that
into a FastAPI application whose lifespan always runs the same steps, in the same order:

1. open the connections (MongoDB unless the service stores nothing, the Kafka broker — not started);
2. build the service's typed object graph (its composition root, ``graph.py``): repositories,
   services, indexes;
3. put the graph and the event publisher in FastStream's context, include the consumer router and
   only then start the broker, so no message reaches a handler before what it calls exists;
4. start the graph's background loops;
5. serve, with one typed lifespan state (:class:`ServiceState`) every route reads the same way;
6. on shutdown, in reverse: loops cancelled, broker stopped, graph closed, connections closed.
"""

from sceau_shared.service.app import create_service_app
from sceau_shared.service.definition import ServiceDefinition, ServiceGraph
from sceau_shared.service.entry import run_service
from sceau_shared.service.state import ServiceState, graph_of, runtime_of

__all__ = [
    "ServiceDefinition",
    "ServiceGraph",
    "ServiceState",
    "create_service_app",
    "graph_of",
    "run_service",
    "runtime_of",
]
