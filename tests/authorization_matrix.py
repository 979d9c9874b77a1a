"""The authorization matrix: every route the app serves, how to call it, and what each caller gets.

tests/functional/test_authorization_matrix.py calls every route as every principal on a prepared
world and compares the answer with this table; it fails when app.url_map has a route the table
does not list (or the table a route the app no longer has). The statuses are what the product
should answer (README: "What the API offers", "The web pages"), not what it happened to answer.

A route is called with path values, a body and a query built from a Scene (see the test module):
`path` and a callable `body` take the scene and read what they need from it (s.incident, s.exchange,
...), each made when first asked for. API routes get a bearer token, pages a signed-in session.
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tests.exercise_support import notice
from tests.support import incident_payload
from tracker.models import Role
from tracker.models.permissions import ON_OWN_LINES, Permission, may
from tracker.timeutil import format_dtg, utcnow

P = Permission

PRINCIPALS = ("anonymous", "duty", "liaison_member", "liaison_other", "supervisor", "admin", "revoked")
ANONYMOUS, DUTY, MEMBER, OTHER, SUPERVISOR, ADMIN, REVOKED = PRINCIPALS
SIGNED_IN = (DUTY, MEMBER, OTHER, SUPERVISOR, ADMIN)
# Who may do what comes from the one permission table (tracker.models.permissions.GRANTS): a route
# names the permission it needs, and the callers let in are those whose role holds it. MEMBER is
# the liaison on the channel the incident was routed to (and on the counterpart line); OTHER is a
# liaison on neither, let in to a permission of ON_OWN_LINES only by its "-any" grant.
ROLE_OF = {DUTY: Role.DUTY_OFFICER, MEMBER: Role.LIAISON, OTHER: Role.LIAISON, SUPERVISOR: Role.SUPERVISOR}
ROLE_OF[ADMIN] = Role.ADMIN
# A page's answer to a caller who is not signed in: a redirect to the sign-in form with ?next=.
LOGIN = "login"

# Routes the matrix does not call, and why.
EXCLUDED = {
    ("GET", "/static/<path:filename>"): "the app's own scripts, styles and images: public files, no data",
    ("GET", "/api/v1/docs/assets/<path:filename>"): "Swagger UI's files from its package: public files, no data",
}


class Expected(dict):
    """Each principal's answer, and the permission the route must name (None: sign-in only)."""

    def __init__(self, answers: dict, permission: Permission | None = None):
        super().__init__(answers)
        self.permission = permission


def let_in(permission: Permission | None) -> tuple[str, ...]:
    """The signed-in principals the permission table lets in."""
    if permission is None:
        return SIGNED_IN
    own_lines_only = permission in ON_OWN_LINES

    def allowed(who: str) -> bool:
        role = ROLE_OF[who]
        if not may(role, permission):
            return False
        return who != OTHER or not own_lines_only or may(role, ON_OWN_LINES[permission])

    return tuple(who for who in SIGNED_IN if allowed(who))


def api(ok: int, permission: Permission | None = None) -> Expected:
    """A bearer-token route: 401 without a valid token, ok for those the permission lets in, 403 for the others."""
    allowed = let_in(permission)
    answers = {ANONYMOUS: 401, REVOKED: 401, **{who: ok if who in allowed else 403 for who in SIGNED_IN}}
    return Expected(answers, permission)


def page(ok: int | str, permission: Permission | None = None) -> Expected:
    """A signed-in page: the sign-in form without a session (or a deactivated user's), 403 for the others."""
    allowed = let_in(permission)
    answers = {ANONYMOUS: LOGIN, REVOKED: LOGIN, **{who: ok if who in allowed else 403 for who in SIGNED_IN}}
    return Expected(answers, permission)


def landing() -> Expected:
    """ "/": each role's own page. The board itself for duty officers and supervisors; liaison officers
    go on to My queue, admins to the admin pages (web/board.py landing)."""
    base = page(200)
    return Expected({**base, MEMBER: 302, OTHER: 302, ADMIN: 302}, base.permission)


def own_queue(ok: int) -> Expected:
    """Acknowledging all of one's own queue (web/acknowledging.py): every role that acknowledges gets ok, a
    liaison officer off the incident's lines too (what is not in one's queue is left alone, and said so)."""
    base = page(ok, P.INCIDENTS_HANDLE)
    return Expected({**base, OTHER: ok}, base.permission)


def everyone(status: int) -> Expected:
    return Expected(dict.fromkeys(PRINCIPALS, status))


def on_watch(door, ok: int | str, also: tuple[str, ...] = ()) -> Expected:
    """A route acting on the duty officer's watch (the scenes' watch keeper): its officer, those who
    assign watches and `also` get ok; everyone else who keeps watches, 403 (services/watches)."""
    base = door(ok, P.WATCHES_KEEP)
    side = {who for who in SIGNED_IN if who == DUTY or who in also or may(ROLE_OF[who], P.WATCHES_ASSIGN)}
    return Expected(
        {who: ok if who in side else 403 if who in SIGNED_IN else base[who] for who in base}, base.permission
    )


def incoming_only(door, ok: int | str) -> Expected:
    """Signing a handover: the incoming officer (the scenes hand over to the liaison member) only."""
    base = door(ok, P.WATCHES_KEEP)
    return Expected(
        {who: ok if who == MEMBER else 403 if who in SIGNED_IN else base[who] for who in base}, base.permission
    )


@dataclass(frozen=True)
class Call:
    """What each principal gets from a route, and how to call it.

    path(scene) gives the path values; body is JSON for the API and form fields for pages (a
    callable takes the scene, as a callable query does); for pages a 302 means a redirect without
    an error message.
    """

    expected: Expected
    path: object = None
    body: object = None
    query: object = field(default_factory=dict)


# -- path values ---------------------------------------------------------------------------


def incident(s):
    return {"reference": s.incident}


def acknowledged(s):
    return {"reference": s.acknowledged}


def deciding(s):
    return {"reference": s.deciding}


def link(s):
    reference, link_id = s.link
    return {"reference": reference, "link_id": link_id}


def exchange(s):
    return {"exchange_id": s.exchange}


def call(s):
    return {"call_id": s.call["id"]}


def action(s):
    return {"action_id": s.call["actions"][0]["id"]}


def draft(s):
    return {"message_id": s.draft}


def approved_draft(s):
    return {"message_id": s.approved_draft}


def summary(s):
    return {"summary_id": s.summary["id"]}


def approved(s):
    return {"summary_id": s.approved_summary["id"]}


def channel(s):
    return {"channel_id": s.channel}


def policy(s):
    return {"policy_id": s.policy}


def rule(s):
    return {"rule_id": s.rule}


def exercise(s):
    return {"exercise_id": s.exercise}


def our_exercise(s):
    return {"exercise_id": s.our_exercise}


def user(s):
    return {"user_id": s.user}


def agreement(s):
    return {"agreement_id": s.agreement}


def ack_link(s):
    return {"purpose": "ack", "token": s.ack_token}


def sent_message(s):
    return {"exchange_id": s.exchange, "message_id": s.sent_message}


def their_message(s):
    return {"exchange_id": s.exchange, "message_id": s.their_message}


def line_check(s):
    return {"channel_id": s.channel, "check_id": s.check}


def answer(s) -> dict:
    """The answer to s.check given by voice just now (a DTG)."""
    return {"at": format_dtg(utcnow()), "by": "Capt Ivanova", "via": "voice"}


def answer_form(s) -> dict:
    return {f"answer-{s.check}-at": format_dtg(utcnow()), f"answer-{s.check}-by": "Capt Ivanova", "via": "voice"}


def receipt_link(s):
    return {"token": s.receipt_token}


def watch(s):
    return {"watch_id": s.watch}


def handover(s):
    return {"handover_id": s.handover}


def receipt_form(s) -> dict:
    """Their receipt given by voice, logged now (as a DTG; the notice went out just before)."""
    at = format_dtg(utcnow())
    return {f"receipt-{s.sent_message}-{k}": v for k, v in {"at": at, "by": "Major Petrov", "via": "voice"}.items()}


# -- bodies --------------------------------------------------------------------------------

SAMPLE_CSV = (Path(__file__).resolve().parent.parent / "config" / "exercises.sample.csv").read_text()
NOTICE = "Northmark liaison: we notify an unsafe air intercept near the common border. Please confirm receipt."
ROUTE_QUERY = {"domain": "air", "category": "unsafe_intercept", "precedence": "Z", "escalation_risk": "high"}


def new_channel(s):
    return {"name": s.unique("Spare desk"), "level": 2, "transport": "outbox", "address": "spare@test.example"}


def new_policy(s):
    return {"name": s.unique("Short ladder"), "steps": [{"channel_ids": [s.world.channels["L1"]]}]}


def new_rule(s):
    return {"name": s.unique("Sea incidents"), "policy_id": s.world.policy_id, "domain": "maritime"}


def new_agreement(s):
    return {"code": s.unique("INCSEA").replace(" ", "-"), "title": "Incidents at Sea", "counterpart_state": "Eastland"}


def agreement_form(s):
    return {**new_agreement(s), "default_article": "Article VI", "articles": "notice: Article VI(2)", "active": "y"}


def channel_form(s):
    return {
        "name": s.unique("Spare desk"),
        "level": "2",
        "transport": "outbox",
        "address": "spare@test.example",
        "active": "y",
        "check_window_seconds": "900",
    }


def policy_form(s):
    steps = {f"steps-{n}-{name}": "" for n in range(5) for name in ("ack_seconds", "fallback_channel_id")}
    return {"name": s.unique("Short ladder"), "repeat": "0", **steps, "steps-0-channel_ids": [s.world.channels["L1"]]}


def rule_form(s):
    """A rule for maritime incidents: the scenes file air incidents, which keep the default rule."""
    criteria = {**dict.fromkeys(("category", "precedence", "min_escalation_risk", "sector"), ""), "domain": "maritime"}
    return {"name": s.unique("Sea incidents"), "policy_id": str(s.world.policy_id), "active": "y", **criteria}


def exercise_form(s):
    return {
        "name": s.unique("NORTHERN SHIELD"),
        "states": "Eastland",
        "starts_at": "2026-11-20T06:00:00Z",
        "ends_at": "271800ZDEC30",
        "area": "",
        "centre": "54 15 00N 023 45 00E",
        "radius_km": "15",
        "notified_via": "bilateral_briefing",
    }


def briefing_body() -> dict:
    return {"briefed_at": format_dtg(utcnow()), "briefed_to": "Eastland defence attaché", "via": "vienna_document"}


def briefing_form(s):
    return {**briefing_body(), "content": "Dates, area and figures."}


def sample_csv(s) -> str:
    """The sample file with names of its own: the register refuses an exercise it holds already."""
    return SAMPLE_CSV.replace("-27,", f"-27 {s.unique('import')},")


def csv_file(s):
    return {"file": (io.BytesIO(sample_csv(s).encode()), "notices.csv")}


def user_form(s):
    return {"username": s.unique("clerk"), "role": "duty_officer", "password": "a-long-password"}


def filing_form(_s):
    return {
        "occurred_at": "271405ZNOV26",
        "reporting_unit": "Border Guard Post 7",
        "domain": "air",
        "category": "unsafe_intercept",
        "position": "34U FF 2142 3097",
        "precedence": "Z",
        "escalation_risk": "high",
        "safety_risk": "B",
        "narrative": "Closed to 30 m.",
    }


def exchange_form(s, name: str, **fields):
    return {f"exchange-{s.exchange}{name}-{key}": value for key, value in fields.items()}


def summary_form(summary: dict, action: str, **fields):
    return {f"summary-{summary['id']}-{action}-{key}": str(value) for key, value in fields.items()}


# -- the matrix ----------------------------------------------------------------------------

V1 = "/api/v1"
API = {
    ("POST", f"{V1}/acks"): Call(everyone(200), body=lambda s: {"token": s.ack_token}),  # the signed link is the key
    ("GET", f"{V1}/audit/verify"): Call(api(200, P.AUDIT_VERIFY)),
    ("GET", f"{V1}/catalogue"): Call(everyone(200)),
    ("GET", f"{V1}/health"): Call(everyone(200)),
    ("GET", f"{V1}/openapi.json"): Call(everyone(200)),
    ("GET", f"{V1}/docs"): Call(everyone(200)),
    # A bearer token like the API's (tests/functional/test_metrics.py: the scrape secret)
    ("GET", "/metrics"): Call(api(200, P.METRICS_READ)),
    # incidents
    ("POST", f"{V1}/incidents"): Call(api(201, P.INCIDENTS_FILE), body=incident_payload()),
    ("GET", f"{V1}/incidents"): Call(api(200)),
    ("GET", f"{V1}/incidents/<reference>"): Call(api(200), incident),
    ("POST", f"{V1}/incidents/<reference>/acknowledge"): Call(
        api(200, P.INCIDENTS_HANDLE), incident, {"note": "On it"}
    ),
    ("POST", f"{V1}/incidents/<reference>/decision"): Call(api(200, P.INCIDENTS_DECIDE), deciding, {"step": 2}),
    ("POST", f"{V1}/incidents/<reference>/comments"): Call(api(201), incident, {"text": "Seen from the desk."}),
    ("POST", f"{V1}/incidents/<reference>/resolve"): Call(
        api(200, P.INCIDENTS_HANDLE), incident, {"resolution": "Explained."}
    ),
    # amendments: the version read, and a fact to correct (the scene's incident was filed by the duty officer)
    ("PATCH", f"{V1}/incidents/<reference>"): Call(
        api(200, P.INCIDENTS_AMEND), incident, lambda s: {"version": s.filed["version"], "safety_risk": "A"}
    ),
    ("PATCH", f"{V1}/incidents/<reference>/marking"): Call(
        api(200, P.INCIDENTS_HANDLE), incident, {"classification": "RESTRICTED"}
    ),
    ("POST", f"{V1}/routes/preview"): Call(api(200), body=ROUTE_QUERY),
    ("GET", f"{V1}/map"): Call(api(200)),
    # related incidents
    ("GET", f"{V1}/incidents/<reference>/related"): Call(api(200), incident),
    ("POST", f"{V1}/incidents/<reference>/related/<int:link_id>/confirm"): Call(api(200, P.RELATED_DECIDE), link, {}),
    ("POST", f"{V1}/incidents/<reference>/related/<int:link_id>/dismiss"): Call(api(200, P.RELATED_DECIDE), link, {}),
    # exchanges with the other side
    ("POST", f"{V1}/incidents/<reference>/exchanges"): Call(
        api(201, P.EXCHANGES_TALK), acknowledged, lambda s: {"channel_id": s.line, "text": NOTICE}
    ),
    ("GET", f"{V1}/incidents/<reference>/exchanges"): Call(api(200), incident),
    ("GET", f"{V1}/exchanges"): Call(api(200)),
    ("GET", f"{V1}/exchanges/<int:exchange_id>"): Call(api(200), exchange),
    ("POST", f"{V1}/exchanges/<int:exchange_id>/transitions"): Call(
        api(200, P.EXCHANGES_TALK), exchange, {"state": "receipt_confirmed"}
    ),
    ("POST", f"{V1}/exchanges/<int:exchange_id>/messages"): Call(
        api(201, P.EXCHANGES_TALK), exchange, {"direction": "in", "text": "Eastland confirms receipt."}
    ),
    ("GET", f"{V1}/exchanges/<int:exchange_id>/messages"): Call(api(200), exchange),
    # four eyes: a second person approves a text before it goes out
    ("GET", f"{V1}/approvals"): Call(api(200)),
    ("PATCH", f"{V1}/exchange-messages/<int:message_id>"): Call(
        api(200, P.EXCHANGES_TALK), draft, {"text": "Northmark liaison: a call at 1300Z.", "version": 1}
    ),
    ("POST", f"{V1}/exchange-messages/<int:message_id>/approve"): Call(
        api(200, P.EXCHANGES_APPROVE), draft, {"version": 1}
    ),
    ("POST", f"{V1}/exchange-messages/<int:message_id>/send"): Call(api(200, P.EXCHANGES_TALK), approved_draft, {}),
    ("POST", f"{V1}/exchanges/<int:exchange_id>/messages/<int:message_id>/receipt"): Call(
        api(200, P.EXCHANGES_TALK),
        sent_message,
        lambda s: {"at": receipt_form(s)[f"receipt-{s.sent_message}-at"], "by": "Major Petrov", "via": "voice"},
    ),
    ("POST", f"{V1}/exchanges/<int:exchange_id>/receipts"): Call(
        api(201, P.EXCHANGES_TALK), exchange, lambda s: {"message_id": s.their_message}
    ),
    # the call log
    ("POST", f"{V1}/incidents/<reference>/calls"): Call(
        api(201, P.EXCHANGES_TALK),
        incident,
        # ended: the scenes share the line, which has one call in progress at a time
        lambda s: {
            "direction": "they_called",
            "channel_id": s.line,
            "started_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "ended_at": utcnow().isoformat(),
        },
    ),
    ("GET", f"{V1}/incidents/<reference>/calls"): Call(api(200), incident),
    ("GET", f"{V1}/calls/<int:call_id>"): Call(api(200), call),
    ("PATCH", f"{V1}/calls/<int:call_id>"): Call(api(200, P.EXCHANGES_TALK), call, {"they_said": "Received."}),
    ("POST", f"{V1}/actions/<int:action_id>/done"): Call(api(200, P.EXCHANGES_TALK), action, {}),
    # releasability and summaries
    ("PATCH", f"{V1}/incidents/<reference>/releasability"): Call(
        api(200, P.EXCHANGES_TALK), incident, {"narrative": True}
    ),
    ("POST", f"{V1}/incidents/<reference>/summaries"): Call(api(201, P.EXCHANGES_TALK), incident, {}),
    ("GET", f"{V1}/incidents/<reference>/summaries"): Call(api(200), incident),
    ("GET", f"{V1}/summaries/<int:summary_id>"): Call(api(200), summary),
    ("PATCH", f"{V1}/summaries/<int:summary_id>"): Call(
        api(200, P.EXCHANGES_TALK), summary, lambda s: {"text": "Reworded.", "version": s.summary["version"]}
    ),
    ("POST", f"{V1}/summaries/<int:summary_id>/approve"): Call(
        api(200, P.EXCHANGES_APPROVE), summary, lambda s: {"version": s.summary["version"]}
    ),
    ("POST", f"{V1}/summaries/<int:summary_id>/send"): Call(api(200, P.EXCHANGES_TALK), approved, {}),
    # the ladder
    ("GET", f"{V1}/config-changes"): Call(api(200, P.CONFIG_HISTORY)),
    ("GET", f"{V1}/channels"): Call(api(200)),
    ("POST", f"{V1}/channels"): Call(api(201, P.CHANNELS_MANAGE), body=new_channel),
    ("GET", f"{V1}/channels/<int:channel_id>"): Call(api(200), channel),
    ("PATCH", f"{V1}/channels/<int:channel_id>"): Call(
        api(200, P.CHANNELS_MANAGE), channel, {"counterpart": "Eastland HQ"}
    ),
    ("DELETE", f"{V1}/channels/<int:channel_id>"): Call(api(204, P.CHANNELS_MANAGE), channel),
    ("GET", f"{V1}/channels/<int:channel_id>/checks"): Call(api(200), channel),
    ("POST", f"{V1}/channels/<int:channel_id>/checks"): Call(api(201, P.CHANNELS_WATCH), channel),
    # the line's own staff (MEMBER serves it), supervisors and admins
    ("POST", f"{V1}/channels/<int:channel_id>/checks/<int:check_id>/answer"): Call(
        api(200, P.EXCHANGES_TALK), line_check, answer
    ),
    ("GET", f"{V1}/policies"): Call(api(200)),
    ("POST", f"{V1}/policies"): Call(api(201, P.POLICIES_MANAGE), body=new_policy),
    ("GET", f"{V1}/policies/<int:policy_id>"): Call(api(200), policy),
    ("PATCH", f"{V1}/policies/<int:policy_id>"): Call(
        api(200, P.POLICIES_MANAGE), policy, {"description": "Night shift"}
    ),
    ("DELETE", f"{V1}/policies/<int:policy_id>"): Call(api(204, P.POLICIES_MANAGE), policy),
    ("GET", f"{V1}/rules"): Call(api(200)),
    ("POST", f"{V1}/rules"): Call(api(201, P.RULES_MANAGE), body=new_rule),
    ("GET", f"{V1}/rules/<int:rule_id>"): Call(api(200), rule),
    ("PATCH", f"{V1}/rules/<int:rule_id>"): Call(api(200, P.RULES_MANAGE), rule, {"sector": "North"}),
    ("DELETE", f"{V1}/rules/<int:rule_id>"): Call(api(204, P.RULES_MANAGE), rule),
    ("GET", f"{V1}/agreements"): Call(api(200)),
    ("POST", f"{V1}/agreements"): Call(api(201, P.AGREEMENTS_MANAGE), body=new_agreement),
    ("GET", f"{V1}/agreements/<int:agreement_id>"): Call(api(200), agreement),
    ("PATCH", f"{V1}/agreements/<int:agreement_id>"): Call(
        api(200, P.AGREEMENTS_MANAGE), agreement, {"default_article": "Article VI"}
    ),
    # exercises
    ("GET", f"{V1}/exercises"): Call(api(200, P.EXERCISES_READ)),
    ("POST", f"{V1}/exercises"): Call(api(201, P.EXERCISES_MANAGE), body=lambda s: notice(name=s.unique("RAMPART"))),
    ("GET", f"{V1}/exercises/<int:exercise_id>"): Call(api(200, P.EXERCISES_READ), exercise),
    ("PATCH", f"{V1}/exercises/<int:exercise_id>"): Call(
        api(200, P.EXERCISES_MANAGE), exercise, {"notes": "Postponed."}
    ),
    ("DELETE", f"{V1}/exercises/<int:exercise_id>"): Call(api(204, P.EXERCISES_MANAGE), exercise),
    ("POST", f"{V1}/exercises/import"): Call(api(201, P.EXERCISES_MANAGE), body=lambda s: {"csv": sample_csv(s)}),
    ("GET", f"{V1}/exercises/feed-link"): Call(api(200, P.EXERCISES_READ)),
    ("GET", f"{V1}/exercises/<int:exercise_id>/briefings"): Call(api(200, P.EXERCISES_READ), our_exercise),
    ("POST", f"{V1}/exercises/<int:exercise_id>/briefings"): Call(
        api(201, P.EXERCISES_MANAGE), our_exercise, lambda s: briefing_body()
    ),
    ("GET", f"{V1}/exercises.ics"): Call(api(200)),
    # watches and handovers: the scenes' watch is the duty officer's, handed over to the liaison member
    ("POST", f"{V1}/watches"): Call(api(201, P.WATCHES_KEEP), body=lambda s: {"desk": s.unique("Desk")}),
    ("GET", f"{V1}/watches"): Call(api(200)),
    ("GET", f"{V1}/watches/<int:watch_id>"): Call(api(200), watch),
    ("POST", f"{V1}/watches/<int:watch_id>/entries"): Call(on_watch(api, 201), watch, {"text": "Quiet."}),
    ("POST", f"{V1}/watches/<int:watch_id>/handover"): Call(on_watch(api, 201), watch, {"incoming": "liaison"}),
    ("GET", f"{V1}/handovers/<int:handover_id>"): Call(api(200), handover),
    ("GET", f"{V1}/handovers/<int:handover_id>/brief"): Call(api(200), handover),
    ("POST", f"{V1}/handovers/<int:handover_id>/brief"): Call(on_watch(api, 200, also=(MEMBER,)), handover, {}),
    ("POST", f"{V1}/handovers/<int:handover_id>/notes"): Call(on_watch(api, 200), handover, {"notes": "L2 down."}),
    ("POST", f"{V1}/handovers/<int:handover_id>/sign"): Call(incoming_only(api, 200), handover, {}),
    ("GET", f"{V1}/watches/current"): Call(api(200), query=lambda s: {"desk": s.desk_of(s.watch)}),
    ("POST", f"{V1}/handovers"): Call(on_watch(api, 201), body=lambda s: {"watch_id": s.watch, "incoming": "liaison"}),
    # reports
    ("GET", f"{V1}/reports/after-action"): Call(api(200, P.REPORTS_READ)),
    ("GET", f"{V1}/exports/incidents.csv"): Call(api(200, P.REPORTS_READ)),
    ("GET", f"{V1}/exports/incidents.geojson"): Call(api(200, P.REPORTS_READ)),
    ("GET", f"{V1}/reports/annual-review"): Call(api(200, P.REPORTS_READ), query={"year": "2026"}),
    ("GET", f"{V1}/exports/annual-review.csv"): Call(api(200, P.REPORTS_READ)),
}

PAGES = {
    ("GET", "/login"): Call(everyone(301)),  # to /signin: the address people try first
    ("GET", "/signin"): Call(everyone(200)),
    ("POST", "/signin"): Call(everyone(302), body={"username": "duty", "password": "duty-password"}),
    ("POST", "/signout"): Call(page(302)),
    ("GET", "/password"): Call(page(200)),
    # A new password too short: the form comes back refused (422) and nothing changes. (A wrong current password
    # counts as a failed sign-in, which the next sign-in would report: tests/functional/test_sessions.py.)
    ("POST", "/password"): Call(page(422), body={"current_password": "not-my-password", "password": "short"}),
    ("GET", "/"): Call(landing()),
    ("GET", "/board"): Call(page(200)),
    ("GET", "/favicon.ico"): Call(everyone(200)),  # the site's icon, where browsers look for it
    ("GET", "/board/rows"): Call(page(200)),
    ("GET", "/board/exchanges/rows"): Call(page(200)),
    ("GET", "/board/notices"): Call(page(200)),
    # Finding an exchange by the reference the other side quotes: any signed-in role (one nobody holds: 404).
    ("GET", "/exchanges/find"): Call(page(404), query=lambda s: {"reference": "XX-1999-0001"}),
    ("GET", "/queue"): Call(page(200)),
    ("GET", "/queue/rows"): Call(page(200)),
    ("GET", "/queue/notices"): Call(page(200)),
    ("GET", "/queue/acknowledge-all"): Call(own_queue(200)),
    ("POST", "/queue/acknowledge-all"): Call(own_queue(302), body=lambda s: {"reference": s.incident}),
    ("GET", "/map"): Call(page(200)),
    ("GET", "/map/data"): Call(page(200), query={"exercises": "all"}),
    ("GET", "/map/position"): Call(page(200), query={"q": "54.412, 22.871"}),
    # incidents
    ("GET", "/incidents/new"): Call(page(200, P.INCIDENTS_FILE)),
    ("POST", "/incidents/new"): Call(page(302, P.INCIDENTS_FILE), body=filing_form),
    ("GET", "/incidents/readback"): Call(page(200), query={"position": "54.412, 22.871"}),
    ("GET", "/incidents/<reference>"): Call(page(200), incident),
    ("GET", "/incidents/<reference>/print"): Call(page(200), incident),
    ("GET", "/incidents/<reference>/live"): Call(page(200), incident),
    ("POST", "/incidents/<reference>/acknowledge"): Call(page(302, P.INCIDENTS_HANDLE), incident, {}),
    ("POST", "/incidents/<reference>/decision"): Call(page(302, P.INCIDENTS_DECIDE), deciding, {"step": "2"}),
    ("POST", "/incidents/<reference>/comments"): Call(page(302), incident, {"text": "Seen from the desk."}),
    ("POST", "/incidents/<reference>/resolve"): Call(
        page(302, P.INCIDENTS_HANDLE), incident, {"resolution": "Explained.", "confirm": "yes"}
    ),
    ("GET", "/incidents/<reference>/amend"): Call(page(200, P.INCIDENTS_AMEND), incident),
    # A field the form does not send keeps its value: the version read and one fact to correct.
    ("POST", "/incidents/<reference>/amend"): Call(
        page(302, P.INCIDENTS_AMEND), incident, lambda s: {"version": str(s.filed["version"]), "safety_risk": "A"}
    ),
    ("POST", "/incidents/<reference>/marking"): Call(
        page(302, P.INCIDENTS_HANDLE), incident, {"classification": "RESTRICTED", "releasable_to": ["Eastland"]}
    ),
    ("POST", "/incidents/<reference>/related/<int:link_id>/confirm"): Call(page(302, P.RELATED_DECIDE), link, {}),
    ("POST", "/incidents/<reference>/related/<int:link_id>/dismiss"): Call(page(302, P.RELATED_DECIDE), link, {}),
    # exchanges, releasability and summaries
    ("POST", "/incidents/<reference>/exchanges"): Call(
        page(302, P.EXCHANGES_TALK),
        acknowledged,
        lambda s: {"open-exchange-channel_id": str(s.line), "open-exchange-text": NOTICE},
    ),
    ("POST", "/exchanges/<int:exchange_id>/transition"): Call(
        page(302, P.EXCHANGES_TALK),
        exchange,
        lambda s: exchange_form(s, "", state="receipt_confirmed", version=s.exchange_version),
    ),
    ("POST", "/exchanges/<int:exchange_id>/messages/<int:message_id>/receipt"): Call(
        page(302, P.EXCHANGES_TALK), sent_message, receipt_form
    ),
    ("POST", "/exchanges/<int:exchange_id>/messages/<int:message_id>/our-receipt"): Call(
        page(302, P.EXCHANGES_TALK), their_message
    ),
    ("POST", "/exchanges/<int:exchange_id>/messages"): Call(
        page(302, P.EXCHANGES_TALK),
        exchange,
        lambda s: exchange_form(s, "-message", direction="in", kind="message", text="Eastland confirms receipt."),
    ),
    ("POST", "/exchange-messages/<int:message_id>/edit"): Call(
        page(302, P.EXCHANGES_TALK),
        draft,
        lambda s: {f"draft-{s.draft}-edit-{k}": v for k, v in {"text": "A call at 1300Z.", "version": "1"}.items()},
    ),
    ("POST", "/exchange-messages/<int:message_id>/approve"): Call(
        page(302, P.EXCHANGES_APPROVE), draft, lambda s: {f"draft-{s.draft}-approve-version": "1"}
    ),
    ("POST", "/exchange-messages/<int:message_id>/send"): Call(
        page(302, P.EXCHANGES_TALK), approved_draft, lambda s: {f"draft-{s.approved_draft}-send-version": "2"}
    ),
    ("GET", "/incidents/<reference>/calls/new"): Call(page(200, P.EXCHANGES_TALK), incident),
    ("POST", "/incidents/<reference>/calls/new"): Call(
        page(302, P.EXCHANGES_TALK), incident, lambda s: {"channel_id": str(s.free_line), "direction": "we_called"}
    ),
    ("GET", "/calls/<int:call_id>"): Call(page(200), call),
    ("POST", "/calls/<int:call_id>"): Call(
        page(302, P.EXCHANGES_TALK), call, lambda s: {"they_said": "Received.", "version": s.call_version}
    ),
    ("POST", "/actions/<int:action_id>/done"): Call(page(302, P.EXCHANGES_TALK), action, {}),
    ("POST", "/incidents/<reference>/releasability"): Call(
        page(302, P.EXCHANGES_TALK), incident, {"releasable": ["occurred_at", "domain", "category", "narrative"]}
    ),
    ("POST", "/incidents/<reference>/summaries"): Call(
        page(302, P.EXCHANGES_TALK), incident, {"draft-exchange_id": "", "draft-language": ""}
    ),
    ("POST", "/summaries/<int:summary_id>/edit"): Call(
        page(302, P.EXCHANGES_TALK),
        summary,
        lambda s: summary_form(s.summary, "edit", text="Reworded.", text_second="Иначе.", version=s.summary["version"]),
    ),
    ("POST", "/summaries/<int:summary_id>/approve"): Call(
        page(302, P.EXCHANGES_APPROVE),
        summary,
        lambda s: summary_form(s.summary, "approve", version=s.summary["version"]),
    ),
    ("POST", "/summaries/<int:summary_id>/send"): Call(
        page(302, P.EXCHANGES_TALK),
        approved,
        lambda s: summary_form(s.approved_summary, "send", exchange_id=s.approved_summary["exchange_id"]),
    ),
    # exercises
    ("GET", "/exercises/"): Call(page(200, P.EXERCISES_READ)),
    ("GET", "/exercises/new"): Call(page(200, P.EXERCISES_MANAGE)),
    ("POST", "/exercises/new"): Call(page(302, P.EXERCISES_MANAGE), body=exercise_form),
    ("GET", "/exercises/<int:exercise_id>/edit"): Call(page(200, P.EXERCISES_MANAGE), exercise),
    ("POST", "/exercises/<int:exercise_id>/edit"): Call(page(302, P.EXERCISES_MANAGE), exercise, exercise_form),
    ("POST", "/exercises/<int:exercise_id>/delete"): Call(page(302, P.EXERCISES_MANAGE), exercise, {"confirm": "yes"}),
    ("GET", "/exercises/import"): Call(page(200, P.EXERCISES_MANAGE)),
    ("GET", "/exercises/<int:exercise_id>"): Call(page(200, P.EXERCISES_READ), our_exercise),
    ("GET", "/exercises/ours"): Call(page(200, P.EXERCISES_READ)),
    ("POST", "/exercises/<int:exercise_id>/briefings"): Call(
        page(302, P.EXERCISES_MANAGE), our_exercise, briefing_form
    ),
    ("POST", "/exercises/import"): Call(page(302, P.EXERCISES_MANAGE), body=csv_file),
    # watches and handovers (as on the API)
    ("GET", "/watches/"): Call(page(200)),
    ("POST", "/watches/"): Call(page(302, P.WATCHES_KEEP), body=lambda s: {"desk": s.unique("Desk")}),
    ("GET", "/watches/<int:watch_id>"): Call(page(200), watch),
    ("POST", "/watches/<int:watch_id>/entries"): Call(on_watch(page, 302), watch, {"text": "Quiet."}),
    ("POST", "/watches/<int:watch_id>/handover"): Call(on_watch(page, 302), watch, {"incoming": "liaison"}),
    ("GET", "/handovers/<int:handover_id>"): Call(page(200), handover),
    ("GET", "/handovers/<int:handover_id>/print"): Call(page(200), handover),
    ("POST", "/handovers/<int:handover_id>/brief"): Call(on_watch(page, 302, also=(MEMBER,)), handover, {}),
    ("POST", "/handovers/<int:handover_id>/notes"): Call(on_watch(page, 302), handover, {"notes": "L2 down."}),
    ("POST", "/handovers/<int:handover_id>/sign"): Call(incoming_only(page, 302), handover, {}),
    # reports
    ("GET", "/reports"): Call(page(200, P.REPORTS_READ)),
    ("GET", "/reports/incidents.csv"): Call(page(200, P.REPORTS_READ)),
    ("GET", "/reports/incidents.geojson"): Call(page(200, P.REPORTS_READ)),
    ("GET", "/reports/review"): Call(page(200, P.REPORTS_READ)),
    ("GET", "/reports/review.csv"): Call(page(200, P.REPORTS_READ), query={"year": "2026"}),
    # one-click links from messages: the signed link is the key, whoever holds it
    ("GET", "/links/<any(ack, check):purpose>/<token>"): Call(everyone(200), ack_link),
    ("POST", "/links/<any(ack, check):purpose>/<token>"): Call(everyone(200), ack_link, {}),
    ("GET", "/links/receipt/<token>"): Call(everyone(200), receipt_link),
    ("POST", "/links/receipt/<token>"): Call(everyone(200), receipt_link, {}),
    # admin: channels (supervisors see and test them), policies, rules, users
    ("GET", "/admin/"): Call(page(302)),  # on to the channels, which answer each role
    ("GET", "/admin/channels"): Call(page(200, P.CHANNELS_WATCH)),
    ("GET", "/admin/channels/new"): Call(page(200, P.CHANNELS_MANAGE)),
    ("POST", "/admin/channels/new"): Call(page(302, P.CHANNELS_MANAGE), body=channel_form),
    ("GET", "/admin/channels/<int:channel_id>/edit"): Call(page(200, P.CHANNELS_MANAGE), channel),
    ("POST", "/admin/channels/<int:channel_id>/edit"): Call(page(302, P.CHANNELS_MANAGE), channel, channel_form),
    # A delete asks first (web/admin.py ask_first); confirm=yes is the answer to its question.
    ("POST", "/admin/channels/<int:channel_id>/delete"): Call(
        page(302, P.CHANNELS_MANAGE), channel, {"confirm": "yes"}
    ),
    ("POST", "/admin/channels/<int:channel_id>/test"): Call(page(302, P.CHANNELS_WATCH), channel, {}),
    ("GET", "/admin/channels/<int:channel_id>/checks"): Call(page(200, P.CHANNELS_WATCH), channel),
    ("POST", "/admin/channels/<int:channel_id>/checks/<int:check_id>/answer"): Call(
        page(302, P.EXCHANGES_TALK), line_check, answer_form
    ),
    ("GET", "/admin/policies"): Call(page(200, P.POLICIES_MANAGE)),
    ("GET", "/admin/policies/new"): Call(page(200, P.POLICIES_MANAGE)),
    ("POST", "/admin/policies/new"): Call(page(302, P.POLICIES_MANAGE), body=policy_form),
    ("GET", "/admin/policies/<int:policy_id>/edit"): Call(page(200, P.POLICIES_MANAGE), policy),
    ("POST", "/admin/policies/<int:policy_id>/edit"): Call(page(302, P.POLICIES_MANAGE), policy, policy_form),
    ("POST", "/admin/policies/<int:policy_id>/delete"): Call(page(302, P.POLICIES_MANAGE), policy, {"confirm": "yes"}),
    ("GET", "/admin/rules"): Call(page(200, P.RULES_MANAGE)),
    ("GET", "/admin/rules/preview"): Call(page(200, P.RULES_MANAGE), query=ROUTE_QUERY),
    ("GET", "/admin/rules/new"): Call(page(200, P.RULES_MANAGE)),
    ("POST", "/admin/rules/new"): Call(page(302, P.RULES_MANAGE), body=rule_form),
    ("GET", "/admin/rules/<int:rule_id>/edit"): Call(page(200, P.RULES_MANAGE), rule),
    ("POST", "/admin/rules/<int:rule_id>/edit"): Call(page(302, P.RULES_MANAGE), rule, rule_form),
    ("POST", "/admin/rules/<int:rule_id>/delete"): Call(page(302, P.RULES_MANAGE), rule, {"confirm": "yes"}),
    ("POST", "/admin/rules/<int:rule_id>/move/<any(up, down):direction>"): Call(
        page(302, P.RULES_MANAGE), lambda s: {"rule_id": s.later_rule, "direction": "up"}, {}
    ),
    ("GET", "/admin/agreements"): Call(page(200, P.AGREEMENTS_MANAGE)),
    ("GET", "/admin/changes"): Call(page(200, P.CONFIG_HISTORY)),
    ("GET", "/admin/agreements/new"): Call(page(200, P.AGREEMENTS_MANAGE)),
    ("POST", "/admin/agreements/new"): Call(page(302, P.AGREEMENTS_MANAGE), body=agreement_form),
    ("GET", "/admin/agreements/<int:agreement_id>/edit"): Call(page(200, P.AGREEMENTS_MANAGE), agreement),
    ("POST", "/admin/agreements/<int:agreement_id>/edit"): Call(
        page(302, P.AGREEMENTS_MANAGE), agreement, agreement_form
    ),
    ("GET", "/admin/users"): Call(page(200, P.USERS_MANAGE)),
    ("GET", "/admin/users/new"): Call(page(200, P.USERS_MANAGE)),
    ("POST", "/admin/users/new"): Call(page(302, P.USERS_MANAGE), body=user_form),
    ("GET", "/admin/users/<int:user_id>"): Call(page(200, P.USERS_MANAGE), user),
    ("POST", "/admin/users/<int:user_id>/password"): Call(
        page(302, P.USERS_MANAGE), user, {"password": "another-password"}
    ),
    # The answer itself shows the new token (never kept for a page after a redirect).
    ("POST", "/admin/users/<int:user_id>/tokens"): Call(page(200, P.USERS_MANAGE), user, {"name": "desk script"}),
    ("POST", "/admin/users/<int:user_id>/deactivate"): Call(page(302, P.USERS_MANAGE), user, {"confirm": "yes"}),
    ("POST", "/admin/users/<int:user_id>/activate"): Call(page(302, P.USERS_MANAGE), user, {}),
    ("POST", "/admin/tokens/<int:token_id>/revoke"): Call(
        page(302, P.USERS_MANAGE), lambda s: {"token_id": s.token}, {"confirm": "yes"}
    ),
}

MATRIX = {**API, **PAGES}
