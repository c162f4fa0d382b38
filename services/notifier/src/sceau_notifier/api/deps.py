"""The one dependency of the notifier's routes: the service graph, typed."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from sceau_notifier.graph import NotifierGraph
from sceau_shared.service import graph_of

GraphDep = Annotated[NotifierGraph, Depends(graph_of)]
"""The notifier's graph as the skeleton's lifespan built it (see :mod:`sceau_notifier.graph`)."""
