"""The after-action report through the API and the page, against the hand-computed fixture.

The fixture (tests/report_fixture.py) has seven incidents A-G and eight exchanges; every number
below is worked out by hand in the comments. Method: for n sorted values the q-quantile sits at
rank h = q * (n - 1), linearly interpolated between x[floor h] and x[floor h + 1].
"""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.functional.test_amendments import amend
from tests.report_fixture import insert_fixture, reference
from tests.support import file_incident, sign_in
from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    TimelineEvent,
)

REPORT = "/api/v1/reports/after-action"


def times(count, median, p90):
    return {"count": count, "median_seconds": median, "p90_seconds": p90}


# Time to acknowledge, in seconds: A 120, B 300, C 900, D 60.5, E 1500 (F and G never acknowledged).
ACK = {
    # [60.5, 120, 300, 900, 1500]: median h=2 -> 300; p90 h=3.6 -> 900 + 0.6 * 600 = 1260
    "overall": times(5, 300.0, 1260.0),
    "by_channel": {
        # A, B on ladder 1 step 1 (B's event says step 1): [120, 300]: median 210; p90 120 + 0.9 * 180 = 282
        "L1": times(2, 210.0, 282.0),
        # C (ladder 1 step 2) and D (ladder 2 step 1): [60.5, 900]: median 480.25; p90 60.5 + 0.9 * 839.5 = 816.05
        "L2": times(2, 480.25, 816.05),
        "L3": times(1, 900.0, 900.0),  # C only
        "Other desk": times(1, 1500.0, 1500.0),  # E only
    },
    "by_level": {
        "L1": times(2, 210.0, 282.0),
        "L2": times(2, 480.25, 816.05),
        # C (L3, level 3) and E (Other desk, level 3): [900, 1500]: median 1200; p90 900 + 0.9 * 600 = 1440
        "L3": times(2, 1200.0, 1440.0),
    },
    "by_precedence": {
        # A, B, C, D: [60.5, 120, 300, 900]: median h=1.5 -> 210; p90 h=2.7 -> 300 + 0.7 * 600 = 720
        "Z": times(4, 210.0, 720.0),
        "O": times(1, 1500.0, 1500.0),
    },
    "by_month": {
        # A, B, C: [120, 300, 900]: median 300; p90 h=1.8 -> 300 + 0.8 * 600 = 780
        "2026-11": times(3, 300.0, 780.0),
        # D, E: [60.5, 1500]: median 780.25; p90 60.5 + 0.9 * 1439.5 = 1356.05
        "2026-12": times(2, 780.25, 1356.05),
    },
}
# Time to resolve: A 3600, B 7200, D 1800, E 5400, F 10800 (F unacknowledged: its step 1 when resolved, L1).
RESOLVE = {
    # [1800, 3600, 5400, 7200, 10800]: median 5400; p90 h=3.6 -> 7200 + 0.6 * 3600 = 9360
    "overall": times(5, 5400.0, 9360.0),
    "by_channel": {
        # A, B, F: [3600, 7200, 10800]: median 7200; p90 h=1.8 -> 7200 + 0.8 * 3600 = 10080
        "L1": times(3, 7200.0, 10080.0),
        "L2": times(1, 1800.0, 1800.0),  # D
        "Other desk": times(1, 5400.0, 5400.0),  # E
    },
    "by_level": {"L1": times(3, 7200.0, 10080.0), "L2": times(1, 1800.0, 1800.0), "L3": times(1, 5400.0, 5400.0)},
    "by_precedence": {
        # A, B, D: [1800, 3600, 7200]: median 3600; p90 h=1.8 -> 3600 + 0.8 * 3600 = 6480
        "Z": times(3, 3600.0, 6480.0),
        "O": times(1, 5400.0, 5400.0),
        "P": times(1, 10800.0, 10800.0),
    },
    "by_month": {
        # A, B: [3600, 7200]: median 5400; p90 3600 + 0.9 * 3600 = 6840
        "2026-11": times(2, 5400.0, 6840.0),
        # D, E, F: [1800, 5400, 10800]: median 5400; p90 h=1.8 -> 5400 + 0.8 * 5400 = 9720
        "2026-12": times(3, 5400.0, 9720.0),
    },
}
EXCHANGES = {
    "answered": 3,  # X1 (closed after a received reply), X2 (reply_received), X7 (meeting_held)
    "answered_late": 1,  # X2: overdue once, then answered
    "refused": 0,
    "no_answer": 0,
    "overdue": 2,  # X3 (overdue), X4 (meeting_requested after two deadlines passed)
    "open": 2,  # X5 (explanation_requested), X8 (our own outgoing "reply" is no answer)
    "closed_unanswered": 1,  # X6
    "total": 8,
}


@pytest.fixture
def fixture(app, world):
    insert_fixture(app, world)
    return world


def report(client, world, who="supervisor", **query):
    response = client.get(REPORT, query_string=query, headers=world.auth(who))
    assert response.status_code == 200, f"{REPORT}?{query}: {response.status_code} {response.get_json()}"
    return response.get_json()


@pytest.mark.both_databases  # counts, groups and time windows in SQL
def test_report_numbers_match_the_hand_computed_fixture(client, fixture):
    body = report(client, fixture)
    assert body["incidents_total"] == 7
    for measure, expected in (("ack_times", ACK), ("resolve_times", RESOLVE)):
        for section, numbers in expected.items():
            assert body[measure][section] == numbers, f"{measure}.{section}: got {body[measure][section]}"
    assert body["incidents_by_category"] == {
        "unsafe_intercept": 3,  # A, D, F
        "airspace_violation": 1,
        "unsafe_manoeuvre": 1,
        "stray_fire": 1,
        "weapon_aiming": 1,
    }
    assert body["incidents_by_sector"] == {"North": 4, "South": 2, "(none)": 1}, "E has no sector"
    assert body["exchanges"] == EXCHANGES
    assert set(body["definitions"]) >= {"time_to_acknowledge", "by_channel", "by_level", "median_p90", "exchanges"}


@pytest.mark.both_databases  # the first acknowledgement found in SQL
def test_time_to_acknowledge_is_to_the_first_acknowledgement_whose_step_it_counts_under(app, client, fixture):
    # C was acknowledged 900 s after its report (step 2); left idle, it went back up its ladder and was
    # acknowledged again five hours later, which the incident's acknowledged_at now records.
    with session_scope(app) as session:
        c = session.scalars(select(Incident).where(Incident.reference == reference("C"))).one()
        again = c.reported_at + timedelta(hours=5)
        details = {"step": 2, "loop": 1, "note": "", "told": []}
        c.events.append(TimelineEvent(kind=EventKind.ACKNOWLEDGED, actor="liaison", at=again, details=details))
        c.acknowledged_at = again
    body = report(client, fixture)
    for section, numbers in ACK.items():
        assert body["ack_times"][section] == numbers, f"ack_times.{section}: got {body['ack_times'][section]}"


@pytest.mark.both_databases  # the ladder snapshot, a JSON column, read for the groups
def test_a_line_renamed_since_is_counted_under_its_name_now_not_split_in_two(app, client, fixture):
    """The incidents' ladder snapshots keep the name L2 had when they were filed; renamed since, it is one line
    in the report under its new name. A line deleted since keeps the name its snapshots took."""
    with session_scope(app) as session:  # (the fixture's counterpart line shares L2's address: no PATCH)
        session.get(ContactChannel, fixture.channels["L2"]).name = "L2 Corps desk"
    with session_scope(app) as session:  # C was filed after the rename: the snapshots disagree
        c = session.scalars(select(Incident).where(Incident.reference == reference("C"))).one()
        ladder = {**c.ladder, "steps": [dict(step) for step in c.ladder["steps"]]}
        ladder["steps"][1]["channels"] = [
            {**chan, "name": "L2 Corps desk"} if chan["id"] == fixture.channels["L2"] else chan
            for chan in ladder["steps"][1]["channels"]
        ]
        c.ladder = ladder
    body = report(client, fixture)
    assert body["ack_times"]["by_channel"] == {
        **{k: v for k, v in ACK["by_channel"].items() if k != "L2"},
        "L2 Corps desk": ACK["by_channel"]["L2"],
    }, body["ack_times"]["by_channel"]
    assert body["resolve_times"]["by_channel"]["L2 Corps desk"] == RESOLVE["by_channel"]["L2"], body["resolve_times"]


@pytest.mark.both_databases  # counts and groups in SQL over no rows
def test_an_empty_report_has_zero_counts_and_no_medians(client, world):
    body = report(client, world)
    assert body["incidents_total"] == 0
    assert body["ack_times"]["overall"] == times(0, None, None)
    assert body["ack_times"]["by_channel"] == {} and body["incidents_by_sector"] == {}
    assert body["exchanges"] == dict.fromkeys(EXCHANGES, 0)


@pytest.mark.both_databases  # counts and groups in SQL
def test_refused_and_unanswered_exchanges_are_counted_as_such_not_as_open(app, client, fixture):
    """An exchange the other side refused, or that we marked unanswered, was counted "open" (or "overdue")
    in the after-action report, though the annual review and the exchange itself call it settled."""
    with session_scope(app) as session:
        line = session.scalars(select(ContactChannel).where(ContactChannel.name == "Attache line")).one()
        incident = session.scalars(select(Incident).where(Incident.reference == reference("E"))).one()
        opened = incident.reported_at + timedelta(hours=1)

        def exchange(state, overdue=0, received=()):
            messages = [
                ExchangeMessage(
                    direction=MessageDirection.IN, kind=kind, text=kind, at=opened, channel=line, recorded_by="liaison"
                )
                for kind in received
            ]
            return Exchange(
                incident=incident,
                channel=line,
                state=state,
                opened_at=opened,
                reply_seconds=172800,
                meeting_seconds=172800,
                overdue_count=overdue,
                messages=messages,
            )

        session.add_all(
            [
                exchange(ExchangeState.REFUSED),
                exchange(ExchangeState.CLOSED, received=["refusal"]),  # refused, then closed
                exchange(ExchangeState.REFUSED, overdue=1),  # refused after its deadline: refused, not overdue
                exchange(ExchangeState.NO_ANSWER),
                exchange(ExchangeState.NO_ANSWER, overdue=1),
            ]
        )
    body = report(client, fixture)
    expected = EXCHANGES | {"refused": 3, "no_answer": 2, "total": EXCHANGES["total"] + 5}
    assert body["exchanges"] == expected, body["exchanges"]
    counted = ("answered", "refused", "no_answer", "overdue", "open", "closed_unanswered")
    assert sum(body["exchanges"][k] for k in counted) == body["exchanges"]["total"], body["exchanges"]


@pytest.mark.both_databases  # filters, counts and groups in SQL
def test_precedence_filter_narrows_every_section(client, fixture):
    body = report(client, fixture, precedence="Z")  # A, B, C, D
    assert body["incidents_total"] == 4
    assert body["ack_times"]["overall"] == times(4, 210.0, 720.0), "[60.5, 120, 300, 900]"
    assert body["ack_times"]["by_precedence"] == {"Z": times(4, 210.0, 720.0)}
    assert body["exchanges"] == {  # X1, X2, X3, X4, X8
        "answered": 2,
        "answered_late": 1,
        "refused": 0,
        "no_answer": 0,
        "overdue": 2,
        "open": 1,
        "closed_unanswered": 0,
        "total": 5,
    }
    both = report(client, fixture, precedence=["O", "P"])  # E, F
    assert both["incidents_total"] == 2 and set(both["resolve_times"]["by_precedence"]) == {"O", "P"}


@pytest.mark.both_databases  # time windows compared in SQL
def test_date_range_is_on_reported_at_with_an_exclusive_end(client, fixture):
    # D was reported at 2026-12-01T00:00:00Z exactly: outside [11-01, 12-01); G (11-30 23:59:30) inside.
    body = report(client, fixture, **{"from": "2026-11-01", "to": "2026-12-01"})
    assert body["incidents_total"] == 4, "A, B, C, G"
    assert list(body["ack_times"]["by_month"]) == ["2026-11"]
    assert body["ack_times"]["overall"] == times(3, 300.0, 780.0), "A, B, C: [120, 300, 900]"
    from_d = report(client, fixture, **{"from": "010000ZDEC26"})  # a DTG works too: D, E, F
    assert from_d["incidents_total"] == 3 and from_d["ack_times"]["overall"] == times(2, 780.25, 1356.05)
    iso = report(client, fixture, to="2026-11-20T12:00:00Z")  # A, B (C reported at that very second)
    assert iso["incidents_total"] == 2


@pytest.mark.both_databases  # filters, counts and groups in SQL
@pytest.mark.parametrize(
    ("query", "total", "check"),
    [
        ({"sector": "North"}, 4, lambda b: b["incidents_by_sector"] == {"North": 4}),
        # As routing compares a sector: "north" or "North " reported none, said as "0 incidents reported".
        ({"sector": "north "}, 4, lambda b: b["incidents_by_sector"] == {"North": 4}),
        (
            {"domain": "maritime"},
            2,
            lambda b: b["incidents_by_category"] == {"unsafe_manoeuvre": 1, "weapon_aiming": 1},
        ),
        # A, D, F resolved in [1800, 3600, 10800]: median 3600; p90 h=1.8 -> 3600 + 0.8 * 7200 = 9360
        ({"category": "unsafe_intercept"}, 3, lambda b: b["resolve_times"]["overall"] == times(3, 3600.0, 9360.0)),
        # D alone (C is maritime), acknowledged on ladder 2 step 1 (L2) after 60.5 s
        (
            {"domain": "air", "sector": "South"},
            1,
            lambda b: b["ack_times"]["by_channel"] == {"L2": times(1, 60.5, 60.5)},
        ),
    ],
)
def test_filters_narrow_the_report(client, fixture, query, total, check):
    body = report(client, fixture, **query)
    assert body["incidents_total"] == total, f"{query}: {body['incidents_total']} incidents"
    assert check(body), f"{query}: {body}"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-11-31"}, "from"),
        ({"to": "2026-11-27T14:05:00"}, "to"),  # no zone
        ({"from": "2026-12-01", "to": "2026-11-01"}, "to"),
        ({"precedence": "X"}, "precedence"),
        ({"domain": "sea"}, "domain"),
        ({"category": "not_a_category"}, "category"),
        # A category of another domain: filing refuses the pair, so a filter by it would answer nothing.
        ({"domain": "air", "category": "collision"}, "category"),
        ({"sector": "x" * 121}, "sector"),
    ],
)
def test_bad_filters_answer_422_in_the_error_envelope(client, fixture, query, field):
    response = client.get(REPORT, query_string=query, headers=fixture.auth("supervisor"))
    body = response.get_json()
    assert response.status_code == 422, f"{query}: {response.status_code} {body}"
    assert body["error"]["code"] == "validation_error" and field in body["error"]["details"], f"{query}: {body}"


def test_a_bound_that_is_no_time_is_told_the_three_forms_it_may_take_the_date_first(client, fixture):
    response = client.get(REPORT, query_string={"from": "yesterday"}, headers=fixture.auth("supervisor"))
    [said] = response.get_json()["error"]["details"]["from"]
    assert said.startswith("expected a date (2026-11-27), ISO 8601 with a zone") and "date-time group" in said, said


@pytest.mark.parametrize(("who", "status"), [("supervisor", 200), ("admin", 200), ("duty", 403), ("liaison", 403)])
def test_only_supervisors_and_admins_read_the_report(client, fixture, who, status):
    response = client.get(REPORT, headers=fixture.auth(who))
    assert response.status_code == status, f"{who}: {response.status_code} {response.get_json()}"
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_the_report_needs_a_token(client, fixture):
    response = client.get(REPORT)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.both_databases  # counts, groups and time windows in SQL
def test_report_page_shows_every_number_and_the_charts(client, fixture):
    sign_in(client, "supervisor")
    page = client.get("/reports")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    for chart in ("ack-precedence", "ack-channel", "resolve-precedence", "resolve-channel", "category", "sector"):
        assert f'id="chart-{chart}"' in html, f"chart {chart} missing"
    assert html.count('<svg class="wide"') == html.count('<svg class="narrow"') == 7, (
        "seven charts, each an inline SVG, wide and for a phone"
    )
    assert "<script" not in html.split("</head>")[1], "no inline script on the report page (CSP)"
    # Numbers of the tables, as durations in words: ack overall median 300 s = 5 min, p90 1260 s = 21 min.
    for text in ("5 min", "21 min", "8 min", "13 min 36 s", "2 h 48 min", "Other desk", "2026-12", "L3", "Z FLASH"):
        assert text in html, f"{text!r} not on the report page"
    assert 'datetime="PT816.05S"' in html, "L2's p90 (816.05 s) exact in the table's machine-readable time"
    assert "How these numbers are counted" in html and "linear interpolation" in html


def test_report_page_carries_the_filters_into_the_form_and_the_export_links(client, fixture):
    sign_in(client, "supervisor")
    page = client.get("/reports?from=2026-11-01&precedence=Z&precedence=O&sector=North&domain=")
    assert page.status_code == 200
    assert 'name="from" value="2026-11-01"' in page.text
    assert (
        'value="Z" checked' in page.text and 'value="O" checked' in page.text and 'value="P" checked' not in page.text
    )
    for export in ("/reports/incidents.csv", "/reports/incidents.geojson"):
        link = f"{export}?from=2026-11-01&amp;sector=North&amp;precedence=Z&amp;precedence=O"
        assert link in page.text, f"export link {export} does not carry the filters"
    offered = re.search(r'<datalist id="f-sectors">(.*?)</datalist>', page.text)
    assert offered and '<option value="North">' in offered[1], "the sectors are offered as the field is typed"


def test_report_page_shows_bad_filters_next_to_their_fields(client, fixture):
    sign_in(client, "supervisor")
    page = client.get("/reports?from=2026-13-01")
    assert page.status_code == 422 and "The filters are not valid" in page.text
    assert 'class="field has-error"' in page.text and "<svg" not in page.text
    twice = client.get("/reports?from=2026-11-01&from=2026-12-01")
    assert twice.status_code == 422 and "given more than once" in twice.text, twice.text[:3000]
    page = client.get("/reports?domain=air&category=collision")
    assert (
        page.status_code == 422
        and "collision is not a category of the air domain: choose one of unsafe intercept, " in page.text
    ), page.text[:3000]
    page = client.get("/reports?from=2026-12-05&to=2026-12-01")
    assert page.status_code == 422 and "must be later than Reported from" in page.text, page.text[:3000]


def test_a_bad_precedence_or_an_export_with_bad_filters_is_told_in_words(client, fixture):
    """A precedence no box offers (a link edited by hand) was told as "0", the place of the value in the list, and
    an export link with a bad filter answered a page showing the problems as a Python dict."""
    sign_in(client, "supervisor")
    page = client.get("/reports?precedence=Q")
    assert page.status_code == 422
    assert '<small class="error" id="f-precedence-error">Must be one of: Z, O, P, R.</small>' in page.text, page.text
    export = client.get("/reports/incidents.csv?from=2026-13-01&precedence=Q")
    assert export.status_code == 422
    said = html.unescape(export.text)
    assert "Reported from: not a date" in said and "Precedence: Must be one of: Z, O, P, R." in said, said
    assert "{" not in said[said.index("<main") :], "the problems as a Python dict"


@pytest.mark.parametrize(("who", "status"), [("duty", 403), ("liaison", 403), ("admin", 200)])
def test_report_page_is_for_supervisors_and_admins(client, fixture, who, status):
    sign_in(client, who)
    assert client.get("/reports").status_code == status, who
    board = client.get("/board").text
    assert ('href="/reports"' in board) == (status == 200), f"nav link to the report for {who}"


@pytest.mark.both_databases  # the precedence as filed is read in SQL from the "filed" event's JSON
def test_an_incident_raised_after_filing_counts_under_its_precedence_now_and_as_filed(app, client, world):
    """Filed ROUTINE, raised to FLASH later: the report counted it among the FLASH times only, so a FLASH
    handled in hours seemed to stand there with nothing to say it was filed ROUTINE. The page, the API
    and the CSV now give both, each labelled, and say which one the precedence filter is on."""
    filed = file_incident(client, world, precedence="R")
    reference = filed["reference"]
    amend(client, world, reference, version=filed["version"], precedence="Z")
    acknowledged = client.post(f"/api/v1/incidents/{reference}/acknowledge", json={}, headers=world.auth("liaison"))
    assert acknowledged.status_code == 200, acknowledged.get_json()
    body = report(client, world)
    assert list(body["ack_times"]["by_precedence"]) == ["Z"], body["ack_times"]
    assert list(body["ack_times"]["by_precedence_filed"]) == ["R"], body["ack_times"]
    assert "amendment" in body["definitions"]["by_precedence"] and "filed" in body["definitions"]["by_precedence_filed"]
    assert list(report(client, world, precedence="Z")["ack_times"]["by_precedence_filed"]) == ["R"], "filter: now"

    export = client.get("/api/v1/exports/incidents.csv", headers=world.auth("supervisor"))
    [row] = csv.DictReader(io.StringIO(export.get_data(as_text=True).split("\n", 1)[1]))
    assert (row["precedence"], row["precedence_filed"]) == ("Z", "R"), row

    sign_in(client, "supervisor")
    page = client.get("/reports?precedence=Z").text
    assert '<table class="compact report-times" id="times-by_precedence_filed">' in page, page[-4000:]
    assert 'id="times-by_precedence">' in page and "Precedence as filed" in page and "Precedence now" in page
    assert "precedence now Z FLASH" in page, "the filter line says which precedence it filters on"


@pytest.mark.both_databases  # lower() in SQL: ASCII only on SQLite
def test_a_sector_in_another_script_is_found_as_typed_and_in_another_case_where_the_engine_folds_it(
    app, client, world, backend
):
    """Matched without case by SQL's lower(), a sector "Север" typed exactly found nothing on SQLite, whose lower()
    folds ASCII letters only."""
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        session.scalars(select(Incident).where(Incident.reference == reference)).one().sector = "Север"
    assert report(client, world, sector="Север")["incidents_by_sector"] == {"Север": 1}
    lowered = report(client, world, sector="север")["incidents_by_sector"]
    assert lowered == ({"Север": 1} if backend == "postgresql" else {}), lowered
