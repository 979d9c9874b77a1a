"""An incident moved by an amendment (its position, time or category) has its related incidents looked for
again: a suggestion made for where it was is withdrawn (both timelines say why), one that still holds is
measured anew, the incidents near where it now lies are suggested (filed before or after it), and a link a
person already decided stays as decided."""

from html import unescape

from sqlalchemy import select

from tests.functional.test_amendment_pages import form_as_shown
from tests.support import file_checked, file_incident, run_filing_checks, sign_in
from tracker.db import session_scope
from tracker.models import Incident, IncidentLink, LinkState
from tracker.services.incidents import related

NEAR_A = "54.412, 22.871"  # where incident_payload files
NEAR_C = "53.600, 22.900"  # 90 km south of it
FAR = "53.500, 21.000"  # 159 km from A, 126 km from C


def patch(client, world, reference: str, **facts) -> dict:
    version = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()["version"]
    answer = client.patch(
        f"/api/v1/incidents/{reference}", json={"version": version, **facts}, headers=world.auth("duty")
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def links(app, reference: str) -> dict[str, tuple]:
    """The incident's links: the other end's reference -> (state, distance in km)."""
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).where(Incident.reference == reference)).one()
        return {
            r.other.reference: (r.link.state.value, r.link.distance_km) for r in related.relations(session, incident)
        }


def timeline(client, world, reference: str) -> list[dict]:
    return client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()["timeline"]


def test_a_moved_incident_has_its_suggestions_withdrawn_and_made_again_where_it_lies(app, client, world):
    a = file_checked(client, world)["reference"]
    b = file_checked(client, world)["reference"]
    assert links(app, b) == {a: ("suggested", 0.0)}
    c = file_checked(client, world, latitude=53.6, longitude=22.9)["reference"]  # filed after B, near neither A nor B
    assert links(app, c) == {}

    patch(client, world, b, position=NEAR_C)

    assert links(app, b) == {c: ("suggested", 0.0)}, "B suggested with C, where it now lies; A withdrawn"
    assert links(app, a) == {}
    for reference, other in ((a, b), (b, a)):
        [withdrawn] = [e for e in timeline(client, world, reference) if e["kind"] == "related_dismissed"]
        assert withdrawn["actor"] == "tracker" and withdrawn["details"]["related"] == other, withdrawn
        assert "no longer of one category within 50 km and 72 h" in withdrawn["details"]["note"], withdrawn


def test_a_suggestion_that_still_holds_is_measured_anew_and_a_decided_link_stays(app, client, world):
    a = file_checked(client, world)["reference"]
    b = file_checked(client, world)["reference"]
    c = file_incident(client, world)["reference"]
    run_filing_checks(app)
    with session_scope(app) as session:  # a person dismissed the link of C with A
        link = session.scalars(
            select(IncidentLink).join(Incident, IncidentLink.incident_id == Incident.id).where(Incident.reference == c)
        ).all()
        for row in link:
            if row.related.reference == a:
                row.state = LinkState.DISMISSED
    patch(client, world, c, position="54.500, 22.871")  # 9.8 km north: still near A and B
    now = links(app, c)
    assert now[a] == ("dismissed", 0.0), "a decided link stays as it was decided"
    assert now[b][0] == "suggested" and 9 < now[b][1] < 11, now


def test_moving_an_incident_away_from_all_leaves_it_none(app, client, world):
    a = file_checked(client, world)["reference"]
    b = file_checked(client, world)["reference"]
    patch(client, world, b, position=FAR)
    assert links(app, a) == links(app, b) == {}


def test_the_amend_page_says_which_related_incidents_were_withdrawn_and_suggested(app, client, world):
    a = file_checked(client, world)["reference"]
    b = file_checked(client, world)["reference"]
    c = file_checked(client, world, latitude=53.6, longitude=22.9)["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{b}/amend").text)
    fields["position"] = NEAR_C
    assert client.post(f"/incidents/{b}/amend", data=fields).status_code == 302
    page = unescape(client.get(f"/incidents/{b}").text)
    assert f"Related incidents looked for again: withdrawn {a}; suggested {c}." in page, page
    fields = form_as_shown(client.get(f"/incidents/{b}/amend").text)
    fields["narrative_addendum"] = "Seen again on the tape."
    assert client.post(f"/incidents/{b}/amend", data=fields).status_code == 302
    assert "looked for again" not in client.get(f"/incidents/{b}").text, "nothing moved: nothing looked for"
