"""Stores to run the contract tests against: SQLite always, ArangoDB when a server is at hand.

ArangoDB comes from ``STREAMFORGE_TEST_ARANGO_URL`` (``arango://root:PASSWORD@HOST:PORT``; the
user must be allowed to create and drop databases), else from a testcontainers container when
testcontainers and a Docker daemon are available; otherwise its tests are skipped, saying why.
Each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from streamforge.storage import Store, open_store

ARANGO_ENV = "STREAMFORGE_TEST_ARANGO_URL"
ARANGO_IMAGE = "arangodb:3.12"


def _container() -> Iterator[str]:
    try:
        from testcontainers.arangodb import ArangoDbContainer
    except ImportError:
        pytest.skip(f"no ArangoDB: set {ARANGO_ENV}, or install testcontainers and run Docker")
    password = uuid.uuid4().hex
    container = ArangoDbContainer(ARANGO_IMAGE, arango_root_password=password)
    try:
        container.start()
    except Exception as exc:  # no Docker daemon, no image, a start timeout: all mean no server
        pytest.skip(f"no ArangoDB: {ARANGO_ENV} is unset and no container starts ({exc})")
    try:
        host, port = container.get_container_host_ip(), container.get_exposed_port(8529)
        yield f"arango://root:{password}@{host}:{port}"
    finally:
        container.stop()


@pytest.fixture(scope="session")
def arango_server() -> Iterator[str]:
    """``arango://USER:PASSWORD@HOST:PORT`` of a server for this session."""
    url = os.environ.get(ARANGO_ENV)
    if url:
        yield url
    else:
        yield from _container()


@pytest.fixture
def arango_url(arango_server: str) -> Iterator[str]:
    """The URL of a fresh database on the session's server, dropped after the test."""
    from arango.client import ArangoClient

    from streamforge.storage.arango import ArangoTarget

    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(urlsplit(arango_server)._replace(path=f"/{name}"))
    yield url
    target = ArangoTarget.parse(url, "the test server")
    client = ArangoClient(hosts=target.hosts, verify_override=target.verify)
    try:
        system = client.db("_system", target.username, target.password)
        system.delete_database(name, ignore_missing=True)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", "arango"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("arango_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, empty store of each backend."""
    with open_store(store_url) as opened:
        yield opened
