"""What a screen reader, a keyboard or voice control meets on the pages (WCAG 2.2 AA), read from the HTML the
test client gets: a returned form says what is wrong where the focus lands, controls are named by what they
show, and the parts that refresh themselves say so."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

from sqlalchemy import select

from tests.exchange_support import REQUEST, acknowledged_incident, add_counterpart_line, api, move, open_exchange
from tests.exercise_support import create
from tests.support import csrf, file_incident, filing_form, sign_in
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import EscalationPolicy, ExchangeMessage, RoutingRule, User
from tracker.services.exchanges import catalogues, receipts
from tracker.services.incidents import ladder
from tracker.timeutil import isoformat, utcnow

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list["Element | str"] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, as one line."""
        return " ".join("".join(c if isinstance(c, str) else f" {c.text} " for c in self.children).split())

    def find_all(self, tag: str | None = None, **attrs: str) -> list["Element"]:
        """Every element under this one with the tag (any when None) and these attribute values (None: present;
        aria_label stands for aria-label)."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and all(
                    child.attrs.get(name) == value if value is not None else name in child.attrs
                    for name, value in wanted.items()
                ):
                    found.append(child)
                found.extend(child.find_all(tag, **attrs))
        return found


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(html: str) -> Element:
    """The page as a tree of elements (the standard library's parser: enough for our own templates)."""
    builder = _Builder()
    builder.feed(html)
    return builder.root


def by_id(page: Element, element_id: str) -> Element:
    (found,) = page.find_all(id=element_id)
    return found


def test_a_wrong_password_is_announced_where_the_focus_lands(client, world):
    answer = client.post(
        "/signin", data={"csrf_token": csrf(client, "/signin"), "username": "duty", "password": "not-it"}
    )
    page = parse(answer.text)
    (username,) = page.find_all("input", name="username")
    (password,) = page.find_all("input", name="password")
    # With the username field taking the focus, a screen reader read "Username, duty" and never the error;
    # without autofocus, static/app.js puts the focus on the first field marked invalid.
    assert "autofocus" not in username.attrs
    assert password.attrs.get("aria-invalid") == "true"
    assert "Wrong username or password" in by_id(page, password.attrs["aria-describedby"]).text


def test_the_sign_in_page_still_starts_in_the_username_field(client, world):
    (username,) = parse(client.get("/signin").text).find_all("input", name="username")
    assert "autofocus" in username.attrs


def test_a_button_named_for_a_screen_reader_begins_with_the_words_it_shows(app, client, world):
    with session_scope(app) as session:  # two rules besides the default, so each has a Move up or a Move down
        for name in ("First", "Second"):
            policy = ladder.save_policy(
                session, {"name": f"{name} ladder", "steps": [{"channel_ids": [world.channels["L2"]]}]}
            )
            ladder.save_rule(session, {"name": name, "sector": "North", "policy_id": policy.id})
    sign_in(client, "admin")
    named = [
        button
        for path in ("/admin/channels", "/admin/rules")
        for button in parse(client.get(path).text).find_all("button", aria_label=None)
    ]
    assert {b.text for b in named} >= {"Test now", "Move up", "Move down"}, named
    # "Move Second up" for a button showing "Move up": someone saying "click Move up" was not understood.
    assert [b for b in named if not b.attrs["aria-label"].lower().startswith(b.text.lower())] == []


def test_the_pages_that_refresh_themselves_have_one_status_line_the_refresh_leaves_in_place(client, world):
    reference = file_incident(client, world)["reference"]
    sign_in(client, "liaison")
    for path in ("/board", "/queue", f"/incidents/{reference}"):
        page = parse(client.get(path).text)
        (news,) = page.find_all(role="status", data_news=None)
        # static/live.js writes what changed there; inside a part it swaps, the line would be swapped away, and
        # inside a table's .table-wrap its margin would make the wrap scroll.
        apart = page.find_all(data_live=None) + page.find_all("tbody", data_refresh=None)
        apart += [e for e in page.find_all("div") if "table-wrap" in e.attrs.get("class", "").split()]
        assert not any(e is news for part in apart for e in part.find_all()), path
    # What is said: the incident's heading (its state) and what happens next.
    assert [e.tag for e in page.find_all(data_announce=None)] == ["h1", "p"]


def test_a_fields_hint_and_error_are_read_with_it(client, world):
    sign_in(client, "supervisor")
    exercise = parse(client.get("/exercises/new").text)
    (states,) = exercise.find_all("input", name="states")
    assert by_id(exercise, states.attrs["aria-describedby"]).text == "separate several with ;"
    # The filing form's read-back ("= 54°24'43\"N ... · sector North") and the sector's warning are heard on entering
    # the field; a refused field names its error first.
    refused = parse(client.post("/incidents/new", data=filing_form(client, position="54 42 30 22 30")).text)
    (position,) = refused.find_all("input", name="position")
    described = position.attrs["aria-describedby"].split()
    assert described == ["position-error", "position-hint"] and position.attrs["aria-invalid"] == "true"
    assert by_id(refused, "position-hint").attrs["data-hint-for"] == "position"
    (sector,) = refused.find_all("select", name="sector")
    assert by_id(refused, sector.attrs["aria-describedby"]).attrs["data-hint-for"] == "sector"


def test_the_reports_dates_are_read_with_their_zone_and_a_refused_one_with_its_error(client, world):
    """The report's date fields were read with the filters applied only: the line saying dates are UTC stood apart,
    and a refused date's error was beside the field for the eye alone (no aria-invalid, not read with it)."""
    sign_in(client, "supervisor")
    for path, refused in (("/reports", None), ("/reports?from=2026-13-01", "from"), ("/reports?to=noon", "to")):
        page = parse(client.get(path).text)
        for name in ("from", "to"):
            (date,) = page.find_all("input", name=name)
            described = date.attrs["aria-describedby"].split()
            assert "Dates are UTC" in by_id(page, "dates-hint").text and "dates-hint" in described, (path, described)
            if name == refused:
                error = by_id(page, f"f-{name}-error")
                assert described[0] == error.attrs["id"] and error.attrs["class"] == "error", (path, described)
                assert date.attrs.get("aria-invalid") == "true", (path, date.attrs)
            else:
                assert f"f-{name}-error" not in described and "aria-invalid" not in date.attrs, (path, date.attrs)


def test_a_users_page_is_titled_as_one(app, client, world):
    sign_in(client, "admin")
    users = parse(client.get("/admin/users").text)
    link = next(a for a in users.find_all("a") if a.text == "liaison")
    (title,) = parse(client.get(link.attrs["href"]).text).find_all("title")
    # not "liaison · Incident tracker"; the name isolated (FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE)
    assert title.text == "User \u2068liaison\u2069 · Users · Incident tracker"


def test_the_navigation_marks_the_section_one_is_in(app, client, world):
    sign_in(client, "admin")
    user_id = next(a for a in parse(client.get("/admin/users").text).find_all("a") if a.text == "liaison").attrs["href"]
    for path, here, how in (("/board", "Board", "page"), ("/admin/users", "Users", "page"), (user_id, "Users", "true")):
        (nav,) = parse(client.get(path).text).find_all("nav", aria_label="Main")
        marked = [(a.text, a.attrs["aria-current"]) for a in nav.find_all("a", aria_current=None)]
        assert marked == [(here, how)], f"{path}: {marked}"


def sent_notice(app, client, world) -> tuple[str, int]:
    """An incident and the notice of its exchange sent over a line that reads Russian: (reference, message id)."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world, releasable_to=["Eastland"])
    exchange = open_exchange(client, world, reference)
    return reference, next(m["id"] for m in exchange["messages"] if m["direction"] == "out")


def receipt_path(app, message_id: int) -> str:
    """The receipt link the other side got with the message."""
    with session_scope(app) as session:
        link = receipts.link_for(dispatch.ack_links(app), session.get_one(ExchangeMessage, message_id), utcnow())
    return f"/links/receipt/{link.token}"


def test_the_receipt_pages_refused_name_is_read_with_its_field(app, client, world):
    path = receipt_path(app, sent_notice(app, client, world)[1])
    refused = parse(client.post(path, data={"name": "Capt\nIvanova"}).text)
    (name,) = refused.find_all("input", name="name")
    # The other side's officer heard the field and not why it was refused: the alert was said once, tied to nothing.
    assert name.attrs.get("aria-invalid") == "true"
    assert "one line" in by_id(refused, name.attrs["aria-describedby"]).text
    assert name.attrs.get("value") == "Capt\nIvanova", "what was typed comes back, not a blank field"


def test_the_receipt_pages_refused_name_is_said_in_their_language_too(app, client, world):
    """Every line of the receipt page is in English and the line's language, but why a name was refused was in
    English only."""
    _, notice_id = sent_notice(app, client, world)  # over a line in Russian
    refused = parse(client.post(receipt_path(app, notice_id), data={"name": "x" * 121}).text)
    (error,) = refused.find_all(id="name-error")
    russian = catalogues.translate("ru", "Your name and post: one line, at most {most} characters.", most=120)
    assert [e.text for e in error.find_all(lang="ru")] == [russian] and "не более 120 символов" in russian, error
    assert "at most 120 characters" in error.text, error


def test_the_other_sides_language_is_marked_where_it_is_shown(app, client, world):
    reference, notice_id = sent_notice(app, client, world)
    said = {catalogues.translate("ru", words) for words in ("Your name and post (optional)", "Confirm receipt")}
    # The label and the button say it in English and Russian: read with English rules, the Russian was garbled.
    (form,) = parse(client.get(receipt_path(app, notice_id)).text).find_all("form")
    assert {e.text for e in form.find_all(lang="ru")} == said
    russian = "Северная Марка: уведомляем о небезопасном перехвате."
    with session_scope(app) as session:  # the notice went out in both languages
        notice = session.get_one(ExchangeMessage, notice_id)
        notice.text_second, notice.language = russian, "ru"
    sign_in(client, "supervisor")
    printed = parse(client.get(f"/incidents/{reference}/print").text)
    assert [e.text for e in printed.find_all(lang="ru")] == [russian]


def test_the_summary_drafts_fields_are_read_with_their_hints(client, world):
    reference = file_incident(client, world)["reference"]
    sign_in(client, "liaison")
    page = parse(client.get(f"/incidents/{reference}").text)
    (draft,) = [f for f in page.find_all("form") if "draft-summary" in f.attrs.get("class", "")]
    # Which language the summary is drafted in was said beside the menus, and not on entering them.
    hints = {
        menu.attrs["name"]: [e.text for e in page.find_all(id=menu.attrs.get("aria-describedby", "(none)"))]
        for menu in draft.find_all("select")
    }
    assert hints == {"draft-exchange_id": ["its line's language is used"], "draft-language": ["without an exchange"]}


def test_no_page_repeats_an_id(app, client, world):
    """An id is a page's once (HTML; a label's for, aria-describedby and a link's #fragment find the first only).
    The incident and call pages carry many forms, each of whose hidden CSRF token was drawn as id="csrf_token"
    (found in review); every page with a form is read here, as the people who use the most of it see it."""
    add_counterpart_line(app, world)
    api_client = app.test_client()
    reference = acknowledged_incident(api_client, world)
    exchange = open_exchange(api_client, world, reference)
    move(api_client, world, exchange["id"], "explanation_requested", REQUEST, release=False)  # a draft waits
    path = f"/incidents/{reference}/calls"
    due = isoformat(utcnow() + timedelta(hours=2))
    call = api(api_client, world, "POST", path, {"direction": "we_called", "exchange_id": exchange["id"]}, status=201)
    body = {
        "they_said": "They will look into it.",
        "actions": [{"text": "Send the track", "party": "us", "due_at": due}],
    }
    api(api_client, world, "PATCH", f"/calls/{call['id']}", body)
    waiting = file_incident(api_client, world)["reference"]  # its page has the Acknowledge form and its note
    exercise = create(api_client, world)["id"]
    watch = api(api_client, world, "POST", "/watches", {"desk": "Duty desk"}, who="duty", status=201)["id"]
    with session_scope(app) as session:
        policy, rule = (
            session.scalars(select(EscalationPolicy.id)).first(),
            session.scalars(select(RoutingRule.id)).first(),
        )
        user, channel = session.scalars(select(User.id)).first(), world.channels["L1"]
    pages = {
        "liaison": ["/board", "/queue", "/queue/acknowledge-all", f"/incidents/{reference}", f"/calls/{call['id']}"],
        "supervisor": ["/", f"/incidents/{reference}", f"/incidents/{reference}/amend", "/incidents/new"],
        "duty": ["/watches/", f"/watches/{watch}", "/exercises/", f"/exercises/{exercise}"],
    }
    pages["liaison"] += [
        f"/incidents/{reference}/calls/new?exchange={exchange['id']}",
        "/password",
        f"/incidents/{waiting}",
    ]
    pages["supervisor"] += [
        "/exercises/new",
        f"/exercises/{exercise}/edit",
        "/exercises/import",
        "/reports",
        "/reports/review",
    ]
    pages["admin"] = [f"/admin/{p}" for p in ("channels", "channels/new", "policies", "policies/new", "rules")]
    pages["admin"] += [f"/admin/{p}" for p in ("rules/new", "agreements", "agreements/new", "users", "users/new")]
    pages["admin"] += [f"/admin/channels/{channel}/edit", f"/admin/channels/{channel}/checks", "/admin/changes"]
    pages["admin"] += [f"/admin/policies/{policy}/edit", f"/admin/rules/{rule}/edit", f"/admin/users/{user}"]
    repeated = {}
    for who, paths in pages.items():
        person = app.test_client()
        sign_in(person, who)
        for path in paths:
            answer = person.get(path)
            assert answer.status_code == 200, f"{path} as {who}: {answer.status_code}"
            ids = Counter(e.attrs["id"] for e in parse(answer.text).find_all(id=None))
            if twice := sorted(i for i, n in ids.items() if n > 1):
                repeated[f"{path} as {who}"] = twice
    assert not repeated, repeated


def test_the_running_step_the_rows_of_actions_and_the_report_tables_are_named(app, client, world):
    """The running ladder step was told by bold and colour alone; three rows of "Agreed action", "Who does it", "Due
    in" read alike (a refused due time named no row); the report tables' scroll boxes had no name."""
    add_counterpart_line(app, world)
    api_client = app.test_client()
    reference = acknowledged_incident(api_client, world)
    exchange = open_exchange(api_client, world, reference)
    sign_in(client, "liaison")
    incident = parse(client.get(f"/incidents/{reference}").text)
    [current] = incident.find_all("li", aria_current="step")
    assert current.text.startswith("Current step:") and "current" in current.attrs["class"], current.text

    path = f"/incidents/{reference}/calls/new?exchange={exchange['id']}"
    data = {"csrf_token": csrf(client, path), "channel_id": str(exchange["channel_id"]), "direction": "they_called"}
    started = client.post(f"/incidents/{reference}/calls/new", data={**data, "exchange_id": str(exchange["id"])})
    assert started.status_code == 302, started.status_code
    call = parse(client.get(started.headers["Location"]).text)
    rows = [e for e in call.find_all("fieldset") if "action-row" in e.attrs.get("class", "")]
    assert [r.find_all("legend")[0].text for r in rows] == [f"Action {n}" for n in range(1, len(rows) + 1)], rows
    assert len(rows) >= 2

    sign_in(client, "supervisor")
    report = parse(client.get("/reports").text)
    regions = [e for e in report.find_all("div", role="region") if "table-wrap" in e.attrs.get("class", "")]
    assert len(regions) == 3 and all(by_id(report, r.attrs["aria-labelledby"]).tag == "caption" for r in regions)


def test_a_summary_drafted_on_the_page_lands_on_the_new_draft_not_the_whole_panel(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(app.test_client(), world)
    sign_in(client, "liaison")
    path = f"/incidents/{reference}"
    drafted = client.post(f"/incidents/{reference}/summaries", data={"draft-csrf_token": csrf(client, path)})
    assert drafted.status_code == 302 and "#summary-" in drafted.headers["Location"], drafted.headers.get("Location")
