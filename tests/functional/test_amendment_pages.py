"""Issue 14, amendments on the pages: the Amend page linked from the incident page, its form submitted as a
browser would (every field as shown, a few changed), the facts as given on the incident and print pages
(closest point of approach in its unit, observed forces, actions taken, the narrative's addenda), a stale
form, a duty officer's downgrade, and the filing form's new fields."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from tests.support import csrf, file_incident, filing_form, sign_in
from tracker.db import session_scope
from tracker.models import Incident
from tracker.services.incidents.amending import NOTHING
from tracker.timeutil import isoformat, utcnow


class FormReader(HTMLParser):
    """What a browser would send for the page's form of the given class, untouched: inputs with their
    values (checkboxes when ticked), each select's selected option (or its first), each textarea's text."""

    def __init__(self, form_class: str):
        super().__init__()
        self.form_class, self.inside = form_class, False
        self.fields: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (attrs.get("class") or "").split()
        elif self.inside and tag == "option" and self.select:
            if self.select not in self.fields or "selected" in attrs:
                self.fields[self.select] = [attrs.get("value") or ""]
        elif self.inside and attrs.get("name"):
            self._field(tag, attrs["name"], attrs)

    def _field(self, tag: str, name: str, attrs: dict) -> None:
        kind = attrs.get("type", "text")
        if tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self.fields.setdefault(name, []).append(attrs.get("value") or "y")
        elif tag == "input" and kind not in ("submit", "button"):
            self.fields[name] = [attrs.get("value") or ""]
        elif tag == "select":
            self.select = name
        elif tag == "textarea":
            self.textarea, self.fields[name] = name, [""]

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            # A browser drops the newline that follows <textarea>.
            text = self.fields[self.textarea][0]
            self.fields[self.textarea] = [text.removeprefix("\r\n").removeprefix("\n")]
            self.textarea = None


def form_as_shown(page: str, form_class: str = "amend-form") -> dict:
    reader = FormReader(form_class)
    reader.feed(page)
    assert reader.fields, f"no form .{form_class} on the page"
    return {name: values[0] if len(values) == 1 else values for name, values in reader.fields.items()}


def read(client, world, reference: str) -> dict:
    return client.get(f"/api/v1/incidents/{reference}", headers=world.auth("supervisor")).get_json()


@pytest.fixture
def filed(client, world) -> dict:
    """An incident filed through the API by the duty officer, with a platform and a position as typed."""
    return file_incident(client, world)


def test_the_incident_page_offers_amend_to_those_who_may(app, client, world, filed):
    reference = filed["reference"]
    sign_in(client, "duty")
    assert f'href="/incidents/{reference}/amend"' in client.get(f"/incidents/{reference}").text
    other = app.test_client()
    sign_in(other, "outsider")
    assert "/amend" not in other.get(f"/incidents/{reference}").text
    assert other.get(f"/incidents/{reference}/amend").status_code == 403


def test_the_form_as_shown_changes_nothing(client, world, filed):
    """Sent back untouched (a DTG without seconds, a position as typed), the form amends nothing."""
    sign_in(client, "duty")
    page = client.get(f"/incidents/{filed['reference']}/amend")
    assert page.status_code == 200
    shown = form_as_shown(page.text)
    assert shown["occurred_at"] == "270915ZNOV26" and shown["position"] == "54 24 43N 022 52 16E"
    assert (shown["precedence"], shown["platforms-0-kind"], shown["platforms-0-transponder_on"]) == (
        "O",
        "fighter aircraft",
        "no",
    )
    answer = client.post(f"/incidents/{filed['reference']}/amend", data=shown)
    assert answer.status_code == 422 and NOTHING in answer.text
    assert [e for e in read(client, world, filed["reference"])["timeline"] if e["kind"] == "amended"] == []


def test_the_closest_approach_stands_on_the_form_as_it_was_given(client, world):
    """A vertical approach filed as 200 ft stood on the amend form as "200.0", and 1e-05 NM would have stood as a
    number the form refuses to read back."""
    reference = file_incident(
        client, world, cpa_vertical={"value": 200, "unit": "ft"}, cpa_horizontal={"value": 0.25, "unit": "nm"}
    )["reference"]
    sign_in(client, "duty")
    shown = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    assert (shown["cpa_vertical"], shown["cpa_vertical_unit"]) == ("200", "ft"), shown
    assert (shown["cpa_horizontal"], shown["cpa_horizontal_unit"]) == ("0.25", "nm"), shown


@pytest.mark.parametrize(
    ("latitude", "longitude", "text"),
    [(0.00001, -0.00002, "0.00001, -0.00002"), (54.4123456, 22.871, "54.4123456, 22.871")],
)
def test_a_position_filed_without_its_text_is_shown_in_plain_decimal_degrees_and_changes_nothing(
    client, world, latitude, longitude, text
):
    """Filed through the API with numbers alone, the position was shown as Python prints a float: "1e-05, -2e-05",
    which no desk writes and the position reader refuses, so the form could not be sent back unchanged."""
    reference = file_incident(client, world, latitude=latitude, longitude=longitude)["reference"]
    sign_in(client, "duty")
    shown = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    assert shown["position"] == text
    shown["actions_taken"] = "Called the other side's hotline."
    answer = client.post(f"/incidents/{reference}/amend", data=shown)
    assert answer.status_code in (200, 302, 303), answer.text
    after = read(client, world, reference)
    assert (after["latitude"], after["longitude"]) == (latitude, longitude), "showing the position moved it"


def test_actions_taken_kept_with_cr_lf_before_line_feeds_were_read_change_nothing(app, client, world, filed):
    """A text area typed on a page before its CR LF were read as line feeds (web/base_form.breaks_read) holds
    CR LF; the form sent back as shown (now read with line feeds) amends nothing."""
    with session_scope(app) as session:
        incident = session.scalar(select(Incident).where(Incident.reference == filed["reference"]))
        incident.actions_taken = "Rocked wings.\r\nCalled on guard."
    sign_in(client, "duty")
    shown = form_as_shown(client.get(f"/incidents/{filed['reference']}/amend").text)
    assert shown["actions_taken"].splitlines() == ["Rocked wings.", "Called on guard."], shown["actions_taken"]
    shown["actions_taken"] = "Rocked wings.\r\nCalled on guard."  # as a browser sends a text area's lines
    answer = client.post(f"/incidents/{filed['reference']}/amend", data=shown)
    assert answer.status_code == 422 and NOTHING in answer.text
    assert [e for e in read(client, world, filed["reference"])["timeline"] if e["kind"] == "amended"] == []


def test_an_officer_amends_through_the_page_and_sees_the_facts_as_given(client, world, filed):
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    fields.update(
        precedence="Z",
        cpa_horizontal="0.3",
        cpa_horizontal_unit="nm",
        actions_taken="Rocked wings, called on guard.",
        troops="3000",
        narrative_addendum="Second look at the tape: two missiles under the wings.",
    )
    fields["platforms-1-kind"] = "maritime patrol aircraft"
    answer = client.post(f"/incidents/{reference}/amend", data=fields)
    assert answer.status_code == 302, answer.text[:2000]
    assert answer.headers["Location"].endswith(f"/incidents/{reference}")

    page = client.get(f"/incidents/{reference}").text
    assert "Amended " + reference in page and "precedence" in page
    assert "0.3 NM (556 m)" in page and "3000 troops" in page and "Rocked wings, called on guard." in page
    assert "Second look at the tape: two missiles under the wings." in page and "by <bdi>duty</bdi>" in page
    assert "Precedence: <bdi>O</bdi> → <bdi>Z</bdi>" in page, "the timeline shows the fact before and after"
    assert "Told of the raised precedence and its deadline: <bdi>L1</bdi>." in page and "; told: <bdi>L1</bdi>" in page

    body = read(client, world, reference)
    [event] = [e for e in body["timeline"] if e["kind"] == "amended"]
    fields_changed = ["actions_taken", "cpa_horizontal", "observed_forces", "platforms", "precedence"]
    assert event["details"]["fields"] == fields_changed, "only what the officer changed"
    assert [p.get("kind") for p in body["platforms"]] == ["fighter aircraft", "maritime patrol aircraft"]
    assert body["platforms"][0]["transponder_on"] is False, "a platform shown is kept as it was"
    assert body["narrative"] == filed["narrative"]

    printed = client.get(f"/incidents/{reference}/print").text
    assert "0.3 NM (556 m) horizontally" in printed and "3000 troops" in printed
    assert "Second look at the tape" in printed and "Precedence: <bdi>O</bdi> → <bdi>Z</bdi>" in printed


def test_an_incident_with_as_many_platforms_as_may_be_filed_keeps_them_all_when_one_is_corrected(client, world):
    """The API files up to 20 platforms; the form showed the first 19 and an empty row to add one, so correcting
    one platform wrote the 19 back and the 20th was gone, named by no field. Every platform is shown (an empty row
    only while there is room), and the others are written back as they were."""
    platforms = [{"kind": "fast attack craft", "callsign": f"P-{n:02}"} for n in range(1, 21)]
    reference = file_incident(client, world, platforms=platforms)["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    assert fields["platforms-19-callsign"] == "P-20" and "platforms-20-kind" not in fields, "all 20, no room for more"
    answer = client.post(f"/incidents/{reference}/amend", data={**fields, "platforms-0-kind": "corvette"})
    assert answer.status_code == 302, answer.text[-3000:]
    after = read(client, world, reference)["platforms"]
    assert [p["callsign"] for p in after] == [p["callsign"] for p in platforms], after
    assert [p["kind"] for p in after[:2]] == ["corvette", "fast attack craft"], after


def test_a_stale_form_keeps_what_the_officer_changed_beside_the_facts_as_they_stand(client, world, filed):
    """A 409 keeps what the officer typed for the fields they changed, with what is on record now named beside
    each; a field someone else changed meanwhile shows their value, with what the form held beside it."""
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    meanwhile = client.patch(
        f"/api/v1/incidents/{reference}",
        json={"version": filed["version"], "precedence": "Z"},
        headers=world.auth("supervisor"),
    )
    assert meanwhile.status_code == 200
    typed = "Turned away at 0.5 NM; called on guard twice."
    fields.update(
        safety_risk="A",
        actions_taken=typed,
        narrative_addendum="Radar replay: closest approach 40 s later than logged.",
    )
    answer = client.post(f"/incidents/{reference}/amend", data=fields)
    assert answer.status_code == 409
    assert "changed since you read it" in answer.text and "Nothing was saved" in answer.text
    said = html.unescape(answer.text)
    problem = re.search(r'class="flash error" role="alert">([^<]*)<', said)
    assert problem, said[:3000]
    assert "kept with what is on record now beside it: Safety risk (ICAO), Actions taken on scene." in problem[1]
    assert "Changed meanwhile, with what your form held beside it: Precedence." in problem[1], problem[1]
    again = form_as_shown(answer.text)
    # The officer's changes stay typed; the supervisor's precedence stands, the form's O named beside it.
    assert again["safety_risk"] == "A" and again["actions_taken"] == typed, again
    assert again["precedence"] == "Z" and again["version"] == str(meanwhile.get_json()["version"])
    assert re.search(r'id="safety_risk-on-record">On record now: B<', said), said
    assert re.search(r'id="actions_taken-on-record">On record now: [^<]+<', said), said
    assert "Changed meanwhile; the form you sent held: O " in said, said
    assert 'aria-describedby="safety_risk-on-record' in said
    assert read(client, world, reference)["safety_risk"] == "B"
    # An addition only adds: it is kept in the form to send again, not lost with the stale facts.
    assert "Your addition to the narrative is kept below" in answer.text
    assert again["narrative_addendum"] == "Radar replay: closest approach 40 s later than logged."
    assert not read(client, world, reference).get("addenda"), answer.text[:2000]
    # Sent again as shown, the officer's changes are made and the supervisor's precedence is not undone.
    assert client.post(f"/incidents/{reference}/amend", data=again).status_code == 302
    now = read(client, world, reference)
    assert (now["safety_risk"], now["actions_taken"], now["precedence"]) == ("A", typed, "Z"), now


def test_a_duty_officers_downgrade_is_refused_beside_the_precedence(client, world, filed):
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = {**form_as_shown(client.get(f"/incidents/{reference}/amend").text), "precedence": "R"}
    answer = client.post(f"/incidents/{reference}/amend", data=fields)
    assert answer.status_code == 403
    assert "takes a supervisor" in answer.text and 'id="precedence-error"' in answer.text
    assert read(client, world, reference)["precedence"] == "O"


def test_a_problem_stands_beside_its_field_with_the_input_kept(client, world, filed):
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{filed['reference']}/amend").text)
    fields.update(position="somewhere near the coast", cpa_horizontal="600", cpa_horizontal_unit="nm")
    answer = client.post(f"/incidents/{filed['reference']}/amend", data=fields)
    assert answer.status_code == 422
    assert 'id="position-error"' in answer.text and 'id="cpa_horizontal-error"' in answer.text
    assert form_as_shown(answer.text)["position"] == "somewhere near the coast"


def test_the_filing_form_takes_cpa_actions_releasability_and_observed_forces(app, client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    shown = form_as_shown(page, "form-grid")
    assert shown["releasability_shown"] == "1" and shown["cpa_horizontal_unit"] == "m"
    assert "Observed forces" in page and "data-open-wide" in page
    data = filing_form(
        client,
        cpa_horizontal="0.3",
        cpa_horizontal_unit="nm",
        cpa_vertical="150",
        cpa_vertical_unit="ft",
        actions_taken="Shadowed it out of the area.",
        troops="3000",
        battle_tanks="40",
        releasability_shown="1",
        releasable=["occurred_at", "domain", "category", "position", "narrative"],
    )
    answer = client.post("/incidents/new", data=data)
    assert answer.status_code == 302, answer.text[:2000]
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).order_by(Incident.id.desc())).first()
        assert (incident.cpa_horizontal_m, incident.cpa_horizontal_unit) == (556, "nm")
        assert (incident.cpa_vertical_ft, incident.cpa_vertical_unit) == (150, "ft")
        assert incident.actions_taken == "Shadowed it out of the area."
        assert incident.observed_forces == {"troops": 3000, "battle_tanks": 40}
        withheld = {"sector", "border_distance_km", "cpa", "platforms"}
        assert incident.releasability == {**dict.fromkeys(withheld, False), "narrative": True}


def test_a_filing_form_without_the_releasable_fields_keeps_the_defaults(app, client, world):
    sign_in(client, "duty")
    assert client.post("/incidents/new", data=filing_form(client)).status_code == 302
    with session_scope(app) as session:
        incident = session.scalars(select(Incident).order_by(Incident.id.desc())).first()
        assert incident.releasability == {} and incident.observed_forces is None
        assert incident.cpa_horizontal_m is None and incident.cpa_horizontal_unit is None


def test_amend_needs_a_csrf_token(client, world, filed):
    sign_in(client, "duty")
    answer = client.post(f"/incidents/{filed['reference']}/amend", data={"precedence": "Z", "version": "1"})
    assert answer.status_code == 400
    assert csrf(client, f"/incidents/{filed['reference']}/amend")


def test_a_platform_row_numbered_in_other_than_ascii_digits_is_no_row_and_fails_no_page(client, world, filed):
    """WTForms reads a row's number with str.isdigit(), which takes "²", and int() refused it: a 500. Such a
    field is left out as one named "platforms-x-kind" is; the rest of the amendment is saved."""
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = {**form_as_shown(client.get(f"/incidents/{reference}/amend").text), "precedence": "Z"}
    answer = client.post(f"/incidents/{reference}/amend", data={**fields, "platforms-²-kind": "tanker"})
    assert answer.status_code == 302, answer.text[:2000]
    after = read(client, world, reference)
    assert after["precedence"] == "Z"
    assert [p["kind"] for p in after["platforms"]] == [p["kind"] for p in filed["platforms"]]


@pytest.mark.parametrize("version", ["", "x", "²", "1" * 40])
def test_an_amend_form_back_without_a_version_the_incident_could_have_is_refused_and_changes_nothing(
    client, world, filed, version
):
    """A cut-short or altered form (no version, letters, a superscript digit str.isdigit() takes, more digits
    than a database integer) is told so on the page (422), not a 500; the incident is as it was."""
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = {**form_as_shown(client.get(f"/incidents/{reference}/amend").text), "precedence": "Z", "version": version}
    answer = client.post(f"/incidents/{reference}/amend", data=fields)
    assert answer.status_code == 422, answer.text[:2000]
    assert "This form came back without the incident" in answer.text, answer.text[:3000]
    assert read(client, world, reference)["precedence"] == filed["precedence"]


def test_the_answer_names_an_addition_to_the_narrative_made_with_other_changes(client, filed):
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    fields.update(precedence="Z", narrative_addendum="A second drone followed at 200 m.")
    assert client.post(f"/incidents/{reference}/amend", data=fields).status_code == 302

    page = client.get(f"/incidents/{reference}").text
    assert f"Amended {reference}: precedence; narrative added to." in page


def test_the_amend_form_sent_twice_adds_its_addition_once_and_answers_the_second_as_the_first(client, world, filed):
    """A double tap on Amend saved the addition to the narrative twice, for good (the narrative only grows); with
    a fact changed too, the second said "Nothing was saved ... send it again", which would have added it twice."""
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    assert fields.get("amend_key"), "the form carries a one-time key"
    fields.update(narrative_addendum="Eastland HQ called back at 0850Z.", safety_risk="D")
    first, second = (client.post(f"/incidents/{reference}/amend", data=fields) for _ in range(2))
    assert (first.status_code, second.status_code) == (302, 302), (first.status_code, second.text[:2000])
    assert second.headers["Location"] == first.headers["Location"] == f"/incidents/{reference}"
    page = client.get(f"/incidents/{reference}").text
    assert "This amendment was saved already (sent twice)" in page
    amended = [e for e in read(client, world, reference)["timeline"] if e["kind"] == "amended"]
    assert len(amended) == 1, amended


def test_the_amend_page_shows_every_problem_at_once_the_time_and_position_too(client, filed):
    reference = filed["reference"]
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{reference}/amend").text)
    fields.update(occurred_at="yesterday", position="99 99 99", cpa_horizontal="-3")
    answer = client.post(f"/incidents/{reference}/amend", data=fields)

    assert answer.status_code == 422
    for field in ("occurred_at", "position", "cpa_horizontal"):
        assert f'id="{field}-error"' in answer.text, f"no problem beside {field}: the officer would find it next time"


@pytest.mark.parametrize(("filed_with", "after"), [("North", "North"), (..., "South")])
def test_moving_the_position_on_the_page_keeps_a_sector_given_by_hand_and_moves_a_derived_one(
    client, world, filed_with, after
):
    reference = file_incident(client, world, sector=filed_with)["reference"]
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference}/amend").text
    assert "one given by hand stays when the position moves" in page, "the form says what moving the position does"
    fields = form_as_shown(page)
    assert fields["sector"] == "North", fields["sector"]
    fields.update(position="54 06 07N 023 18 40E")  # sector South; the sector field left as shown
    answer = client.post(f"/incidents/{reference}/amend", data=fields)
    assert answer.status_code == 302, answer.text[:2000]
    assert read(client, world, reference)["sector"] == after


def test_a_category_of_another_domain_is_refused_in_words_beside_it(client, world, filed):
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{filed['reference']}/amend").text)
    fields.update(category="stray_fire", narrative_addendum="Seen again at 0300Z.")
    answer = client.post(f"/incidents/{filed['reference']}/amend", data=fields)
    assert answer.status_code == 422, answer.text[:2000]
    error = re.search(r'<small class="error" id="category-error">([^<]*)</small>', answer.text)
    assert error, "no problem beside the category"
    said = html.unescape(error[1])
    assert said.startswith("stray fire is not a category of the air domain") and "stray_fire" not in said, said
    assert form_as_shown(answer.text)["narrative_addendum"] == "Seen again at 0300Z.", "the addition is kept"
    assert read(client, world, filed["reference"])["category"] == "unsafe_intercept"


def test_a_corrected_time_typed_alone_is_the_latest_such_moment(client, world, filed):
    sign_in(client, "duty")
    fields = form_as_shown(client.get(f"/incidents/{filed['reference']}/amend").text)
    earlier = (utcnow() - timedelta(hours=1)).replace(second=0, microsecond=0)
    answer = client.post(f"/incidents/{filed['reference']}/amend", data={**fields, "occurred_at": f"{earlier:%H%M}Z"})
    assert answer.status_code == 302, html.unescape(answer.text)[:3000]
    assert read(client, world, filed["reference"])["occurred_at"] == isoformat(earlier)
