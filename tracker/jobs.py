"""Job functions the scheduler calls; importable, each opens its own sessions per batch."""

import contextlib
import functools
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from . import dispatch, metrics
from .backup import anchor
from .channels import DeliveryError, Message
from .db import session_scope
from .http import idempotency
from .services.engine import (
    delivery,
    escalation,
    heartbeat,
    idle,
    line_alerts,
    line_checks,
    notify,
    relief_alerts,
    watchdog,
)
from .services.engine.claims import SetAside
from .services.exchanges import calls, exchanges, receipts, releasability
from .services.incidents import checks
from .services.review import audit
from .stages import Stages
from .timeutil import utcnow

log = logging.getLogger("tracker.jobs")
# Messages sent are recorded this many at a time, or after this many seconds of sending (a failure
# is recorded at once): a crash re-sends at most that many.
RECORD_EVERY = 50
RECORD_SECONDS = 1.0
# How long a delivery batch sends on what it claimed before it looks again: a call to act goes out at most
# this long (and one message's sending) after an acknowledgement commits. Its claims are renewed more
# rarely, once a third of DELIVERY_CLAIM_SECONDS has passed (_send_all).
RECHECK_SECONDS = 0.2
# While a batch is sent, the delivery job says it runs this often (/health's delivery; jobs.deliver).
BEAT_SECONDS = 5


# Drawn once per process start: a container restarted after kill -9 is PID 1 on the same host name again,
# and two such containers may share both; without it the new process would keep its dead predecessor's
# claims alive with its own heartbeat, and one twin's clean stop would give up the other's claims.
_START = secrets.token_hex(4)


def runner_id() -> str:
    """This process as its claims and heartbeat name it: host, pid and a mark of this start (<= 120)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{_START}"


def sweep(app: Flask) -> int:
    """Check the incidents filed since the last run (related incidents, exercises), escalate every due
    incident (or ask again about a step reached by decision), then look at every acknowledged incident
    left idle past its acknowledgement timeout, then mark overdue every exchange whose clock ran out and
    every message whose receipt the other side has not confirmed in time and every action agreed on a
    call past due undone, then seal the new timeline events onto the audit chain, one committed batch at
    a time; return how many incidents advanced (the rest is logged)."""
    runner, started = runner_id(), utcnow()
    batch, clock, links = app.config["SWEEP_BATCH_SIZE"], time.perf_counter(), dispatch.ack_links(app)
    public_url = links.public_url  # the supervisors' messages link the incident page
    reask, idle_rules = dispatch.decision_reask(app), dispatch.idle_rules(app)
    filing_checks = dispatch.filing_checks(app)
    # Each stage runs on its own: one that fails is logged and recorded, and the next runs anyway (a filing
    # check that keeps failing must not stop escalation); a row failing alone is set aside (stages.py).
    stages = Stages(app, batch)
    drain = stages.drain

    # New incidents: related incidents and the exercise link (services/incidents/checks.py).
    drain("filing checks", "incident", lambda s, n, a: checks.check_batch(s, utcnow(), n, filing_checks, a))
    total = drain(
        "escalation", "incident", lambda s, n, a: escalation.sweep_batch(s, utcnow(), n, runner, links, reask, a)
    )
    # Acknowledged but idle: remind, then re-escalate (services/engine/idle.py).
    drain("idle", "incident", lambda s, n, a: idle.sweep_batch(s, utcnow(), n, runner, links, idle_rules, a))
    overdue = drain(
        "exchanges", "exchange", lambda s, n, a: exchanges.sweep_batch(s, utcnow(), n, runner, public_url, a)
    )
    # The other side's receipts whose clock ran out (services/exchanges/receipts.py).
    late_receipts = drain(
        "receipts",
        "message",
        lambda s, n, a: receipts.sweep_batch(s, utcnow(), n, runner, public_url=public_url, aside=a),
    )
    # Actions agreed on calls, past due undone (services/exchanges/calls.py).
    late_actions = drain(
        "actions", "action", lambda s, n, a: calls.sweep_batch(s, utcnow(), n, runner, public_url=public_url, aside=a)
    )
    try:  # seal the events committed since the last run; a sealer in another process is sealing them already
        kept = functools.partial(_keep_anchor, app, errors=stages.errors)
        audit.seal_all(lambda: session_scope(app), wait=False, on_sealed=kept)
    except Exception as exc:
        log.exception("sweep failed sealing the audit chain")
        stages.errors.append(f"audit seal: {type(exc).__name__}: {exc}")
    error = stages.error()  # the heartbeat records what went wrong, and every row set aside
    _beat(app, "sweep", runner, started, error)
    metrics.observe_seconds(metrics.SWEEP_DURATION, clock)
    metrics.OVERDUE_EXCHANGES.inc(overdue)
    if total:
        log.info("sweep escalated %d incidents", total)
    if overdue:
        log.info("sweep marked %d exchanges overdue", overdue)
    if late_receipts:
        log.info("sweep found %d receipts overdue", late_receipts)
    if late_actions:
        log.info("sweep marked %d agreed actions overdue", late_actions)
    return total


def next_deadline(app: Flask) -> datetime | None:
    """The earliest escalation deadline still to come, or None (or when the database cannot say)."""
    try:
        with session_scope(app, reads_only=True) as session:
            return escalation.next_deadline(session, utcnow())
    except Exception:  # the sweep runs at its interval anyway
        log.exception("cannot read the next escalation deadline")
        return None


def deliver(app: Flask) -> int:
    """Send every deliverable outbox row through its channel's transport; return how many sent."""
    policy, composer, runner = dispatch.retry_policy(app), dispatch.composer(app), runner_id()
    signs_with = dispatch.keys(app).signs_with
    batch, sent, first = app.config["DELIVERY_BATCH_SIZE"], 0, True
    # The delivery job runs, for /health (a delivery process of its own that died sent nothing, unseen): said in a
    # transaction of its own, here and as it sends (_send_all), never in a claim's, which a second delivery process
    # would wait on.
    _beat(app, "deliver", runner, utcnow(), None)
    try:
        while True:
            claimed_at = time.monotonic()
            with session_scope(app) as session:
                now = utcnow()
                # Alive, said in the claim's own transaction: no other scheduler takes over these claims.
                heartbeat.beat_runner(session, runner, now, signs_with)
                stranded = delivery.settle_stranded(session, now, policy, app.config["PUBLIC_URL"]) if first else []
                if stranded:
                    log.warning("gave up texts %s: withheld while a try that never ended was under way", stranded)
                first = False
                taken: list[int] = []
                claimed = delivery.claim_messages(session, now, batch, policy, composer, runner, taken)
            sent += _send_all(app, claimed, policy, runner, claimed_at)
            if len(taken) < batch:  # a short claim: nothing more is due (some taken may not have gone out)
                break
    except Exception as exc:
        log.exception("delivery failed after %d messages", sent)
        _beat(app, "deliver", runner, utcnow(), f"delivery: {type(exc).__name__}")
        with contextlib.suppress(OSError):  # what was written stays unrecorded, but no file is left open
            dispatch.settle(app, app.extensions["tracker.transports"])
    return sent


def _send_all(
    app: Flask,
    claimed: list[delivery.Claimed],
    policy: delivery.RetryPolicy,
    runner: str | None = None,
    claimed_at: float | None = None,
) -> int:
    """Send each claimed message outside any transaction; record each failure in a transaction of its
    own and the messages sent in one transaction per RECORD_EVERY messages (or per RECORD_SECONDS), so
    a crash re-sends at most those few, the same message with the same idempotency key and Message-ID.

    Before a message, once RECHECK_SECONDS have passed since the claim (claimed_at, time.monotonic) or
    the last check, the messages still to send are checked (delivery.hold_claims): one the incident's
    acknowledgement overtook meanwhile is not sent, nor one another scheduler took over. Once a third of
    the claim's time has passed, the check also renews the claims left. What the transports were handed
    is settled (dispatch.settle) before it is recorded; a failure to settle ends the run with those messages
    still claimed, to go out again once their claims lapse."""
    sent, pending, since = 0, [], time.monotonic()
    checked = renewed = since if claimed_at is None else claimed_at
    dropped: set[int] = set()
    beaten = time.monotonic()
    for n, item in enumerate(claimed, start=1):
        if time.monotonic() - checked >= RECHECK_SECONDS:
            left = [c.notification_id for c in claimed[n - 1 :] if c.notification_id not in dropped]
            renew = time.monotonic() - renewed >= policy.claim_seconds / 3
            with session_scope(app) as session:
                now = utcnow()
                gone = set(left) - delivery.hold_claims(session, left, runner, now, policy, renew)
                for withheld in gone:  # a text withheld before its try began never went: its exchange put back
                    releasability.withheld_unsent(session, withheld, now)
                dropped.update(gone)
            checked = time.monotonic()
            renewed = checked if renew else renewed
        if time.monotonic() - beaten >= BEAT_SECONDS:  # a batch over a slow relay may outlast /health's stale limit
            _beat(app, "deliver", runner or runner_id(), utcnow(), None)
            beaten = time.monotonic()
        if item.notification_id not in dropped:
            try:
                code, latency = dispatch.send(app, item.transport, item.message)
            except DeliveryError as error:
                _record_failure(app, item, error, policy, runner)
            else:
                pending.append(delivery.Sent(item.notification_id, item.transport, utcnow(), latency, code))
        due = len(pending) >= RECORD_EVERY or time.monotonic() - since > RECORD_SECONDS or n == len(claimed)
        if pending and due:
            dispatch.settle(app, (p.transport for p in pending))  # on disk before it is on record
            with session_scope(app) as session:
                ours = delivery.record_sent_many(session, pending, runner)
            sent += len(ours)
            if lost := sorted({p.notification_id for p in pending} - set(ours)):
                # Sent while another scheduler took the claim over (this one's heartbeat seemed to stop): the
                # documented at-least-once window, said where an operator sees it.
                log.warning(
                    "messages %s were sent after another scheduler took over their claims: "
                    "they go out twice unless it cancels them",
                    lost,
                )
            for done in pending:  # counted once on record: one not settled is sent, and counted, again
                metrics.NOTIFICATIONS.labels(done.transport, "sent").inc()
                metrics.DELIVERY_LATENCY.labels(done.transport).observe(done.latency_ms / 1000)
            pending, since = [], time.monotonic()
    return sent


def _record_failure(
    app: Flask, item: delivery.Claimed, error: DeliveryError, policy: delivery.RetryPolicy, runner: str | None
) -> None:
    with session_scope(app) as session:
        status = delivery.record_failure(
            session,
            item.notification_id,
            item.transport,
            error,
            utcnow(),
            policy,
            public_url=app.config["PUBLIC_URL"],
            runner=runner,
        )
        releasability.withheld_unsent(session, item.notification_id, utcnow())
    metrics.NOTIFICATIONS.labels(item.transport, "transient" if error.transient else "permanent").inc()
    log.warning(
        "message %s to %s: %s (%s)",
        item.notification_id,
        item.message.recipient,
        error,
        status.value,
        extra={"reference": item.message.reference},
    )


def check_lines(app: Flask) -> int:
    """Judge checks whose window closed, then send the checks that are due; return how many sent."""
    rules, sent = dispatch.health_rules(app), 0
    try:
        with session_scope(app) as session:
            failed = line_checks.expire_checks(session, utcnow(), rules)
        if failed:
            log.warning("%d communications checks were not confirmed in time", failed)
        with session_scope(app) as session:
            due = [c.id for c in line_checks.claim_due_channels(session, utcnow(), 50)]
    except Exception:
        log.exception("communications checks could not be judged or claimed")
        return sent
    for channel_id in due:  # claimed: one line's check that cannot be sent must not skip the others'
        try:
            dispatch.send_check(app, channel_id, "schedule")
        except Exception:
            log.exception("the scheduled check of channel %s could not be sent", channel_id)
        else:
            sent += 1
    tell_line_changes(app)
    return sent


def tell_line_changes(app: Flask) -> int:
    """Tell every active supervisor of each line whose health changed (line_alerts); return how many
    changes were told. One that cannot be sent stays claimed until its claim lapses, then goes again."""
    public_url, domain = app.config["PUBLIC_URL"], dispatch.mail_domain(app)

    def claimed(session: Session, now: datetime, lapse: timedelta) -> list:
        return line_alerts.claim(session, now, lapse)

    def compose(check, supervisor) -> Message:
        return line_alerts.compose(check, supervisor, public_url, domain)

    return _tell_supervisors(app, "line health change", claimed, compose, line_alerts.mark_sent)


def tell_unrelieved_watches(app: Flask) -> int:
    """Tell every active supervisor, once, of each watch kept beyond WATCH_HOURS without relief
    (relief_alerts); return how many watches were told."""
    hours, public_url, domain = app.config["WATCH_HOURS"], app.config["PUBLIC_URL"], dispatch.mail_domain(app)

    def claimed(session: Session, now: datetime, lapse: timedelta) -> list:
        return relief_alerts.claim(session, now, hours, lapse)

    def compose(watch, supervisor) -> Message:
        return relief_alerts.compose(watch, hours, supervisor, public_url, domain)

    return _tell_supervisors(app, "unrelieved watch", claimed, compose, relief_alerts.mark_sent)


def _tell_supervisors(app: Flask, what: str, claimed, compose, mark_sent) -> int:
    """Claim what is to be told (rows with an id; claimed(session, now, lapse) stamps each claim with now),
    tell every active supervisor of each
    by SUPERVISOR_TRANSPORT, and mark each told once all were; claim again until nothing is left (a line's
    next change is claimable once its earlier one is told). At the first that cannot be sent, stop: it and
    the rest of its batch stay claimed until their claim lapses (DELIVERY_CLAIM_SECONDS), then go again, in
    their order. Return how many were told."""
    transport, lapse = app.config["SUPERVISOR_TRANSPORT"], timedelta(seconds=app.config["DELIVERY_CLAIM_SECONDS"])
    told = 0
    while True:
        try:
            with session_scope(app) as session:
                claimed_at = utcnow()
                rows = claimed(session, claimed_at, lapse)
                # Only when something is to be told: it warns of each supervisor passed over (the other
                # side's mailbox), which must not come at every tick of the checks and the watchdog.
                people = notify.active_supervisors(session) if rows else []
                alerts = [(row.id, [compose(row, person) for person in people]) for row in rows]
        except Exception:
            log.exception("%s alerts could not be claimed for the supervisors", what)
            return told
        if not alerts:
            return told
        for row_id, messages in alerts:
            try:
                for message in messages:
                    dispatch.send(app, transport, message)
                dispatch.settle(app, [transport])
            except (DeliveryError, OSError) as error:
                log.warning("%s alert %s not delivered: %s (sent again later)", what, row_id, error)
                return told
            if not messages:
                log.warning("%s (%s) and no active supervisor to tell", what, row_id)
            with session_scope(app) as session:
                mark_sent(session, row_id, claimed_at, utcnow())
            told += 1


def watch(app: Flask) -> int:
    """Alert the supervisors about every open incident whose deadline passed more than
    WATCHDOG_INTERVALS sweep intervals ago without a sweep escalating it; return how many."""
    config, runner = app.config, runner_id()
    late = timedelta(seconds=config["SWEEP_INTERVAL_SECONDS"] * config["WATCHDOG_INTERVALS"])

    def check(session: Session, limit: int, aside: SetAside) -> int:
        now = utcnow()
        return watchdog.check_batch(session, now, now - late, limit, runner, config["PUBLIC_URL"], aside)

    # One incident whose alert cannot be made is set aside: it must not keep every other one unreported.
    alerted = Stages(app, config["SWEEP_BATCH_SIZE"]).drain("watchdog", "incident", check)
    metrics.WATCHDOG_ALERTS.inc(alerted)
    if alerted:
        log.warning("watchdog: %d incidents passed their deadline with no sweep escalating them", alerted)
    tell_unrelieved_watches(app)  # a desk nobody minds: the watchdog's business too
    return alerted


def beat(app: Flask) -> None:
    """Say that this scheduler process is alive; one that stops beating for two sweep intervals is dead
    and a live one takes over the messages it had claimed (delivery.claim_messages)."""
    try:
        with session_scope(app) as session:
            heartbeat.beat_runner(session, runner_id(), utcnow(), dispatch.keys(app).signs_with)
    except Exception:  # the next beat tries again
        log.exception("cannot record this scheduler's heartbeat")


def leave(app: Flask) -> None:
    """Remove this scheduler's heartbeat when it stops cleanly, after its jobs finished."""
    try:
        with session_scope(app) as session:
            heartbeat.leave(session, runner_id())
    except Exception:  # it will be found dead two sweep intervals from now instead
        log.exception("cannot remove this scheduler's heartbeat")


def refresh_metrics(app: Flask) -> None:
    """Count the database's figures for GET /metrics, which serves the last count (tracker.metrics)."""
    try:
        metrics.refresh_snapshot(app)
    except Exception:  # the next run tries again; scrapes serve the last count meanwhile
        log.exception("cannot refresh the metrics snapshot")


def forget_answers(app: Flask) -> int:
    """Delete the answers kept for Idempotency-Key retries once they are 24 h old; return how many."""
    try:
        with session_scope(app) as session:
            return idempotency.forget_expired(session, utcnow())
    except Exception:  # the next run tries again; an expired key is claimed afresh meanwhile
        log.exception("cannot forget the expired idempotent answers")
        return 0


def _keep_anchor(app: Flask, head: audit.ChainHead, errors: list[str]) -> None:
    """Keep the chain's new head outside the database (tracker.backup.anchor); never stop the sweep for it, but
    say it among the sweep's errors: /health stayed ok while the anchor, which catches a chain cut short, stood
    at an old head, said only in the log."""
    try:
        anchor.write(anchor.path_for(app.config, app.instance_path), head)
    except OSError as exc:
        log.exception("cannot keep the audit chain's head outside the database")
        errors.append(f"audit anchor: {type(exc).__name__}: {exc}")


def _beat(app: Flask, name: str, runner: str, started, error: str | None) -> None:
    try:
        with session_scope(app) as session:
            heartbeat.beat(session, name, runner, started, utcnow(), error)
    except Exception:
        log.exception("cannot record the %s heartbeat", name)
