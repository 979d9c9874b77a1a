"""Users and their API tokens."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..timeutil import utcnow
from .base import Base, enum_column
from .enums import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Failed sign-ins since the last successful one (from any address), told to the user at sign-in.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[datetime | None]
    # Counted up at each deactivation: the calendar feed link's stamp carries it, so a reactivated user's
    # links from before no longer work (their API tokens are revoked at deactivation).
    credentials_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The reporting unit this user last filed for, offered again on the filing form.
    last_reporting_unit: Mapped[str | None] = mapped_column(String(120))

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    # The attributes Flask-Login reads (duck-typed, so the model needs no Flask import).
    @property
    def is_active(self) -> bool:
        return self.active

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """The user's part of a web session's key; the session itself is a web_sessions row."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class ApiToken(Base):
    """A bearer token; only its SHA-256 digest is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
