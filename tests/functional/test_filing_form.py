"""The filing form's traps closed (issue 16): nothing chosen for the officer, the sector from the region's
list, the reporting unit remembered per user, and the optional blocks folded on a phone."""

import html
import re
from datetime import UTC, timedelta

from sqlalchemy import func, select

from tests.support import filing_form, sign_in
from tracker.db import session_scope
from tracker.models import Incident, User
from tracker.timeutil import format_dtg, isoformat, utcnow

ERROR = re.compile(r'<small class="error" id="([a-z_]+)-error">([^<]*)</small>')


def _options(page: str, name: str) -> list[tuple[str, bool]]:
    """The options of the select called name: (value, selected)."""
    select_ = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select_, f"no select {name!r} on the page"
    return [
        (value, bool(selected))
        for selected, value in re.findall(r'<option( selected)?[^>]*value="([^"]*)"', select_[1])
    ]


def test_the_form_chooses_nothing_for_the_officer_and_focuses_the_first_field(client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    category = _options(page, "category")
    assert category[0][0] == "" and not any(selected for _, selected in category), category[:3]  # "Choose…" shows
    assert _options(page, "sector") == [("", False), ("Coast", False), ("North", False), ("South", False)]
    first = re.search(r"<(?:input|select|textarea)(?![^>]*type=\"hidden\")[^>]*>", page)[0]
    assert 'name="occurred_at"' in first and "autofocus" in first, first
    assert "54.412, 22.871 ·" not in page, "no fixed example line where the read-back stands"
    read_back = r'<small class="hint" id="position-hint" data-hint-for="position"> </small>'
    assert re.search(read_back, page), "the read-back line starts empty"
    assert 'placeholder="e.g. 54.412, 22.871' in page


def test_a_missing_category_and_an_unknown_sector_are_refused_beside_their_fields(client, world, app):
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, category="", sector="Sout"))
    assert answer.status_code == 422
    errors = dict(ERROR.findall(answer.text))
    assert errors.keys() == {"category", "sector"}, errors
    assert errors["category"] == "Choose the category." and "Not a sector of the region" in errors["sector"]
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_the_sector_left_to_the_position_is_derived_and_a_chosen_one_is_kept(client, world, app):
    sign_in(client, "duty")
    derived = client.post("/incidents/new", data=filing_form(client, sector=""))  # 34U FF 2142 3097: North
    chosen = client.post("/incidents/new", data=filing_form(client, sector="South", occurred_at="271500ZNOV26"))
    assert (derived.status_code, chosen.status_code) == (302, 302), chosen.text[:2000]
    with session_scope(app) as session:
        assert session.scalars(select(Incident.sector).order_by(Incident.id)).all() == ["North", "South"]


def test_a_sector_only_a_routing_rule_names_is_offered_too(client, world, app):
    rule = {"name": "Drill", "policy_id": world.policy_id, "sector": "DRILL"}
    assert client.post("/api/v1/rules", json=rule, headers=world.auth("admin")).status_code == 201
    sign_in(client, "duty")
    assert [value for value, _ in _options(client.get("/incidents/new").text, "sector")][-1] == "DRILL"
    filed = client.post("/incidents/new", data=filing_form(client, sector="DRILL"))
    assert filed.status_code == 302, filed.text[:2000]
    assert "rule “<bdi>Drill</bdi>”" in client.get(filed.headers["Location"]).text


def test_the_readback_names_the_positions_sector(client, world):
    sign_in(client, "duty")
    inside = client.get("/incidents/readback", query_string={"position": "54.412, 22.871"}).get_json()
    outside = client.get("/incidents/readback", query_string={"position": "10, 10"}).get_json()
    nothing = client.get("/incidents/readback", query_string={"position": ""}).get_json()
    assert (inside["sector"], outside["sector"]) == ("North", ""), (inside, outside)
    assert "sector" not in nothing and "position" not in nothing, "nothing typed, nothing read back"
    across = client.get("/incidents/readback", query_string={"position": "54.35, 23.38"}).get_json()
    assert across["sector"] == "" and across["position"].endswith("outside every sector of the region"), across
    at_sea = client.get("/incidents/readback", query_string={"position": "55.70, 22.80"}).get_json()
    assert at_sea["sector"] == "Coast", "the Coast desk keeps the waters beyond the maritime boundary"
    assert at_sea["position"].endswith("beyond the border line, in the other side's part of sector Coast"), at_sea


def test_the_readback_says_a_time_in_the_future_is_one(client, world):
    """The hint under the time read a time tomorrow back as a good reading ("... = 071200ZDEC26"), which the form
    then refused as in the future: the officer is told as the time is typed."""
    sign_in(client, "duty")
    tomorrow = utcnow() + timedelta(days=1)
    said = client.get("/incidents/readback", query_string={"occurred_at": format_dtg(tomorrow)}).get_json()
    assert said["occurred_at"].endswith("is in the future"), said
    past = client.get("/incidents/readback", query_string={"occurred_at": format_dtg(utcnow())}).get_json()
    assert "future" not in past["occurred_at"], past


def test_the_readback_reads_a_time_to_the_second_and_says_a_date_long_past_is_one_to_check(client, world):
    """ "070630Z DEC 1926" was read back and filed without a word, and a time typed with microseconds was read back
    with them, where every page shows a time to the second."""
    sign_in(client, "duty")
    said = client.get("/incidents/readback", query_string={"occurred_at": "070630Z DEC 1926"}).get_json()
    assert (
        said["occurred_at"].startswith("1926-12-07T06:30:00Z = 070630ZDEC")
        and "days ago: check the date" in said["occurred_at"]
    ), said
    exact = (utcnow() - timedelta(hours=1)).replace(microsecond=123456)
    said = client.get("/incidents/readback", query_string={"occurred_at": isoformat(exact)}).get_json()
    assert said["occurred_at"] == f"{isoformat(exact.replace(microsecond=0))} = {format_dtg(exact)}", said


def test_the_reporting_unit_is_remembered_for_each_officer(app, world):
    duty, supervisor = app.test_client(), app.test_client()
    sign_in(duty, "duty")
    sign_in(supervisor, "supervisor")
    unit = re.compile(r'<input[^>]*name="reporting_unit"[^>]*value="([^"]*)"')
    assert unit.search(duty.get("/incidents/new").text)[1] == "", "nothing to remember yet"
    filed = duty.post("/incidents/new", data=filing_form(duty, reporting_unit="  3rd Air Defence Battalion "))
    assert filed.status_code == 302, filed.text[:2000]
    assert unit.search(duty.get("/incidents/new").text)[1] == "3rd Air Defence Battalion"
    with session_scope(app) as session:
        units = dict(session.execute(select(User.username, User.last_reporting_unit)).tuples().all())
    assert units["duty"] == "3rd Air Defence Battalion" and units["supervisor"] is None, units
    assert "3rd Air Defence Battalion" not in supervisor.get("/incidents/new").text, "remembered per user"


def test_a_refused_filing_remembers_nothing(client, world, app):
    sign_in(client, "duty")
    assert (
        client.post("/incidents/new", data=filing_form(client, reporting_unit="Post 9", category="")).status_code == 422
    )
    with session_scope(app) as session:
        assert session.scalar(select(User.last_reporting_unit).where(User.username == "duty")) is None


def test_optional_blocks_are_folded_until_a_wide_screen_opens_them(client, world):
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    blocks = re.findall(r"<details class=\"wide (optional|observed-forces)\"([^>]*)>", page)
    assert len(blocks) == 4 and all("data-open-wide" in attrs and " open" not in attrs for _, attrs in blocks), blocks
    button, last_block = page.index(">File incident</button>"), page.rindex("</details>")
    narrative, first_block = page.index('name="narrative"'), page.index("<details")
    assert narrative < first_block < last_block < button, (
        "required fields first, then the folded blocks, then the button"
    )
    typed = client.post("/incidents/new", data=filing_form(client, category="", cpa_horizontal="30")).text
    assert re.search(r'<details class="wide optional" data-open-wide open>\s*<summary>Closest point', typed), (
        "a block with something typed in it stands open"
    )


def test_an_airprox_class_on_a_land_incident_is_refused_beside_its_field(client, world, app):
    sign_in(client, "duty")
    form = filing_form(client, domain="land", category="unintended_territory_entry", platform_kind="")
    answer = client.post("/incidents/new", data=form)
    assert answer.status_code == 422, answer.text[:2000]
    errors = dict(ERROR.findall(answer.text))
    assert errors.keys() == {"safety_risk"} and "collision" in errors["safety_risk"], errors
    assert client.post("/incidents/new", data={**form, "safety_risk": ""}).status_code == 302


def test_actions_taken_past_its_limit_is_taken_whole_by_the_box_and_refused_saying_by_how_much(client, world, app):
    """The box's maxlength (from the form's Length) cut a pasted account of the actions at 4,000 characters,
    without a word: what was past it was filed lost. The box takes the paste; the refusal counts the excess."""
    sign_in(client, "duty")
    page = client.get("/incidents/new").text
    box = re.search(r"<textarea[^>]*\bname=\"actions_taken\"[^>]*>", page)
    assert box and "maxlength" not in box.group(0), box and box.group(0)
    answer = client.post("/incidents/new", data=filing_form(client, actions_taken="Shadowed. " * 401))
    assert answer.status_code == 422
    errors = dict(ERROR.findall(answer.text))
    assert errors == {"actions_taken": "Longer than 4000 characters (4,010 given: 10 too many)."}, errors
    assert "Shadowed. Shadowed." in answer.text, "the text is given back to shorten"


def test_a_figure_that_is_no_whole_number_is_told_once_beside_its_field(client, world, app):
    """A number field takes 1e3 (a browser's own check lets it through); WTForms could not read it as a whole
    number, and the range rule then said "Number must be between 0 and 10000000." as well: wrong for 1000,
    and a second element with the same id under the field. One message, one id."""
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, troops="1e3"))
    assert answer.status_code == 422
    errors = ERROR.findall(answer.text)
    assert errors == [("troops", "not a whole number: “1e3” (digits 0-9)")], errors
    ids = re.findall(r'\bid="([^"]+)"', answer.text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_figure_too_large_for_a_float_is_refused_beside_its_field_not_a_500(client, world, app):
    """400 digits in a count: WTForms' range rule compared it with math.isnan, whose OverflowError ("int too
    large to convert to float") answered 500 on every form with a whole-number field (filing, amending, the
    admin's channels and policies)."""
    sign_in(client, "duty")
    answer = client.post("/incidents/new", data=filing_form(client, troops="9" * 400))
    assert answer.status_code == 422, answer.status_code
    assert ERROR.findall(answer.text) == [("troops", "Number must be between 0 and 10000000.")]
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_sector_the_pages_script_kept_on_the_positions_is_derived_and_one_chosen_is_given(client, world, app):
    """The form's script fills the sector in from the position (sector_followed=1): derived, it follows the
    position when it is amended; a sector chosen (or sent without the script) was given by hand, and stays."""
    sign_in(client, "duty")
    for occurred, sector, followed in (
        ("271500ZNOV26", "North", "1"),
        ("271510ZNOV26", "North", ""),
        ("271520ZNOV26", "", ""),
    ):
        form = filing_form(client, occurred_at=occurred, sector=sector, sector_followed=followed)
        answer = client.post("/incidents/new", data=form)
        assert answer.status_code == 302, dict(ERROR.findall(answer.text))
    with session_scope(app) as session:
        kept = session.execute(select(Incident.sector, Incident.sector_given).order_by(Incident.id)).all()
    assert [tuple(row) for row in kept] == [("North", False), ("North", True), ("North", False)], kept
    assert 'name="sector_followed" type="hidden"' in client.get("/incidents/new").text


def test_a_category_of_another_domain_is_refused_in_words_beside_it_and_the_form_is_kept(client, world, app):
    """Without the page's script (or with the domain changed after the category) the form can send one."""
    sign_in(client, "duty")
    form = filing_form(client, domain="air", category="stray_fire", narrative="Rounds landed near the post.")
    answer = client.post("/incidents/new", data=form)
    assert answer.status_code == 422, answer.text[:2000]
    errors = {field: html.unescape(text) for field, text in ERROR.findall(answer.text)}
    assert errors.keys() == {"category"}, errors
    assert errors["category"].startswith("stray fire is not a category of the air domain"), errors
    assert "stray_fire" not in errors["category"] and "unsafe intercept" in errors["category"], errors
    assert "Rounds landed near the post." in answer.text, "the narrative typed is kept"
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0


def test_a_category_of_another_domain_is_told_with_the_forms_other_problems(client, world, app):
    """Told in the same answer as the other fields' problems, not once they are mended (the API's 422 alike:
    test_category_filing.py)."""
    sign_in(client, "duty")
    form = filing_form(client, domain="air", category="weapon_aiming", position="somewhere", precedence="")
    answer = client.post("/incidents/new", data=form)
    assert answer.status_code == 422, answer.text[:2000]
    errors = {field: html.unescape(text) for field, text in ERROR.findall(answer.text)}
    assert errors.keys() == {"category", "position", "precedence"}, errors
    assert errors["category"].startswith("weapon aiming is not a category of the air domain"), errors


def test_the_time_typed_alone_or_with_its_day_is_read_back_and_filed_as_the_latest_such_moment(client, world, app):
    """Filing in seconds: "2310Z" as an officer says it, read back first, then filed as that moment."""
    sign_in(client, "duty")
    now = utcnow()
    earlier = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    typed = f"{earlier:%H%M}Z"
    read = client.get(f"/incidents/readback?occurred_at={typed}").get_json()
    assert read["occurred_at"] == f"{isoformat(earlier)} = {format_dtg(earlier)}", read
    answer = client.post("/incidents/new", data=filing_form(client, occurred_at=typed))
    assert answer.status_code == 302, html.unescape(answer.text)[:2000]
    day_time = (now - timedelta(hours=2)).replace(second=0, microsecond=0)
    again = client.post("/incidents/new", data=filing_form(client, occurred_at=f"{day_time:%d%H%M}Z"))
    assert again.status_code == 302, html.unescape(again.text)[:2000]
    with session_scope(app) as session:
        filed = sorted(session.scalars(select(Incident.occurred_at)))
    assert [moment.replace(tzinfo=moment.tzinfo or UTC) for moment in filed] == [day_time, earlier], filed


def test_a_time_in_the_future_is_told_at_once_with_a_wrong_position(client, world, app):
    """The form's own problems (a position that reads two ways) were told first, and the time in the future only
    once they were mended: the officer sent the form again to learn of a second problem already there."""
    sign_in(client, "duty")
    tomorrow = format_dtg(utcnow() + timedelta(days=1))
    answer = client.post("/incidents/new", data=filing_form(client, occurred_at=tomorrow, position="54 42 30 22 30"))
    assert answer.status_code == 422, answer.text[:2000]
    errors = dict(ERROR.findall(answer.text))
    assert errors.keys() == {"occurred_at", "position"}, errors
    assert "is in the future" in errors["occurred_at"] and "ambiguous" in errors["position"], errors
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
