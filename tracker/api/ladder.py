"""Admin routes for contact channels, escalation policies and routing rules."""

import json

from flask import current_app, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import dispatch
from ..channels import withheld
from ..db import get_session
from ..errors import ValidationError
from ..http import idempotency
from ..http.access import caller, requires
from ..http.idempotency import idempotent
from ..http.tokens import token_auth
from ..http.transaction import end_reading, transactional
from ..http.wiring import the_app
from ..models import ChannelCheck, RoutingRule
from ..models.permissions import Permission
from ..services.engine import line_checks
from ..services.incidents import ladder
from ..services.incidents.routing import ordered_rules
from ..services.review import config_history
from ..timeutil import utcnow
from . import ERRORS, Created, bp
from .ladder_schemas import (
    ChannelIn,
    ChannelOut,
    ChannelWithSecretOut,
    CheckAnswerIn,
    CheckOut,
    ConfigChangePage,
    ConfigChangeQuery,
    PolicyIn,
    PolicyOut,
    RuleIn,
    RuleOut,
)

READ = {code: ERRORS[code] for code in (403, 404)}
WRITE = {code: ERRORS[code] for code in (400, 403, 404, 409, 415)}


# The docs page's "Try it out" examples, which work as they are on the demo data (an admin's): a line of our own
# (the demo has 7: the new one is line 8), a policy on it (policy 4) and a rule routing to it (rule 5), each
# changed once.
CHANNEL_EXAMPLE = {
    "name": "L2 Naval Operations Centre",
    "level": 2,
    "transport": "outbox",
    "address": "naval-ops@northmark.example",
    "members": ["liaison"],
}
CHANNEL_CHANGE_EXAMPLE = {"check_interval_seconds": 3600}
POLICY_EXAMPLE = {
    "name": "Naval ladder",
    "description": "The naval operations centre, then the Joint HQ; deadlines from precedence.",
    "steps": [{"channel_ids": [8]}, {"channel_ids": [2]}],
}
POLICY_CHANGE_EXAMPLE = {"repeat": 1}
RULE_EXAMPLE = {"name": "Maritime to the naval ladder", "position": 25, "domain": "maritime", "policy_id": 4}
RULE_CHANGE_EXAMPLE = {"position": 5}


# -- the record of changes -----------------------------------------------------------------


@bp.get("/config-changes")
@bp.auth_required(token_auth)
@requires(Permission.CONFIG_HISTORY)
@bp.input(ConfigChangeQuery, location="query", arg_name="query")
@bp.output(ConfigChangePage)
@bp.doc(tags=["Ladder"], summary="Who changed the lines, policies, rules and agreements", responses=READ)
def list_config_changes(query):
    """Newest first: each line, policy, routing rule or agreement added, changed or deleted, by whom and when,
    with each fact before and after (secrets withheld). Supervisors and admins."""
    per_page = query.pop("per_page", None) or current_app.config["PAGE_SIZE_DEFAULT"]
    page = query.pop("page")
    items, total = config_history.changes(get_session(), query.get("subject"), query.get("subject_id"), page, per_page)
    return {"items": items, "page": page, "per_page": per_page, "total": total}


# -- channels -----------------------------------------------------------------------------


@bp.get("/channels")
@bp.auth_required(token_auth)
@bp.output(ChannelOut(many=True))
@bp.doc(tags=["Ladder"], summary="List contact channels", responses=READ)
def list_channels():
    return ladder.list_channels(get_session())


def without_credentials(answer: bytes) -> bytes:
    """A created line's answer as kept for an Idempotency-Key retry: without its webhook secret and with
    its address withheld as those who may not manage lines read it (channels.withheld), so no credential
    of the line sits in the store for the 24 h the answer is kept. A retry still reads the line's id."""
    line = json.loads(answer)
    line.pop("secret", None)
    line["address"] = withheld(line.get("transport") or "", line.get("address") or "")
    return json.dumps(line).encode()


@bp.post("/channels")
@bp.auth_required(token_auth)
@requires(Permission.CHANNELS_MANAGE)
@bp.input(ChannelIn, arg_name="data", example=CHANNEL_EXAMPLE)
@idempotent(kept=without_credentials)
@bp.output(ChannelWithSecretOut, status_code=201, headers=Created)
@bp.doc(
    tags=["Ladder"],
    summary="Create a contact channel",
    description="The webhook signing secret is shown once, in this answer. A retry with the same "
    "Idempotency-Key answers the same status and line (its id) again, without `secret` and with the address "
    "withheld as other roles read it: the answer kept for retries holds no credential of the line (GET the "
    "line for its whole address; PATCH a new `secret` if the first answer was lost).",
    responses=WRITE,
)
@transactional
def create_channel(data):
    transports = current_app.extensions["tracker.transports"]
    channel = ladder.save_channel(get_session(), data, transports)
    return channel, 201, {"Location": url_for("api.get_channel", channel_id=channel.id)}


@bp.get("/channels/<int:channel_id>")
@bp.auth_required(token_auth)
@bp.output(ChannelOut)
@bp.doc(tags=["Ladder"], summary="Read a contact channel", responses=READ)
def get_channel(channel_id):
    return ladder.get_channel(get_session(), channel_id)


@bp.patch("/channels/<int:channel_id>")
@bp.auth_required(token_auth)
@requires(Permission.CHANNELS_MANAGE)
@bp.input(ChannelIn(partial=True), arg_name="data", example=CHANNEL_CHANGE_EXAMPLE)
@bp.output(ChannelWithSecretOut)  # documents the secret the answer may hold; dumped by hand below
@bp.doc(
    tags=["Ladder"],
    summary="Change a contact channel",
    description="The webhook signing secret is shown once: the answer holds `secret` only when this change "
    "made one (the channel became a webhook) or set the one given; otherwise it is never in an answer.",
    responses=WRITE,
)
@transactional
def update_channel(channel_id, data):
    session = get_session()
    channel = ladder.get_channel(session, channel_id)
    before = channel.secret
    saved = ladder.save_channel(session, data, current_app.extensions["tracker.transports"], channel)
    shown = saved.secret and saved.secret != before
    return current_app.json.response((ChannelWithSecretOut() if shown else ChannelOut()).dump(saved))


@bp.delete("/channels/<int:channel_id>")
@bp.auth_required(token_auth)
@requires(Permission.CHANNELS_MANAGE)
@bp.output({}, status_code=204)
@bp.doc(tags=["Ladder"], summary="Delete an unused contact channel", responses=WRITE)
@transactional
def delete_channel(channel_id):
    ladder.delete_channel(get_session(), channel_id)
    return


@bp.get("/channels/<int:channel_id>/checks")
@bp.auth_required(token_auth)
@bp.output(CheckOut(many=True))
@bp.doc(tags=["Ladder"], summary="History of a channel's communications checks, newest first", responses=READ)
def list_checks(channel_id):
    return line_checks.history(get_session(), channel_id)


@bp.post("/channels/<int:channel_id>/checks")
@bp.auth_required(token_auth)
@requires(Permission.CHANNELS_WATCH)
@bp.output(CheckOut, status_code=201)
@bp.doc(
    tags=["Ladder"],
    summary="Send a communications check on the channel now",
    description="Each call sends a check, in transactions of its own (it waits on the line): it takes no "
    "Idempotency-Key, and one sent with it is refused (422) rather than ignored. A second check sent by a retry "
    "is harmless: the line's health follows the newest answer.",
    responses=WRITE,
)
def test_channel(channel_id):
    if request.headers.get(idempotency.KEY_HEADER) is not None:
        raise ValidationError(
            f"a check is sent at each call: this operation takes no {idempotency.KEY_HEADER}",
            {idempotency.KEY_HEADER: "not taken here: send the request without it"},
        )
    session = get_session()
    ladder.get_channel(session, channel_id)
    requested_by = caller().username  # read before the rollback expires the user
    # The check is sent in transactions of its own; reloading the user after the rollback would
    # open one here too, holding SQLite's write lock while send_check waits for it.
    end_reading()
    check_id = dispatch.send_check(the_app(), channel_id, requested_by)
    return session.get(ChannelCheck, check_id)


@bp.post("/channels/<int:channel_id>/checks/<int:check_id>/answer")
@bp.auth_required(token_auth)
@requires(Permission.EXCHANGES_TALK)  # and of this line (line_checks.ensure_may_answer)
@bp.input(CheckAnswerIn, arg_name="data")
@bp.output(CheckOut)
@bp.doc(
    tags=["Ladder"],
    summary="Log the answer to a check given on the line or by voice",
    description="A check over a counterpart line asks the other side to answer on the line itself (a reply "
    "message, or by voice), never through a link into the tracker: whoever took the answer logs it here, and "
    "the check is OK as a confirmed one (the line's own staff, supervisors and admins; 403 for others). 422 for "
    "a time in the future, before the check or after its window; 409 when the check was decided already. The docs "
    "page offers no example: `at` lies between the check's sending and now, which only the check says (its "
    '`sent_at`): {"at": "<a time after sent_at>", "by": "Capt Ivanova, duty officer", "via": "voice"}.',
    responses=WRITE,
)
@transactional
def answer_check(channel_id, check_id, data):
    session = get_session()
    check = line_checks.get_check(session, channel_id, check_id)
    line_checks.ensure_may_answer(check.channel, caller())
    rules = dispatch.health_rules(the_app())
    return line_checks.record_answer(session, check, data["at"], data["by"], data["via"], utcnow(), rules)


# -- policies -----------------------------------------------------------------------------


@bp.get("/policies")
@bp.auth_required(token_auth)
@bp.output(PolicyOut(many=True))
@bp.doc(tags=["Ladder"], summary="List escalation policies", responses=READ)
def list_policies():
    return ladder.list_policies(get_session())


@bp.post("/policies")
@bp.auth_required(token_auth)
@requires(Permission.POLICIES_MANAGE)
@bp.input(PolicyIn, arg_name="data", example=POLICY_EXAMPLE)
@idempotent
@bp.output(PolicyOut, status_code=201, headers=Created)
@bp.doc(tags=["Ladder"], summary="Create an escalation policy", responses=WRITE)
@transactional
def create_policy(data):
    policy = ladder.save_policy(get_session(), data)
    return policy, 201, {"Location": url_for("api.get_policy", policy_id=policy.id)}


@bp.get("/policies/<int:policy_id>")
@bp.auth_required(token_auth)
@bp.output(PolicyOut)
@bp.doc(tags=["Ladder"], summary="Read an escalation policy", responses=READ)
def get_policy(policy_id):
    return ladder.get_policy(get_session(), policy_id)


@bp.patch("/policies/<int:policy_id>")
@bp.auth_required(token_auth)
@requires(Permission.POLICIES_MANAGE)
@bp.input(PolicyIn(partial=True), arg_name="data", example=POLICY_CHANGE_EXAMPLE)
@bp.output(PolicyOut)
@bp.doc(tags=["Ladder"], summary="Change an escalation policy (running incidents keep their ladder)", responses=WRITE)
@transactional
def update_policy(policy_id, data):
    session = get_session()
    return ladder.save_policy(session, data, ladder.get_policy(session, policy_id))


@bp.delete("/policies/<int:policy_id>")
@bp.auth_required(token_auth)
@requires(Permission.POLICIES_MANAGE)
@bp.output({}, status_code=204)
@bp.doc(tags=["Ladder"], summary="Delete a policy no rule uses (running incidents keep their ladder)", responses=WRITE)
@transactional
def delete_policy(policy_id):
    ladder.delete_policy(get_session(), policy_id)
    return


# -- routing rules ------------------------------------------------------------------------


@bp.get("/rules")
@bp.auth_required(token_auth)
@bp.output(RuleOut(many=True))
@bp.doc(tags=["Ladder"], summary="List routing rules in evaluation order", responses=READ)
def list_rules():
    session = get_session()
    policy = selectinload(RoutingRule.policy)  # each rule names its policy: read for all the rules at once
    inactive = session.scalars(
        select(RoutingRule).where(RoutingRule.active.is_(False)).order_by(RoutingRule.position).options(policy)
    ).all()
    return ordered_rules(session, policy) + list(inactive)


@bp.post("/rules")
@bp.auth_required(token_auth)
@requires(Permission.RULES_MANAGE)
@bp.input(RuleIn, arg_name="data", example=RULE_EXAMPLE)
@idempotent
@bp.output(RuleOut, status_code=201, headers=Created)
@bp.doc(tags=["Ladder"], summary="Create a routing rule", responses=WRITE)
@transactional
def create_rule(data):
    rule = ladder.save_rule(get_session(), data)
    return rule, 201, {"Location": url_for("api.get_rule", rule_id=rule.id)}


@bp.get("/rules/<int:rule_id>")
@bp.auth_required(token_auth)
@bp.output(RuleOut)
@bp.doc(tags=["Ladder"], summary="Read a routing rule", responses=READ)
def get_rule(rule_id):
    return ladder.get_rule(get_session(), rule_id)


@bp.patch("/rules/<int:rule_id>")
@bp.auth_required(token_auth)
@requires(Permission.RULES_MANAGE)
@bp.input(RuleIn(partial=True), arg_name="data", example=RULE_CHANGE_EXAMPLE)
@bp.output(RuleOut)
@bp.doc(tags=["Ladder"], summary="Change or reorder a routing rule", responses=WRITE)
@transactional
def update_rule(rule_id, data):
    session = get_session()
    return ladder.save_rule(session, data, ladder.get_rule(session, rule_id))


@bp.delete("/rules/<int:rule_id>")
@bp.auth_required(token_auth)
@requires(Permission.RULES_MANAGE)
@bp.output({}, status_code=204)
@bp.doc(tags=["Ladder"], summary="Delete a routing rule (never the default)", responses=WRITE)
@transactional
def delete_rule(rule_id):
    ladder.delete_rule(get_session(), rule_id)
    return
