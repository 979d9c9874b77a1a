"""The incident page's summary panel: tick releasable fields, draft, edit, approve and send, with
CSRF tokens and the same refusals as the API."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from tests.exchange_support import add_counterpart_line, api
from tests.summaries_support import exchange_over_new_line
from tests.support import csrf, file_incident, sign_in
from tracker.db import session_scope
from tracker.models import ExchangeMessage, Summary, TimelineEvent
from tracker.services.exchanges import releasability

NARRATIVE = "MARKER-NARR-6642 closed to 30 m of our patrol aircraft."


@pytest.fixture
def reference(client, world) -> str:
    return file_incident(client, world, narrative=NARRATIVE, reporting_unit="MARKER-UNIT-7781")["reference"]


def page(client, reference: str) -> str:
    response = client.get(f"/incidents/{reference}")
    assert response.status_code == 200, response.status_code
    return response.text


def submit(client, reference: str, path: str, **fields):
    """Post a form of the panel with a valid CSRF token (named after the form's prefix) and follow
    the redirect back to the incident page."""
    token = csrf(client, f"/incidents/{reference}")
    prefix = fields.pop("prefix")
    data = {
        f"{prefix}-csrf_token": token,
        **{f"{prefix}-{k}" if k != "releasable" else k: v for k, v in fields.items()},
    }
    response = client.post(path, data=data, follow_redirects=True)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response.text


def summaries(app) -> list[Summary]:
    with session_scope(app) as session:
        return session.scalars(select(Summary).order_by(Summary.id)).all()


def test_the_panel_shows_each_fields_releasability_as_a_box_to_tick(client, reference):
    sign_in(client, "liaison")
    html = page(client, reference)
    assert 'id="summary"' in html and "Draft summary" in html, html
    ticked = set(re.findall(r'name="releasable" value="(\w+)" checked', html))
    assert ticked == {name for name, ok in releasability.DEFAULTS.items() if ok}, ticked


def test_ticking_the_narrative_makes_it_releasable_and_is_on_the_timeline(app, client, reference):
    sign_in(client, "liaison")
    released = [name for name, ok in releasability.DEFAULTS.items() if ok] + ["narrative"]
    html = submit(
        client, reference, f"/incidents/{reference}/releasability", prefix="releasability", releasable=released
    )
    assert "Releasability saved." in html and 'value="narrative" checked' in html, html
    with session_scope(app) as session:
        [event] = session.scalars(select(TimelineEvent).where(TimelineEvent.kind == "releasability_changed")).all()
        assert event.details == {"before": {"narrative": False}, "after": {"narrative": True}}, event.details


def test_draft_edit_approve_and_send_from_the_page(app, client, world, reference):
    exchange_id = exchange_over_new_line(client, app, world, reference, language="fr")
    sign_in(client, "liaison")
    html = submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id=str(exchange_id))
    assert "Summary drafted" in html, html
    [summary] = summaries(app)
    assert summary.language == "fr" and "MARKER-UNIT-7781" not in summary.text + summary.text_second
    assert "Nature de l&#39;événement" in html or "Nature de l'événement" in html, "the French draft is on the page"

    edit = f"summary-{summary.id}-edit"
    html = submit(
        client,
        reference,
        f"/summaries/{summary.id}/edit",
        prefix=edit,
        text="Reworded by the liaison.",
        text_second="Reformulé.",
        version=str(summary.version),
    )
    assert "Summary saved as a draft." in html, html
    [summary] = summaries(app)
    assert (summary.text, summary.text_second) == ("Reworded by the liaison.\n", "Reformulé.\n")

    approve = f"summary-{summary.id}-approve"
    assert "You wrote this summary: a second person must approve it." in html and 'class="approve-summary"' not in html
    html = submit(client, reference, f"/summaries/{summary.id}/approve", prefix=approve, version=str(summary.version))
    assert (
        "an author of the text (its drafter, or whoever changed its wording) cannot approve it: a second person must"
        in html
    ), "four eyes: told why"
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor")
    html = submit(
        supervisor, reference, f"/summaries/{summary.id}/approve", prefix=approve, version=str(summary.version)
    )
    assert "Summary approved" in html and 'class="send-summary"' in html, html

    send = f"summary-{summary.id}-send"
    html = submit(client, reference, f"/summaries/{summary.id}/send", prefix=send, exchange_id=str(exchange_id))
    assert "Summary queued for the other side." in html, html
    with session_scope(app) as session:
        [message] = session.scalars(select(ExchangeMessage)).all()
        assert (message.kind, message.text, message.text_second) == ("summary", summary.text, summary.text_second)
    assert summaries(app)[0].status.value == "sent"


def test_withheld_content_typed_in_is_refused_at_approval_with_the_field_named(app, client, reference):
    sign_in(client, "liaison")
    submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id="", language="")
    [summary] = summaries(app)
    edit = f"summary-{summary.id}-edit"
    html = submit(
        client,
        reference,
        f"/summaries/{summary.id}/edit",
        prefix=edit,
        text=f"{summary.text}\nMARKER-NARR-6642",
        version=str(summary.version),
    )
    assert "Would be refused" in html and "narrative" in html, "the page warns before approval is tried"
    [summary] = summaries(app)
    approve = f"summary-{summary.id}-approve"
    sign_in(client, "supervisor")  # a second person approves (four eyes)
    html = submit(client, reference, f"/summaries/{summary.id}/approve", prefix=approve, version=str(summary.version))
    assert "not releasable" in html and "narrative" in html, html
    assert summaries(app)[0].status.value == "draft"


def test_the_fields_a_text_would_leak_are_named_in_words(app, client, reference):
    """The warning and the refusal named the fields by their codes (reporting_unit: contains content of the
    non-releasable field 'reporting_unit'); pages name them as the releasability boxes do."""
    sign_in(client, "liaison")
    submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id="", language="")
    [summary] = summaries(app)
    text = f"{summary.text}\nMARKER-UNIT-7781"
    edit = f"summary-{summary.id}-edit"
    html = submit(client, reference, f"/summaries/{summary.id}/edit", prefix=edit, text=text, version="1")
    [warning] = re.findall(r"Would be refused: <ul>(.*?)</ul>", html, re.S)
    assert "<strong>reporting unit</strong>: not releasable, and the text holds it" in warning, warning
    approve = f"summary-{summary.id}-approve"
    sign_in(client, "supervisor")
    html = unescape(submit(client, reference, f"/summaries/{summary.id}/approve", prefix=approve, version="2"))
    assert "(reporting unit: not releasable, and the text holds it)" in html, html
    assert "reporting_unit" not in re.sub(r'(name|id|for|value|href)="[^"]*"', "", html), "a code on the page"


def test_an_edit_refused_comes_back_as_typed_with_the_problem_beside_it(app, client, reference):
    """A summary reworded at length and refused (a control character pasted in, or another version saved
    meanwhile) is drawn again as typed, not thrown away for the wording as it was."""
    sign_in(client, "liaison")
    submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id="", language="")
    [summary] = summaries(app)
    edit = f"summary-{summary.id}-edit"
    for added, version, said in (
        ("Reworded\x1b[0m by the liaison.", str(summary.version), f'id="{edit}-text-error"'),
        ("Reworded by the liaison, too late.", "999", "changed since"),
    ):
        data = {f"{edit}-csrf_token": csrf(client, f"/incidents/{reference}"), f"{edit}-version": version}
        answer = client.post(f"/summaries/{summary.id}/edit", data={**data, f"{edit}-text": f"{summary.text}{added}"})
        assert answer.status_code == 422, (added, answer.status_code)
        assert said in unescape(answer.text), answer.text[-3000:]
        kept = re.search(rf'<textarea[^>]* name="{edit}-text"[^>]*>(.*?)</textarea>', answer.text, re.S)
        assert kept and unescape(kept[1]).strip().endswith(added), kept
    assert summaries(app)[0].text == summary.text, "nothing saved"


def test_a_form_without_its_csrf_token_is_refused(app, client, reference):
    sign_in(client, "liaison")
    response = client.post(f"/incidents/{reference}/summaries", data={"draft-language": ""})
    assert response.status_code == 400, response.status_code
    assert summaries(app) == []


def test_a_duty_officer_sees_what_is_releasable_and_may_not_change_it(app, client, reference):
    sign_in(client, "duty")
    html = page(client, reference)
    assert "Releasable: Time, Domain, Category" in html and "Draft summary" not in html, html
    token = csrf(client, f"/incidents/{reference}")
    response = client.post(
        f"/incidents/{reference}/releasability",
        data={"releasability-csrf_token": token, "releasable": ["narrative"]},
    )
    assert response.status_code == 403, response.status_code
    drafted = client.post(f"/incidents/{reference}/summaries", data={"draft-csrf_token": token})
    assert drafted.status_code == 403 and summaries(app) == [], drafted.status_code


@pytest.mark.parametrize("exchange_id", ["x", "99999999999999999999"])
def test_a_draft_naming_no_exchange_an_id_could_name_is_refused(app, client, reference, exchange_id):
    sign_in(client, "liaison")
    html = submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id=exchange_id)
    assert "Choose an open exchange" in html, html[:3000]
    assert summaries(app) == []


def test_a_draft_whose_exchange_is_blank_is_one_for_no_exchange(app, client, reference):
    """A space where the exchange's id goes reads as none chosen (it was int()-ed: a 500)."""
    sign_in(client, "liaison")
    html = submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id=" ")
    assert "Summary drafted" in html
    assert [summary.exchange_id for summary in summaries(app)] == [None]


def test_the_second_languages_field_names_the_language_not_its_code(app, client, world, reference):
    """ "Second language (ru)" and "In ru" beside a text box: a desk reads a language's name."""
    exchange_id = exchange_over_new_line(client, app, world, reference, language="ru")
    drafted = client.post(
        f"/api/v1/incidents/{reference}/summaries", json={"exchange_id": exchange_id}, headers=world.auth("liaison")
    )
    assert drafted.status_code == 201, drafted.get_json()
    message = client.post(
        f"/api/v1/exchanges/{exchange_id}/messages",
        json={"direction": "out", "text": "We propose a call at 1200Z."},
        headers=world.auth("liaison"),
    )
    assert message.status_code == 201, message.get_json()
    sign_in(client, "liaison")
    html = unescape(page(client, reference))
    assert "Second language (Russian)" in html and "Second language (ru)" not in html, "the summary's"
    assert re.search(r">\s*In Russian\s*<", html) and not re.search(r">\s*In ru\s*<", html), "the draft's"


def test_staff_of_a_counterpart_line_alone_are_offered_only_what_they_may_do(app, client, world, reference):
    """The attaché, who serves only the line to the other side, was offered "Save releasability" and a draft for
    "none yet" (the form's first choice): each answered a bare 403 page, the ticks lost. They are offered the
    summary for the exchange over their line, which they may draft, and see what is releasable."""
    line = add_counterpart_line(app, world, members=["outsider"])  # the outsider serves this line only
    answer = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert answer.status_code == 200, answer.get_json()
    exchange = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": line}, who="outsider", status=201
    )
    sign_in(client, "outsider")
    html = page(client, reference)
    assert "Save releasability" not in html and "Releasable: Time, Domain, Category" in html, html
    offered = re.search(r'<select [^>]*id="draft-exchange_id"[^>]*>(.*?)</select>', html, re.S)
    assert offered, "no draft form on the page"
    assert re.findall(r'<option[^>]*value="([^"]*)"', offered[1]) == [str(exchange["id"])], offered[1]
    drafted = submit(client, reference, f"/incidents/{reference}/summaries", prefix="draft", exchange_id=exchange["id"])
    assert "Summary drafted" in drafted
    [summary] = summaries(app)
    assert summary.exchange_id == exchange["id"]


def test_the_one_exchange_open_is_what_a_summary_is_drafted_for_in_its_language(app, client, world, reference):
    """The form offered "none yet" and English only while an exchange was open: a desk drafted with the defaults and
    got a summary tied to nothing, in English alone."""
    exchange_id = exchange_over_new_line(client, app, world, reference, language="fr")
    sign_in(client, "liaison")
    form = re.search(r'<form[^>]*action="/incidents/[^"]+/summaries".*?</form>', page(client, reference), re.S)
    assert form, "the draft form"
    chosen = {
        name: re.search(r'<option(?=[^>]*\bselected\b)[^>]*value="([^"]*)"', options)[1]
        for name, options in re.findall(r'<select[^>]*name="draft-(\w+)"[^>]*>(.*?)</select>', form[0], re.S)
    }
    assert chosen == {"exchange_id": str(exchange_id), "language": "fr"}, chosen


def test_a_summary_whose_approval_was_withdrawn_says_so_in_its_heading(app, client, world, reference):
    """Its heading still said "approved" beside "Approval withdrawn: the incident changed since it was approved"."""
    drafted = api(client, world, "POST", f"/incidents/{reference}/summaries", {}, status=201)
    body = {"version": drafted["version"]}
    api(client, world, "POST", f"/summaries/{drafted['id']}/approve", body, who="supervisor")
    marking = {"classification": "RESTRICTED", "releasable_to": ["Eastland"]}
    api(client, world, "PATCH", f"/incidents/{reference}/marking", marking, who="supervisor")
    sign_in(client, "liaison")
    html = page(client, reference)
    heading = re.search(rf'<h3 id="summary-{drafted["id"]}-heading">(.*?)</h3>', html, re.S)
    assert heading and ">approval withdrawn</span>" in heading[1], heading and heading[1]
