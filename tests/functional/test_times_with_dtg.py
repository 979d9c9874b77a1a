"""The summary panel and the admin pages show each time with its DTG beside it, as the other duty pages do
(2026-12-06 00:27:00Z (060027ZDEC26)): staff keep their records in DTGs."""

import re

from sqlalchemy import select

from tests.support import csrf, file_incident, sign_in
from tracker import jobs
from tracker.db import session_scope
from tracker.models import ContactChannel, DeliveryAttempt, Summary, User
from tracker.timeutil import format_dtg, utcnow

TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"
DTG = r"\d{6}Z[A-Z]{3}\d\d"


def with_dtg(moment) -> str:
    """The time as the pages show it, its DTG beside it."""
    return f"{moment:%Y-%m-%d %H:%M:%S}Z ({format_dtg(moment)})"


def bare_times(html: str) -> list[str]:
    """Times the page's main part shows without a DTG beside them ("time (DTG)", "time · DTG" or
    "DTG · time"), the footer's ticking clock aside."""
    main = html[html.index("<main") : html.index("</main>")]
    beside = rf"(?<!{DTG} · ){TIME}(?! \({DTG}\)| · {DTG})"
    return [m.group(0) for m in re.finditer(beside, main)]


def test_a_drafted_summary_says_when_with_its_dtg(app, client, world):
    reference = file_incident(client, world)["reference"]
    sign_in(client, "liaison")
    token = csrf(client, f"/incidents/{reference}")
    data = {"draft-csrf_token": token, "draft-exchange_id": "", "draft-language": ""}
    html = client.post(f"/incidents/{reference}/summaries", data=data, follow_redirects=True).text
    with session_scope(app) as session:
        drafted = session.scalars(select(Summary)).one().drafted_at
    assert f"Drafted {with_dtg(drafted)} by <bdi>liaison</bdi>" in html, html
    assert not bare_times(html), bare_times(html)


def test_the_admin_pages_show_times_with_their_dtg(app, client, world):
    with session_scope(app) as session:
        line = session.get(ContactChannel, world.channels["L1"])
        line.last_check_ok_at = line.next_check_at = utcnow().replace(microsecond=0)
        checked = line.last_check_ok_at
        duty = session.scalars(select(User).where(User.username == "duty")).one()
        duty_id, created = duty.id, duty.created_at
    sign_in(client, "admin")
    channels = client.get("/admin/channels").text
    assert with_dtg(checked) in channels and not bare_times(channels), channels[channels.index("<main") :]
    user = client.get(f"/admin/users/{duty_id}").text
    assert with_dtg(created) in user and not bare_times(user), bare_times(user)


def test_each_delivery_attempt_on_the_incident_page_shows_its_dtg(app, client, world):
    """The Messages table gave each attempt as 00:27:13Z alone, the day left to guess."""
    reference = file_incident(client, world)["reference"]
    assert jobs.deliver(app) >= 1
    with session_scope(app) as session:
        [attempt] = session.scalars(select(DeliveryAttempt)).all()
        at = attempt.at
    sign_in(client, "duty")
    html = client.get(f"/incidents/{reference}").text
    assert f"{at:%H:%M:%S}Z ({format_dtg(at)})" in html, html[html.index("<h2>Messages") :][:1500]
