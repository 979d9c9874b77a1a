"""Context around incidents: notified exercises, and links between related incidents."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..timeutil import utcnow
from .base import Base, enum_column
from .enums import LinkState, NotifiedVia
from .incident import Incident


class ExerciseNotice(Base):
    """A notified exercise: who, when, where (a polygon, or a centre and radius), how big, how told."""

    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    states: Mapped[list] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    # A GeoJSON Polygon geometry (WGS84 lon/lat), or else a centre and a radius.
    area: Mapped[dict | None] = mapped_column(JSON)
    centre_latitude: Mapped[float | None] = mapped_column(Float)
    centre_longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    # Declared figures, as the Vienna Document counts them (chapter V paragraph 40): troops
    # (declared_size), battle tanks, armoured combat vehicles, artillery pieces of 100 mm and above
    # (40.1.1), airborne or amphibious troops (40.2.1), and aircraft sorties (40.1.2).
    declared_size: Mapped[int | None] = mapped_column(Integer)
    battle_tanks: Mapped[int | None] = mapped_column(Integer)
    armoured_combat_vehicles: Mapped[int | None] = mapped_column(Integer)
    artillery_pieces: Mapped[int | None] = mapped_column(Integer)
    airborne_troops: Mapped[int | None] = mapped_column(Integer)
    aircraft_sorties: Mapped[int | None] = mapped_column(Integer)
    notified_via: Mapped[NotifiedVia] = mapped_column(enum_column(NotifiedVia))
    notified_at: Mapped[datetime | None]
    # When the annual calendar (chapter VII) listing the activity came (ours: when we sent it); None: none on record.
    calendar_at: Mapped[datetime | None]
    # Who notified whom: the notifying State, and the States (or "all participating States") told.
    notified_by: Mapped[str | None] = mapped_column(String(80))
    notified_to: Mapped[str | None] = mapped_column(String(200))
    # Carried out without advance notice (an alert activity): notified at its start (paragraph 41).
    snap: Mapped[bool] = mapped_column(Boolean, default=False)
    # Our own exercise, briefed by us to the other side (the same checks apply to us).
    ours: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    # Each change after entry, oldest first: {"at", "by", "fields": {name: [before, after]}} (None: none yet).
    # A notice's dates or time moved after the fact must not erase what it said.
    changes: Mapped[list | None] = mapped_column(JSON)


class ExerciseBriefing(Base):
    """A briefing on one of our own exercises given to the other side: what, to whom, when, how."""

    __tablename__ = "exercise_briefings"

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    briefed_at: Mapped[datetime]
    briefed_to: Mapped[str] = mapped_column(String(200))
    # vienna_document, bilateral_briefing or voluntary_briefing (NotifiedVia), as for theirs.
    via: Mapped[NotifiedVia] = mapped_column(enum_column(NotifiedVia))
    content: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    exercise: Mapped[ExerciseNotice] = relationship(
        backref=backref("briefings", order_by="ExerciseBriefing.briefed_at", cascade="all, delete-orphan")
    )


class IncidentLink(Base):
    """A suggested (then confirmed or dismissed) relation between two incidents; incident is the newer."""

    __tablename__ = "incident_links"
    __table_args__ = (UniqueConstraint("incident_id", "related_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    state: Mapped[LinkState] = mapped_column(enum_column(LinkState), default=LinkState.SUGGESTED)
    distance_km: Mapped[float | None] = mapped_column(Float)
    hours_apart: Mapped[float] = mapped_column(Float)
    suggested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(80))

    incident: Mapped[Incident] = relationship(foreign_keys=[incident_id])
    related: Mapped[Incident] = relationship(foreign_keys=[related_id])
