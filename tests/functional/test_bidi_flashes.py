"""The line a page says of what a form did (a flash) isolates each name people typed in it: "Channel “<Hebrew>”
created." written as plain text drew the quotes and the words after the name into its right-to-left run. The line
is kept in the session cookie till it is shown, as markup (Flask's tagged JSON keeps it), and what was typed stays
escaped: a name that reads as HTML is shown as its text."""

from tests import support
from tests.functional.test_accessible_pages import Element, parse
from tests.functional.test_admin_pages import channel_form, sign_in, submit
from tests.functional.test_bidi_pages import standing_alone

CHANNEL = "קו חם צפון"  # Hebrew: "the northern hotline"
DESK = "مكتب العمليات"  # Arabic: "the operations desk"
MARKUP = '<img src="x" onerror="alert(1)"> & <b>bold</b>'


def flash_lines(page: str) -> list[Element]:
    return [p for p in parse(page).find_all("p") if "flash" in p.attrs.get("class", "").split()]


def assert_flash_isolates(page: str, *typed: str) -> Element:
    """The page's one flash line, each typed name in it inside an isolate; returns it."""
    (line,) = flash_lines(page)
    for text in typed:
        found, bare = standing_alone(line, text)
        assert found, f"the flash line does not name {text!r}: {line.text!r}"
        assert not bare, f"the flash line names {text!r} without an isolate:\n" + "\n".join(bare)
    return line


def test_the_flash_line_of_a_created_channel_isolates_its_name(app, world):
    admin = sign_in(app, "admin")
    created = submit(admin, "/admin/channels/new", channel_form(name=CHANNEL))
    assert created.status_code == 302, created.text[:2000]
    line = assert_flash_isolates(admin.get("/admin/channels").text, CHANNEL)
    assert line.text == f"Channel “ {CHANNEL} ” created.", "our words around the isolate, in their order"


def test_the_flash_line_of_a_started_watch_isolates_the_desk_and_the_officer(client, world):
    support.sign_in(client, "duty")
    started = client.post("/watches/", data={"csrf_token": support.csrf(client, "/watches/"), "desk": DESK})
    assert started.status_code == 302, started.text[:2000]
    line = assert_flash_isolates(client.get(started.headers["Location"]).text, DESK, "duty")
    assert line.text == f"Watch started at {DESK} , kept by duty ."


def test_a_name_that_reads_as_html_stays_text_in_the_flash_line(app, world):
    admin = sign_in(app, "admin")
    created = submit(admin, "/admin/channels/new", channel_form(name=MARKUP))
    assert created.status_code == 302, created.text[:2000]
    page = admin.get("/admin/channels").text
    line = assert_flash_isolates(page, MARKUP)
    assert not line.find_all("img") and not line.find_all("b"), f"the name became markup: {line}"
    assert "&lt;img src=&#34;x&#34; onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
