"""Choosing a backend by URL scheme."""

from __future__ import annotations

import pytest

from streamforge.storage import StoreError, open_store


@pytest.mark.parametrize(
    "url", ["postgres://u:hunter2@h/db", "sf.db", "file:///tmp/sf.db", "SQLITE3:///x.db"]
)
def test_an_unknown_scheme_names_the_accepted_forms(url: str) -> None:
    with pytest.raises(StoreError, match="unsupported store URL") as caught:
        open_store(url)

    message = str(caught.value)
    assert "sqlite:///PATH" in message
    assert "arango://USER:PASSWORD@HOST:PORT/DB" in message
    assert "hunter2" not in message


def test_a_url_that_does_not_parse_is_refused_with_the_password_masked() -> None:
    with pytest.raises(StoreError, match="not a store URL") as caught:
        open_store("arango://u:hunter2@[::1/db")

    assert "hunter2" not in str(caught.value)
