"""Wiring between the app's configuration and the delivery services, for jobs, API and CLI."""

import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from email.utils import parseaddr

from flask import Flask

from .channels import DeliveryError
from .db import session_scope
from .models import ContactChannel
from .services.engine import delivery, heartbeat, idle, line_checks
from .services.engine.links import AckLinks, LinkSigner, fingerprint
from .services.exchanges import counterpart_checks, message_format, outgoing
from .services.incidents import checks
from .timeutil import utcnow

log = logging.getLogger("tracker.dispatch")


def signer(app: Flask) -> LinkSigner:
    """Signs with SECRET_KEY; a link signed under a key of SECRET_KEY_FALLBACKS still verifies until it expires."""
    config = app.config
    fallbacks = tuple(config.get("SECRET_KEY_FALLBACKS") or ())
    return LinkSigner(config["SECRET_KEY"], config["LINK_MAX_AGE_SECONDS"], fallbacks)


def keys(app: Flask) -> heartbeat.Keys:
    """This process's link keys by their fingerprints (links.fingerprint), as heartbeats and /health compare them."""
    config = app.config
    fallbacks = frozenset(fingerprint(key) for key in config.get("SECRET_KEY_FALLBACKS") or ())
    return heartbeat.Keys(fingerprint(config["SECRET_KEY"]), fallbacks)


def link_keys_problem(app: Flask, leave_out: str = "") -> str | None:
    """Whether a live scheduler (other than leave_out) signs its links with a key this process's do not match,
    said to an operator (heartbeat.link_keys_problem); None when all is well."""
    config = app.config
    live_after = timedelta(seconds=config["SWEEP_INTERVAL_SECONDS"] * config["SWEEP_STALE_INTERVALS"])
    with session_scope(app) as session:
        state, runners = heartbeat.link_keys(session, utcnow(), live_after, keys(app), leave_out)
    return heartbeat.link_keys_problem(state, runners)


def ack_links(app: Flask) -> AckLinks:
    """What the sweep signs the acknowledge links of the calls to act it queues with (and delivery
    those of rows queued before migration 0010)."""
    return AckLinks(signer(app), app.config["PUBLIC_URL"])


def filing_checks(app: Flask) -> checks.CheckLimits:
    """What the sweep checks a new incident against (related incidents, exercises near the border)."""
    config = app.config
    return checks.CheckLimits(
        config["RELATED_DISTANCE_KM"], config["RELATED_WINDOW_HOURS"], config["NO_NOTICE_BORDER_KM"]
    )


def mail_domain(app: Flask) -> str:
    address = parseaddr(app.config["SMTP_FROM"])[1]
    return address.rpartition("@")[2] or "tracker.invalid"


def composer(app: Flask) -> delivery.Composer:
    return delivery.Composer(
        ack_links(app), mail_domain(app), app.config["SUPERVISOR_TRANSPORT"], message_format.parts_by_language
    )


def retry_policy(app: Flask) -> delivery.RetryPolicy:
    config = app.config
    return delivery.RetryPolicy(
        config["DELIVERY_MAX_ATTEMPTS"],
        config["DELIVERY_RETRY_BASE_SECONDS"],
        config["DELIVERY_CLAIM_SECONDS"],
        config["RUNNER_DEAD_INTERVALS"] * config["SWEEP_INTERVAL_SECONDS"],
    )


def outgoing_settings(app: Flask) -> outgoing.Settings:
    """What a formatted message to the other side needs outside a request (a scheduled line check)."""
    config = app.config
    return outgoing.Settings(
        our_station=config["OUR_STATION"],
        reference_prefix=config["EXCHANGE_REFERENCE_PREFIX"],
        receipt_seconds={str(k): int(v) for k, v in config["RECEIPT_SECONDS"].items()},
        links=ack_links(app),
    )


def health_rules(app: Flask) -> line_checks.HealthRules:
    return line_checks.HealthRules(app.config["CHECK_DEGRADED_AFTER"], app.config["CHECK_DOWN_AFTER"])


def idle_rules(app: Flask) -> idle.IdleRules:
    """The acknowledgement timeout by precedence (ACK_TIMEOUT_SECONDS), for acknowledgements and the sweep."""
    return idle.IdleRules({str(k): int(v) for k, v in app.config["ACK_TIMEOUT_SECONDS"].items()})


def decision_reask(app: Flask) -> timedelta:
    """How often a question about a step reached by decision is put again (DECISION_REASK_SECONDS)."""
    return timedelta(seconds=app.config["DECISION_REASK_SECONDS"])


def send(app: Flask, transport_name: str, message) -> tuple[str | None, int]:
    """Send through the named transport; return (response code, latency in ms) or raise DeliveryError."""
    transport = app.extensions["tracker.transports"].get(transport_name)
    if transport is None:
        raise DeliveryError(f"this deployment has no {transport_name!r} transport", transient=False)
    started = time.monotonic()
    try:
        code = transport.send(message)
    except DeliveryError:
        raise
    except Exception as exc:  # a transport bug must not kill the job; retry it like an outage
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    return code, int((time.monotonic() - started) * 1000)


def settle(app: Flask, transport_names: Iterable[str]) -> None:
    """Make durable what the named transports were handed (the file drop's new names), before the
    messages are recorded as sent; a transport whose peer took the message over has nothing to settle.
    Raises OSError when it cannot: the messages stay claimed and go out again once the claim lapses."""
    transports = app.extensions["tracker.transports"]
    for name in set(transport_names):
        settle_one = getattr(transports.get(name), "settle", None)
        if settle_one is not None:
            settle_one()


def send_check(app: Flask, channel_id: int, requested_by: str) -> int:
    """Open a check on a channel and send its test message now; return the check's id."""
    with session_scope(app) as session:
        channel = session.get_one(ContactChannel, channel_id)
        check = line_checks.start_check(session, channel, requested_by, utcnow())
        if channel.counterpart_line:  # the other side answers on the line: a formatted message, no link
            message = counterpart_checks.compose(session, check, outgoing_settings(app), mail_domain(app))
        else:
            message = line_checks.compose(check, signer(app), app.config["PUBLIC_URL"], mail_domain(app))
        check_id, transport = check.id, channel.transport
    try:
        send(app, transport, message)
        settle(app, [transport])
    except (DeliveryError, OSError) as error:
        log.warning("check %s of %s not delivered: %s", check_id, message.recipient, error)
        with session_scope(app) as session:
            line_checks.fail_check(session, check_id, str(error), utcnow(), health_rules(app))
    return check_id
