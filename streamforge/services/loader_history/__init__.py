"""loader-history: a symbol's klines and aggregate trades over a time range into the workflow's
data topic, from bulk files and REST, resumable after a crash (see :mod:`.service`).

Nothing is imported here: the parse workers import :mod:`.blocks` alone."""
