"""A fictional border region (Northmark and Eastland) to try the tracker with."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Conflict
from .models import Domain, EscalationRisk, NotifiedVia, Precedence, Role, SafetyRisk, User
from .services.accounts import people
from .services.engine.links import AckLinks
from .services.exchanges import agreements
from .services.exercises import briefings, register
from .services.incidents import checks, filing, ladder, related

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
    # Our own desk on level 3; the hotline to the other side is a counterpart line (COUNTERPART_LINES).
    ("L3 HQ duty desk", 3, "", "hq-duty-desk@northmark.example", ["attache"]),
    (
        "L4 Vienna Document Chapter III desk",
        4,
        "OSCE participating State Eastland",
        "cbm@northmark.example",
        ["attache"],
    ),
    ("L5 Head-of-government hotline", 5, "Eastland Presidential Office", "hotline-l5@northmark.example", ["attache"]),
]
# The political levels (L4 multilateral, L5 head-of-government hotline): a step made only of their
# lines is entered by decision, when a supervisor confirms it, never by a timer alone.
POLITICAL_LEVELS = (4, 5)
POLICIES = [
    ("Standard ladder", "L1, then L2, then the HQ duty desk; deadlines from precedence.", 1, [[0], [1], [2]], None),
    (
        "Hotline ladder",
        "For FLASH and high-risk incidents: the Joint HQ and the HQ duty desk (who call the other side's "
        "hotline) at once, then L4, then L5, each only when a supervisor confirms it (by decision).",
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
# The agreements we talk to Eastland under (fictional parties, real shapes): a bilateral Incidents at
# Sea agreement (after the 1972 INCSEA text), a Dangerous Military Activities agreement (after DMA
# 1989) and the Vienna Document 2011's Chapter III mechanism; each message cites the article of its kind.
AGREEMENTS: list[dict] = [
    {
        "code": "NM-EL-INCSEA",
        "title": "Agreement between Northmark and Eastland on the Prevention of Incidents On and Over the High Seas",
        "counterpart_state": "Eastland",
        "default_article": "Article VII",
        "articles": {
            "notice": "Article VII",
            "explanation_request": "Article VII",
            "reply": "Article VII",
            "meeting_request": "Article IX",
            "receipt": "Article VII",
        },
        "notes": "Incidents are exchanged without delay through the naval attachés; review meeting once a year.",
    },
    {
        "code": "NM-EL-DMA",
        "title": "Agreement between Northmark and Eastland on the Prevention of Dangerous Military Activities",
        "counterpart_state": "Eastland",
        "default_article": "Article VI",
        "articles": {
            "notice": "Article VI(1)",
            "explanation_request": "Article VI(2)",
            "reply": "Article VI(2)",
            "meeting_request": "Article IX",
            "receipt": "Annex 2, para. 3",
            "check": "Annex 2, para. 1",
        },
        "notes": "Unintended entry into territory, lasers, special caution areas, interference with command "
        "and control networks; contact is attempted at once and receipt confirmed with the agreed phrases.",
    },
    {
        "code": "VD11-CH3",
        "title": "Vienna Document 2011, Chapter III: Risk Reduction",
        "counterpart_state": "",
        "default_article": "Chapter III",
        "articles": {
            "notice": "para. 16.1",
            "explanation_request": "para. 16.1",
            "reply": "para. 16.1.2",
            "meeting_request": "para. 16.2",
        },
        "notes": "Reply due within 48 hours; a meeting may be requested within 48 hours of an unsatisfactory reply.",
    },
]
# Lines to the other side: exchanges only (never on a ladder), each under an agreement (by code).
COUNTERPART_LINES: list[dict] = [
    {
        "name": "Eastland Western Command hotline",
        "level": 3,
        "counterpart": "Eastland Western Command",
        "counterpart_state": "Eastland",
        "transport": "outbox",
        "address": "hotline@eastland.example",
        "members": ["attache"],
        "counterpart_line": True,
        "language": "ru",
        "our_station": "NORTHMARK JOINT OPERATIONAL HQ",
        "their_station": "EASTLAND WESTERN COMMAND",
        "agreement": "NM-EL-DMA",
    },
    {
        "name": "Eastland liaison mission",  # Vienna Document deadlines of 48 h
        "level": 3,
        "counterpart": "Eastland Ministry of Defence",
        "counterpart_state": "Eastland",
        "transport": "outbox",
        "address": "liaison-mission@eastland.example",
        "members": ["attache", "liaison"],
        "counterpart_line": True,
        "reply_deadline_seconds": 48 * 3600,
        "meeting_deadline_seconds": 48 * 3600,
        "language": "ru",
        "our_station": "NORTHMARK MINISTRY OF DEFENCE",
        "their_station": "EASTLAND MINISTRY OF DEFENCE",
        "agreement": "VD11-CH3",
    },
]
PASSWORD = "{}-demo-password"
# The name of every token `flask demo` issues (then its time): the next run revokes them.
DEMO_TOKEN = "demo"


def published_logins(session: Session) -> list[str]:
    """The demo's active accounts that still sign in with the password the README and `flask demo` publish."""
    names = [username for username, _role, _name in USERS]
    users = session.scalars(select(User).where(User.username.in_(names), User.active.is_(True)))
    return sorted(user.username for user in users if people.verify_password(user, PASSWORD.format(user.username)))


def load(
    session: Session,
    limits: filing.FilingLimits,
    now,
    transports,
    ack_links: AckLinks,
    known: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create the region once, then give each demo user a token; return username -> token.

    A token in known (username -> token, from the last run's credentials) that still works for its
    user is kept, so a second `make run` prints the same tokens; otherwise the user's earlier demo
    tokens are revoked and a fresh one is issued. The example incidents' messages carry acknowledge
    links made with ack_links."""
    demo_users = {username for username, _role, _name in USERS}
    present = set(session.scalars(select(User.username).where(User.username.in_(demo_users))))
    if not present and session.scalar(select(User.id).limit(1)) is None:
        _create_region(session, limits, now, transports, ack_links)
    elif present != demo_users:
        # A deployment's own database: its accounts, or an "admin" made by hand. Loading the demo there gave
        # it accounts whose passwords the README publishes (an admin among them), or ended in a traceback.
        raise Conflict(
            "this database holds accounts the demo did not make: the demo loads only into a new database "
            "(its logins and passwords are published): point TRACKER_DATABASE_URL at an empty one"
        )
    tokens = {}
    for username, _role, _name in USERS:
        user = people.find_user(session, username)
        kept = (known or {}).get(username)
        if kept and people.user_for_token(session, kept) is user:
            tokens[username] = kept
            continue
        for old in user.tokens:
            if old.name.startswith(DEMO_TOKEN) and old.revoked_at is None:
                people.revoke_token(session, old.id, by=None, now=now)
        tokens[username] = people.create_token(session, user, f"{DEMO_TOKEN} {now:%Y-%m-%d %H:%M}Z", by=None)[1]
    return tokens


def _create_region(session: Session, limits, now, transports, ack_links) -> None:
    for username, role, name in USERS:
        people.create_user(
            session, username, PASSWORD.format(username), role, name, f"{username}@northmark.example", by=None
        )
    channels = [
        ladder.save_channel(
            session,
            {"name": n, "level": lvl, "counterpart": cp, "transport": "outbox", "address": addr, "members": members},
            transports,
        )
        for n, lvl, cp, addr, members in CHANNELS
    ]
    agreed = {a["code"]: agreements.save(session, dict(a)) for a in AGREEMENTS}
    for line in COUNTERPART_LINES:
        data = {k: v for k, v in line.items() if k != "agreement"}
        ladder.save_channel(session, {**data, "agreement_id": agreed[str(line["agreement"])].id}, transports)
    policies = {}
    for name, text, repeat, steps, seconds in POLICIES:
        policies[name] = ladder.save_policy(
            session,
            {
                "name": name,
                "description": text,
                "repeat": repeat,
                "steps": [
                    {
                        "channel_ids": [channels[i].id for i in step],
                        "ack_seconds": seconds,
                        "by_decision": n > 1 and all(CHANNELS[i][1] in POLITICAL_LEVELS for i in step),
                    }
                    for n, step in enumerate(steps, start=1)
                ],
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
    """One Eastland exercise running now (across the line from Border Guard Post 7), notified 40 days
    before its start, 2 short of the Vienna Document's 42 (flagged, para. 38); one coming; and one of
    our own, notified and briefed 50 days ahead (compliant)."""
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
            "battle_tanks": 180,
            "armoured_combat_vehicles": 410,
            "artillery_pieces": 120,
            "notified_via": NotifiedVia.VIENNA_DOCUMENT,
            "notified_at": now - timedelta(days=42),
            "notified_by": "Eastland",
            "notified_to": "all participating States",
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
            "notified_by": "Eastland",
            "notified_to": "Northmark",
            "notes": "Amphibious landing practice in the Gulf of Kell; briefed at the naval staff talks.",
        },
        "admin",
        now,
        border_km,
    )
    ours = register.create_exercise(
        session,
        {
            "name": "NORTHERN SHIELD-26",
            "states": ["Northmark"],
            "starts_at": now + timedelta(days=20),
            "ends_at": now + timedelta(days=27),
            "centre_latitude": 54.3,
            "centre_longitude": 22.6,
            "radius_km": 25,
            "declared_size": 10500,
            "battle_tanks": 90,
            "notified_via": NotifiedVia.VIENNA_DOCUMENT,
            "notified_at": now - timedelta(days=30),
            "notified_by": "Northmark",
            "notified_to": "all participating States",
            "ours": True,
            "notes": "Our brigade field training; observers not required under 13,000 troops.",
        },
        "admin",
        now,
        border_km,
    )
    briefings.record_briefing(
        session,
        ours,
        {
            "briefed_at": now - timedelta(days=30),
            "briefed_to": "Eastland defence attaché",
            "via": NotifiedVia.VIENNA_DOCUMENT,
            "content": "Dates, area, 10,500 troops and 90 battle tanks; the Vienna Document notification handed over.",
        },
        "supervisor",
        now,
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


def _check_filed(session: Session, limits, now) -> None:
    """What the sweep does right after a filing (related incidents, exercise links), done here at once."""
    found = checks.CheckLimits(limits.related_distance_km, limits.related_window_hours, limits.no_notice_border_km)
    while checks.check_batch(session, now, 100, found):
        pass


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
    _check_filed(session, limits, now)
    supervisor = people.find_user(session, "supervisor")
    middle = filed[0]  # linked to the first example and to the oldest: confirming both makes the pattern
    for relation in related.relations(session, middle):
        related.confirm(session, middle.reference, relation.link.id, supervisor, now, "Same squadron, same tactic.")
