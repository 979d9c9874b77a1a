"""Helpers the exchange tests share: a line to the other side, an acknowledged incident, API calls."""

import email
import email.policy
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support import World, build_world, file_incident, outbox_files
from tracker.db import session_scope
from tracker.models import (
    Call,
    CallDirection,
    Exchange,
    ExchangeMessage,
    MessageDirection,
    Notification,
    OutgoingStatus,
    User,
)
from tracker.services.engine import delivery
from tracker.services.exchanges import counterpart, exchanges
from tracker.services.incidents import ladder

LINE = "Eastland liaison mission"
# Texts bound for the other side: nothing of the incident's non-releasable fields in them.
NOTICE = "Northmark liaison: we notify an unsafe air intercept near the common border. Please confirm receipt."
REQUEST = "Under Chapter III of the Vienna Document we request an explanation of the activity notified."


def _address_of(name: str) -> str:
    """A line's address at the other side's domain after its name's first word, ASCII as a mailbox must be: a
    name in another script gets one of its own."""
    word = name.split()[0].lower()
    return f"{word if word.isascii() else f'line-{zlib.crc32(name.encode()):08x}'}@eastland.test"


def add_counterpart_line(app, world: World, name: str = LINE, **overrides) -> int:
    """Create a line to the other side (liaison is a member); return its id, also in world.channels."""
    data = {
        "name": name,
        "level": 3,
        "counterpart": "Eastland Ministry of Defence",
        "transport": "outbox",
        "address": _address_of(name),
        "members": ["liaison"],
        "counterpart_line": True,
        "reply_deadline_seconds": 172800,
        "meeting_deadline_seconds": 172800,
        "language": "ru",
        **overrides,
    }
    with session_scope(app) as session:
        channel = ladder.save_channel(session, data, app.extensions["tracker.transports"])
        world.channels[name] = channel.id
    return world.channels[name]


def acknowledged_incident(client, world: World, **overrides) -> str:
    """File an incident and acknowledge it as liaison; return its reference."""
    reference = file_incident(client, world, **overrides)["reference"]
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert answer.status_code == 200, f"acknowledging {reference}: {answer.status_code} {answer.get_json()}"
    return reference


def acknowledged_over_a_line(app) -> tuple[World, FlaskClient, str]:
    """The world with a line to the other side, an API client, and the reference of an incident liaison acknowledged."""
    world = build_world(app)
    add_counterpart_line(app, world)
    client = app.test_client()
    return world, client, acknowledged_incident(client, world)


def api(client, world: World, method: str, path: str, body=None, who: str = "liaison", status: int = 200):
    """Call the API and check the status; return the JSON answer."""
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=world.auth(who))
    assert response.status_code == status, f"{method} {path} as {who}: {response.status_code} {response.get_data(True)}"
    return response.get_json()


def open_exchange(
    client, world: World, reference: str, line: str = LINE, text: str | None = NOTICE, release: bool = True, **kw
) -> dict:
    """Open an exchange (as liaison unless who= says); its notice is a draft, which release=True has the
    supervisor approve and the opener send (four eyes). Returns the exchange as it stands then."""
    body = {"channel_id": world.channels[line], **({"text": text} if text else {})}
    exchange = api(client, world, "POST", f"/incidents/{reference}/exchanges", body, status=201, **kw)
    if release and text:
        release_drafts(client, world, exchange["id"], sender=kw.get("who", "liaison"))
        exchange = api(client, world, "GET", f"/exchanges/{exchange['id']}")
    return exchange


def move(client, world: World, exchange_id: int, state: str, text: str | None = None, release: bool = True, **kw):
    """Move an exchange (as liaison unless who= says). A state whose text goes to the other side only
    drafts it: release=True has the supervisor approve it and the mover send it, which moves the
    exchange. Returns the exchange as it stands then."""
    body = {"state": state, **({"text": text} if text is not None else {})}
    exchange = api(client, world, "POST", f"/exchanges/{exchange_id}/transitions", body, **kw)
    carried = [m for m in drafts(client, world, exchange_id) if m["pending_state"] == state]
    if release and carried:
        sender = kw.get("who", "liaison")
        send(client, world, approve(client, world, carried[-1]["id"])["id"], who=sender)
        exchange = api(client, world, "GET", f"/exchanges/{exchange_id}")
    return exchange


# -- four eyes: a second person approves, then someone sends --------------------------------


def drafts(client, world: World, exchange_id: int) -> list[dict]:
    """Our texts on the exchange that wait for approval (drafts, or approved on facts that changed)."""
    messages = api(client, world, "GET", f"/exchanges/{exchange_id}/messages")
    return [m for m in messages if m["needs_approval"]]


def approve(client, world: World, message_id: int, who: str = "supervisor", status: int = 200) -> dict:
    """Approve the text as it stands now (its version read from the database)."""
    with session_scope(client.application) as session:
        version = session.get_one(ExchangeMessage, message_id).version
    body = {"version": version}
    return api(client, world, "POST", f"/exchange-messages/{message_id}/approve", body, who=who, status=status)


def send(client, world: World, message_id: int, who: str = "liaison", status: int = 200) -> dict:
    return api(client, world, "POST", f"/exchange-messages/{message_id}/send", {}, who=who, status=status)


def release_drafts(
    client, world: World, exchange_id: int, approver: str = "supervisor", sender: str = "liaison"
) -> list[dict]:
    """Approve (as approver) and send (as sender) every draft of the exchange, oldest first; return them sent."""
    return [
        send(client, world, approve(client, world, m["id"], who=approver)["id"], who=sender)
        for m in drafts(client, world, exchange_id)
    ]


def release_in_session(session, exchange, now, approver: str = "supervisor", sender: str = "liaison", settings=None):
    """The same in a service-level test: approve every draft of the exchange and send it, at now."""

    def user(name: str) -> User:
        return session.scalars(select(User).where(User.username == name)).one()

    waiting = session.scalars(
        select(ExchangeMessage)
        .where(ExchangeMessage.exchange_id == exchange.id, ExchangeMessage.status == OutgoingStatus.DRAFT)
        .order_by(ExchangeMessage.id)
    ).all()
    for message in waiting:
        counterpart.approve(session, message, user(approver), now)
        exchanges.send_message(session, message, user(sender), now, settings)
    return waiting


def mail_text(path: Path) -> str:
    """The plain-text part of a message the outbox transport wrote."""
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()


def delivered_text(app, reference: str, notification_id: int) -> str:
    """The plain text of the message the outbox transport wrote for a notification (reference: the
    incident's; a message to the other side is filed under its exchange's reference instead)."""
    # Named by the incident's reference on our own lines, by the exchange's on a counterpart line (our
    # internal reference never reaches the other side), then its key (delivery.row_key: its serial there).
    with session_scope(app) as session:
        key = f"-{delivery.row_key(session, session.get_one(Notification, notification_id))}"
    path = next((p for p in outbox_files(app) if key in p.name and p.name.split(key)[0] != ""), None)
    assert path is not None, f"notification {notification_id} not in the outbox: {[p.name for p in outbox_files(app)]}"
    return mail_text(path)


def owed_on_a_line(
    incident_id: int, line: int, now: datetime, recorded_by: str = "liaison", **exchange
) -> tuple[Exchange, ExchangeMessage, Call]:
    """What a watch owes on a line, to add to a session: an exchange (its state and deadline as given), our
    explanation request 0007 of this year whose receipt is due within the hour, and a call we made an hour
    ago, not ended, logged by recorded_by."""
    opened = Exchange(
        incident_id=incident_id,
        channel_id=line,
        reply_seconds=172800,
        meeting_seconds=172800,
        deadline_kind="reply",
        **exchange,
    )
    message = ExchangeMessage(
        exchange=opened,
        direction=MessageDirection.OUT,
        kind="explanation_request",
        text="We request an explanation.",
        channel_id=line,
        recorded_by="liaison",
        serial=7,
        serial_year=now.year,
        receipt_due_at=now + timedelta(hours=1),
    )
    call = Call(
        incident_id=incident_id,
        exchange=opened,
        channel_id=line,
        direction=CallDirection.WE_CALLED,
        started_at=now - timedelta(hours=1),
        recorded_by=recorded_by,
    )
    return opened, message, call
