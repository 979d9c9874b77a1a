"""An incident's page and its live parts draw the newest events of a long timeline (web/incidents.py TIMELINE_SHOWN),
with a link to all of them: an incident of two thousand events cost its live poll a second of CPU every three
seconds, for each page open on it."""

import re

from sqlalchemy import select

from tests.support import file_incident, sign_in
from tracker.db import session_scope
from tracker.models import EventKind, Incident
from tracker.services.incidents import timeline
from tracker.timeutil import utcnow
from tracker.web.incidents import TIMELINE_SHOWN

EVENT = re.compile(r'<li class="event-')


def test_a_long_timeline_shows_its_newest_events_and_links_them_all(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == reference))
        for n in range(TIMELINE_SHOWN + 20):
            timeline.record(session, incident, EventKind.COMMENTED, "liaison", utcnow(), text=f"Note {n}.")
    with session_scope(app) as session:
        total = len(session.scalar(select(Incident).where(Incident.reference == reference)).events)
    sign_in(client, "liaison")
    page = client.get(f"/incidents/{reference}").text
    drawn = page[page.index('<ol class="timeline"') :]
    assert len(EVENT.findall(drawn)) == TIMELINE_SHOWN, "the newest only"
    assert f'start="{total}"' in drawn and ">Note 119.<" in drawn and ">Note 0.<" not in drawn
    assert f'href="/incidents/{reference}?timeline=all#timeline">Show all {total} events</a>' in drawn
    whole = client.get(f"/incidents/{reference}?timeline=all").text
    assert len(EVENT.findall(whole[whole.index('data-live="timeline"') :])) == total and "Show all" not in whole
    assert f'data-live-source="/incidents/{reference}/live?timeline=all"' in whole, "its live parts keep them all"
    live = client.get(f"/incidents/{reference}/live").text
    assert len(EVENT.findall(live)) == TIMELINE_SHOWN
    assert len(EVENT.findall(client.get(f"/incidents/{reference}/live?timeline=all").text)) == total
