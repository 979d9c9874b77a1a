"""A page or an API read costs the same number of statements however many rows it shows: each test reads
at two sizes and compares, so a relationship loaded one row at a time (N+1) fails it."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
from tests.support import World, sign_in
from tracker.db import engine_of


@contextmanager
def recorded(app) -> Iterator[list[str]]:
    """The statements sent to the database inside the block."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine_of(app), "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine_of(app), "before_cursor_execute", record)


def statements_of(client, path: str, headers: dict | None = None) -> list[str]:
    """The statements one GET of the path sends, read the second time (the first fills caches: the route
    table, a token's last use)."""
    client.get(path, headers=headers)
    with recorded(client.application) as seen:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code, answer.get_data(True)[:500])
    return seen


def costs(client, paths: list[str], headers: dict | None = None) -> dict[str, int]:
    return {path: len(statements_of(client, path, headers)) for path in paths}


@pytest.fixture
def signed_in(app, world: World):
    """A page client signed in as the supervisor (who sees every page read here)."""
    client = app.test_client()
    assert sign_in(client, "supervisor").status_code == 302
    return client


EXCHANGE_READS = ["/api/v1/exchanges", "/api/v1/exchanges?open=true"]
EXCHANGE_PAGES = ["/board", "/board/exchanges/rows"]


def test_the_open_exchanges_cost_the_same_statements_for_six_as_for_two(app, client, world, signed_in):
    """The board (refreshed every 3 s) and GET /exchanges read each exchange's messages in a statement of its
    own, for the receipt awaited and the states offered next."""
    add_counterpart_line(app, world)

    def open_more(count: int) -> None:
        for _ in range(count):
            open_exchange(client, world, acknowledged_incident(client, world))

    open_more(2)
    few = costs(client, EXCHANGE_READS, world.auth("supervisor")) | costs(signed_in, EXCHANGE_PAGES)
    open_more(4)
    more = costs(client, EXCHANGE_READS, world.auth("supervisor")) | costs(signed_in, EXCHANGE_PAGES)
    assert more == few, f"two exchanges: {few}; six: {more}"
