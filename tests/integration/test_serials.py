"""Serial numbers of the messages to the other side: per line and year, unique and gapless.

outgoing.next_serial takes the line's next number with one counter upsert in the sending transaction:
twenty senders releasing at the same moment over one line (each in a transaction of its own, started
together) get 1..20, none missing or doubled, and each e-mail the other side receives over a real SMTP
server carries the whole header and both languages, and nowhere our internal incident reference. A
transaction that took a number and rolled back gives it back.
"""

import re
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api
from tracker import dispatch, jobs
from tracker.db import build_engine, session_scope
from tracker.models import Exchange, ExchangeMessage, Notification, OutgoingStatus, User
from tracker.services.exchanges import counterpart, outgoing
from tracker.timeutil import utcnow

LINE = "Eastland hotline"
SENDERS = 20
pytestmark = pytest.mark.both_databases  # transactions of their own, racing on one counter row


def scene(app, world, client, drafts: int, transport: str = "email") -> tuple[str, int, list[int]]:
    """A counterpart line (Russian; by e-mail unless told), an acknowledged incident, an exchange whose reference is
    taken, and `drafts` notes drafted by liaison and approved by the supervisor; return their ids."""
    add_counterpart_line(
        app, world, LINE, transport=transport, address="hotline@eastland.test", counterpart_state="Eastland"
    )
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": world.channels[LINE]}, status=201
    )
    now = utcnow()
    with session_scope(app) as session:
        found = session.get(Exchange, exchange["id"])
        # The reference is the exchange's own (its first release takes it): taken here, so that the
        # racing senders contend for the line's serial only.
        outgoing.exchange_reference(session, found, app.config["EXCHANGE_REFERENCE_PREFIX"], now)
        supervisor = session.scalars(select(User).where(User.username == "supervisor")).one()
        ids = []
        for n in range(drafts):
            text = f"Northmark liaison: line note {n + 1} on the air intercept."
            message = counterpart.draft(session, found, "notice", text, "liaison", now)
            counterpart.approve(session, message, supervisor, now)
            ids.append(message.id)
    return reference, exchange["id"], ids


def deliver_all(app, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs.deliver(app)
        with session_scope(app) as session:
            busy = session.scalars(select(Notification.id).where(Notification.status.in_(("pending", "sending")))).all()
        if not busy:
            return
        time.sleep(0.05)
    raise AssertionError(f"messages still waiting after {timeout}s")


def test_twenty_concurrent_senders_on_one_line_get_serials_1_to_20_and_each_mail_is_whole(
    backend, database_url, mail_app, smtp_server, world
):
    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time, so a race there proves nothing: PostgreSQL only")
    app, client = mail_app, mail_app.test_client()
    reference, exchange_id, ids = scene(app, world, client, SENDERS)
    settings = dispatch.outgoing_settings(app)
    barrier, errors = threading.Barrier(SENDERS), []

    # A connection for each sender (the app's pool holds 15): all twenty in their transactions at once.
    engine = build_engine(database_url, pool_size=SENDERS)

    def send(message_id: int) -> None:
        try:
            with Session(engine) as session, session.begin():
                message = session.get_one(ExchangeMessage, message_id)
                assert message.exchange.incident is not None  # read before the start: the race is the release
                barrier.wait(timeout=30)
                counterpart.release(session, message, "liaison", utcnow(), settings)
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(f"{message_id}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=send, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert errors == [], errors
    year = utcnow().year
    with session_scope(app) as session:
        serials = session.execute(
            select(ExchangeMessage.id, ExchangeMessage.serial, ExchangeMessage.status).where(
                ExchangeMessage.id.in_(ids)
            )
        ).all()
        assert {status for _, _, status in serials} == {OutgoingStatus.SENT}
        assert sorted(s for _, s, _ in serials) == list(range(1, SENDERS + 1)), serials
        assert outgoing.sent_on(session, world.channels[LINE], year) == list(range(1, SENDERS + 1))
        exchange_reference = session.get(Exchange, exchange_id).reference

    deliver_all(app)
    mails = [m for m in smtp_server.wait_for(SENDERS, timeout=20) if "hotline@eastland.test" in m["To"]]
    assert len(mails) == SENDERS, [m["Subject"] for m in mails]
    seen = []
    for mail in mails:
        body = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        serial = re.search(rf"^SERIAL (\d{{4}})/{year}$", body, re.M)
        assert serial, body
        seen.append(int(serial[1]))
        head = body.split("\nBT\n")[0].splitlines()
        assert re.fullmatch(r"[ZOPR] \d{6}Z [A-Z]{3} \d{2}", head[0]), head
        assert head[1:4] == ["FM NORTHMARK NATIONAL OPERATIONS CENTRE", "TO EASTLAND MINISTRY OF DEFENCE", "UNCLAS"], (
            head
        )
        assert f"REF {exchange_reference}" in head and "SUBJ NOTIFICATION OF INCIDENT" in head, head
        assert "RELEASABLE TO EASTLAND" in head, head
        assert body.rstrip().endswith("\nBT"), body
        english, russian = body.index("ENGLISH TEXT"), body.index("ТЕКСТ НА РУССКОМ ЯЗЫКЕ")
        assert english < russian, "ours first"
        assert "We notify you of the following incident." in body and "Уведомляем вас о следующем инциденте." in body
        marked = f"UNCLASSIFIED // REL TO EASTLAND - {exchange_reference}"
        subject = f"{marked} SERIAL {serial[1]}/{year} NOTIFICATION OF INCIDENT"
        assert mail["Subject"] == subject, mail["Subject"]
        headers = "\n".join(f"{k}: {v}" for k, v in mail.items())
        assert reference not in headers and reference not in body, f"our internal reference leaked: {headers}"
        assert exchange_reference in mail["Message-ID"], headers
    assert sorted(seen) == list(range(1, SENDERS + 1))


def test_a_serial_taken_by_a_transaction_that_rolls_back_is_given_back(app, world):
    client = app.test_client()
    _, _, [first, second] = scene(app, world, client, 2, transport="outbox")  # nothing is sent: no relay needed
    settings, line = dispatch.outgoing_settings(app), world.channels[LINE]
    with session_scope(app) as session:
        message = session.get(ExchangeMessage, first)
        counterpart.release(session, message, "liaison", utcnow(), settings)
        session.rollback()  # e.g. the request failed after the release: nothing of it stays
    with session_scope(app) as session:
        assert outgoing.sent_on(session, line, utcnow().year) == []
        message = session.get(ExchangeMessage, second)
        counterpart.release(session, message, "liaison", utcnow(), settings)
    with session_scope(app) as session:
        assert session.get(ExchangeMessage, second).serial == 1, "the number rolled back is used again: no gap"
        assert session.get(ExchangeMessage, first).status is OutgoingStatus.APPROVED
        message = session.get(ExchangeMessage, first)
        counterpart.release(session, message, "liaison", utcnow(), settings)
    with session_scope(app) as session:
        assert outgoing.sent_on(session, line, utcnow().year) == [1, 2]
