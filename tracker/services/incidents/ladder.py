"""Administer the ladder: contact channels, escalation policies, routing rules."""

import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, NotFound, ValidationError
from ...models import (
    Agreement,
    Call,
    ChannelCheck,
    ChannelHealth,
    ContactChannel,
    Domain,
    EscalationPolicy,
    Exchange,
    ExchangeState,
    Incident,
    IncidentStatus,
    Notification,
    PolicyStep,
    Precedence,
    Role,
    RoutingRule,
    User,
    categories_for,
    locks,
    step_channels,
)
from ...region import NO_SECTOR, reserved_sector
from ...sentences import Sentence
from ...text import name_problem
from ...timeutil import utcnow
from ..accounts import names
from ..engine import line_checks, lines_lost, sides
from ..exchanges import catalogues

# They stand on one line: a mail header, the FM and TO lines of a formatted message, a menu.
ONE_LINE = ("name", "counterpart", "address", "our_station", "their_station", "counterpart_state")
CHANNEL_FIELDS = (
    "name",
    "level",
    "counterpart",
    "transport",
    "address",
    "active",
    "secret",
    "check_interval_seconds",
    "check_cron",
    "check_window_seconds",
    "counterpart_line",
    "reply_deadline_seconds",
    "meeting_deadline_seconds",
    "language",
    "our_station",
    "their_station",
    "counterpart_state",
    "agreement_id",
    "receipt_seconds",
)
# A counterpart line's deadlines (reply, meeting, receipt) run 90 days at most (api.ladder_schemas: DEADLINE_MAX).
RECEIPT_MAX_SECONDS = 90 * 86400
SCHEDULE_FIELDS = ("check_interval_seconds", "check_cron", "active")
RULE_FIELDS = (
    "name",
    "position",
    "active",
    "domain",
    "category",
    "precedence",
    "min_escalation_risk",
    "sector",
    "within_border_km",
    "agreement_id",
    "counterpart_state",
)


def _get(session: Session, model, ident: int, label: str):
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"no {label} {ident}", {"id": ident})
    return row


def _name_key(name: str) -> str:
    """A name as a person reads it in a menu: case, spacing and Unicode compatibility forms (fullwidth letters)
    set aside, so "L1", "l1" and "Ｌ1" are one name."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def count_save(session: Session, row, data: dict, what: str) -> None:
    """Before an admin's save of a line, policy, rule or agreement that exists: refuse (409) the version read
    (data["version"], when the edit names one) once another save has passed it, then count this save. The row's
    version is read again under a row lock, so two saves of one version never both pass. A change that names
    nothing to change is refused (422), as an incident's amendment is: it counted a save and changed nothing."""
    if not set(data) - {"version"}:
        raise ValidationError(
            f"the change names nothing to change: give the {what}'s fields to change (and the version read)",
            {"body": "no field to change"},
        )
    # The whole row, as last committed: refreshed for its version alone, a save that waited here checked its
    # fields against what it read before (a line left with an interval and a cron; a language set back answered
    # as saved and not written).
    # FOR NO KEY UPDATE: it still keeps two saves apart, but lets a message or a call naming the line be written
    # meanwhile (their foreign key's KEY SHARE lock): a save that makes a step due (lines_lost) while an acknowledgement
    # of that incident wrote its message to the line waited on each other, a deadlock.
    session.refresh(row, with_for_update={"key_share": True})
    read = data.get("version")
    if read is not None and read != row.version:
        raise Conflict(
            f"the {what} was saved by someone else since you read it (version {read}, now {row.version}): "
            "read it again and make your change on what it says now",
            {"version": row.version},
        )
    row.version += 1


def _named(data: dict) -> dict:
    """data with its name (if given) without the spaces around it, as the admin pages' fields give it."""
    if not isinstance(data.get("name"), str):
        return data
    if not data["name"].strip():
        raise ValidationError("a name is required", {"name": "a name of spaces only names nothing"})
    return {**data, "name": data["name"].strip()}


def _unique_name(session: Session, model, name: str, current_id: int | None = None) -> None:
    # Compared in Python: the lists are short, and neither database folds Unicode case or compatibility forms.
    # Two saves at once of "l4" and "L4" take turns here, or both would find the name free.
    locks.hold(session, f"config names:{model.__tablename__}")
    key, looks = _name_key(name), names.looks(name)
    rows = session.execute(select(model.id, model.name)).tuples()
    clash = next(
        (
            taken
            for ident, taken in rows
            if ident != current_id and (_name_key(taken) == key or names.looks(taken) == looks)
        ),
        None,
    )
    if clash is not None:
        # Also one that only looks like it, in letters of another script or with one nobody sees ("L1 Nаtional" with
        # a Cyrillic а): the policy's step picker and the rule's policy menu showed two entries alike.
        said = Sentence("the name {name} is taken (by {clash})", {"name": repr(name), "clash": repr(clash)})
        raise Conflict(said, {"name": name})


# -- channels -----------------------------------------------------------------------------


def get_channel(session: Session, channel_id: int) -> ContactChannel:
    return _get(session, ContactChannel, channel_id, "channel")


def list_channels(session: Session) -> list[ContactChannel]:
    """Every line by level and name, with its members read for all the lines at once (the lists show them)."""
    query = select(ContactChannel).order_by(ContactChannel.level, ContactChannel.name)
    return list(session.scalars(query.options(selectinload(ContactChannel.members))))


def _members(session: Session, usernames: list[str]) -> list[User]:
    users = session.scalars(select(User).where(User.username.in_(usernames))).all()
    missing = sorted(set(usernames) - {u.username for u in users})
    if missing:
        raise ValidationError("unknown members", {"members": f"no such users: {', '.join(missing)}"})
    wrong = [u.username for u in users if u.role is not Role.LIAISON]
    if wrong:
        raise ValidationError("members must be liaison staff", {"members": f"not liaison: {', '.join(wrong)}"})
    return list(users)


def save_channel(
    session: Session, data: dict, transports, channel: ContactChannel | None = None, now: datetime | None = None
) -> ContactChannel:
    """Create a channel, or update the given one with the fields present in data.

    A webhook channel gets a random signing secret unless one is given (any other transport keeps none); a
    check schedule (interval or cron expression) puts the channel's first check on the calendar.
    """
    # A channel's name goes into mail headers and every message, its stations into the FM and TO lines of
    # a formatted one; one line break there and each message to the channel fails (or adds a header or a
    # line to the message). The API and the admin page both come here.
    data = _named(data)
    if channel is not None:
        count_save(session, channel, data, "line")
    one_line = {key: found for key in ONE_LINE if isinstance(data.get(key), str) and (found := name_problem(data[key]))}
    if one_line:
        raise ValidationError(
            "a channel's name, counterpart, address, stations and State are one line of text each", one_line
        )
    if "transport" in data and data["transport"] not in transports:
        raise ValidationError(
            f"unknown transport {data['transport']!r}", {"transport": f"one of: {', '.join(sorted(transports))}"}
        )
    if "name" in data:
        _unique_name(session, ContactChannel, data["name"], channel.id if channel else None)
    if data.get("language") and data["language"] not in catalogues.available():
        # Every formatted message and every check over the line would fail to be written, the scheduler's
        # check each time (an error in its log, the line marked down), an exchange at each text.
        raise ValidationError(
            f"no message catalogue for the language {data['language']!r}: nothing could be written to this line",
            {"language": f"one of: {', '.join(catalogues.available())}"},
        )
    if data.get("check_cron") and (cron := line_checks.cron_problem(data["check_cron"])):
        raise ValidationError("the check schedule is not valid", {"check_cron": cron})
    if channel is not None and data.get("counterpart_line") and not channel.counterpart_line:
        if _in_a_policy(session, channel.id):
            raise ValidationError(
                "a channel on an escalation policy cannot become a counterpart line",
                {"counterpart_line": "take the channel off every policy step first"},
            )
        if _on_running_ladder(session, channel.id):  # the incident keeps the ladder it took when filed
            raise ValidationError(
                "a channel on the ladder of an incident not yet resolved cannot become a counterpart line",
                {"counterpart_line": "its step would skip it and call nobody: resolve those incidents first"},
            )
    if channel is not None and channel.counterpart_line and data.get("counterpart_line") is False:
        if _talked_over(session, channel.id):
            raise ValidationError(
                "a line that has carried anything to or from the other side stays a counterpart line",
                {"counterpart_line": "its address is the other side's: make a new internal line instead"},
            )
    if channel is not None and "language" in data and (data["language"] or None) != (channel.language or None):
        opened = session.scalars(
            select(Exchange.reference).where(Exchange.channel_id == channel.id, Exchange.state != ExchangeState.CLOSED)
        ).all()
        if opened:  # each keeps the language it was opened in, for every text and receipt page it still makes
            raise ValidationError(
                f"the line has exchanges open in {channel.language or 'English alone'}: its language changes once "
                "they are closed",
                {"language": f"close {', '.join(r or '(no reference)' for r in opened[:5])} first, or make a new line"},
            )
    _check_agreement(session, data, channel.agreement_id if channel is not None else None)
    _check_receipt_seconds(data)
    was = channel.transport if channel is not None else None
    before = (channel.active, channel.address) if channel is not None else None
    losing = (
        before is not None
        and before[0]
        and (data.get("active") is False or data.get("address", before[1]) != before[1])
    )
    if channel is not None and losing:
        lines_lost.hold(session, channel.id, now or utcnow())  # before the line's change is written: see there
    if channel is None:
        channel = ContactChannel(check_window_seconds=900, active=True, health=ChannelHealth.OK, consecutive_failures=0)
        session.add(channel)
    for key in CHANNEL_FIELDS:
        if key in data:
            setattr(channel, key, data[key])
    scheduled = "check_cron" in data or "check_interval_seconds" in data
    if scheduled and channel.check_cron and channel.check_interval_seconds:
        # Both kept, the cron alone was used (next_check), and the page showed an interval nobody kept to.
        both = "give one schedule: an interval or a cron expression, and clear the other"
        raise ValidationError(
            "a line is checked on an interval or on a cron schedule, not both",
            {"check_interval_seconds": both, "check_cron": both},
        )
    if channel.transport != was and (unavailable := transports[channel.transport].unavailable()):
        # Made anyway, every message and check over the line would fail for good, found out at the first alert.
        # A line already on it is kept when only its other fields change (a relay removed later: its checks say so).
        raise ValidationError(f"no {channel.transport} line can send from this deployment", {"transport": unavailable})
    problem = transports[channel.transport].check_address(channel.address)
    if problem:
        raise ValidationError(
            f"{channel.address!r} does not suit the {channel.transport} transport", {"address": problem}
        )
    joined = sides.crossing(session, channel)
    if joined:
        raise ValidationError("the address would carry our alerts to the other side or theirs to our desk", joined)
    if data.get("secret") and channel.transport != "webhook":
        # Answered 200 and dropped, a secret sent for another line would leave its sender believing it set.
        raise ValidationError(
            "only a webhook line signs its messages", {"secret": f"the line's transport is {channel.transport}"}
        )
    if channel.transport != "webhook":
        # Only a webhook signs; one that became another transport forgets its secret, so one made a webhook
        # again gets a new secret, shown once, rather than an old one nobody was shown.
        channel.secret = None
    elif not channel.secret:
        channel.secret = secrets.token_urlsafe(32)
    if "members" in data:
        channel.members = _members(session, data["members"])
    if any(key in data for key in SCHEDULE_FIELDS):
        channel.next_check_at = line_checks.next_check(channel, now or utcnow()) if channel.active else None
    session.flush()
    if before is not None and before[0] and not channel.active:
        lines_lost.step_lost(session, channel, "deactivated", now or utcnow())
    elif before is not None and channel.active and before[1] != channel.address:  # a link is made for an address
        lines_lost.step_lost(session, channel, "readdressed", now or utcnow())
    return channel


def _in_a_policy(session: Session, channel_id: int) -> bool:
    as_channel = exists().where(step_channels.c.channel_id == channel_id)
    as_fallback = exists().where(PolicyStep.fallback_channel_id == channel_id)
    return bool(session.scalar(select(as_channel | as_fallback)))


def _talked_over(session: Session, channel_id: int) -> bool:
    """Whether the line carried anything: an exchange, a message, a call or a check (a line to the other side
    made internal could then take our alerts to their address; any line is kept, deactivated, for its history)."""
    used = (
        exists().where(Exchange.channel_id == channel_id)
        | exists().where(Notification.channel_id == channel_id)
        | exists().where(ChannelCheck.channel_id == channel_id)
        | exists().where(Call.channel_id == channel_id)
    )
    return bool(session.scalar(select(used)))


def _on_running_ladder(session: Session, channel_id: int) -> bool:
    """True when the ladder snapshot of an incident not yet resolved names the channel (a step still to come):
    an acknowledged or exhausted one goes back up its ladder when nobody works on it (engine.idle)."""
    ladders = session.scalars(select(Incident.ladder).where(Incident.status != IncidentStatus.RESOLVED))
    return any(
        entry["id"] == channel_id
        for ladder in ladders
        for step in ladder["steps"]
        for entry in [*step["channels"], step.get("fallback") or {"id": None}]
    )


def delete_channel(session: Session, channel_id: int) -> None:
    """Delete a channel nothing refers to; a channel with history is deactivated instead."""
    channel = get_channel(session, channel_id)
    # A step's fallback counts: its foreign key would drop the fallback without a word.
    in_policy = _in_a_policy(session, channel_id)
    # Its history (_talked_over): messages over it, and a line's exchanges, calls and checks (a draft too), whose
    # foreign keys refused the delete as a bare conflict.
    in_history = _talked_over(session, channel_id)
    on_ladder = _on_running_ladder(session, channel_id)
    if in_policy or in_history or on_ladder:
        raise Conflict(
            Sentence(
                "channel {name} is used by a policy, a running incident or past notifications",
                {"name": repr(channel.name)},
            ),
            {
                "hint": "set active=false instead",
                "in_policy": bool(in_policy),
                "in_history": bool(in_history),
                "on_running_ladder": on_ladder,
            },
        )
    session.delete(channel)
    session.flush()


# -- policies -----------------------------------------------------------------------------


def get_policy(session: Session, policy_id: int) -> EscalationPolicy:
    return _get(session, EscalationPolicy, policy_id, "policy")


def list_policies(session: Session) -> list[EscalationPolicy]:
    """Every policy by name, with its steps and their lines read for all the policies at once."""
    steps = selectinload(EscalationPolicy.steps)
    loads = (steps.selectinload(PolicyStep.channels), steps.selectinload(PolicyStep.fallback_channel))
    return list(session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.name).options(*loads)))


def _build_steps(session: Session, steps: list[dict]) -> list[PolicyStep]:
    if not steps:
        raise ValidationError("a policy needs at least one step", {"steps": "empty"})
    wanted = {i for step in steps for i in step["channel_ids"]} | {
        step["fallback_channel_id"] for step in steps if step.get("fallback_channel_id")
    }
    found = {c.id: c for c in session.scalars(select(ContactChannel).where(ContactChannel.id.in_(wanted)))}
    problems = {}
    for n, step in enumerate(steps, start=1):
        if not step["channel_ids"]:
            problems[f"steps.{n}.channel_ids"] = "a step needs at least one channel"
        missing = [i for i in step["channel_ids"] if i not in found]
        if missing:
            problems[f"steps.{n}.channel_ids"] = f"no such channels: {missing}"
        fallback = step.get("fallback_channel_id")
        if fallback and fallback not in found:
            problems[f"steps.{n}.fallback_channel_id"] = f"no such channel: {fallback}"
        if n == 1 and step.get("by_decision"):
            problems["steps.1.by_decision"] = "the first step is entered at filing: it cannot wait for a decision"
        # Said beside the field that names them, by their names: a fallback was blamed on the step's channels,
        # which held only our own lines, as "channels [7]".
        theirs = [found[i].name for i in step["channel_ids"] if i in found and found[i].counterpart_line]
        if theirs:
            problems[f"steps.{n}.channel_ids"] = (
                f"{', '.join(repr(name) for name in theirs)}: line to the other side, which carries exchanges, never "
                "ladder messages"
            )
        if fallback in found and found[fallback].counterpart_line:
            problems[f"steps.{n}.fallback_channel_id"] = (
                f"{found[fallback].name!r}: line to the other side, which carries exchanges, never ladder messages"
            )
    if problems:
        raise ValidationError("the policy's steps are not valid", problems)
    return [
        PolicyStep(
            position=n,
            ack_seconds=step.get("ack_seconds"),
            # In the order PolicyStep.channels loads them, so the answer matches a later read.
            channels=sorted((found[i] for i in dict.fromkeys(step["channel_ids"])), key=lambda c: c.level),
            fallback_channel=found.get(step["fallback_channel_id"]) if step.get("fallback_channel_id") else None,
            by_decision=bool(step.get("by_decision")),
        )
        for n, step in enumerate(steps, start=1)
    ]


def save_policy(session: Session, data: dict, policy: EscalationPolicy | None = None) -> EscalationPolicy:
    """Create a policy, or update one (steps given are replaced whole). Running incidents keep
    their own snapshot of the ladder, so this never changes an escalation in progress."""
    data = _named(data)
    if policy is not None:
        count_save(session, policy, data, "policy")
    if "name" in data:
        _unique_name(session, EscalationPolicy, data["name"], policy.id if policy else None)
    if policy is None:
        policy = EscalationPolicy()
        session.add(policy)
    for key in ("name", "description", "repeat"):
        if key in data:
            setattr(policy, key, data[key])
    if "steps" in data:
        new_steps = _build_steps(session, data["steps"])
        policy.steps.clear()
        session.flush()
        policy.steps.extend(new_steps)
    session.flush()
    return policy


def delete_policy(session: Session, policy_id: int) -> None:
    """Delete a policy no routing rule uses; incidents filed under it keep their snapshot."""
    policy = get_policy(session, policy_id)
    rules = session.scalars(select(RoutingRule.name).where(RoutingRule.policy_id == policy_id)).all()
    if rules:
        said = Sentence("policy {name} is used by routing rules", {"name": repr(policy.name)})
        raise Conflict(said, {"rules": list(rules)})
    session.delete(policy)
    session.flush()


# -- routing rules ------------------------------------------------------------------------


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    return _get(session, RoutingRule, rule_id, "routing rule")


def _check_rule(session: Session, rule: RoutingRule) -> None:
    problems = {}
    if rule.category is not None:
        domains = [rule.domain] if rule.domain is not None else list(Domain)
        if not any(rule.category in categories_for(d) for d in domains):
            problems["category"] = f"{rule.category!r} is not in the catalogue" + (
                f" for domain {rule.domain.value!r}" if rule.domain else ""
            )
    if rule.sector is not None and reserved_sector(rule.sector):
        problems["sector"] = f"{NO_SECTOR!r} is what the reports call no sector: leave the sector out to match any"
    if rule.is_default:
        criteria = [
            k
            for k in ("domain", "category", "precedence", "min_escalation_risk", "sector", "within_border_km")
            if getattr(rule, k) is not None
        ]
        if criteria:
            problems["is_default"] = f"the default rule matches everything; remove {', '.join(criteria)}"
        if not rule.active:
            problems["active"] = "the default rule cannot be deactivated"
    if session.get(EscalationPolicy, rule.policy_id) is None:
        problems["policy_id"] = f"no policy {rule.policy_id}"
    if problems:
        raise ValidationError("the routing rule is not valid", problems)


def _check_receipt_seconds(data: dict) -> None:
    """Refuse (422) receipt deadlines that are not whole seconds (a minute to RECEIPT_MAX_SECONDS) per precedence
    letter, as the API's schema does for the admin page too; an empty mapping is kept as None (the deployment's
    RECEIPT_SECONDS apply)."""
    given = data.get("receipt_seconds")
    if not given:
        if "receipt_seconds" in data:
            data["receipt_seconds"] = None
        return
    letters = {p.value for p in Precedence}
    wrong = sorted(
        str(k)
        for k, v in given.items()
        if k not in letters or isinstance(v, bool) or not isinstance(v, int) or not 60 <= v <= RECEIPT_MAX_SECONDS
    )
    if wrong:
        raise ValidationError(
            f"receipt deadlines are whole seconds (60 to {RECEIPT_MAX_SECONDS}) per precedence letter Z, O, P, R",
            {"receipt_seconds": f"not valid: {', '.join(wrong)}"},
        )


def _check_agreement(session: Session, data: dict, current: int | None = None) -> None:
    """Refuse (422) an agreement_id that names no agreement (the database would answer with a 409), or one no
    longer in force (inactive), unless the line or rule names it already (current): deactivating an agreement
    stops its new uses, and leaves the configuration that cites it as its admin set it."""
    agreement_id = data.get("agreement_id")
    if agreement_id is None:
        return
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise ValidationError("no such agreement", {"agreement_id": f"no agreement {agreement_id}"})
    if not agreement.active and agreement_id != current:
        raise ValidationError(
            f"the agreement {agreement.code} is not in force (inactive)",
            {"agreement_id": f"{agreement.code} is inactive: choose one in force, or activate it first"},
        )


def save_rule(session: Session, data: dict, rule: RoutingRule | None = None) -> RoutingRule:
    """Create a rule (exactly one may be the default) or update one."""
    if isinstance(data.get("sector"), str):
        # As the Routing page's field gives it (blank: any sector): kept as sent, "North " matched no incident.
        data = {**data, "sector": data["sector"].strip() or None}
    data = _named(data)
    if rule is not None:
        count_save(session, rule, data, "rule")
    _check_agreement(session, data, rule.agreement_id if rule is not None else None)
    if "name" in data:
        _unique_name(session, RoutingRule, data["name"], rule.id if rule else None)
    if rule is None:
        if data.get("is_default") and session.scalar(select(RoutingRule.id).where(RoutingRule.is_default.is_(True))):
            raise Conflict("a default routing rule exists already; edit it instead", {"is_default": True})
        rule = RoutingRule(is_default=bool(data.get("is_default")), active=True)
        if "position" not in data:
            rule.position = (session.scalar(select(func.max(RoutingRule.position))) or 0) + 10
        session.add(rule)
    elif "is_default" in data and data["is_default"] != rule.is_default:
        raise Conflict("which rule is the default cannot change", {"is_default": rule.is_default})
    for key in RULE_FIELDS:
        if key in data:
            setattr(rule, key, data[key])
    if "policy_id" in data:
        rule.policy_id = data["policy_id"]
    with session.no_autoflush:
        _check_rule(session, rule)
    session.flush()
    return rule


def delete_rule(session: Session, rule_id: int) -> None:
    rule = get_rule(session, rule_id)
    if rule.is_default:
        raise Conflict("the default routing rule cannot be deleted", {"id": rule_id})
    session.delete(rule)
    session.flush()
