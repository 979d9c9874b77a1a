"""What guards the doors: web sessions, failed sign-ins per account and address, the account's own
security log, and the answers kept for Idempotency-Key retries."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..timeutil import utcnow
from .base import Base


class WebSession(Base):
    """A signed-in browser. The cookie holds only its id; sign-out, a password change and
    deactivation revoke it here, so a copied cookie stops working at once."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # secrets.token_urlsafe(32)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Its last use on record, to the minute (services.accounts.sessions.mark_seen): the idle limit runs from it.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None]
    revoked_why: Mapped[str | None] = mapped_column(String(40))


class OwnKey(Base):
    """A key the tracker made for itself (32 random bytes, on its first use: services.accounts.own_keys) and keeps
    beside what it keys, for one purpose: the names of failed sign-ins are digested under "sign-in names". Never
    shown, logged or configured; a new SECRET_KEY leaves it as it is."""

    __tablename__ = "own_keys"

    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary)


class SignInFailure(Base):
    """Failed sign-ins for one account from one address, and when that pair may try again."""

    __tablename__ = "signin_failures"

    # The name as it reads (accounts.names.folded), kept only as its HMAC-SHA-256 in hex under an OwnKey
    # (people.account_key): a password typed into the name field is never kept readable, nor a name of no account.
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime | None]


class AccountEvent(Base):
    """The security log of accounts: sign-ins, someone guessing, sessions revoked."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class IdempotentRequest(Base):
    """A creating POST sent with an Idempotency-Key: the first answer, replayed for a retry."""

    __tablename__ = "idempotent_requests"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    route: Mapped[str] = mapped_column(String(200))  # method and path
    body_digest: Mapped[str] = mapped_column(String(64))  # HMAC-SHA-256 of the request body (http.idempotency)
    status: Mapped[int | None] = mapped_column(Integer)  # None until the first answer is stored
    answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    answer_type: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
