"""Those who serve only a line to the other side work its exchanges, never the incident itself: a message
that went out on their line gives them no right to resolve, amend or re-mark our incident."""

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api
from tests.support import build_world


def test_staff_of_a_counterpart_line_alone_gain_no_right_over_the_incident_talked_about(app, client):
    world = build_world(app)
    line = add_counterpart_line(app, world, members=["outsider"])  # the outsider serves this line only
    reference = acknowledged_incident(client, world)
    exchange = api(
        client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": line}, who="outsider", status=201
    )
    said = {"direction": "in", "text": "We have your call."}
    message = api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", said, who="outsider", status=201)
    # our standard receipt goes out on the line without a second person's approval
    api(
        client,
        world,
        "POST",
        f"/exchanges/{exchange['id']}/receipts",
        {"message_id": message["id"]},
        who="outsider",
        status=201,
    )
    incident = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    assert any(n["kind"] == "counterpart" for n in incident["notifications"]), incident["notifications"]

    attempts = [
        ("POST", f"/incidents/{reference}/resolve", {"resolution": "Closed by the attaché alone."}),
        ("PATCH", f"/incidents/{reference}/marking", {"classification": "RESTRICTED"}),
        ("PATCH", f"/incidents/{reference}", {"version": incident["version"], "narrative_addendum": "Rewritten."}),
    ]
    answers = {
        path.rsplit("/", 1)[-1]: client.open(f"/api/v1{path}", method=method, json=body, headers=world.auth("outsider"))
        for method, path, body in attempts
    }
    assert {name: answer.status_code for name, answer in answers.items()} == dict.fromkeys(answers, 403), {
        name: answer.get_json() for name, answer in answers.items()
    }
    after = api(client, world, "GET", f"/incidents/{reference}", who="supervisor")
    assert (after["status"], after["version"]) == ("acknowledged", incident["version"]), "nothing changed"
    # the exchange itself stays theirs to work
    api(client, world, "POST", f"/exchanges/{exchange['id']}/messages", said, who="outsider", status=201)


def test_an_approval_given_for_one_line_does_not_carry_a_summary_over_a_line_its_approver_does_not_serve(app, client):
    world = build_world(app)
    east = add_counterpart_line(app, world, "Eastland liaison mission", members=["liaison", "outsider"])
    west = add_counterpart_line(
        app, world, "Westland hotline", members=["liaison"], address="hotline@westland.test", counterpart="Westland MoD"
    )
    reference = acknowledged_incident(client, world)
    over_east = api(client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": east}, status=201)
    over_west = api(client, world, "POST", f"/incidents/{reference}/exchanges", {"channel_id": west}, status=201)

    def approved_summary(approver: str) -> dict:
        summary = api(
            client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": over_east["id"]}, status=201
        )
        return api(
            client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who=approver
        )

    by_outsider = approved_summary("outsider")  # serves the Eastland line only: may approve for it
    refused = client.post(
        f"/api/v1/summaries/{by_outsider['id']}/send",
        json={"exchange_id": over_west["id"]},
        headers=world.auth("liaison"),
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"] == {
        "approved_by": "outsider",
        "approved_for_exchange": over_east["id"],
        "exchange_id": over_west["id"],
    }
    assert [
        m for m in api(client, world, "GET", f"/exchanges/{over_west['id']}")["messages"] if m["direction"] == "out"
    ] == []
    api(client, world, "POST", f"/summaries/{by_outsider['id']}/send", {"exchange_id": over_east["id"]})  # its own line

    by_supervisor = approved_summary("supervisor")  # may approve on every line
    api(client, world, "POST", f"/summaries/{by_supervisor['id']}/send", {"exchange_id": over_west["id"]})
    sent = api(client, world, "GET", f"/exchanges/{over_west['id']}")["messages"]
    assert [(m["kind"], m["approved_by"]) for m in sent if m["direction"] == "out"] == [("summary", "supervisor")]
