"""What the pages say of a service's refusal, the confirm steps and the titles of the admin pages isolate each name
people typed in them (web/bidi.py told, said, |bdi_text), not the whole line: "channel 'קו חם צפון' is used by a
policy" written as plain text drew the quotes and the words after the name into its right-to-left run. The API says
the same refusal as plain text, word for word. A name that reads as HTML stays text (escaped once), and a name kept
with a bidirectional control shows it as its marker, inside the isolate."""

from sqlalchemy import select

from tests import support
from tests.exchange_support import acknowledged_incident, add_counterpart_line, open_exchange
from tests.functional.test_accessible_pages import parse
from tests.functional.test_admin_pages import channel_form, sign_in, submit
from tests.functional.test_bidi_flashes import assert_flash_isolates, flash_lines
from tests.functional.test_bidi_pages import standing_alone
from tracker import dispatch
from tracker.db import session_scope
from tracker.models import ContactChannel, Incident

CHANNEL = "קו חם צפון"  # Hebrew: "the northern hotline"
LINE = "خط الاتصال الشمالي"  # Arabic: "the northern line of communication"
UNIT = "גדוד 12"  # Hebrew: "battalion 12"
MARKUP = '<img src="x" onerror="alert(1)"> & <b>bold</b>'
RLO, PDF = "\u202e", "\u202c"
KEPT = f"North {RLO}LAED{PDF}"  # a name kept before bidirectional controls were refused: reads "North DEAL"
KEPT_SHOWN = "North [U+202E]LAED[U+202C]"
IN_USE = "is used by a policy, a running incident or past notifications"


def named(app, channel_id: int, name: str) -> None:
    """The channel renamed as its row holds it (a control in it kept before the rule)."""
    with session_scope(app) as session:
        session.get_one(ContactChannel, channel_id).name = name


def test_a_refusal_flashed_isolates_the_name_it_quotes_and_the_api_says_it_plain(app, client, world):
    """Deleting a line a policy uses is refused, its name quoted: the flash line isolates the name, our words and
    the quotes around it stay in their order; the API's message is the plain sentence as before."""
    line = world.channels["L1"]
    named(app, line, CHANNEL)
    admin = sign_in(app, "admin")
    refused = admin.post(
        f"/admin/channels/{line}/delete", data={"csrf_token": support.csrf(admin, "/admin/channels"), "confirm": "yes"}
    )
    assert refused.status_code == 302, refused.text[:2000]
    page = admin.get(refused.headers["Location"]).text
    assert_flash_isolates(page, CHANNEL)
    assert f"Channel <bdi>&#39;{CHANNEL}&#39;</bdi> {IN_USE}.</p>" in page, "our words and the quotes in their order"

    answer = client.delete(f"/api/v1/channels/{line}", headers=world.auth("admin"))
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"]["message"] == f"channel '{CHANNEL}' {IN_USE}"


def test_a_refusal_beside_a_field_isolates_the_names_it_quotes(app, world):
    """A name taken is said beside the name field, the name given and the one it clashes with each isolated."""
    named(app, world.channels["L1"], CHANNEL)
    admin = sign_in(app, "admin")
    refused = submit(admin, "/admin/channels/new", channel_form(name=CHANNEL))
    assert refused.status_code == 422, refused.text[:2000]
    page = parse(refused.text)
    found, bare = standing_alone(page, CHANNEL)
    assert found == 2, f"the name and the one it clashes with, beside the field: {found}"
    assert not bare, "\n".join(bare)
    assert f"he name <bdi>&#39;{CHANNEL}&#39;</bdi> is taken (by <bdi>&#39;{CHANNEL}&#39;</bdi>)" in refused.text


def test_the_refusal_of_an_incident_page_form_isolates_the_line_it_names(app, client, world):
    """An exchange opened again over a line that has one open: the page's form is refused (act_on_incident,
    explain), the flash line and the line above the form name the line in an isolate."""
    add_counterpart_line(app, world, name=LINE)
    reference = acknowledged_incident(client, world)
    open_exchange(client, world, reference, line=LINE)
    support.sign_in(client, "liaison")
    path = f"/incidents/{reference}"
    data = {"csrf_token": support.csrf(client, path), "open-exchange-channel_id": str(world.channels[LINE])}
    refused = client.post(f"{path}/exchanges", data=data)
    assert refused.status_code == 422, refused.text[:2000]
    [line] = flash_lines(refused.text)
    found, bare = standing_alone(line, LINE)
    assert found and not bare, line
    assert f"{reference} already has an open exchange over <bdi>{LINE}</bdi>" in refused.text, line


def test_the_confirm_step_isolates_the_name_and_shows_a_kept_control_as_its_marker(app, world):
    line = world.channels["L1"]
    admin = sign_in(app, "admin")
    for name, shown in ((CHANNEL, CHANNEL), (KEPT, KEPT_SHOWN)):
        named(app, line, name)
        asked = admin.post(
            f"/admin/channels/{line}/delete", data={"csrf_token": support.csrf(admin, "/admin/channels")}
        )
        assert asked.status_code == 200, asked.text[:2000]
        assert f'<h1 id="confirm-title">Delete the channel “<bdi>{shown}</bdi>”?</h1>' in asked.text, asked.text
        assert RLO not in asked.text and PDF not in asked.text


def test_the_title_and_heading_of_an_edit_page_isolate_the_name(app, world):
    """The heading isolates the name in a <bdi>; the title, text where no element stands, between FIRST STRONG
    ISOLATE and POP DIRECTIONAL ISOLATE, written as references. Neither escapes a name twice, and a control kept in
    one is shown as its marker in both."""
    line = world.channels["L1"]
    admin = sign_in(app, "admin")
    escaped = "&lt;img src=&#34;x&#34; onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    for name, shown in ((CHANNEL, CHANNEL), (MARKUP, escaped), (KEPT, KEPT_SHOWN)):
        named(app, line, name)
        page = admin.get(f"/admin/channels/{line}/edit").text
        assert f"<title>Edit &#x2068;{shown}&#x2069; · Incident tracker</title>" in page, page[:600]
        assert f"<h1>Edit channel “<bdi>{shown}</bdi>”</h1>" in page, page[:2000]
        assert "&amp;lt;" not in page and RLO not in page, page[:2000]
    named(app, line, CHANNEL)
    page = admin.get(f"/admin/channels/{line}/checks").text
    assert f"<title>Checks of &#x2068;{CHANNEL}&#x2069; · Incident tracker</title>" in page, page[:600]


def test_the_acknowledge_links_page_isolates_the_reporting_unit(app, client, world):
    reference = support.file_incident(client, world, reporting_unit=UNIT)["reference"]
    with session_scope(app) as session:
        incident_id = session.scalar(select(Incident.id).where(Incident.reference == reference))
    token = dispatch.ack_links(app).signer.issue(
        "ack", incident=incident_id, channel=world.channels["L1"], recipient="l1@test.example"
    )
    page = client.get(f"/links/ack/{token}")
    assert page.status_code == 200, page.text[:2000]
    found, bare = standing_alone(parse(page.text), UNIT)
    assert found and not bare, "\n".join(bare)
