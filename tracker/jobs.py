"""Job functions the scheduler calls; importable, each opens its own sessions per batch."""

import logging
import os
import socket

from flask import Flask

from . import dispatch
from .channels import DeliveryError
from .db import session_scope
from .services import checks, delivery, escalation, exchanges, heartbeat
from .timeutil import utcnow

log = logging.getLogger("tracker.jobs")


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sweep(app: Flask) -> int:
    """Escalate every due incident, then mark overdue every exchange whose clock ran out, one
    committed batch at a time; return how many incidents advanced (overdue exchanges are logged)."""
    runner, started, total, overdue, error = runner_id(), utcnow(), 0, 0, None
    batch = app.config["SWEEP_BATCH_SIZE"]
    try:
        while True:
            with session_scope(app) as session:
                advanced = escalation.sweep_batch(session, utcnow(), batch, runner)
            total += advanced
            if advanced < batch:
                break
        while True:
            with session_scope(app) as session:
                expired = exchanges.sweep_batch(session, utcnow(), batch, runner)
            overdue += expired
            if expired < batch:
                break
    except Exception as exc:  # the next run retries; the heartbeat records what went wrong
        log.exception("sweep failed after %d escalations", total)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    _beat(app, "sweep", runner, started, error)
    if total:
        log.info("sweep escalated %d incidents", total)
    if overdue:
        log.info("sweep marked %d exchanges overdue", overdue)
    return total


def deliver(app: Flask) -> int:
    """Send every deliverable outbox row through its channel's transport; return how many sent."""
    policy, composer = dispatch.retry_policy(app), dispatch.composer(app)
    batch, sent = app.config["DELIVERY_BATCH_SIZE"], 0
    try:
        while True:
            with session_scope(app) as session:
                claimed = delivery.claim_messages(session, utcnow(), batch, policy, composer)
            for item in claimed:
                sent += _send_one(app, item, policy)
            if len(claimed) < batch:
                break
    except Exception:
        log.exception("delivery failed after %d messages", sent)
    return sent


def _send_one(app: Flask, item: delivery.Claimed, policy: delivery.RetryPolicy) -> int:
    try:
        code, latency = dispatch.send(app, item.transport, item.message)
    except DeliveryError as error:
        with session_scope(app) as session:
            status = delivery.record_failure(session, item.notification_id, item.transport, error, utcnow(), policy)
        log.warning("message %s to %s: %s (%s)", item.notification_id, item.message.recipient, error, status.value)
        return 0
    with session_scope(app) as session:
        delivery.record_sent(session, item.notification_id, item.transport, utcnow(), latency, code)
    return 1


def check_lines(app: Flask) -> int:
    """Judge checks whose window closed, then send the checks that are due; return how many sent."""
    rules, sent = dispatch.health_rules(app), 0
    try:
        with session_scope(app) as session:
            failed = checks.expire_checks(session, utcnow(), rules)
        if failed:
            log.warning("%d communications checks were not confirmed in time", failed)
        with session_scope(app) as session:
            due = [c.id for c in checks.claim_due_channels(session, utcnow(), 50)]
        for channel_id in due:
            dispatch.send_check(app, channel_id, "schedule")
            sent += 1
    except Exception:
        log.exception("communications checks failed after %d checks", sent)
    return sent


def _beat(app: Flask, name: str, runner: str, started, error: str | None) -> None:
    try:
        with session_scope(app) as session:
            heartbeat.beat(session, name, runner, started, utcnow(), error)
    except Exception:
        log.exception("cannot record the %s heartbeat", name)
