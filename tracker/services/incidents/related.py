"""Related incidents: suggest links at filing, let a person confirm or dismiss them, and read the
pattern that the confirmed links make.

Two incidents are suggested as related when they share a category, happened within a window of
hours of each other, and lie within a geodesic distance of each other (pyproj's Geod, WGS84). An
incident without a position is never suggested: the distance rule cannot be checked.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from ...errors import Conflict, Forbidden, NotFound
from ...geo import wgs84
from ...models import EventKind, Incident, IncidentLink, LinkState, User
from ...models.permissions import Permission, may
from ...sentences import Sentence
from . import timeline
from .handling import ensure_may_handle

# Those who see the whole picture decide any link; liaison staff decide links to incidents of theirs.
# A degree of latitude is never shorter than 110.57 km: a cheap, safe latitude band for the query.
_KM_PER_DEGREE_LATITUDE = 110.0
# In a storm of look-alike incidents, a new one is suggested with its nearest few only, found among
# the closest in time: a person reads every suggestion, and filing must stay fast.
MAX_SUGGESTIONS = 10
MAX_CANDIDATES = 500


def distance_km(a: Incident, b: Incident) -> float | None:
    """Geodesic distance between two incidents in km, or None when either has no position."""
    if a.latitude is None or b.latitude is None:
        return None
    _, _, metres = wgs84().inv(a.longitude, a.latitude, b.longitude, b.latitude)
    return metres / 1000


def _newer_first(a: Incident, b: Incident) -> tuple[Incident, Incident]:
    """The pair ordered as IncidentLink stores it: the later occurrence first (filing order on a tie)."""
    return (a, b) if (a.occurred_at, a.id or 0) >= (b.occurred_at, b.id or 0) else (b, a)


def candidates(
    session: Session, incident: Incident, window_hours: float, within_km: float, besides: frozenset[int] | None = None
) -> list[Incident]:
    """The nearest incidents of the same category and time window filed before this one (a pair is
    suggested once, when the later of the two is checked), or, given besides (an amended incident: the ids
    already linked to it), those filed before or after it and not among besides: SQL narrows by category,
    time and a latitude band, the geodesic distance is measured here."""
    if incident.latitude is None or incident.longitude is None:
        return []
    window = timedelta(hours=window_hours)
    band = within_km / _KM_PER_DEGREE_LATITUDE
    # Degrees of longitude shrink towards the poles; near a pole the band spans every longitude.
    shrink = math.cos(math.radians(min(abs(incident.latitude) + band, 89.9)))
    width = within_km / (_KM_PER_DEGREE_LATITUDE * shrink)
    query = select(Incident.id, Incident.latitude, Incident.longitude).where(
        Incident.category == incident.category,
        Incident.occurred_at.between(incident.occurred_at - window, incident.occurred_at + window),
        Incident.latitude.between(incident.latitude - band, incident.latitude + band),
        Incident.id < incident.id if besides is None else Incident.id.not_in({incident.id, *besides}),
    )
    if besides is not None:  # one still to be checked suggests its own links when the sweep checks it
        query = query.where(Incident.checks_due_at.is_(None))
    if width < 180:
        query = query.where(Incident.longitude.between(incident.longitude - width, incident.longitude + width))
    closest_in_time = func.abs(func.extract("epoch", Incident.occurred_at) - incident.occurred_at.timestamp())
    rows = session.execute(query.order_by(closest_in_time, Incident.id).limit(MAX_CANDIDATES)).all()
    near = []
    for other_id, latitude, longitude in rows:
        metres = wgs84().inv(incident.longitude, incident.latitude, longitude, latitude)[2]
        if metres / 1000 <= within_km:
            near.append((metres, other_id))
    chosen = [other_id for _, other_id in sorted(near)[:MAX_SUGGESTIONS]]
    found = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(chosen)))} if chosen else {}
    return [found[other_id] for other_id in chosen]


def suggest_for(
    session: Session, incident: Incident, now: datetime, distance_km_max: float, window_hours: float
) -> list[IncidentLink]:
    """Suggest a link from a newly filed incident to each related one filed before it; note them on its
    timeline (the sweep calls this right after the filing: checks.py)."""
    if incident.latitude is None:
        return []
    return [
        _suggest(session, incident, other, now)
        for other in candidates(session, incident, window_hours, distance_km_max)
    ]


def _hours_apart(a: Incident, b: Incident) -> float:
    return abs((a.occurred_at - b.occurred_at).total_seconds()) / 3600


def _suggest(session: Session, incident: Incident, other: Incident, now: datetime) -> IncidentLink:
    """Suggest the link between two positioned incidents; note it on the incident's timeline."""
    newer, older = _newer_first(incident, other)
    link = IncidentLink(
        incident=newer,
        related=older,
        state=LinkState.SUGGESTED,
        distance_km=round(distance_km(incident, other) or 0.0, 3),  # both have a position: candidates()
        hours_apart=round(_hours_apart(incident, other), 3),
        suggested_at=now,
    )
    session.add(link)
    timeline.record(
        session,
        incident,
        EventKind.RELATED_SUGGESTED,
        "tracker",
        now,
        related=other.reference,
        distance_km=link.distance_km,
        hours_apart=link.hours_apart,
    )
    return link


WITHDRAWN = (
    "withdrawn by the tracker: after the amendment the two are no longer of one category within {km:g} km and {h:g} h"
)


def suggest_again(
    session: Session, incident: Incident, now: datetime, distance_km_max: float, window_hours: float
) -> dict[str, list[str]]:
    """After an amendment moved the incident (position, time or category): measure its undecided suggestions
    again, withdraw those that no longer hold (both timelines say so), and suggest the incidents now near it,
    filed before or after it. A link someone confirmed or dismissed stays as decided. Return the references
    withdrawn and suggested."""
    linked, withdrawn, suggested = set(), [], []
    for found in relations(session, incident):
        other, link = found.other, found.link
        distance = distance_km(incident, other)
        hours = _hours_apart(incident, other)
        holds = (
            other.category == incident.category
            and distance is not None
            and distance <= distance_km_max
            and hours <= window_hours
        )
        if link.state is not LinkState.SUGGESTED or holds:
            linked.add(other.id)
            if link.state is LinkState.SUGGESTED:
                link.distance_km, link.hours_apart = round(distance or 0.0, 3), round(hours, 3)
            continue
        note = WITHDRAWN.format(km=distance_km_max, h=window_hours)
        for this, that in ((incident, other), (other, incident)):
            kind = EventKind.RELATED_DISMISSED
            timeline.record(session, this, kind, "tracker", now, related=that.reference, note=note)
        session.delete(link)
        withdrawn.append(other.reference)
    session.flush()  # the withdrawn rows gone before the search for the incidents now near
    if incident.latitude is not None:
        for other in candidates(session, incident, window_hours, distance_km_max, frozenset(linked)):
            _suggest(session, incident, other, now)
            suggested.append(other.reference)
    return {"withdrawn": withdrawn, "suggested": suggested}


def get_link(session: Session, reference: str, link_id: int) -> IncidentLink:
    """The link with this id that has the incident with this reference at either end."""
    link = session.get(IncidentLink, link_id)
    if link is None or reference.upper() not in (link.incident.reference, link.related.reference):
        raise NotFound(f"no link {link_id} on incident {reference!r}", {"link_id": link_id, "reference": reference})
    return link


def ensure_may_decide(session: Session, link: IncidentLink, user: User) -> None:
    """Duty officers, supervisors and admins decide any link; liaison staff a link to an incident of theirs."""
    if may(user.role, Permission.RELATED_DECIDE_ANY):
        return
    if not may(user.role, Permission.RELATED_DECIDE):
        raise Forbidden(f"{user.username} ({user.role.label}) may not decide on links", {"needs": "related:decide"})
    try:
        ensure_may_handle(session, link.incident, user, "decide on links of")
    except Forbidden:
        ensure_may_handle(session, link.related, user, "decide on links of")


def confirm(session: Session, reference: str, link_id: int, actor: User, now: datetime, note: str = "") -> IncidentLink:
    """Confirm a suggested link (409 once decided); both incidents' timelines say so."""
    return _decide(session, reference, link_id, actor, now, note, LinkState.CONFIRMED, EventKind.RELATED_CONFIRMED)


def dismiss(session: Session, reference: str, link_id: int, actor: User, now: datetime, note: str = "") -> IncidentLink:
    """Dismiss a suggested link (409 once decided); both incidents' timelines say so."""
    return _decide(session, reference, link_id, actor, now, note, LinkState.DISMISSED, EventKind.RELATED_DISMISSED)


def _decide(session, reference, link_id, actor, now, note, state: LinkState, kind: EventKind) -> IncidentLink:
    link = get_link(session, reference, link_id)
    ensure_may_decide(session, link, actor)
    # A conditional update: of two people deciding at once, one wins and the other gets 409.
    changed = session.execute(
        update(IncidentLink)
        .where(IncidentLink.id == link.id, IncidentLink.state == LinkState.SUGGESTED)
        .values(state=state, decided_at=now, decided_by=actor.username),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.refresh(link)
    if changed != 1:
        raise Conflict(
            Sentence(f"link {link.id} was already {link.state.value} by {{by}}", {"by": str(link.decided_by)}),
            {"state": link.state.value, "decided_at": link.decided_at, "decided_by": link.decided_by},
        )
    extra = {"note": note} if note else {}
    for this, other in ((link.incident, link.related), (link.related, link.incident)):
        timeline.record(session, this, kind, actor.username, now, related=other.reference, link_id=link.id, **extra)
    session.flush()
    return link


@dataclass(frozen=True)
class Relation:
    """A link seen from one of its incidents: the other end is the related incident."""

    link: IncidentLink
    other: Incident


def _both_ends() -> tuple:
    """Both incidents of every link read, for all the links at once: each end was read in a statement of
    its own, two a link, on every incident page with suggestions or a pattern."""
    return (selectinload(IncidentLink.incident), selectinload(IncidentLink.related))


def relations(session: Session, incident: Incident) -> list[Relation]:
    """Every link with the incident at either end, oldest suggestion first."""
    query = select(IncidentLink).where(
        or_(IncidentLink.incident_id == incident.id, IncidentLink.related_id == incident.id)
    )
    query = query.options(*_both_ends())
    return [
        Relation(link, link.related if link.incident_id == incident.id else link.incident)
        for link in session.scalars(query.order_by(IncidentLink.id))
    ]


def relation(link: IncidentLink, reference: str) -> Relation:
    """The link seen from the incident with this reference."""
    mine = link.incident.reference == reference.upper()
    return Relation(link, link.related if mine else link.incident)


@dataclass(frozen=True)
class Member:
    incident: Incident
    distance_km: float | None  # from the incident the pattern was read for
    hours_from: float  # from the incident the pattern was read for; negative: before it


@dataclass(frozen=True)
class Pattern:
    """The incidents joined to one another by confirmed links, in order of occurrence."""

    members: list[Member]
    hours_span: float
    distance_span_km: float | None  # the largest distance between two positioned members

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def first_at(self) -> datetime:
        return self.members[0].incident.occurred_at

    @property
    def last_at(self) -> datetime:
        return self.members[-1].incident.occurred_at


def pattern(session: Session, incident: Incident) -> Pattern:
    """The confirmed cluster around the incident (transitive closure over confirmed links)."""
    found = {incident.id: incident}
    frontier = {incident.id}
    while frontier:
        query = select(IncidentLink).where(
            IncidentLink.state == LinkState.CONFIRMED,
            or_(IncidentLink.incident_id.in_(frontier), IncidentLink.related_id.in_(frontier)),
        )
        query = query.options(*_both_ends())
        new = {}
        for link in session.scalars(query):
            for end in (link.incident, link.related):
                if end.id not in found:
                    new[end.id] = end
        found.update(new)
        frontier = set(new)
    ordered = sorted(found.values(), key=lambda i: (i.occurred_at, i.id))
    members = [
        Member(i, distance_km(incident, i), (i.occurred_at - incident.occurred_at).total_seconds() / 3600)
        for i in ordered
    ]
    hours = (ordered[-1].occurred_at - ordered[0].occurred_at).total_seconds() / 3600
    distances = [d for n, a in enumerate(ordered) for b in ordered[n + 1 :] if (d := distance_km(a, b)) is not None]
    return Pattern(members, hours, max(distances) if distances else None)
