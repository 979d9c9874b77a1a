"""Helpers the exchange tests share: a line to the other side, an acknowledged incident, API calls."""

import email
import email.policy
from pathlib import Path

from tests.support import World, file_incident, outbox_files
from tracker.db import session_scope
from tracker.services.incidents import ladder

LINE = "Eastland liaison mission"
# Texts bound for the other side: nothing of the incident's non-releasable fields in them.
NOTICE = "Northmark liaison: we notify an unsafe air intercept near the common border. Please confirm receipt."
REQUEST = "Under Chapter III of the Vienna Document we request an explanation of the activity notified."


def add_counterpart_line(app, world: World, name: str = LINE, **overrides) -> int:
    """Create a line to the other side (liaison is a member); return its id, also in world.channels."""
    data = {
        "name": name,
        "level": 3,
        "counterpart": "Eastland Ministry of Defence",
        "transport": "outbox",
        "address": f"{name.split()[0].lower()}@eastland.test",
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


def api(client, world: World, method: str, path: str, body=None, who: str = "liaison", status: int = 200):
    """Call the API and check the status; return the JSON answer."""
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=world.auth(who))
    assert response.status_code == status, f"{method} {path} as {who}: {response.status_code} {response.get_data(True)}"
    return response.get_json()


def open_exchange(client, world: World, reference: str, line: str = LINE, text: str | None = NOTICE, **kw) -> dict:
    body = {"channel_id": world.channels[line], **({"text": text} if text else {})}
    return api(client, world, "POST", f"/incidents/{reference}/exchanges", body, status=201, **kw)


def move(client, world: World, exchange_id: int, state: str, text: str | None = None, **kw) -> dict:
    body = {"state": state, **({"text": text} if text is not None else {})}
    return api(client, world, "POST", f"/exchanges/{exchange_id}/transitions", body, **kw)


def mail_text(path: Path) -> str:
    """The plain-text part of a message the outbox transport wrote."""
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body(("plain",)).get_content()


def delivered_text(app, reference: str, notification_id: int) -> str:
    """The plain text of the message the outbox transport wrote for a notification."""
    prefix = f"{reference}-notification-{notification_id}-"  # then the time it was queued (delivery.message_key)
    path = next((p for p in outbox_files(app) if p.name.startswith(prefix)), None)
    assert path is not None, f"notification {notification_id} not in the outbox: {[p.name for p in outbox_files(app)]}"
    return mail_text(path)
