"""The other side's platform as the pages say it: a transponder or radio contact left "not known" is not said at all,
never as "off" or "no", and one that is known reads in words on the incident page, its print and the timeline."""

import re

from tests.support import file_incident, filing_form, sign_in

EASTLAND_FIGHTER = {"kind": "fighter aircraft", "nationality": "Eastland"}


def platform_lines(page: str) -> list[str]:
    """Each platform's line as read on the incident page or its print, tags left out."""
    found = re.findall(r"<(?:dt|th scope=\"row\")>Platform[^<]*</(?:dt|th)><(?:dd|td)>(.*?)</(?:dd|td)>", page, re.S)
    assert found, "no platform on the page"
    return [re.sub(r"<[^>]+>", "", line).strip() for line in found]


def test_a_transponder_and_radio_left_not_known_are_not_said_to_be_off(client, world):
    sign_in(client, "duty")
    form = filing_form(client)
    form.update(platform_kind="UAV", platform_nationality="Eastland", platform_transponder="", platform_radio="")
    answer = client.post("/incidents/new", data=form)
    assert answer.status_code == 302, answer.text[:2000]
    reference = answer.headers["Location"].rsplit("/", 1)[-1]

    for path in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
        assert platform_lines(client.get(path).text) == ["UAV · Eastland"], f"{path}: not known is not off"


def test_a_known_transponder_and_radio_contact_read_in_words_everywhere(client, world):
    filed = file_incident(
        client,
        world,
        platforms=[{**EASTLAND_FIGHTER, "transponder_on": False, "radio_contact": True}],
    )
    reference = filed["reference"]
    sign_in(client, "duty")
    said = "fighter aircraft · Eastland · transponder off · radio contact yes"
    for path in (f"/incidents/{reference}", f"/incidents/{reference}/print"):
        assert platform_lines(client.get(path).text) == [said], path


def test_the_timeline_says_an_amended_platform_in_words_not_true_or_false(client, world):
    reference = file_incident(client, world)["reference"]  # transponder off, radio contact not known
    answer = client.patch(
        f"/api/v1/incidents/{reference}",
        json={
            "version": 1,
            "platforms": [{**EASTLAND_FIGHTER, "transponder_on": True, "radio_contact": False}],
        },
        headers=world.auth("duty"),
    )
    assert answer.status_code == 200, answer.get_json()
    sign_in(client, "duty")
    page = client.get(f"/incidents/{reference}").text
    timeline = re.sub(r"<[^>]+>", "", page[page.index('id="timeline"') :])
    assert (
        "Platforms: fighter aircraft · Eastland · transponder off → "
        "fighter aircraft · Eastland · transponder on · radio contact no" in timeline
    ), timeline[:3000]
