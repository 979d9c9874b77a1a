"""Job functions the scheduler calls; importable, each opens its own sessions per batch."""

import logging
import os
import socket

from flask import Flask

from .channels import DeliveryError
from .db import session_scope
from .services import delivery, escalation, heartbeat
from .timeutil import utcnow

log = logging.getLogger("tracker.jobs")


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def sweep(app: Flask) -> int:
    """Escalate every due incident, one committed batch at a time; return how many advanced."""
    runner, started, total, error = runner_id(), utcnow(), 0, None
    batch = app.config["SWEEP_BATCH_SIZE"]
    try:
        while True:
            with session_scope(app) as session:
                advanced = escalation.sweep_batch(session, utcnow(), batch, runner)
            total += advanced
            if advanced < batch:
                break
    except Exception as exc:  # the next run retries; the heartbeat records what went wrong
        log.exception("sweep failed after %d escalations", total)
        error = f"{type(exc).__name__}: {exc}"[:2000]
    _beat(app, "sweep", runner, started, error)
    if total:
        log.info("sweep escalated %d incidents", total)
    return total


def deliver(app: Flask) -> int:
    """Send every deliverable outbox row through its channel's transport; return how many sent."""
    transports = app.extensions["tracker.transports"]
    policy = delivery.RetryPolicy(
        app.config["DELIVERY_MAX_ATTEMPTS"],
        app.config["DELIVERY_RETRY_BASE_SECONDS"],
        app.config["DELIVERY_CLAIM_SECONDS"],
    )
    batch, sent = app.config["DELIVERY_BATCH_SIZE"], 0
    try:
        while True:
            with session_scope(app) as session:
                claimed = delivery.claim_messages(session, utcnow(), batch, policy)
            for item in claimed:
                sent += _send_one(app, transports, item, policy)
            if len(claimed) < batch:
                break
    except Exception:
        log.exception("delivery failed after %d messages", sent)
    return sent


def _send_one(app: Flask, transports, item: delivery.Claimed, policy: delivery.RetryPolicy) -> int:
    transport = transports.get(item.transport)
    try:
        if transport is None:
            raise DeliveryError(f"this deployment has no {item.transport!r} transport", transient=False)
        transport.send(item.message)
    except Exception as exc:
        error = exc if isinstance(exc, DeliveryError) else DeliveryError(f"{type(exc).__name__}: {exc}")
        with session_scope(app) as session:
            status = delivery.record_failure(session, item.message.notification_id, error, utcnow(), policy)
        log.warning(
            "message %s to %s: %s (%s)", item.message.notification_id, item.message.recipient, error, status.value
        )
        return 0
    with session_scope(app) as session:
        delivery.record_sent(session, item.message.notification_id, item.transport, utcnow())
    return 1


def _beat(app: Flask, name: str, runner: str, started, error: str | None) -> None:
    try:
        with session_scope(app) as session:
            heartbeat.beat(session, name, runner, started, utcnow(), error)
    except Exception:
        log.exception("cannot record the %s heartbeat", name)
