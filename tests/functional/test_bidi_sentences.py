"""Sentences the server builds around what was typed or configured (the handover brief's clocks and what is owed,
the position warning, the marking line, the receipt pages' translated sentences) stand on the pages with each
typed part in a <bdi> of its own (tracker/sentences.py, web/bidi.py): written in as plain text, an Arabic or Hebrew
name drew the words and numbers around it into its right-to-left run. The API, the mails and the snapshot's
plain sentence carry the same words as before, with no markup in them."""

import dataclasses
import re
from datetime import timedelta

from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api, open_exchange, owed_on_a_line
from tests.functional.test_accessible_pages import parse
from tests.functional.test_amendments import amend
from tests.functional.test_bidi_pages import standing_alone
from tests.support import file_incident, name_a_sector, sign_in
from tracker.db import session_scope
from tracker.models import (
    AgreedAction,
    ExchangeState,
    Incident,
    Notification,
    NotificationKind,
)
from tracker.timeutil import utcnow

LINE = "קו חם צפון"  # Hebrew: "the northern hotline"
LOGGED_BY = "ضابط الاتصال 3"  # Arabic: "liaison officer 3"
AGREED = "إرسال المسار 7"  # Arabic: "send track 7"
SECTOR = "قطاع الجنوب"  # Arabic: "the southern sector"
STATE = "מדינת מזרח"  # Hebrew: "Eastern State", a counterpart the deployment releases to
STATION = "محطة الشرق"  # Arabic: "the eastern station", their end of the line
CONFIRMED_BY = "רס״ן כהן"  # Hebrew: "Major Cohen"


def assert_isolated(page: str, path: str, *typed: str) -> None:
    """Each typed text is on the page, and only inside an isolate."""
    for text in typed:
        found, bare = standing_alone(parse(page), text)
        assert found, f"{path} does not show {text!r}"
        assert not bare, f"{path} shows {text!r} without an isolate:\n" + "\n".join(bare)


def owed_on_a_hebrew_line(app, client, world) -> tuple[str, int]:
    """An incident with, on a line named in Hebrew, an exchange whose reply deadline passed, our message 0007 whose
    receipt is due within the hour, a call not ended logged by a name in Arabic and an action agreed on it in
    Arabic, due within the brief's window. Returns the incident's reference and the message's year."""
    line = add_counterpart_line(app, world, name=LINE, address="north@eastland.test")
    reference = acknowledged_incident(client, world)
    now = utcnow().replace(microsecond=0)
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        exchange, message, call = owed_on_a_line(
            incident.id, line, now, LOGGED_BY, state=ExchangeState.OVERDUE, state_changed_at=now - timedelta(hours=2)
        )
        action = AgreedAction(
            call=call, incident_id=incident.id, text=AGREED, party="them", due_at=now + timedelta(hours=2)
        )
        session.add_all([exchange, message, call, action])
    return reference, now.year


def test_the_handover_brief_isolates_the_lines_names_and_agreed_actions_in_its_sentences(app, client, world):
    _, year = owed_on_a_hebrew_line(app, client, world)
    api(client, world, "POST", "/watches", {}, who="duty", status=201)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison"}, who="duty", status=201)
    plain = {
        "receipt": f"their receipt of our explanation request 0007/{year} on {LINE}",
        "agreed_action": f"they agreed: {AGREED}",
    }
    # The API says the brief's sentences as it did: plain, no parts, no markup.
    brief = api(client, world, "GET", f"/handovers/{prepared['id']}/brief", who="duty")
    said = {c["kind"]: c for c in brief["clocks"] if c["kind"] in plain}
    assert {kind: c["what"] for kind, c in said.items()} == plain, brief["clocks"]
    assert all(set(c) == {"at", "kind", "incident", "what"} for c in brief["clocks"]), brief["clocks"]
    assert prepared["brief"]["clocks"] == brief["clocks"], "the handover's brief as its own"

    sign_in(client, "duty")
    for path in (f"/handovers/{prepared['id']}", f"/handovers/{prepared['id']}/print"):
        page = client.get(path).text
        assert_isolated(page, path, LINE, LOGGED_BY, AGREED)
        assert f"their receipt of our explanation request 0007/{year} on <bdi>{LINE}</bdi>" in page, path
        assert f"they agreed: <bdi>{AGREED}</bdi>" in page, path
        assert f"the other side let the reply deadline pass on <bdi>{LINE}</bdi>" in page, path
        assert f"a call on <bdi>{LINE}</bdi>, logged by <bdi>{LOGGED_BY}</bdi>, not ended" in page, path


def test_the_handover_brief_isolates_each_fact_an_amendment_changed_and_the_api_says_it_plain(app, client, world):
    name_a_sector(app, world, SECTOR, "Southern sector, Arabic")
    api(client, world, "POST", "/watches", {}, who="duty", status=201)
    reference = file_incident(client, world)["reference"]  # in the North
    amend(client, world, reference, sector=SECTOR)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison"}, who="duty", status=201)
    plain = f"Sector: North → {SECTOR}"
    brief = api(client, world, "GET", f"/handovers/{prepared['id']}/brief", who="duty")
    assert any(e["said"].startswith(plain) for e in brief["changes"]["events"]), brief["changes"]["events"]
    assert all("parts" not in e for e in brief["changes"]["events"]), "the API says the plain sentence alone"

    sign_in(client, "duty")
    for path in (f"/handovers/{prepared['id']}", f"/handovers/{prepared['id']}/print"):
        page = client.get(path).text
        assert_isolated(page, path, SECTOR)
        changed = re.findall(r'<ol class="timeline brief-changes">.*?</ol>', page, re.S)
        assert f"<small>Sector: <bdi>North</bdi> → <bdi>{SECTOR}</bdi>" in page, (path, changed)


def test_my_queue_isolates_the_lines_and_names_in_what_is_owed(app, client, world):
    owed_on_a_hebrew_line(app, client, world)
    sign_in(client, "liaison")  # a member of the line
    page = client.get("/queue").text
    assert_isolated(page, "/queue", LOGGED_BY)
    assert f"a call on <bdi>{LINE}</bdi>, logged by <bdi>{LOGGED_BY}</bdi>, not ended" in page, page[-4000:]


def test_the_position_warning_isolates_the_sector_names_the_api_says_it_plain(app, client, world, monkeypatch):
    """The region's South sector named in Arabic; a report filed in the North naming it is warned."""
    region = app.extensions["tracker.region"]
    renamed = tuple((SECTOR if name == "South" else name, area) for name, area in region.sector_areas)
    monkeypatch.setitem(app.extensions, "tracker.region", dataclasses.replace(region, sector_areas=renamed))
    filed = file_incident(client, world, sector=SECTOR)
    plain = f"The position lies in sector North, not in {SECTOR} as the report says: check them."
    assert filed["warnings"] == [plain], filed["warnings"]
    kept = api(client, world, "GET", f"/incidents/{filed['reference']}", who="duty")
    assert kept["warnings"] == [plain], kept["warnings"]

    sign_in(client, "duty")
    path = f"/incidents/{filed['reference']}"
    page = client.get(path).text
    assert_isolated(page, path, SECTOR)
    isolated = (
        f"The position lies in sector <bdi>North</bdi>, not in <bdi>{SECTOR}</bdi> as the report says: check them."
    )
    assert isolated in page, re.findall(r'<strong class="flash error" role="note">.*?</strong>', page)


def test_the_marking_line_isolates_each_name_on_the_pages_and_stays_plain_in_mail_and_api(app, client, world):
    app.config["RELEASABLE_TO"] = ["Eastland", STATE]
    filed = file_incident(client, world, classification="RESTRICTED", releasable_to=["Eastland", STATE])
    plain = f"RESTRICTED // REL TO EASTLAND, {STATE}"
    assert filed["marking"] == plain, filed["marking"]
    with session_scope(app) as session:
        bodies = session.scalars(select(Notification.body).where(Notification.kind == NotificationKind.NOTIFIED))
        bodies = list(bodies)
    assert bodies and all(plain in body and "<bdi>" not in body for body in bodies), bodies

    isolated = f"<bdi>RESTRICTED</bdi> // REL TO <bdi>EASTLAND</bdi>, <bdi>{STATE}</bdi>"
    sign_in(client, "duty")
    for path in (f"/incidents/{filed['reference']}", f"/incidents/{filed['reference']}/print"):
        page = client.get(path).text
        assert_isolated(page, path, STATE)
        assert page.count(isolated) >= 2, (path, re.findall(r'<p class="marking-line"[^>]*>.*?</p>', page))
    api(client, world, "POST", "/watches", {}, who="duty", status=201)
    prepared = api(client, world, "POST", "/handovers", {"incoming": "liaison"}, who="duty", status=201)
    assert prepared["brief"]["marking"] == plain, "the brief keeps its marking plain"
    page = client.get(f"/handovers/{prepared['id']}").text
    assert page.count(f'aria-label="marking">{isolated}</p>') == 2, "top and bottom of the brief"


def test_the_receipt_pages_isolate_who_confirmed_and_the_lines_ends_in_each_language(app, client, world):
    add_counterpart_line(app, world, their_station=STATION, counterpart_state="Eastland")
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference)
    with session_scope(app) as session:
        body = session.scalar(select(Notification.body).where(Notification.kind == NotificationKind.COUNTERPART))
    link = re.search(r"/links/receipt/[A-Za-z0-9._-]+", body)[0]

    shown = client.get(link).text
    assert_isolated(shown, link, STATION)
    assert re.search(rf"over <bdi>[^<]+</bdi> – <bdi>{STATION}</bdi>\.", shown), "English: each end isolated"
    assert re.search(rf"по линии «<bdi>[^<]+</bdi> – <bdi>{STATION}</bdi>»\.", shown), "Russian: each end isolated"

    done = client.post(link, data={"name": CONFIRMED_BY}).text
    assert_isolated(done, link, CONFIRMED_BY)
    assert f"for <bdi>{CONFIRMED_BY}</bdi>. Thank you." in done, done
    used = client.get(link).text
    assert_isolated(used, link, CONFIRMED_BY)
    assert f"Used by <bdi>{CONFIRMED_BY}</bdi> at " in used, used

    # Who confirmed, as the API and the incident's exchange say it: plain.
    messages = api(client, world, "GET", f"/exchanges/{exchange['id']}")["messages"]
    assert [m["receipt_by"] for m in messages if m["direction"] == "out"] == [CONFIRMED_BY], messages
