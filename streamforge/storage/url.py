"""Open the store a URL names."""

from __future__ import annotations

from urllib.parse import urlsplit

from streamforge.config.secrets import Secret, redact_urls, secret_url
from streamforge.storage.base import Store, StoreError
from streamforge.storage.sqlite import SqliteStore, sqlite_path

ACCEPTED = "sqlite:///PATH, arango://USER:PASSWORD@HOST:PORT/DB or arangos://... (TLS)"


def open_store(url: str | Secret) -> Store:
    """The store at ``url`` (``Settings.store_url`` or a plain string), opened and ready.

    ``sqlite:///relative/path`` and ``sqlite:////absolute/path`` follow SQLAlchemy: what follows
    the third slash is the path. ``arango://`` and ``arangos://`` are described in
    :mod:`streamforge.storage.arango`. Raises :class:`StoreError` with the password masked.
    """
    raw = url.reveal() if isinstance(url, Secret) else url
    try:
        scheme = urlsplit(raw).scheme
        display = str(secret_url(raw))
    except ValueError:
        raise StoreError(f"not a store URL: {redact_urls(raw)!r}; use {ACCEPTED}") from None
    if scheme == "sqlite":
        return SqliteStore(sqlite_path(raw), display)
    if scheme in ("arango", "arangos"):
        from streamforge.storage.arango import ArangoStore  # requests only when used

        return ArangoStore.connect(raw, display)
    raise StoreError(f"unsupported store URL {display!r}: use {ACCEPTED}")
