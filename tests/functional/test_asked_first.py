"""Steps on the pages that cannot be taken back ask first, and the question carries what was typed:
resolving an incident here (the exchange endings, deletes, revoking a token and deactivating a user are
asked in their own pages' tests)."""

from tests.support import csrf, file_incident, sign_in


def test_resolving_on_the_page_asks_first_and_keeps_the_resolution_typed(client, world):
    reference = file_incident(client, world)["reference"]
    sign_in(client, "supervisor")
    page = f"/incidents/{reference}"
    typed = {"csrf_token": csrf(client, page), "resolution": "Weather balloon; the other side's note of 1400Z."}
    asked = client.post(f"{page}/resolve", data=typed)
    assert asked.status_code == 200 and f"Resolve {reference}?" in asked.text, asked.text[:1500]
    assert 'value="Weather balloon; the other side&#39;s note of 1400Z."' in asked.text, "carried to the second post"
    status = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()["status"]
    assert status == "open", "nothing happens before the answer"
    done = client.post(f"{page}/resolve", data={**typed, "confirm": "yes"})
    assert done.status_code == 302, done.text[:800]
    after = client.get(f"/api/v1/incidents/{reference}", headers=world.auth("duty")).get_json()
    assert (after["status"], after["resolution"]) == ("resolved", typed["resolution"]), after
