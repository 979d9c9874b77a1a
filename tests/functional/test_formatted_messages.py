"""Formatted messages to the other side through the API and the pages: our receipt of their message
(a standard formula, sent at once with the line's serial), a kind a catalogue lacks refused with 422,
and line checks over a counterpart line (a formatted message with a serial, no link, answered in-band
and logged by the operator through the API or the check page)."""

import email
import email.policy
import html
import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, mail_text, open_exchange
from tests.support import outbox_files, sign_in
from tracker import dispatch, jobs
from tracker.channels import DeliveryError
from tracker.db import session_scope
from tracker.models import ChannelCheck, ExchangeMessage, LinkUse, Notification, NotificationKind
from tracker.services.engine import delivery
from tracker.timeutil import format_dtg, utcnow

LINE = "Eastland hotline"
POLICY = delivery.RetryPolicy(max_attempts=3, base_seconds=1, claim_seconds=60)


def counterpart_bodies(app) -> list[tuple[str, str]]:
    with session_scope(app) as session:
        rows = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.COUNTERPART).order_by(Notification.id)
        )
        return [(n.subject, n.body) for n in rows]


def exchange_with_their_message(app, client, world, **line) -> tuple[str, dict, dict]:
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland", **line)
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=LINE)
    body = {"direction": "in", "kind": "reply", "text": "Eastland: our aircraft was on a training flight."}
    theirs = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", body, status=201)
    return reference, exchange, theirs


def test_our_receipt_of_their_message_goes_out_at_once_in_both_languages(app, client, world):
    reference, exchange, theirs = exchange_with_their_message(app, client, world)
    sent = api(client, world, "POST", f"/exchanges/{exchange['id']}/receipts", {"message_id": theirs["id"]}, status=201)
    assert (sent["kind"], sent["status"], sent["direction"]) == ("receipt", "sent", "out"), sent
    assert sent["serial"] == 2 and sent["approved_by"] is None, "a standard formula needs no second person"
    assert sent["receipt_due_at"] is None, "nobody waits for their receipt of our receipt"
    subject, body = counterpart_bodies(app)[-1]
    marked = r"UNCLASSIFIED // REL TO EASTLAND - NM-\d{4}-\d{4} SERIAL 0002/\d{4} CONFIRMATION OF RECEIPT"
    assert re.fullmatch(marked, subject), subject
    said = format_dtg(utcnow().replace(second=0))[:6]  # their message was received just now
    assert "We confirm receipt of your message of" in body and said in body, body
    assert "Подтверждаем получение вашего сообщения от" in body and reference not in body, body
    again = api(
        client, world, "POST", f"/exchanges/{exchange['id']}/receipts", {"message_id": theirs["id"]}, status=409
    )
    assert again["error"]["details"]["receipt_id"] == sent["id"], again


def test_a_receipt_is_for_their_messages_only(app, client, world):
    _, exchange, theirs = exchange_with_their_message(app, client, world)
    ours = next(
        m for m in api(client, world, "GET", f"/exchanges/{exchange['id']}/messages") if m["direction"] == "out"
    )
    path = f"/exchanges/{exchange['id']}/receipts"
    refused = api(client, world, "POST", path, {"message_id": ours["id"]}, status=422)
    assert "message_id" in refused["error"]["details"], refused
    assert api(client, world, "POST", path, {"message_id": 999999}, status=404)["error"]["details"]
    assert api(client, world, "POST", path, {"message_id": "x"}, status=422)["error"]["code"]
    assert api(client, world, "POST", path, {}, status=422)["error"]["code"]
    api(client, world, "POST", path, {"message_id": theirs["id"]}, who="duty", status=403)


def test_a_kind_the_lines_catalogue_lacks_is_refused_naming_language_and_kind(app, client, world):
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland", language="uk")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=LINE)  # a notice: Ukrainian has it
    assert exchange["messages"][0]["status"] == "sent", exchange
    body = {"state": "explanation_requested", "text": "Please explain the flight."}
    refused = api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", body, status=422)
    # Each field's problems a sentence in a list, as every 422 says them; the missing texts a list of msgids.
    assert refused["error"]["details"]["language"] == ["uk: no text for a message of the kind explanation_request"]
    assert refused["error"]["details"]["untranslated"], refused
    assert "Ukrainian" in refused["error"]["message"], refused


def check_on(app, client, world, line_id: int) -> dict:
    return api(client, world, "POST", f"/channels/{line_id}/checks", None, who="supervisor", status=201)


def test_a_check_over_a_counterpart_line_is_a_formatted_message_without_a_link(app, client, world):
    line = add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    check = check_on(app, client, world, line)
    assert check["outcome"] == "pending" and check["serial"] == 1, check
    [path] = outbox_files(app)
    assert re.search(r"-serial-\d{4}-0001-\d{20}\.eml$", path.name), "keyed by the serial they read, not our check's id"
    text = mail_text(path)
    assert "http" not in text and "/links/" not in text, "the other side answers on the line, not in our tracker"
    assert "\nSERIAL 0001/" in text and "SUBJ LINE CHECK" in text and "ПРОВЕРКА ЛИНИИ" in text, text
    internal = check_on(app, client, world, world.channels["L1"])
    assert internal["serial"] is None
    [mine] = [p for p in outbox_files(app) if p != path]
    assert "/links/check/" in mail_text(mine), "our own desks keep their link"


def test_the_operator_logs_the_answer_given_by_voice(app, client, world):
    line = add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    check = check_on(app, client, world, line)
    path = f"/channels/{line}/checks/{check['id']}/answer"
    future = format_dtg(utcnow() + timedelta(hours=1))
    assert (
        "at"
        in api(
            client,
            world,
            "POST",
            path,
            {"at": future, "by": "Capt Ivanova", "via": "voice"},
            who="supervisor",
            status=422,
        )["error"]["details"]
    )
    assert (
        "via"
        in api(
            client,
            world,
            "POST",
            path,
            {"at": format_dtg(utcnow()), "by": "X", "via": "mail"},
            who="supervisor",
            status=422,
        )["error"]["details"]
    )
    api(
        client,
        world,
        "POST",
        path,
        {"at": format_dtg(utcnow()), "by": "Capt Ivanova", "via": "voice"},
        who="duty",
        status=403,
    )
    answered = api(
        client,
        world,
        "POST",
        path,
        {"at": format_dtg(utcnow()), "by": "Capt Ivanova", "via": "voice"},
        who="supervisor",
    )
    assert answered["outcome"] == "ok" and (answered["answered_by"], answered["answered_via"]) == (
        "Capt Ivanova",
        "voice",
    )
    assert "answered by voice by Capt Ivanova" in answered["detail"], answered
    again = api(
        client,
        world,
        "POST",
        path,
        {"at": format_dtg(utcnow()), "by": "Capt Ivanova", "via": "line"},
        who="supervisor",
        status=409,
    )
    assert again["error"]["details"]["outcome"] == "ok"
    api(
        client,
        world,
        "POST",
        f"/channels/{world.channels['L1']}/checks/{check['id']}/answer",
        {"at": format_dtg(utcnow()), "by": "A", "via": "voice"},
        who="supervisor",
        status=404,
    )
    with session_scope(app) as session:
        assert session.get(ChannelCheck, check["id"]).channel.health.value == "ok"


def test_the_check_page_logs_an_answer_given_on_the_line(app, client, world):
    line = add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    check = check_on(app, client, world, line)
    sign_in(client, "supervisor")
    page = client.get(f"/admin/channels/{line}/checks")
    assert page.status_code == 200 and "Log their answer" in page.text and "Answered by voice" in page.text
    prefix = f"answer-{check['id']}"
    token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token, page.text
    form = {
        f"{prefix}-csrf_token": token[1],
        f"{prefix}-at": f"{utcnow():%H%M}Z",  # as the watch log takes a time of the last minutes
        f"{prefix}-by": "Lt Petrov",
        "via": "line",
    }
    answered = client.post(f"/admin/channels/{line}/checks/{check['id']}/answer", data=form, follow_redirects=True)
    assert answered.status_code == 200 and "answered on the line by Lt Petrov" in answered.text, answered.text
    with session_scope(app) as session:
        found = session.get(ChannelCheck, check["id"])
        assert (found.outcome.value, found.answered_by, found.answered_via) == ("ok", "Lt Petrov", "line")


def test_nothing_delivered_to_the_other_side_names_our_incident(app, client, world, webhook_receiver):
    """File name, Message-ID, thread headers, X- headers and webhook body: the exchange's reference only."""
    reference, exchange, theirs = exchange_with_their_message(app, client, world)
    api(client, world, "POST", f"/exchanges/{exchange['id']}/receipts", {"message_id": theirs["id"]}, status=201)
    hook = add_counterpart_line(
        app, world, "Eastland webhook", transport="webhook", address=webhook_receiver.url, counterpart_state="Eastland"
    )
    open_exchange(client, world, reference, line="Eastland webhook")
    jobs.deliver(app)
    mails = [p for p in outbox_files(app) if not p.name.startswith(reference)]
    assert len(mails) == 2, [p.name for p in outbox_files(app)]
    for path in mails:
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        headers = "\n".join(f"{k}: {v}" for k, v in mail.items())
        assert re.match(r"NM-\d{4}-\d{4}-serial-\d{4}-\d{4}-\d{20}\.eml$", path.name), path.name
        assert reference not in headers and reference not in mail_text(path), headers
        assert mail["X-Tracker-Reference"] == path.name.split("-serial-")[0], headers
        # Our row ids count our internal alerts: the other side reads none (keys, thread headers).
        assert "notification-" not in headers, headers
    [request] = webhook_receiver.requests
    assert hook and reference not in json.dumps(request, default=str), request
    assert "notification-" not in json.dumps(request, default=str), request


def test_every_message_we_sent_shows_its_serial_on_the_incident_page(app, client, world):
    """The other side quotes our serial ("your message 0002/2026"): a receipt of ours, which awaits no receipt
    of its own, showed its serial on the printed incident only, not on the page the desk works from."""
    reference, exchange, theirs = exchange_with_their_message(app, client, world)
    sent = api(client, world, "POST", f"/exchanges/{exchange['id']}/receipts", {"message_id": theirs["id"]}, status=201)
    serial = f"Serial {sent['serial']:04d}/{sent['serial_year']}"
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference}").get_data(as_text=True)
    rows = re.findall(r'<tr class="msg-out"[^>]*>.*?</tr>', page, re.S)
    assert len(rows) == 2, rows  # the notice that opened the exchange, then our receipt
    assert "Serial 0001/" in rows[0], rows[0]
    assert serial in rows[1], f"{serial} not on our receipt's row: {rows[1]}"
    assert "receipt due" not in rows[1].lower(), "nobody waits for their receipt of our receipt"
    printed = client.get(f"/incidents/{reference}/print").get_data(as_text=True)
    assert serial.lower() in printed.lower(), "the print shows it as before"


def test_a_refused_answer_comes_back_as_typed_with_its_problem_beside_the_field(app, client, world):
    """A time in the future (or one that cannot be read) refuses the answer; the page the form was on - the
    line's check page or My queue - is drawn again with the time and the name as typed, the problem beside
    the time and the fold open, so nothing typed is retyped. Nothing is logged."""
    line = add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    check = check_on(app, client, world, line)
    sign_in(client, "supervisor")
    prefix = f"answer-{check['id']}"
    future = format_dtg(utcnow() + timedelta(hours=1))
    for page_path, unreadable in ((f"/admin/channels/{line}/checks", "3 o'clock"), ("/queue", future)):
        page = client.get(page_path)
        token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token, f"{page_path}: no answer form\\n{page.text[:3000]}"
        form = {
            f"{prefix}-csrf_token": token[1],
            f"{prefix}-at": unreadable,
            f"{prefix}-by": "Lt Petrov, Eastland HQ",
            "via": "line",
            **({"next": "/queue"} if page_path == "/queue" else {}),
        }
        refused = client.post(f"/admin/channels/{line}/checks/{check['id']}/answer", data=form)
        assert refused.status_code == 422, f"{page_path}: {refused.status_code} {refused.text[:2000]}"
        shown = html.unescape(refused.text)
        assert f'value="{unreadable}"' in shown and 'value="Lt Petrov, Eastland HQ"' in shown, shown[:4000]
        assert re.search(rf'id="{prefix}-at-error">[^<]+<', shown), shown[:4000]
        assert re.search(r'<details class="answer-form"[^>]* open>', shown), page_path
        assert "The answer was not logged" in shown
    with session_scope(app) as session:
        assert session.get(ChannelCheck, check["id"]).outcome.value == "pending"


def checked_and_told(app, client, world, line: str) -> list:
    """A check over the counterpart line, then an exchange opened over it and delivered: the two mails to them."""
    check_on(app, client, world, world.channels[line])
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    open_exchange(client, world, reference, line=line)
    jobs.deliver(app)
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox_files(app)]
    theirs = [m for m in mails if "eastland.test" in m["To"]]
    assert len(theirs) == 2, [m["Subject"] for m in mails]
    return theirs


def test_the_other_side_never_reads_our_internal_name_of_the_line(app, client, world):
    """A line check named the line as we call it inside ("This is a check of the line “<our name>”", its subject,
    the mail's To and the webhook's channel), and a message's To and recipient did too: they see the line by its
    two stations, and their end of it, only."""
    internal = "L3 backup - do not brief"
    add_counterpart_line(
        app, world, internal, counterpart_state="Eastland", their_station="Eastland General Staff duty officer"
    )
    theirs = checked_and_told(app, client, world, internal)
    for mail in theirs:
        whole = mail.as_string() + mail.get_body(("plain",)).get_content()
        assert internal not in whole, whole
        assert mail["To"].addresses[0].display_name == "Eastland General Staff duty officer", mail["To"]
    [check] = [m for m in theirs if "LINE CHECK" in m["Subject"]]
    line = f"{app.config['OUR_STATION']} – Eastland General Staff duty officer"
    assert f"This is a check of the line “{line}”." in check.get_body(("plain",)).get_content()
    [notice] = [m for m in theirs if "LINE CHECK" not in m["Subject"]]
    link = re.search(r"/links/receipt/\S+", notice.get_body(("plain",)).get_content())[0]
    page = client.get(link).get_data(as_text=True)
    ends = f"<bdi>{html.escape(app.config['OUR_STATION'])}</bdi> – <bdi>Eastland General Staff duty officer</bdi>"
    assert f"over {ends}." in page and internal not in page, page  # each end isolated
    confirmed = client.post(link, data={"name": ""}).get_data(as_text=True)
    assert internal not in client.get(link).get_data(as_text=True) and internal not in confirmed


def test_the_html_part_of_what_they_receive_carries_their_language_on_their_part(app, client, world):
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    theirs = checked_and_told(app, client, world, LINE)
    for mail in theirs:
        page = mail.get_body(("html",)).get_content()
        assert '<html lang="en">' in page, page
        russian = re.search(r'<div lang="ru">(.*?)</div>', page, re.S)
        assert russian and russian[1].startswith("ТЕКСТ НА РУССКОМ ЯЗЫКЕ"), page
        assert "ENGLISH TEXT" not in russian[1], "the English part stays English"
        plain = mail.get_body(("plain",)).get_content()
        assert "ENGLISH TEXT" in plain and "ТЕКСТ НА РУССКОМ ЯЗЫКЕ" in plain and "<div" not in plain


def test_a_serial_that_never_left_stays_unused_and_the_desk_is_told_to_explain_the_gap(app, client, world, monkeypatch):
    """A check over a counterpart line that could not be sent kept its serial, silently: its record said only
    "not delivered", the next check took the next number, and the other side saw a gap nobody explained. The
    number is still never given again (a failed send may have arrived: two texts under one serial spoil both
    logs), but the check's record and a dead-lettered message's timeline now name it, for the desk to explain."""
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    line = world.channels[LINE]

    def refuse(app, transport, message):
        raise DeliveryError("550 mailbox unavailable", transient=False)

    with monkeypatch.context() as patched:
        patched.setattr(dispatch, "send", refuse)
        failed = check_on(app, client, world, line)
    year = utcnow().year
    [failed] = [
        c for c in api(client, world, "GET", f"/channels/{line}/checks", who="supervisor") if c["id"] == failed["id"]
    ]
    assert failed["outcome"] == "failed" and failed["serial"] == 1, failed
    assert failed["detail"].startswith(f"SERIAL 0001/{year} NOT SENT: the number stays unused"), failed
    assert (
        "tell them on the line it was never sent" in failed["detail"] and "550 mailbox unavailable" in failed["detail"]
    )
    assert check_on(app, client, world, line)["serial"] == 2, "never given again"

    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    open_exchange(client, world, reference, line=LINE)
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, POLICY, dispatch.composer(app))
    with session_scope(app) as session:
        refused = DeliveryError("550 mailbox unavailable", transient=False)
        delivery.record_failure(session, claimed.notification_id, "outbox", refused, utcnow(), POLICY)
    [event] = [
        e for e in api(client, world, "GET", f"/incidents/{reference}")["timeline"] if e["kind"] == "dead_lettered"
    ]
    assert event["details"]["serial_not_sent"] == f"0003/{year}", event
    sign_in(client, "liaison")
    assert (
        f"serial 0003/{year} not sent</strong>, a gap the other side sees" in client.get(f"/incidents/{reference}").text
    )


def test_a_receipt_link_used_under_an_older_version_does_not_name_our_line_when_opened_again(app, client, world):
    """An older version kept a receipt link's use as "<their name> via <our name of the line>", and the link opened
    again said so ("used by ..."), to anyone holding it, for as long as it stays valid."""
    internal = "L3 backup - do not brief"
    add_counterpart_line(app, world, internal, counterpart_state="Eastland", their_station="Eastland duty officer")
    [notice] = [m for m in checked_and_told(app, client, world, internal) if "LINE CHECK" not in m["Subject"]]
    link = re.search(r"/links/receipt/\S+", notice.get_body(("plain",)).get_content())[0]
    assert client.post(link, data={"name": "Maj. Petrov"}).status_code == 200
    with session_scope(app) as session:  # as the older version kept it
        session.execute(update(LinkUse).values(used_by=f"Maj. Petrov via {internal}"))
    for again in (client.get(link), client.post(link, data={"name": "someone else"})):
        page = again.get_data(as_text=True)
        assert "Maj. Petrov" in page and internal not in page, (again.status_code, page)


def test_a_receipt_logged_from_a_call_that_named_nobody_shows_them_their_end_of_the_line_never_ours(app, client, world):
    """Their call confirmed receipt, the speaker unnamed: the receipt was kept under our internal name of the line,
    and the receipt page showed it to whoever holds the link ("recorded ... for L3 backup - do not brief")."""
    internal = "L3 backup - do not brief"
    add_counterpart_line(app, world, internal, counterpart_state="Eastland", their_station="Eastland GS duty")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=internal)
    [(_subject, body)] = [b for b in counterpart_bodies(app) if "/links/receipt/" in b[1]]
    link = re.search(r"/links/receipt/[A-Za-z0-9._-]+", body)[0]
    call = {"direction": "they_called", "exchange_id": exchange["id"], "moves_to": "receipt_confirmed"}
    api(client, world, "POST", f"/incidents/{reference}/calls", call, status=201)
    page = client.get(link).get_data(as_text=True)
    assert internal not in page and "Eastland GS duty" in page, page
    title = re.search(r"<title>([^<]*)</title>", page)[1]
    assert re.search("[А-я]", title), f"the tab names it in their language too: {title}"
    with session_scope(app) as session:  # as an older version kept it, and the line renamed since
        session.execute(update(ExchangeMessage).values(receipt_by=internal))
    api(client, world, "PATCH", f"/channels/{world.channels[internal]}", {"name": "L3 backup"}, who="admin")
    page = client.get(link).get_data(as_text=True)
    assert internal not in page and "Eastland GS duty" in page, page


def test_a_text_to_them_with_a_line_the_format_reads_as_its_own_is_refused(app, client, world):
    """A notice typed with a BT line, NNNN and a prosign and DTG went out as typed: the desk reading the 16-line
    shape saw the text end early and a second message follow, with the FM and SERIAL the typist gave it."""
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    forged = "Our aircraft saw yours.\nbt\nNNNN\nZ 010000Z JAN 27\nFM EASTLAND\nSERIAL 0099/2026"
    body = {"channel_id": world.channels[LINE], "text": forged}
    refused = api(client, world, "POST", f"/incidents/{reference}/exchanges", body, status=422)
    assert refused["error"]["details"] == {"text": ["line 2 reads as the format's own 'bt'"]}, refused
    exchange = open_exchange(client, world, reference, line=LINE, text=None)
    said = "We saw your aircraft. BT is how our format ends a text."  # in a sentence: no line of its own
    path = f"/exchanges/{exchange['id']}/messages"
    drafted = api(client, world, "POST", path, {"direction": "out", "text": said}, status=201)
    edit = {"text": said, "text_second": "Мы видели ваш самолёт.\n O 031455Z DEC 26", "version": drafted["version"]}
    refused = api(client, world, "PATCH", f"/exchange-messages/{drafted['id']}", edit, status=422)
    assert list(refused["error"]["details"]) == ["text_second"], refused
    assert [s for s, _b in counterpart_bodies(app)] == [], "nothing went out"


def test_a_lines_language_changes_only_once_its_exchanges_are_closed(app, client, world):
    """Changed from ru to fr while an exchange was open, the line took it (200), and the exchange went on writing
    Russian: a line that reads French got Russian, and a French summary was refused as "the line reads ru"."""
    line = add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference, line=LINE)
    refused = api(client, world, "PATCH", f"/channels/{line}", {"language": "fr"}, who="admin", status=422)
    assert "close" in refused["error"]["details"]["language"][0], refused
    assert api(client, world, "GET", f"/channels/{line}", who="admin")["language"] == "ru"
    api(client, world, "PATCH", f"/channels/{line}", {"name": "Eastland hotline (main)"}, who="admin")  # else free
    api(client, world, "POST", f"/exchanges/{exchange['id']}/transitions", {"state": "closed"})
    assert api(client, world, "PATCH", f"/channels/{line}", {"language": "fr"}, who="admin")["language"] == "fr"


def test_a_text_withheld_while_a_try_of_it_is_under_way_is_not_tried_again_when_that_try_fails(app, client, world):
    """The withholding passed over a text being sent (its row claimed) when the position was withdrawn; the try
    failed for a while, the row went back to waiting, and the next try carried the withdrawn position out."""
    add_counterpart_line(app, world, LINE, counterpart_state="Eastland")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    open_exchange(client, world, reference, line=LINE)
    with session_scope(app) as session:
        [claimed] = delivery.claim_messages(session, utcnow(), 10, POLICY, dispatch.composer(app))
    api(client, world, "PATCH", f"/incidents/{reference}/releasability", {"position": False}, who="supervisor")
    with session_scope(app) as session:
        busy = DeliveryError("503 try later", transient=True)
        status = delivery.record_failure(session, claimed.notification_id, "outbox", busy, utcnow(), POLICY)
        row = session.get_one(Notification, claimed.notification_id)
        assert (status.value, row.status.value) == ("cancelled", "cancelled"), (status, row.last_error)
        assert row.last_error.startswith("withheld (releasability changed: position)"), row.last_error
    with session_scope(app) as session:  # nor taken over later
        assert delivery.claim_messages(session, utcnow() + timedelta(hours=1), 10, POLICY, dispatch.composer(app)) == []
