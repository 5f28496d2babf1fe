"""Binance spot: REST, WebSocket streams, bulk history files and their normalization."""

#: The ``exchange`` of every record normalized from Binance spot.
EXCHANGE = "binance"
