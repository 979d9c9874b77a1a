"""The hand-computed after-action fixture: seven incidents and eight exchanges inserted directly.

Channels come from build_world: L1 (level 1), L2 (level 2), L3 (level 3), Other desk (level 3).
Two ladder snapshots:
    LADDER_1: step 1 [L1], step 2 [L2, L3]
    LADDER_2: step 1 [L2], step 2 [Other desk]

ref  prec  domain/category                sector  reported (UTC)        ladder  ack step  ack +s   resolve +s
A    Z     air/unsafe_intercept           North   2026-11-03 10:00:00   1       1         120      3600
B    Z     air/airspace_violation         North   2026-11-10 08:00:00   1       1 (*)     300      7200
C    Z     maritime/unsafe_manoeuvre      South   2026-11-20 12:00:00   1       2         900      -
D    Z     air/unsafe_intercept           South   2026-12-01 00:00:00   2       1         60.5     1800
E    O     land/stray_fire                -       2026-12-15 09:00:00   2       2         1500     5400
F    P     air/unsafe_intercept           North   2026-12-20 06:00:00   1       - (step 1 when resolved)  10800
G    R     maritime/weapon_aiming         North   2026-11-30 23:59:30   2       - (open, step 2)   -
(*) B's incident row says current_step 2, its acknowledged event says step 1: the event counts.

Exchanges (counterpart line "Attache line"):
X1 A closed, a received "reply" on record       -> answered
X2 A reply_received, overdue_count 1 (reply)   -> answered (late)
X3 C overdue, overdue_count 1                   -> overdue
X4 D meeting_requested, overdue_count 2         -> overdue
X5 E explanation_requested                      -> open
X6 G closed, no reply                           -> closed_unanswered
X7 F meeting_held                               -> answered
X8 B notified, our own (sent) message of kind "reply" -> open (only a received reply counts)
"""

from datetime import UTC, datetime, timedelta

from tracker.db import session_scope
from tracker.models import (
    ContactChannel,
    Domain,
    EscalationRisk,
    EventKind,
    Exchange,
    ExchangeMessage,
    ExchangeState,
    Incident,
    IncidentStatus,
    MessageDirection,
    Precedence,
    TimelineEvent,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# reference, precedence, domain, category, sector, reported, ladder, ack step, ack s, resolve s, current step, position
ROWS = [
    ("A", "Z", "air", "unsafe_intercept", "North", "2026-11-03T10:00:00", 1, 1, 120, 3600, 1, (54.412, 22.871)),
    ("B", "Z", "air", "airspace_violation", "North", "2026-11-10T08:00:00", 1, 1, 300, 7200, 2, (54.1, 23.3)),
    ("C", "Z", "maritime", "unsafe_manoeuvre", "South", "2026-11-20T12:00:00", 1, 2, 900, None, 2, (55.0, 20.5)),
    ("D", "Z", "air", "unsafe_intercept", "South", "2026-12-01T00:00:00", 2, 1, 60.5, 1800, 1, (53.9, 23.1)),
    ("E", "O", "land", "stray_fire", None, "2026-12-15T09:00:00", 2, 2, 1500, 5400, 2, (54.2, 22.0)),
    ("F", "P", "air", "unsafe_intercept", "North", "2026-12-20T06:00:00", 1, None, None, 10800, 1, (-12.5, -45.25)),
    ("G", "R", "maritime", "weapon_aiming", "North", "2026-11-30T23:59:30", 2, None, None, None, 2, None),
]
# Text a spreadsheet would run as a formula, on incident G (its reporting unit, narrative, actions, position).
INJECTED = {
    "reporting_unit": '=HYPERLINK("http://x")',
    "narrative": "+1 called",
    "actions_taken": "@SUM(A1)",
    "position_text": ' =HYPERLINK("http://x")',  # white space first: a spreadsheet skips it
}


def reference(letter: str) -> str:
    return f"AAR-2026-0000{'ABCDEFG'.index(letter) + 1}"


def _ladders(channels: dict[str, int]) -> dict[int, dict]:
    def entry(name, level):
        return {"id": channels[name], "name": name, "level": level}

    def ladder(name, steps):
        return {
            "rule_id": None,
            "rule_name": "Fixture",
            "policy_id": None,
            "policy_name": name,
            "repeat": 0,
            "steps": [
                {"number": n, "ack_seconds": 600, "channels": chans, "fallback": None}
                for n, chans in enumerate(steps, start=1)
            ],
        }

    return {
        1: ladder("Ladder one", [[entry("L1", 1)], [entry("L2", 2), entry("L3", 3)]]),
        2: ladder("Ladder two", [[entry("L2", 2)], [entry("Other desk", 3)]]),
    }


def _incident(letter, prec, domain, category, sector, reported, ladder, ack_step, ack_s, resolve_s, step, pos):
    reported_at = at(reported)
    acknowledged_at = reported_at + timedelta(seconds=ack_s) if ack_s is not None else None
    resolved_at = reported_at + timedelta(seconds=resolve_s) if resolve_s is not None else None
    status = IncidentStatus.RESOLVED if resolved_at else IncidentStatus.ACKNOWLEDGED if acknowledged_at else "open"
    incident = Incident(
        reference=reference(letter),
        occurred_at=reported_at - timedelta(minutes=10),
        reported_at=reported_at,
        reporting_unit=f"Unit {letter}",
        domain=Domain(domain),
        category=category,
        precedence=Precedence(prec),
        escalation_risk=EscalationRisk.SERIOUS,
        sector=sector,
        latitude=pos[0] if pos else None,
        longitude=pos[1] if pos else None,
        narrative=f'Narrative of {letter}, with a comma, and "quotes".',
        ladder=ladder,
        current_step=step,
        loop=0,
        status=IncidentStatus(status),
        acknowledged_at=acknowledged_at,
        acknowledged_by_label="liaison" if acknowledged_at else None,
        resolved_at=resolved_at,
        resolution="Explained by the other side." if resolved_at else None,
    )
    if letter == "G":
        for key, value in INJECTED.items():
            setattr(incident, key, value)
    events = [TimelineEvent(kind=EventKind.FILED, actor="duty", at=reported_at, details={"precedence": prec})]
    events.append(TimelineEvent(kind=EventKind.ROUTED, actor="router", at=reported_at, details={"channels": ["L1"]}))
    if acknowledged_at:
        details = {"step": ack_step, "loop": 0, "note": "", "told": []}
        events.append(TimelineEvent(kind=EventKind.ACKNOWLEDGED, actor="liaison", at=acknowledged_at, details=details))
    if resolved_at:
        details = {"resolution": incident.resolution}
        events.append(TimelineEvent(kind=EventKind.RESOLVED, actor="supervisor", at=resolved_at, details=details))
    incident.events = events
    return incident


def _exchanges(session, incidents: dict[str, Incident]) -> None:
    line = ContactChannel(
        name="Attache line", level=3, transport="outbox", address="attache@test.example", counterpart_line=True
    )
    session.add(line)
    rows = [
        ("A", ExchangeState.CLOSED, 0, [(MessageDirection.OUT, "notice"), (MessageDirection.IN, "reply")]),
        ("A", ExchangeState.REPLY_RECEIVED, ["reply"], []),
        ("C", ExchangeState.OVERDUE, ["reply"], [(MessageDirection.OUT, "explanation_request")]),
        ("D", ExchangeState.MEETING_REQUESTED, ["reply", "meeting"], []),
        ("E", ExchangeState.EXPLANATION_REQUESTED, 0, []),
        ("G", ExchangeState.CLOSED, 0, [(MessageDirection.OUT, "notice")]),
        ("F", ExchangeState.MEETING_HELD, 0, []),
        ("B", ExchangeState.NOTIFIED, 0, [(MessageDirection.OUT, "reply")]),
    ]
    for letter, state, overdue, messages in rows:
        incident = incidents[letter]
        exchange = Exchange(
            incident=incident,
            channel=line,
            state=state,
            opened_at=incident.reported_at + timedelta(hours=1),
            reply_seconds=172800,
            meeting_seconds=172800,
            overdue_count=len(overdue) if isinstance(overdue, list) else overdue,
        )
        exchange.messages = [
            ExchangeMessage(
                direction=direction,
                kind=kind,
                text=f"{kind} about {incident.reference}",
                at=incident.reported_at + timedelta(hours=2),
                channel=line,
                recorded_by="liaison",
            )
            for direction, kind in messages
        ]
        session.add(exchange)
        session.flush()
        for ran_out in overdue if isinstance(overdue, list) else []:  # which clock ran out, as the engine notes it
            details = {"exchange": exchange.id, "deadline_kind": ran_out}
            at = incident.reported_at + timedelta(hours=3)
            incident.events.append(
                TimelineEvent(kind=EventKind.EXCHANGE_OVERDUE, actor="engine", at=at, details=details)
            )


def insert_fixture(app, world) -> None:
    """Insert the seven incidents and eight exchanges described above."""
    with session_scope(app) as session:
        ladders = _ladders(world.channels)
        incidents = {}
        for row in ROWS:
            letter, *rest = row
            incidents[letter] = _incident(letter, *rest[:5], ladders[rest[5]], *rest[6:])
            session.add(incidents[letter])
        session.flush()
        _exchanges(session, incidents)
