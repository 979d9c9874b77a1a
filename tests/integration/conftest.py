"""Fixtures of the integration tests."""

import pytest

from tests.databases import empty_database


@pytest.fixture
def fresh_database_url(database_url, tmp_path, request):
    """A new, empty database of the test's engine (on PostgreSQL made, named after the test's module, and dropped
    after): for a migration's test, which brings it to the revision before and writes rows there."""
    module = request.module.__name__.rpartition(".")[2].removeprefix("test_")
    with empty_database(database_url, tmp_path / f"{module}.db", module) as url:
        yield url
