"""Bookkeeping rows: reference counters, job heartbeats, live schedulers and the metrics snapshot."""

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Counter(Base):
    """A named counter advanced atomically (INSERT ... ON CONFLICT DO UPDATE ... RETURNING)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class JobRun(Base):
    """When a scheduled job last ran, so any process can report scheduler health."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_runner: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)


class ThrottleHit(Base):
    """Attempts per key (an address or an account, by purpose) in one fixed time window."""

    __tablename__ = "throttle_hits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The window's start, in seconds since the epoch (UTC).
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Runner(Base):
    """A running scheduler process and its heartbeat. A runner whose beat is older than two sweep
    intervals is dead: another one takes over the messages it had claimed."""

    __tablename__ = "runners"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime]
    last_beat_at: Mapped[datetime] = mapped_column(index=True)
    # Which SECRET_KEY signs the links in its messages, as links.fingerprint names it (None: a runner of before
    # migration 0037): a web host that holds neither it nor it among its fallbacks refuses those links.
    signs_with: Mapped[str | None] = mapped_column(String(16))


class MetricsSnapshot(Base):
    """The database's figures for GET /metrics, refreshed by the scheduler (one row per name)."""

    __tablename__ = "metrics_snapshots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    refreshed_at: Mapped[datetime]
