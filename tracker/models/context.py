"""Context around incidents: notified exercises, and links between related incidents."""

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    declared_size: Mapped[int | None] = mapped_column(Integer)
    notified_via: Mapped[NotifiedVia] = mapped_column(enum_column(NotifiedVia))
    notified_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


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
