"""Acceptance 7 of issue 13: the annual review per agreement and counterpart, for a year seeded directly in
the database at fixed times; the page, its CSV and the API agree with each other and with the figures
worked out by hand below.

Agreements INCSEA-1972 and VD11-CH3; one counterpart line. Incidents that occurred in 2025 (and one just
before and one just after, which the 2025 review leaves out):

I1 INCSEA/Eastland unsafe_intercept   X1 (no agreement of its own: counts under I1's) reply_received
   notice sent 03-01 11:00, receipt 11:10 (600 s, due 12:00); explanation request 12:00, receipt 13:30
   (5400 s, due 13:00: late); reply received 03-02 12:00 (86400 s after the request)     -> answered
I2 INCSEA/Eastland unsafe_intercept   X2 (INCSEA/Eastland) closed
   notice 06-10 09:00, receipt 09:20 (1200 s); request 10:00, no receipt, due 11:00 (overdue); reply
   06-12 10:00 (172800 s)                                                                  -> answered
I3 INCSEA/Eastland airspace_violation X3 refused: notice 09-01 13:00, receipt 13:05 (300 s) -> refused
                                      X4 overdue (overdue_count 1): a drafted, unsent request -> overdue
I4 VD11-CH3/Eastland stray_fire       X5 no_answer: notice 04-01 09:00, receipt 30 s later   -> no answer
I5 none                               X6 explanation_requested, no message                   -> open

INCSEA-1972/Eastland: 3 incidents (unsafe_intercept 2, airspace_violation 1), 5 sent, receipts
300/600/1200/5400 (median 900, max 5400), 2 overdue, replies 86400/172800 (median 129600, max 172800),
4 exchanges: 2 answered, 1 refused, 1 overdue. VD11-CH3/Eastland: 1 incident, 1 sent, receipt 30/30,
1 exchange without answer. (none)/(none): 1 incident, 1 open exchange.
"""

import csv
import io
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.support import marking_lines, sign_in
from tracker.db import session_scope
from tracker.models import (
    Agreement,
    ContactChannel,
    Domain,
    EscalationRisk,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    MessageDirection,
    OutgoingStatus,
    Precedence,
)
from tracker.services.incidents.marking import Markings
from tracker.services.review import annual

S = ExchangeState
OUT, IN = MessageDirection.OUT, MessageDirection.IN
LADDER = {"rule_id": None, "rule_name": "Seed", "policy_id": None, "policy_name": "Seed", "repeat": 0, "steps": []}
EXPECTED = [
    {
        "year": 2025,
        "agreement": "INCSEA-1972",
        "counterpart_state": "Eastland",
        "incidents": 3,
        "incidents_by_category": {"unsafe_intercept": 2, "airspace_violation": 1},
        "messages_sent": 5,
        "receipts": 4,
        "receipt_median_seconds": 900.0,
        "receipt_max_seconds": 5400.0,
        "receipts_overdue": 2,
        "replies": 2,
        "reply_median_seconds": 129600.0,
        "reply_max_seconds": 172800.0,
        "exchanges": 4,
        "answered": 2,
        "refused": 1,
        "no_answer": 0,
        "overdue": 1,
        "open": 0,
    },
    {
        "year": 2025,
        "agreement": "VD11-CH3",
        "counterpart_state": "Eastland",
        "incidents": 1,
        "incidents_by_category": {"stray_fire": 1},
        "messages_sent": 1,
        "receipts": 1,
        "receipt_median_seconds": 30.0,
        "receipt_max_seconds": 30.0,
        "receipts_overdue": 0,
        "replies": 0,
        "reply_median_seconds": None,
        "reply_max_seconds": None,
        "exchanges": 1,
        "answered": 0,
        "refused": 0,
        "no_answer": 1,
        "overdue": 0,
        "open": 0,
    },
    {
        "year": 2025,
        "agreement": "(none)",
        "counterpart_state": "(none)",
        "incidents": 1,
        "incidents_by_category": {"unsafe_manoeuvre": 1},
        "messages_sent": 0,
        "receipts": 0,
        "receipt_median_seconds": None,
        "receipt_max_seconds": None,
        "receipts_overdue": 0,
        "replies": 0,
        "reply_median_seconds": None,
        "reply_max_seconds": None,
        "exchanges": 1,
        "answered": 0,
        "refused": 0,
        "no_answer": 0,
        "overdue": 0,
        "open": 1,
    },
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def message(direction, kind, when, status=OutgoingStatus.SENT, receipt=None, due=None) -> dict:
    return {"direction": direction, "kind": kind, "at": at(when), "status": status, "receipt": receipt, "due": due}


@pytest.fixture
def seeded_year(app, world):
    """Insert the year described in the module's docstring."""
    with session_scope(app) as session:
        incsea = Agreement(code="INCSEA-1972", title="Incidents at Sea", counterpart_state="Eastland")
        vd = Agreement(code="VD11-CH3", title="Vienna Document 2011, Chapter III")
        line = ContactChannel(
            name="Eastland hotline", level=3, transport="outbox", address="hotline@eastland.test", counterpart_line=True
        )
        session.add_all([incsea, vd, line])
        incidents = {}
        for name, agreement, state, domain, category, reported in [
            ("I1", incsea, "Eastland", "air", "unsafe_intercept", "2025-03-01T10:00:00"),
            ("I2", incsea, "Eastland", "air", "unsafe_intercept", "2025-06-10T08:00:00"),
            ("I3", incsea, "Eastland", "air", "airspace_violation", "2025-09-01T12:00:00"),
            ("I4", vd, "Eastland", "land", "stray_fire", "2025-04-01T08:00:00"),
            ("I5", None, None, "maritime", "unsafe_manoeuvre", "2025-12-31T23:59:59"),
            ("I0", incsea, "Eastland", "air", "unsafe_intercept", "2024-12-31T23:59:59"),
            ("I9", incsea, "Eastland", "air", "unsafe_intercept", "2026-01-01T00:00:00"),
        ]:
            incidents[name] = Incident(
                reference=f"REV-{name}",
                occurred_at=at(reported),
                reported_at=at(reported),
                reporting_unit="Seed",
                domain=Domain(domain),
                category=category,
                precedence=Precedence.PRIORITY,
                escalation_risk=EscalationRisk.SERIOUS,
                ladder=LADDER,
                agreement=agreement,
                counterpart_state=state,
            )
        session.add_all(incidents.values())
        exchanges = [
            ("I1", None, None, S.REPLY_RECEIVED, 0, [
                message(OUT, "notice", "2025-03-01T11:00:00", receipt="2025-03-01T11:10:00", due="2025-03-01T12:00:00"),
                message(OUT, "explanation_request", "2025-03-01T12:00:00", receipt="2025-03-01T13:30:00",
                        due="2025-03-01T13:00:00"),
                message(IN, "reply", "2025-03-02T12:00:00", status=OutgoingStatus.RECEIVED),
            ]),
            ("I2", incsea, "Eastland", S.CLOSED, 0, [
                message(OUT, "notice", "2025-06-10T09:00:00", receipt="2025-06-10T09:20:00", due="2025-06-10T10:00:00"),
                message(OUT, "explanation_request", "2025-06-10T10:00:00", due="2025-06-10T11:00:00"),
                message(IN, "reply", "2025-06-12T10:00:00", status=OutgoingStatus.RECEIVED),
            ]),
            ("I3", None, None, S.REFUSED, 0, [
                message(OUT, "notice", "2025-09-01T13:00:00", receipt="2025-09-01T13:05:00", due="2025-09-01T14:00:00"),
            ]),
            ("I3", None, None, S.OVERDUE, 1, [
                message(OUT, "explanation_request", "2025-09-03T13:00:00", status=OutgoingStatus.DRAFT),
            ]),
            ("I4", None, None, S.NO_ANSWER, 0, [
                message(OUT, "notice", "2025-04-01T09:00:00", receipt="2025-04-01T09:00:30", due="2025-04-01T10:00:00"),
            ]),
            ("I5", None, None, S.EXPLANATION_REQUESTED, 0, []),
            ("I0", None, None, S.REFUSED, 0, [message(OUT, "notice", "2025-01-01T00:00:00")]),
        ]  # fmt: skip
        for name, agreement, state, exchange_state, overdue, messages in exchanges:
            incident = incidents[name]
            exchange = Exchange(
                incident=incident,
                channel=line,
                state=exchange_state,
                opened_at=incident.reported_at,
                reply_seconds=172800,
                meeting_seconds=172800,
                overdue_count=overdue,
                agreement=agreement,
                counterpart_state=state,
            )
            exchange.messages = [
                ExchangeMessage(
                    direction=m["direction"],
                    kind=m["kind"],
                    text=f"{m['kind']} about {incident.reference}",
                    at=m["at"],
                    channel=line,
                    recorded_by="liaison",
                    status=m["status"],
                    receipt_at=at(m["receipt"]) if m["receipt"] else None,
                    receipt_due_at=at(m["due"]) if m["due"] else None,
                )
                for m in messages
            ]
            session.add(exchange)
    return world


def csv_rows(text: str) -> list[dict]:
    """The rows under the file's marking line and its header row."""
    marking_line, rest = text.split("\r\n", 1)
    assert marking_line.startswith("MARKING: "), f"the file's first line is its marking: {marking_line!r}"
    return list(csv.DictReader(io.StringIO(rest, newline="")))


def as_csv(row: dict) -> dict:
    """A review row as its CSV cells read back."""
    cells = {k: "" if v is None else str(v) for k, v in row.items()}
    cells["incidents_by_category"] = annual.category_cell(row["incidents_by_category"])
    return cells


def page_rows(html: str) -> list[dict]:
    """The review table's rows as the page shows them (the seconds as their data-seconds)."""
    rows = []
    for tr in re.findall(r'<tr data-agreement="([^"]*)" data-counterpart="([^"]*)">(.*?)</tr>', html, re.S):
        agreement, state, cells = tr
        row = {"agreement": agreement, "counterpart_state": state}
        for name, attrs, text in re.findall(r'<td data-column="([a-z_]+)"([^>]*)>(.*?)</td>', cells, re.S):
            kept = re.search(r'data-(?:seconds|codes)="([^"]*)"', attrs)  # the figure or codes behind the words
            row[name] = kept[1] if kept else text.strip()
        rows.append(row)
    return rows


@pytest.mark.both_databases  # the year's bounds and the groups are read in SQL
def test_the_review_service_gives_the_figures_worked_out_by_hand(app, seeded_year):
    with session_scope(app) as session:
        review = annual.review(session, 2025, at("2026-02-01T00:00:00"), Markings())
    assert review["rows"] == EXPECTED, review["rows"]


@pytest.mark.both_databases  # the year's bounds and the groups are read in SQL
def test_the_page_and_its_csv_show_the_same_figures_as_expected(client, seeded_year):
    sign_in(client, "supervisor")
    page = client.get("/reports/review?year=2025")
    assert page.status_code == 200, page.status_code
    exported = client.get("/reports/review.csv?year=2025")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "annual-review-2025.csv" in exported.headers["Content-Disposition"]
    assert exported.data.startswith(b"\xef\xbb\xbf"), "the page's CSV is for Excel: a UTF-8 byte-order mark"
    from_csv = csv_rows(exported.data.decode("utf-8-sig"))
    assert from_csv == [as_csv(row) for row in EXPECTED], from_csv
    shown = page_rows(page.text)
    columns = [c for c in annual.COLUMNS if c != "year"]
    assert [{c: row[c] for c in columns} for row in from_csv] == shown, "the page and its CSV agree"
    assert "1 d 12 h" in page.text, "the median reply (129600 s) is written as staff read it"
    assert "unsafe intercept: 2; airspace violation: 1" in page.text, "categories in words on the page"
    api = client.get("/api/v1/reports/annual-review", query_string={"year": 2025}, headers=seeded_year.auth("admin"))
    assert api.status_code == 200 and api.get_json()["rows"] == EXPECTED, api.get_json()
    api_csv = client.get("/api/v1/exports/annual-review.csv?year=2025", headers=seeded_year.auth("supervisor"))
    assert api_csv.data == exported.data.removeprefix(b"\xef\xbb\xbf"), "the API's: plain UTF-8 unless asked"
    asked = client.get("/api/v1/exports/annual-review.csv?year=2025&bom=true", headers=seeded_year.auth("supervisor"))
    assert asked.data == exported.data, "asked for it, the API's has the mark too"


def test_a_year_outside_the_seeded_one_and_a_bad_year(client, seeded_year):
    auth = seeded_year.auth("supervisor")
    later = client.get("/api/v1/reports/annual-review?year=2026", headers=auth).get_json()
    assert [(r["agreement"], r["incidents"], r["exchanges"]) for r in later["rows"]] == [("INCSEA-1972", 1, 0)]
    # An incident of New Year's Eve reported after midnight belongs to the year it happened in.
    with session_scope(client.application) as session:
        late = session.scalars(select(Incident).where(Incident.reference == "REV-I9")).one()
        late.occurred_at = at("2025-12-31T23:50:00")
    later = client.get("/api/v1/reports/annual-review?year=2026", headers=auth).get_json()
    assert later["rows"] == [], later
    review_2025 = client.get("/api/v1/reports/annual-review?year=2025", headers=auth).get_json()
    incsea = next(r for r in review_2025["rows"] if r["agreement"] == "INCSEA-1972")
    assert incsea["incidents"] == 4, incsea
    bad = client.get("/api/v1/reports/annual-review?year=twenty", headers=auth)
    assert bad.status_code == 422 and "year" in bad.get_json()["error"]["details"], bad.get_json()
    arabic = client.get("/api/v1/reports/annual-review", query_string={"year": "٢٠٢٥"}, headers=auth)
    assert arabic.status_code == 422 and "ARABIC-INDIC DIGIT TWO" in str(arabic.get_json()["error"]), arabic.get_json()
    sign_in(client, "supervisor")
    assert client.get("/reports/review?year=99999").status_code == 422
    # The form again, the year as typed and the problem beside it (a bare error page made it typed again).
    page = client.get("/reports/review?year=abc")
    assert page.status_code == 422 and 'name="year" value="abc"' in page.text, page.text[:3000]
    assert 'id="r-year-error">a year from 1900 to 2100' in page.text and "annual-review" not in page.text, page.text
    # The years a time may fall in anywhere in the tracker (1900-2100), as every other date is refused.
    for year, status in ((1899, 422), (1900, 200), (2100, 200), (2101, 422)):
        answered = client.get(f"/api/v1/reports/annual-review?year={year}", headers=auth)
        assert answered.status_code == status, (year, answered.get_json())
    assert client.get("/reports/review.csv?year=x").status_code == 422
    # Digits to str.isdigit, or too many for int(), or digits of another script that int() reads (٢٠٢٥ is 2025).
    for digits_of_no_number in ("²⁰²⁶", "2026²", "9" * 5000, "٢٠٢٥", "２０２５"):
        assert client.get("/reports/review", query_string={"year": digits_of_no_number}).status_code == 422
        assert client.get("/reports/review.csv", query_string={"year": digits_of_no_number}).status_code == 422
    duty = client.get("/api/v1/reports/annual-review", headers=seeded_year.auth("duty"))
    assert duty.status_code == 403


def test_reply_time_counts_from_the_request_we_sent_not_from_a_draft_never_sent():
    def sent(kind, when, status=OutgoingStatus.SENT, direction=OUT):
        return SimpleNamespace(direction=direction, kind=kind, at=at(when), status=status)

    exchange = SimpleNamespace(
        messages=[
            sent("explanation_request", "2025-03-01T08:00:00", status=OutgoingStatus.DRAFT),  # left unsent
            sent("explanation_request", "2025-03-02T08:00:00"),
            sent("reply", "2025-03-02T20:00:00", status=OutgoingStatus.RECEIVED, direction=IN),
        ]
    )
    assert annual.reply_seconds(exchange) == 12 * 3600, "12 h from the request they received, not 36 h from a draft"
    exchange.messages[1].status = OutgoingStatus.APPROVED  # approved but never sent: nothing was asked
    assert annual.reply_seconds(exchange) is None


@pytest.mark.both_databases  # the year's incidents are read in SQL, their releasability a JSON column
def test_the_review_its_csv_and_page_carry_the_highest_marking_of_the_incidents_it_counts(client, seeded_year):
    """The incidents export opened with its highest marking; the annual review's CSV, built from the same
    incidents, had none. It takes the export's rule: the highest classification among the incidents the
    review counts, released only where every one of them is; incidents of other years do not count."""
    with session_scope(client.application) as session:
        for incident in session.scalars(select(Incident)):
            incident.releasable_to = ["Eastland"]
            incident.classification = {"REV-I2": "RESTRICTED", "REV-I9": "CONFIDENTIAL"}.get(
                incident.reference, "UNCLASSIFIED"
            )
    auth = seeded_year.auth("supervisor")
    exported = client.get("/api/v1/exports/annual-review.csv?year=2025", headers=auth).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    assert rows[0] == ["MARKING: RESTRICTED // REL TO EASTLAND"], rows[:2]
    assert rows[1] == list(annual.COLUMNS) and len(rows) == 2 + len(EXPECTED), rows
    review = client.get("/api/v1/reports/annual-review?year=2025", headers=auth).get_json()
    assert review["marking"] == "RESTRICTED // REL TO EASTLAND", review
    sign_in(client, "supervisor")
    page = client.get("/reports/review?year=2025").text
    banners = marking_lines(page)
    assert banners == ["RESTRICTED // REL TO EASTLAND"] * 2, f"top and bottom of the page: {banners}"
    download = client.get("/reports/review.csv?year=2025").data.decode("utf-8-sig")
    assert download.splitlines()[0] == "MARKING: RESTRICTED // REL TO EASTLAND", "the page's CSV says the same"
    with session_scope(client.application) as session:
        session.scalars(select(Incident).where(Incident.reference == "REV-I5")).one().releasable_to = []
    review = client.get("/api/v1/reports/annual-review?year=2025", headers=auth).get_json()
    assert review["marking"] == "RESTRICTED // NOT RELEASABLE", "one incident released to nobody: the file neither"
    empty = client.get("/api/v1/exports/annual-review.csv?year=2030", headers=auth).get_data(as_text=True)
    assert empty.splitlines()[0] == "MARKING: UNCLASSIFIED // NOT RELEASABLE", "no incident: nothing was checked"
