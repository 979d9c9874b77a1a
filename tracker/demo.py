"""A fictional border region (Northmark and Eastland) to try the tracker with."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Domain, EscalationRisk, NotifiedVia, Precedence, Role, SafetyRisk, User
from .services.accounts import people
from .services.engine.links import AckLinks
from .services.exercises import register
from .services.incidents import filing, ladder, related

USERS = [
    ("duty", Role.DUTY_OFFICER, "Duty Officer, National Operations Centre"),
    ("liaison", Role.LIAISON, "Liaison Officer, HQ desks"),
    ("attache", Role.LIAISON, "Defence Attaché desk"),
    ("supervisor", Role.SUPERVISOR, "Watch Supervisor"),
    ("admin", Role.ADMIN, "Tracker administrator"),
]
CHANNELS = [
    ("L1 National Operations Centre", 1, "", "noc@northmark.example", ["liaison"]),
    ("L2 Joint Operational HQ", 2, "", "joint-hq@northmark.example", ["liaison"]),
    ("L3 HQ-to-HQ hotline", 3, "Eastland Western Command", "hotline@eastland.example", ["attache"]),
    (
        "L4 Vienna Document Chapter III desk",
        4,
        "OSCE participating State Eastland",
        "cbm@northmark.example",
        ["attache"],
    ),
    ("L5 Head-of-government hotline", 5, "Eastland Presidential Office", "hotline-l5@northmark.example", ["attache"]),
]
POLICIES = [
    ("Standard ladder", "L1, then L2, then the HQ hotline; deadlines from precedence.", 1, [[0], [1], [2]], None),
    (
        "Hotline ladder",
        "For FLASH and high-risk incidents: HQ and hotline at once, then L4, then L5.",
        2,
        [[1, 2], [3], [4]],
        None,
    ),
    ("Drill ladder (fast)", "30-second steps for trying the tracker: sector DRILL.", 0, [[0], [1]], 30),
]
RULES: list[tuple[str, dict[str, object], str]] = [
    ("FLASH goes to the hotline", {"precedence": Precedence.FLASH}, "Hotline ladder"),
    ("High escalation risk", {"min_escalation_risk": EscalationRisk.HIGH}, "Hotline ladder"),
    ("Drill sector", {"sector": "DRILL"}, "Drill ladder (fast)"),
]
# A line to the other side: exchanges only (never on a ladder), Vienna Document deadlines of 48 h.
COUNTERPART_LINE = {
    "name": "Eastland liaison mission",
    "level": 3,
    "counterpart": "Eastland Ministry of Defence",
    "transport": "outbox",
    "address": "liaison-mission@eastland.example",
    "members": ["attache", "liaison"],
    "counterpart_line": True,
    "reply_deadline_seconds": 48 * 3600,
    "meeting_deadline_seconds": 48 * 3600,
    "language": "ru",
}
PASSWORD = "{}-demo-password"


def load(session: Session, limits: filing.FilingLimits, now, transports, ack_links: AckLinks) -> dict[str, str]:
    """Create the region once, then issue a fresh token per demo user; return username -> token.
    The example incidents' messages carry acknowledge links made with ack_links."""
    if session.scalar(select(User).where(User.username == "admin")) is None:
        _create_region(session, limits, now, transports, ack_links)
    tokens = {}
    for username, _role, _name in USERS:
        user = people.find_user(session, username)
        tokens[username] = people.create_token(session, user, f"demo {now:%Y-%m-%d %H:%M}")[1]
    return tokens


def _create_region(session: Session, limits, now, transports, ack_links) -> None:
    for username, role, name in USERS:
        people.create_user(session, username, PASSWORD.format(username), role, name, f"{username}@northmark.example")
    channels = [
        ladder.save_channel(
            session,
            {"name": n, "level": lvl, "counterpart": cp, "transport": "outbox", "address": addr, "members": members},
            transports,
        )
        for n, lvl, cp, addr, members in CHANNELS
    ]
    ladder.save_channel(session, dict(COUNTERPART_LINE), transports)
    policies = {}
    for name, text, repeat, steps, seconds in POLICIES:
        policies[name] = ladder.save_policy(
            session,
            {
                "name": name,
                "description": text,
                "repeat": repeat,
                "steps": [{"channel_ids": [channels[i].id for i in step], "ack_seconds": seconds} for step in steps],
            },
        )
    for position, (name, criteria, policy) in enumerate(RULES, start=1):
        ladder.save_rule(
            session, {"name": name, "position": position * 10, "policy_id": policies[policy].id, **criteria}
        )
    ladder.save_rule(
        session, {"name": "Default", "is_default": True, "position": 1000, "policy_id": policies["Standard ladder"].id}
    )
    _notify_exercises(session, now, limits.no_notice_border_km)
    _file_examples(session, limits, now, ack_links)


def _notify_exercises(session: Session, now, border_km) -> None:
    """One Eastland exercise running now (across the line from Border Guard Post 7), one coming."""
    register.create_exercise(
        session,
        {
            "name": "EASTERN RAMPART-26",
            "states": ["Eastland"],
            "starts_at": now - timedelta(days=2),
            "ends_at": now + timedelta(days=3),
            "centre_latitude": 54.15,
            "centre_longitude": 23.75,
            "radius_km": 30,
            "declared_size": 9500,
            "notified_via": NotifiedVia.VIENNA_DOCUMENT,
            "notified_at": now - timedelta(days=42),
            "notes": "Annual calendar, Chapter V: combined-arms exercise with live firing.",
        },
        "admin",
        now,
        border_km,
    )
    register.create_exercise(
        session,
        {
            "name": "STEADFAST HARBOUR-26",
            "states": ["Eastland", "Southland"],
            "starts_at": now + timedelta(days=6),
            "ends_at": now + timedelta(days=10),
            "area": {
                "type": "Polygon",
                "coordinates": [[[22.2, 55.65], [23.2, 55.45], [23.3, 55.9], [22.3, 56.0], [22.2, 55.65]]],
            },
            "declared_size": 3000,
            "notified_via": NotifiedVia.BILATERAL_BRIEFING,
            "notified_at": now - timedelta(days=3),
            "notes": "Amphibious landing practice in the Gulf of Kell; briefed at the naval staff talks.",
        },
        "admin",
        now,
        border_km,
    )


def _file_examples(session: Session, limits, now, ack_links) -> None:
    duty = people.find_user(session, "duty")
    examples = [
        filing.IncidentDraft(
            occurred_at=now - timedelta(minutes=40),
            reporting_unit="2nd Air Defence Squadron",
            domain=Domain.AIR,
            category="unsafe_intercept",
            precedence=Precedence.IMMEDIATE,
            escalation_risk=EscalationRisk.SERIOUS,
            safety_risk=SafetyRisk.B,
            latitude=54.412,
            longitude=22.871,
            position_text="54 24 43N 022 52 16E",
            sector="North",
            cpa_horizontal_m=30,
            cpa_vertical_ft=50,
            platforms=[
                {"kind": "fighter aircraft", "nationality": "Eastland", "type": "Su-type", "transponder_on": False}
            ],
            narrative="Eastland fighter closed to 30 m of our maritime patrol aircraft in international airspace.",
        ),
        filing.IncidentDraft(
            occurred_at=now - timedelta(hours=3),
            reporting_unit="Coastal Radar Station Kell",
            domain=Domain.HYBRID,
            category="gnss_jamming",
            precedence=Precedence.PRIORITY,
            escalation_risk=EscalationRisk.NEAR_ROUTINE,
            sector="Coast",
            narrative="GNSS interference reported by civil aircraft approaching Kell for 25 minutes.",
        ),
        filing.IncidentDraft(
            occurred_at=now - timedelta(minutes=5),
            reporting_unit="Border Guard Post 7",
            domain=Domain.LAND,
            category="unintended_territory_entry",
            precedence=Precedence.FLASH,
            escalation_risk=EscalationRisk.HIGH,
            latitude=54.102,
            longitude=23.311,
            sector="South",
            narrative="Armoured patrol of about 6 vehicles crossed the line by 800 m and stopped.",
        ),
    ]
    for draft in examples:
        filing.file_incident(session, draft, duty, limits, now, ack_links)
    _file_related_examples(session, limits, now, duty, ack_links)


def _file_related_examples(session: Session, limits, now, duty, ack_links) -> None:
    """Two earlier intercepts near the first example, suggested as related when filed; the supervisor
    confirms two links (a pattern of three) and leaves the third suggestion for someone to decide."""
    earlier = [
        (26, Precedence.ROUTINE, 54.52, 22.74, "Eastland fighter shadowed our patrol aircraft at 150 m."),
        (49, Precedence.PRIORITY, 54.33, 22.98, "Eastland fighter crossed ahead of our patrol aircraft at 60 m."),
    ]
    filed = [
        filing.file_incident(
            session,
            filing.IncidentDraft(
                occurred_at=now - timedelta(hours=hours),
                reporting_unit="2nd Air Defence Squadron",
                domain=Domain.AIR,
                category="unsafe_intercept",
                precedence=precedence,
                escalation_risk=EscalationRisk.NEAR_ROUTINE,
                latitude=latitude,
                longitude=longitude,
                narrative=narrative,
            ),
            duty,
            limits,
            now,
            ack_links,
        )
        for hours, precedence, latitude, longitude, narrative in earlier
    ]
    supervisor = people.find_user(session, "supervisor")
    middle = filed[0]  # linked to the first example and to the oldest: confirming both makes the pattern
    for relation in related.relations(session, middle):
        related.confirm(session, middle.reference, relation.link.id, supervisor, now, "Same squadron, same tactic.")
