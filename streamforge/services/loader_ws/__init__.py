"""loader-ws: the exchange's live WebSocket streams into the ``md.*`` topics.

See :mod:`~streamforge.services.loader_ws.service` for the service and its commands and
:mod:`~streamforge.services.loader_ws.pipeline` for how the pieces fit together.
"""

from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.pipeline import LoaderOptions, Pipeline
from streamforge.services.loader_ws.service import LoaderWsService
from streamforge.services.loader_ws.snapshots import SnapshotPolicy
from streamforge.services.loader_ws.subscriptions import DEFAULT_KINDS, Subscription

__all__ = [
    "DEFAULT_KINDS",
    "LoaderOptions",
    "LoaderStats",
    "LoaderWsService",
    "Pipeline",
    "SnapshotPolicy",
    "Subscription",
]
