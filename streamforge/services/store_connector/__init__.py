"""store-connector: trades and candles from Kafka into the store, as a live service or as a
workflow Job that ends where the loader's data ends (see :mod:`.service`)."""

from streamforge.services.store_connector.options import SinkOptions
from streamforge.services.store_connector.service import Mode, StoreConnector
from streamforge.services.store_connector.sink import Sink, SinkStats

__all__ = ["Mode", "Sink", "SinkOptions", "SinkStats", "StoreConnector"]
