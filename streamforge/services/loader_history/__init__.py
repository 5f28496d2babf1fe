"""loader-history: a symbol's klines and aggregate trades over a time range into the workflow's
data topic, from bulk files and REST, resumable after a crash (see :mod:`.service`)."""

from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.service import LoaderHistory

__all__ = ["Kind", "LoaderHistory"]
