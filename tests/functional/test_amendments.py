"""Issue 14, amendments through the API: PATCH /incidents/<reference> corrects each amendable fact with one
`amended` timeline event holding it before and after, answers 409 with the facts on a stale version and
422 when nothing changes; an upgraded precedence shortens the running deadline (the sweep, driven here,
escalates at the new one), a duty officer's downgrade is refused; a change of routing facts previews a
route without moving the ladder; the exercise link follows time and place; an approved summary needs
approving again. Filing takes the closest point of approach with its units and the observed forces."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.exchange_support import acknowledged_incident, add_counterpart_line, api
from tests.exchange_support import open_exchange as open_via_api
from tests.exercise_support import INSIDE, create, hours
from tests.support import build_world, file_incident, incident_payload
from tracker import dispatch, jobs
from tracker.db import session_scope
from tracker.http import wiring
from tracker.models import Incident, Notification, NotificationKind, Precedence, Role, User, Watch
from tracker.services.accounts import people
from tracker.services.engine import escalation
from tracker.services.exchanges.four_eyes import STALE
from tracker.services.incidents import amending
from tracker.services.incidents.amending import NOTHING
from tracker.timeutil import format_dtg, isoformat, parse_moment, utcnow


def read(client, world, reference: str, who: str = "supervisor") -> dict:
    return api(client, world, "GET", f"/incidents/{reference}", who=who)


def amend(client, world, reference: str, who: str = "duty", status: int = 200, version=None, **facts) -> dict:
    """PATCH the incident as who with the version just read (unless given); check the status."""
    version = read(client, world, reference)["version"] if version is None else version
    response = client.patch(
        f"/api/v1/incidents/{reference}", json={"version": version, **facts}, headers=world.auth(who)
    )
    assert response.status_code == status, f"PATCH {facts} as {who}: {response.status_code} {response.get_json()}"
    return response.get_json()


def amended_events(body: dict) -> list[dict]:
    return [e for e in body["timeline"] if e["kind"] == "amended"]


def sweep(app, now) -> int:
    with session_scope(app) as session:
        return escalation.sweep_batch(session, now, 100, "test", dispatch.ack_links(app))


# Each fact: what is sent, the facts the event names, and the fact after as the event keeps it.
POSITION_SOUTH = "54 06 07N 023 18 40E"  # 7 km west of the border, sector South
FACTS = {
    "occurred_at": ({"occurred_at": "270905ZNOV26"}, ["occurred_at"], "2026-11-27T09:05:00Z"),
    # Filed with the sector given by hand (North): it stays (tests/functional/test_amendment_position.py).
    "position": ({"position": POSITION_SOUTH}, ["border_distance_km", "position"], None),
    "sector": ({"sector": "coast"}, ["sector"], "Coast"),
    "domain and category": (
        {"domain": "maritime", "category": "unsafe_manoeuvre"},
        ["category", "domain"],
        "unsafe_manoeuvre",
    ),
    "precedence": ({"precedence": "Z"}, ["precedence"], "Z"),
    "safety_risk": ({"safety_risk": "A"}, ["safety_risk"], "A"),
    "escalation_risk": ({"escalation_risk": "high"}, ["escalation_risk"], "high"),
    "platforms": (
        {"platforms": [{"kind": "fighter aircraft", "type": "Su-27", "callsign": "RED 21", "transponder_on": False}]},
        ["platforms"],
        [{"kind": "fighter aircraft", "type": "Su-27", "callsign": "RED 21", "transponder_on": False}],
    ),
    "cpa_horizontal": ({"cpa_horizontal": {"value": 0.3, "unit": "nm"}}, ["cpa_horizontal"], "0.3 NM (556 m)"),
    "cpa_vertical": ({"cpa_vertical": {"value": 100, "unit": "m"}}, ["cpa_vertical"], "100 m (328 ft)"),
    "actions_taken": ({"actions_taken": "Rocked wings, called on guard."}, ["actions_taken"], None),
    "observed_forces": (
        {"observed_forces": {"troops": 3000, "battle_tanks": 40}},
        ["observed_forces"],
        {"troops": 3000, "battle_tanks": 40},
    ),
}


@pytest.mark.parametrize("fact", FACTS)
def test_each_fact_is_amended_with_one_event_holding_it_before_and_after(client, world, fact):
    sent, named, kept = FACTS[fact]
    filed = file_incident(client, world)
    answer = amend(client, world, filed["reference"], version=filed["version"], **sent)

    [event] = amended_events(answer)
    details = event["details"]
    assert event["actor"] == "duty" and details["fields"] == named, details
    assert set(details["before"]) == set(details["after"]), "each changed fact has its value before and after"
    for name in named:
        assert details["before"][name] != details["after"][name], (name, details)
    after = details["after"][named[0] if fact != "domain and category" else "category"]
    if isinstance(after, dict) and "text" in after:
        after = after["text"]
    assert kept is None or after == kept, details
    assert answer["version"] == filed["version"] + 1, "one amendment, one new version"
    assert answer["amendment"]["event_id"] == event["id"] and answer["amendment"]["fields"] == named
    assert answer["narrative"] == filed["narrative"]


def test_an_amendment_to_a_sector_nobody_names_is_refused(client, world):
    filed = file_incident(client, world)
    answer = client.patch(
        f"/api/v1/incidents/{filed['reference']}",
        json={"version": filed["version"], "sector": "Costa"},
        headers=world.auth("duty"),
    )
    assert answer.status_code == 422, answer.get_json()
    assert "no sector 'Costa'" in answer.get_json()["error"]["details"]["sector"][0], answer.get_json()
    assert read(client, world, filed["reference"])["sector"] == filed["sector"] and not amended_events(
        read(client, world, filed["reference"])
    )


def test_the_answer_shows_each_fact_as_amended(client, world):
    filed = file_incident(client, world, sector=...)  # the sector left to the position: it follows it
    answer = amend(
        client,
        world,
        filed["reference"],
        occurred_at="2026-11-27T09:05:00Z",
        position=POSITION_SOUTH,
        cpa_horizontal={"value": 500, "unit": "ft"},
        cpa_vertical={"value": 150, "unit": "ft"},
        actions_taken="Rocked wings.",
        observed_forces={"troops": 3000},
    )
    assert answer["occurred_dtg"] == "270905ZNOV26"
    assert answer["position_text"] == POSITION_SOUTH and abs(answer["latitude"] - 54.1019) < 0.001
    assert answer["sector"] == "South" and 5 < answer["border_distance_km"] < 8, "located as filing does"
    assert (answer["cpa_horizontal_m"], answer["cpa_vertical_ft"]) == (152, 150)
    assert answer["cpa_horizontal"] == {"value": 500.0, "unit": "ft", "text": "500 ft (152 m)"}
    assert answer["cpa"] == "500 ft (152 m) horizontally, 150 ft vertically"
    assert (answer["actions_taken"], answer["observed_forces"]) == ("Rocked wings.", {"troops": 3000})
    assert len(amended_events(answer)) == 1


def test_a_narrative_addendum_stands_under_the_narrative_which_stays_as_filed(client, world):
    filed = file_incident(client, world)
    addendum = "Second look at the tape: the fighter carried two missiles."
    answer = amend(client, world, filed["reference"], narrative_addendum=addendum)
    assert answer["narrative"] == filed["narrative"]
    [added] = answer["addenda"]
    assert (added["by"], added["text"]) == ("duty", addendum) and added["at"].endswith("Z")
    [event] = amended_events(answer)
    assert event["details"]["addendum"] == addendum and event["details"]["after"] == {}


def test_the_messages_after_an_addition_to_the_narrative_state_it_under_the_narrative(app, client, world):
    """The line the incident escalates to reads what the pages read: the narrative as filed, then each
    addition with when and by whom; a message queued before it stays as it was."""
    filed = file_incident(client, world)
    reference, addendum = filed["reference"], "Second burst of fire at 1310Z, same heading."
    amend(client, world, reference, narrative_addendum=addendum)
    assert sweep(app, parse_moment(filed["next_escalation_at"]) + timedelta(seconds=1)) == 1
    with session_scope(app) as session:
        rows = session.execute(
            select(Notification.kind, Notification.body, Notification.payload)
            .join(Incident)
            .where(Incident.reference == reference)
        ).all()
    bodies = {kind: body for kind, body, _ in rows}
    facts = {kind: payload["incident"] for kind, _, payload in rows}
    [added] = read(client, world, reference)["addenda"]
    at = parse_moment(added["at"])
    when = f"{format_dtg(at)} ({isoformat(at.replace(microsecond=0))})"
    stated = f"Narrative:\n{filed['narrative']}\n\nAdded {when} by duty:\n{addendum}\n"
    assert stated in bodies[NotificationKind.ESCALATED], bodies[NotificationKind.ESCALATED]
    assert facts[NotificationKind.ESCALATED]["narrative_addenda"] == [added], "the webhook's facts hold it too"
    assert facts[NotificationKind.NOTIFIED]["narrative_addenda"] == []
    notified = bodies[NotificationKind.NOTIFIED]
    assert addendum not in notified and "\nAdded " not in notified, notified


def test_a_stale_version_answers_409_with_the_facts_as_they_stand(client, world):
    filed = file_incident(client, world)
    amend(client, world, filed["reference"], version=filed["version"], precedence="Z")
    refused = amend(client, world, filed["reference"], status=409, version=filed["version"], safety_risk="A")
    details = refused["error"]["details"]
    assert details["version"] == filed["version"] + 1 and details["status"] == "open"
    assert details["facts"]["precedence"] == "Z" and details["facts"]["safety_risk"] == "B", details
    body = read(client, world, filed["reference"])
    assert body["safety_risk"] == "B" and len(amended_events(body)) == 1, "the stale amendment changed nothing"


def test_a_version_the_incident_never_had_is_refused_as_such_not_as_a_change_since(client, world):
    filed = file_incident(client, world)
    refused = amend(client, world, filed["reference"], status=409, version=filed["version"] + 5, safety_risk="A")
    message = refused["error"]["message"]
    assert f"never had version {filed['version'] + 5}" in message and "changed since" not in message, message
    assert refused["error"]["details"]["version"] == filed["version"], refused
    stale = amend(client, world, filed["reference"], version=filed["version"], precedence="Z")
    assert stale["precedence"] == "Z"
    refused = amend(client, world, filed["reference"], status=409, version=filed["version"], safety_risk="A")
    assert "changed since you read it" in refused["error"]["message"], refused


def test_an_escalation_since_the_version_read_does_not_refuse_an_amendment_but_an_amendment_does(app, client, world):
    """The version moves with each step of the handling; an officer correcting the facts of an incident that
    escalated while the form was open is not sent back for it. Another amendment made since is: a second
    officer who read the facts before the first one's correction is refused, with the facts now."""
    filed = file_incident(client, world)
    reference = filed["reference"]
    assert sweep(app, parse_moment(filed["next_escalation_at"]) + timedelta(seconds=1)) == 1
    escalated = read(client, world, reference)
    assert escalated["current_step"] == 2 and escalated["version"] > filed["version"], escalated["version"]

    amended = amend(client, world, reference, version=filed["version"], safety_risk="A")
    assert amended["safety_risk"] == "A" and amended["current_step"] == 2, "the step the sweep took is kept"
    [event] = amended_events(read(client, world, reference))
    assert event["details"]["version"] == escalated["version"], "the event names the version it amended"
    for read_before in (filed["version"], escalated["version"]):
        refused = amend(client, world, reference, status=409, version=read_before, precedence="Z")
        facts = refused["error"]["details"]["facts"]
        assert facts["safety_risk"] == "A" and facts["precedence"] == "O", (read_before, refused)
    assert amend(client, world, reference, version=amended["version"], precedence="Z")["precedence"] == "Z"
    amended = read(client, world, reference)
    amend(client, world, reference, status=409, version=amended["version"] + 5, safety_risk="C")
    for never in (0, -1):
        amend(client, world, reference, status=422, version=never, safety_risk="C")
    assert read(client, world, reference)["safety_risk"] == "A"


def test_an_amendment_that_changes_nothing_is_refused_and_leaves_no_event(client, world):
    filed = file_incident(client, world)
    refused = amend(client, world, filed["reference"], status=422, safety_risk="B", precedence="O")
    assert refused["error"]["message"] == NOTHING
    body = read(client, world, filed["reference"])
    assert amended_events(body) == [] and body["version"] == filed["version"]


@pytest.mark.parametrize(
    ("facts", "path"),
    [
        ({"category": "unsafe_manoeuvre"}, ["category"]),  # a maritime category for an air incident
        ({"domain": "land"}, ["category"]),  # the air category does not fit the new domain
        ({"position": "somewhere near the coast"}, ["position"]),
        ({"occurred_at": "2099-01-01T00:00:00Z"}, ["occurred_at"]),
        ({"occurred_at": "not a time"}, ["occurred_at"]),
        ({"cpa_horizontal": {"value": 1, "unit": "km"}}, ["cpa_horizontal", "unit"]),
        ({"cpa_horizontal": {"value": 600, "unit": "nm"}}, ["cpa_horizontal"]),  # over 1,000 km
        ({"cpa_vertical": {"value": -5, "unit": "ft"}}, ["cpa_vertical", "value"]),
        ({"observed_forces": {"troops": -1}}, ["observed_forces", "troops"]),
        ({"observed_forces": {"ships": 3}}, ["observed_forces", "ships"]),
        ({"reporting_unit": "Another unit"}, ["reporting_unit"]),  # not a fact an amendment corrects
        ({"actions_taken": "x" * 4001}, ["actions_taken"]),
    ],
)
def test_invalid_facts_are_refused_naming_the_field(client, world, facts, path):
    filed = file_incident(client, world)
    refused = amend(client, world, filed["reference"], status=422, **facts)
    found = refused["error"]["details"]
    for name in path:
        assert name in found, f"{path} not in {refused['error']['details']}"
        found = found[name]
    assert amended_events(read(client, world, filed["reference"])) == []


def test_an_addendum_longer_than_the_narrative_limit_is_refused(client, world, app):
    filed = file_incident(client, world)
    too_long = "x" * (app.config["NARRATIVE_MAX_LENGTH"] + 1)
    refused = amend(client, world, filed["reference"], status=422, narrative_addendum=too_long)
    assert "narrative_addendum" in refused["error"]["details"]


def test_the_version_is_required(client, world):
    filed = file_incident(client, world)
    response = client.patch(
        f"/api/v1/incidents/{filed['reference']}", json={"precedence": "Z"}, headers=world.auth("duty")
    )
    assert response.status_code == 422 and "version" in response.get_json()["error"]["details"]


# -- precedence and the running deadline ---------------------------------------------------


@pytest.fixture
def precedence_timed(app):
    """A world whose two steps take their time from the precedence (no ack_seconds of their own)."""
    return build_world(app, ack_seconds=None)


@pytest.mark.both_databases  # the deadline is arithmetic on stored times; the sweep claims by it
def test_an_upgrade_shortens_the_deadline_at_once_and_the_sweep_escalates_at_the_new_one(app, client, precedence_timed):
    world = precedence_timed
    filed = file_incident(client, world, precedence="R")
    routine_deadline = parse_moment(filed["next_escalation_at"])
    assert [s["ack_seconds"] for s in filed["ladder"]["steps"]] == [21600, 21600]

    before = utcnow()
    answer = amend(client, world, filed["reference"], precedence="Z")
    deadline = parse_moment(answer["next_escalation_at"])
    assert before + timedelta(seconds=600) <= deadline <= utcnow() + timedelta(seconds=600), answer
    assert deadline < routine_deadline
    assert [s["ack_seconds"] for s in answer["ladder"]["steps"]] == [600, 600], "later steps take FLASH's window too"
    change = answer["amendment"]["deadline"]
    assert (parse_moment(change["before"]), parse_moment(change["after"])) == (routine_deadline, deadline)
    assert change["window_seconds"] == 600 and change["step"] == 1

    assert sweep(app, deadline - timedelta(seconds=1)) == 0
    assert sweep(app, deadline + timedelta(seconds=1)) == 1
    escalated = read(client, world, filed["reference"])
    assert escalated["current_step"] == 2 and escalated["status"] == "open"
    step_two = parse_moment(escalated["next_escalation_at"]) - (deadline + timedelta(seconds=1))
    assert step_two == timedelta(seconds=600), "step 2 runs on FLASH's window"
    assert [e["kind"] for e in escalated["timeline"] if e["kind"] in ("amended", "escalated")] == [
        "amended",
        "escalated",
    ]


def test_an_upgrade_never_lengthens_a_deadline_already_nearer(app, client, precedence_timed):
    """Seen 25 minutes into an IMMEDIATE step (5 minutes left), FLASH's 10 minutes would be later: kept."""
    filed = file_incident(client, precedence_timed, precedence="O")
    deadline = parse_moment(filed["next_escalation_at"])
    with app.test_request_context():
        limits = wiring.filing_limits()
    with session_scope(app) as session:
        duty = session.scalars(select(User).where(User.username == "duty")).one()
        amendment = amending.Amendment(filed["version"], {"precedence": Precedence.FLASH})
        amended = amending.amend(session, filed["reference"], amendment, duty, limits, deadline - timedelta(minutes=5))
        assert amended.incident.next_escalation_at == deadline, "min(deadline, now + 600 s) is the deadline"
        assert amended.deadline is not None and amended.deadline["after"] == amended.deadline["before"]
        assert [step["ack_seconds"] for step in amended.incident.steps] == [600, 600]


def test_a_step_with_its_own_time_keeps_its_deadline(client, world):
    filed = file_incident(client, world, precedence="O")  # the world's steps have 600 s of their own
    answer = amend(client, world, filed["reference"], precedence="Z")
    assert answer["next_escalation_at"] == filed["next_escalation_at"]
    assert answer["ladder"] == filed["ladder"]


def test_a_duty_officers_downgrade_is_refused_and_a_supervisors_never_lengthens_the_deadline(
    app, client, precedence_timed
):
    world = precedence_timed
    filed = file_incident(client, world, precedence="O")
    refused = amend(client, world, filed["reference"], who="duty", status=403, precedence="R")
    error = refused["error"]
    assert "from O IMMEDIATE to R ROUTINE takes a supervisor" in error["message"], error
    assert error["details"]["needs"] == "incidents:downgrade" and "supervisor" in error["details"]["allowed_roles"]
    body = read(client, world, filed["reference"])
    assert body["precedence"] == "O" and amended_events(body) == []
    # An upgrade and the other facts stay the duty officer's to amend.
    amend(client, world, filed["reference"], who="duty", safety_risk="A")

    answer = amend(client, world, filed["reference"], who="supervisor", precedence="R")
    assert answer["precedence"] == "R"
    assert answer["next_escalation_at"] == filed["next_escalation_at"], "a downgrade never lengthens the deadline"
    assert [s["ack_seconds"] for s in answer["ladder"]["steps"]] == [21600, 21600]


def test_a_higher_precedence_on_an_acknowledged_incident_shortens_its_acknowledgement_timeout(app, client, world):
    reference = acknowledged_incident(client, world, precedence="R")  # ROUTINE: 48 h before a reminder
    with session_scope(app) as session:
        before = session.scalars(select(Incident).where(Incident.reference == reference)).one().idle_check_at
    assert before > utcnow() + timedelta(hours=47)
    answer = amend(client, world, reference, who="liaison", precedence="Z")
    with app.test_request_context():
        window = wiring.idle_rules().timeout(Precedence.FLASH)
    deadline = answer["amendment"]["deadline"]
    assert (deadline["of"], deadline["window_seconds"]) == ("acknowledgement timeout", window.total_seconds()), deadline
    after = parse_moment(deadline["after"])
    assert utcnow() < after <= utcnow() + window, deadline
    with session_scope(app) as session:
        assert session.scalars(select(Incident).where(Incident.reference == reference)).one().idle_check_at == after
    lower = amend(client, world, reference, who="supervisor", precedence="R")["amendment"]["deadline"]
    assert lower["after"] == deadline["after"], "a lower precedence never lengthens it"


def test_an_amendment_cannot_put_the_time_it_happened_after_the_time_it_was_reported(app, client, world):
    filed = file_incident(client, world)
    reported = utcnow().replace(microsecond=0) - timedelta(hours=2)
    with session_scope(app) as session:  # reported two hours ago: an hour ago is past, but after that
        session.scalars(select(Incident).where(Incident.reference == filed["reference"])).one().reported_at = reported
    later = isoformat(reported + timedelta(minutes=60))
    refused = amend(client, world, filed["reference"], status=422, occurred_at=later)
    assert "is after it was reported" in refused["error"]["details"]["occurred_at"][0], refused
    earlier = isoformat(reported - timedelta(minutes=25))
    assert amend(client, world, filed["reference"], occurred_at=earlier)["occurred_at"] == earlier


# -- who may amend -----------------------------------------------------------------------


def test_who_may_amend(app, client, world):
    reference = file_incident(client, world)["reference"]
    with session_scope(app) as session:
        other = people.create_user(session, "duty2", "duty2-password", Role.DUTY_OFFICER, by=None)
        world.tokens["duty2"] = people.create_token(session, other, "test", by="admin")[1]
    refused = amend(client, world, reference, who="duty2", status=403)["error"]["message"]
    assert refused.startswith("duty2 (duty officer) may not amend"), "the role in words, as every refusal says it"
    assert amend(client, world, reference, who="outsider", status=403)["error"]["code"] == "forbidden"

    with session_scope(app) as session:  # duty2 takes the watch: the current watch's officer may amend
        officer = session.scalars(select(User).where(User.username == "duty2")).one()
        session.add(Watch(desk="Duty desk", officer_id=officer.id, starts_at=utcnow()))
    amend(client, world, reference, who="duty2", safety_risk="A")
    amend(client, world, reference, who="duty", safety_risk="C")  # its filer
    amend(client, world, reference, who="liaison", safety_risk="D")  # a member of a line it was routed to
    amend(client, world, reference, who="supervisor", safety_risk="E")
    with session_scope(app) as session:  # the watch handed over: no longer
        for watch in session.scalars(select(Watch)):
            watch.ends_at = utcnow()
    amend(client, world, reference, who="duty2", status=403, safety_risk="A")


def test_a_watch_at_another_desk_gives_no_right_over_an_incident_filed_from_a_desk(app, client, world):
    with session_scope(app) as session:
        other = people.create_user(session, "duty2", "duty2-password", Role.DUTY_OFFICER, by=None)
        world.tokens["duty2"] = people.create_token(session, other, "test", by="admin")[1]
    api(client, world, "POST", "/watches", {"desk": "Sea desk"}, who="duty", status=201)
    reference = file_incident(client, world)["reference"]  # filed by duty, on watch at the Sea desk
    api(client, world, "POST", "/watches", {"desk": "Anything I like"}, who="duty2", status=201)
    refused = amend(client, world, reference, who="duty2", status=403, safety_risk="A")
    assert "may not amend" in refused["error"]["message"]
    with session_scope(app) as session:  # the watch at the duty desk is not the one it was filed from either
        session.scalars(select(Watch).where(Watch.desk == "Anything I like")).one().desk = "Duty desk"
    amend(client, world, reference, who="duty2", status=403, safety_risk="A")

    with session_scope(app) as session:  # duty2 relieves duty at the Sea desk
        for watch in session.scalars(select(Watch).where(Watch.ends_at.is_(None))):
            watch.ends_at = utcnow()
        officer = session.scalars(select(User).where(User.username == "duty2")).one()
        session.add(Watch(desk="Sea desk", officer_id=officer.id, starts_at=utcnow()))
    amend(client, world, reference, who="duty2", safety_risk="A")


# -- what follows from an amendment --------------------------------------------------------


def test_a_change_of_routing_facts_previews_the_route_but_never_moves_the_ladder(client, world):
    policy = api(
        client,
        world,
        "POST",
        "/policies",
        {"name": "Sea ladder", "steps": [{"channel_ids": [world.channels["L3"]]}]},
        who="admin",
        status=201,
    )
    rule = {"name": "Sea incidents", "domain": "maritime", "policy_id": policy["id"]}
    api(client, world, "POST", "/rules", rule, who="admin", status=201)
    filed = file_incident(client, world)

    quiet = amend(client, world, filed["reference"], actions_taken="Rocked wings.")
    assert quiet["amendment"]["reroute"] is None, "no routing fact changed"

    answer = amend(client, world, filed["reference"], domain="maritime", category="unsafe_manoeuvre")
    reroute = answer["amendment"]["reroute"]
    assert reroute["differs"] is True and reroute["moved"] is False
    assert (reroute["running"]["rule"], reroute["running"]["policy"]) == ("Default", "Test ladder")
    assert (reroute["now"]["rule"], reroute["now"]["policy"]) == ("Sea incidents", "Sea ladder")
    assert reroute["now"]["steps"] == [{"ack_seconds": 1800, "channels": ["L3"]}]
    assert answer["ladder"] == filed["ladder"] and answer["current_step"] == 1
    assert [(n["channel"], n["step"]) for n in answer["notifications"]] == [("L1", 1)], "nobody new was called"
    assert amended_events(answer)[-1]["details"]["reroute"] == reroute


def test_a_new_time_or_place_links_the_incident_to_the_exercise_that_holds_it(client, world):
    create(client, world)  # EASTERN RAMPART: the square east of the border, from 3 h to 1 h ago
    filed = file_incident(client, world, occurred_at=isoformat(hours(-2)))
    assert filed["exercise"] is None

    inside = amend(client, world, filed["reference"], position=f"{INSIDE[0]}, {INSIDE[1]}")
    assert inside["exercise"]["name"] == "EASTERN RAMPART"
    [linked] = [e for e in inside["timeline"] if e["kind"] == "exercise_linked"]
    assert linked["details"]["reason"] == "amended by duty"
    facts = amended_events(inside)[-1]["details"]
    assert (facts["before"]["exercise"], facts["after"]["exercise"]) == (None, "EASTERN RAMPART")

    later = amend(client, world, filed["reference"], occurred_at=isoformat(hours(-0.5)))
    assert later["exercise"] is None, "after the exercise ended: no longer inside it"
    assert [e["details"].get("unlinked_from") for e in later["timeline"] if e["kind"] == "exercise_linked"] == [
        None,
        "EASTERN RAMPART",
    ]


@pytest.mark.both_databases  # the facts digest round-trips through either engine's JSON and floats
def test_an_approved_summary_needs_approval_again_after_an_amendment_of_a_fact_it_states(app, client, world):
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    exchange = open_via_api(client, world, reference, text=None)
    summary = api(
        client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": exchange["id"]}, status=201
    )
    approve = {"version": summary["version"]}
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", approve, who="supervisor")

    # Observed forces are no fact a summary states: the approval stands.
    unstated = amend(client, world, reference, observed_forces={"troops": 3000})
    assert unstated["amendment"]["reapproval"] == []
    assert api(client, world, "GET", f"/summaries/{summary['id']}")["needs_approval"] is False

    answer = amend(client, world, reference, position=POSITION_SOUTH)
    assert answer["amendment"]["reapproval"] == [
        {"kind": "summary", "id": summary["id"], "exchange_id": exchange["id"], "approved_by": "supervisor"}
    ]
    assert amended_events(answer)[-1]["details"]["reapproval"] == answer["amendment"]["reapproval"]
    stale = api(client, world, "GET", f"/summaries/{summary['id']}")
    assert stale["status"] == "approved" and stale["needs_approval"] is True
    refused = api(client, world, "POST", f"/summaries/{summary['id']}/send", {}, status=409)
    assert refused["error"]["message"] == STALE


@pytest.mark.both_databases  # the digest with the addenda round-trips through either engine's JSON
def test_an_addition_to_the_narrative_asks_again_for_the_approval_of_a_text_awaiting_sending(app, client, world):
    """The narrative was released, a summary stating it approved; then the filer adds "two drones, not
    one". The amendment names the summary, and it cannot go out on the old approval (409)."""
    add_counterpart_line(app, world)
    reference = acknowledged_incident(client, world)
    api(client, world, "PATCH", f"/incidents/{reference}/releasability", {"narrative": True}, who="supervisor")
    exchange = open_via_api(client, world, reference, text=None)
    summary = api(
        client, world, "POST", f"/incidents/{reference}/summaries", {"exchange_id": exchange["id"]}, status=201
    )
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": summary["version"]}, who="supervisor")

    answer = amend(client, world, reference, narrative_addendum="Second look at the track: two drones, not one.")
    assert answer["amendment"]["reapproval"] == [
        {"kind": "summary", "id": summary["id"], "exchange_id": exchange["id"], "approved_by": "supervisor"}
    ]
    assert api(client, world, "GET", f"/summaries/{summary['id']}")["needs_approval"] is True
    refused = api(client, world, "POST", f"/summaries/{summary['id']}/send", {}, status=409)
    assert refused["error"]["message"] == STALE
    again = api(client, world, "GET", f"/summaries/{summary['id']}")
    # Approved again as it stands, it would still say "one drone": the addition goes into it first.
    body = {"version": again["version"]}
    unsaid = api(client, world, "POST", f"/summaries/{summary['id']}/approve", body, who="supervisor", status=422)
    assert "narrative" in unsaid["error"]["details"], unsaid
    added = {"text": again["text"] + "Second look at the track: two drones, not one.\n", "version": again["version"]}
    again = api(client, world, "PATCH", f"/summaries/{summary['id']}", added)
    api(client, world, "POST", f"/summaries/{summary['id']}/approve", {"version": again["version"]}, who="supervisor")
    assert api(client, world, "POST", f"/summaries/{summary['id']}/send", {})["status"] == "sent"


# -- filing with units and observed forces -----------------------------------------------


def test_filing_takes_the_closest_point_of_approach_with_its_units_and_the_observed_forces(client, world):
    body = file_incident(
        client,
        world,
        cpa_horizontal={"value": 0.3, "unit": "nm"},
        cpa_vertical={"value": 100, "unit": "m"},
        observed_forces={"troops": 3000, "artillery_pieces": 12},
    )
    assert (body["cpa_horizontal_m"], body["cpa_vertical_ft"]) == (556, 328)
    assert body["cpa_horizontal"]["text"] == "0.3 NM (556 m)" and body["cpa_vertical"]["text"] == "100 m (328 ft)"
    assert body["observed_forces"] == {"troops": 3000, "artillery_pieces": 12}

    legacy = file_incident(client, world, cpa_horizontal_m=30, cpa_vertical_ft=100)
    assert legacy["cpa"] == "30 m horizontally, 100 ft vertically"
    assert legacy["cpa_horizontal"] == {"value": 30.0, "unit": "m", "text": "30 m"}
    assert file_incident(client, world)["cpa_horizontal"] is None


@pytest.mark.parametrize(
    "facts",
    [
        {"cpa_horizontal": {"value": 30, "unit": "m"}, "cpa_horizontal_m": 30},
        {"cpa_horizontal": {"value": 30, "unit": "parsecs"}},
        {"observed_forces": {"troops": 1.5}},
        {"observed_forces": {"submarines": 1}},
    ],
)
def test_filing_refuses_a_doubled_or_unknown_measure(client, world, facts):
    response = client.post("/api/v1/incidents", json=incident_payload(**facts), headers=world.auth("duty"))
    assert response.status_code == 422, response.get_json()


def test_a_raised_precedence_is_told_to_the_lines_holding_the_step_with_the_new_deadline(app, client, precedence_timed):
    """L1 was called at ROUTINE with six hours to acknowledge; raised to FLASH, it has ten minutes. L1 is told
    so, by a call to act with its own link, and a second raise on the same step is told again; lowering it,
    or raising it once acknowledged, calls nobody."""
    world = precedence_timed
    filed = file_incident(client, world, precedence="R")
    reference = filed["reference"]
    jobs.deliver(app)
    answer = amend(client, world, reference, precedence="P", narrative_addendum="Now two aircraft.")
    assert answer["amendment"]["told"] == ["L1"], answer["amendment"]
    answer = amend(client, world, reference, who="supervisor", precedence="Z")
    assert answer["amendment"]["told"] == ["L1"], "a second raise on the same step is told too"
    deadline = parse_moment(answer["next_escalation_at"])
    with session_scope(app) as session:
        rows = session.execute(
            select(Notification.kind, Notification.subject, Notification.body, Notification.payload)
            .join(Incident)
            .where(Incident.reference == reference, Notification.kind == NotificationKind.UPGRADED)
            .order_by(Notification.id)
        ).all()
    assert len(rows) == 2, rows
    _, subject, body, payload = rows[-1]
    assert subject.startswith(f"UNCLASSIFIED // REL TO EASTLAND - FLASH {reference}"), subject
    assert subject.endswith("PRECEDENCE RAISED"), subject
    assert "PRECEDENCE RAISED to FLASH by supervisor" in body and "(it was PRIORITY (P))" in body, body
    assert f"Acknowledge by {format_dtg(deadline)}" in body and "Ladder step:  1 of 2\n" in body, body
    assert "Now two aircraft." in body, "the addition of the first raise is in the second's text"
    assert payload["acknowledge"]["token"] and (payload["step"], payload["loop"]) == (1, 0), payload
    first = rows[0][2]
    assert "PRECEDENCE RAISED to PRIORITY by duty" in first and "Now two aircraft." in first, first

    jobs.deliver(app)
    ack = client.post("/api/v1/acks", json={"token": payload["acknowledge"]["token"]})
    assert ack.status_code == 200, ack.get_json()
    assert read(client, world, reference)["status"] == "acknowledged"
    timeline = read(client, world, reference)["timeline"]
    assert [e["details"].get("told") for e in amended_events({"timeline": timeline})] == [["L1"], ["L1"]]

    other = file_incident(client, world, precedence="O")["reference"]
    assert amend(client, world, other, who="supervisor", precedence="R")["amendment"]["told"] == []
    acknowledged = acknowledged_incident(client, world, precedence="R")
    assert amend(client, world, acknowledged, who="supervisor", precedence="Z")["amendment"]["told"] == []
    with session_scope(app) as session:
        told = session.scalars(select(Notification.incident_id).where(Notification.kind == NotificationKind.UPGRADED))
        assert len(told.all()) == 2, "nothing more was told"


def test_an_addition_alone_moves_the_version_so_a_stale_amendment_is_refused_whatever_came_between(client, world):
    """An addition to the narrative alone left the version as it was: the same stale amendment was taken, or refused
    (409) when an acknowledgement happened to move the version in between."""
    for acknowledged_between in (False, True):
        reference = file_incident(client, world)["reference"]
        read_at = read(client, world, reference)["version"]
        added = amend(client, world, reference, who="supervisor", version=read_at, narrative_addendum="It turned back.")
        assert added["version"] == read_at + 1, added
        if acknowledged_between:
            api(client, world, "POST", f"/incidents/{reference}/acknowledge", {}, who="liaison")
        amend(client, world, reference, version=read_at, status=409, actions_taken="Scrambled QRA")
