"""Helpers for the releasability and summary tests: a counterpart line and an open exchange on it."""

from sqlalchemy import select

from tracker.db import session_scope
from tracker.models import User
from tracker.services.exchanges import exchanges
from tracker.services.incidents import handling, ladder
from tracker.timeutil import utcnow


def counterpart_line(
    app,
    name: str = "Counterpart hotline",
    transport: str = "outbox",
    address: str = "hotline@other-side.example",
    language: str | None = "ru",
    members: tuple[str, ...] = ("liaison",),
) -> int:
    """A line to the other side (never on a ladder), in the given second language; return its id."""
    with session_scope(app) as session:
        channel = ladder.save_channel(
            session,
            {
                "name": name,
                "level": 3,
                "transport": transport,
                "address": address,
                "counterpart_line": True,
                "language": language,
                "members": list(members),
            },
            app.extensions["tracker.transports"],
        )
        return channel.id


def acknowledge(client, world, reference: str, who: str = "liaison") -> None:
    """Our own line owns the incident: the other side may be told from now on."""
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth(who))
    assert answer.status_code == 200, f"acknowledging {reference} failed: {answer.get_json()}"


def open_exchange(app, reference: str, channel_id: int, who: str = "liaison") -> int:
    """Open an exchange about the incident over the line (the incident must be acknowledged); return its id."""
    with session_scope(app) as session:
        incident = handling.get_incident(session, reference)
        actor = session.scalars(select(User).where(User.username == who)).one()
        return exchanges.open_exchange(session, incident, channel_id, actor, utcnow()).id


def exchange_over_new_line(client, app, world, reference: str, **line) -> int:
    """Acknowledge the incident, add a counterpart line and open an exchange over it; return the exchange id."""
    acknowledge(client, world, reference)
    return open_exchange(app, reference, counterpart_line(app, **line))
